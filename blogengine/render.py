"""Render stage: pages through Jinja templates, and the site's other files (feeds, sitemap, ...)."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType

import jinja2

from blogengine.cache import CACHE_DIR, BuildCache, OutputRecord
from blogengine.comments import reader_strings
from blogengine.config import SiteConfig
from blogengine.errors import BlogError, ContentError, ThemeError
from blogengine.feeds import absolute_url, atom_feed, rss_feed
from blogengine.deps import (Digests, Recorder, RecordingEnvironment, entry_object_ids, object_id,
                             touched_objects)
from blogengine.images import has_location, variant_bytes, variants, without_location
from blogengine.load import Asset, FileStamp
from blogengine.markup import pygments_css
from blogengine.model import (ATOM_URL, ROBOTS_URL, RSS_URL, SITEMAP_URL, THEME_PREFIX,
                              THREADS_URL, Entry, Listing, Site, output_path)
from blogengine.pagefacts import PageNote, PageStamp, Wanted, page_facts
from blogengine.pluginhost import PluginError, PluginSet
from blogengine.shortcode_render import expand_page as expand_shortcodes, templates_key
from blogengine.shortcodes import PLACEHOLDER
from blogengine.sitefiles import robots_txt, sitemap_xml, threads_manifest
from blogengine.stamps import digest
from blogengine.themes import Theme
from blogengine.write import Staging

TEMPLATES = {"post": "post.html", "page": "page.html", "index": "index.html",
             "tag": "term.html", "category": "term.html", "tags": "tags.html",
             "archive": "archive.html", "404": "404.html", "comment-page": "comment_page.html",
             "search": "search.html"}
HIGHLIGHT_CSS_URL = THEME_PREFIX + "pygments.css"
FAVICON = "favicon.ico"


@dataclass(frozen=True)
class Output:
    """One file of the built site besides the pages: bytes made on demand, or a file to copy."""

    url: str
    make: Callable[[], bytes] | None = None
    copy_from: Path | None = None
    key: str = ""       # a digest of what the file is made from (with the build's fingerprint)

    @functools.cached_property   # (asked for 40,000 times by a big site's edit)
    def path(self) -> str:
        return output_path(self.url)


def register_filters(env: jinja2.Environment, config: SiteConfig) -> None:
    """Formatting helpers templates may use."""
    base_path = config.base_path

    def url_for(path: str) -> str:
        return base_path + path.lstrip("/")

    def format_date(value: datetime | None, fmt: str | None = None) -> str:
        if value is None:
            return ""
        return value.astimezone(config.tz).strftime(fmt or config.date_format)

    def isodate(value: datetime | None) -> str:
        return value.astimezone(config.tz).isoformat() if value is not None else ""

    def zoned(value: str) -> datetime:
        """An RFC 3339 time (a comment's) in the site's time zone."""
        return datetime.fromisoformat(value).astimezone(config.tz)

    def utc_offset(value: datetime) -> str:
        """A time's offset as readers see it beside the time: UTC, UTC+2, UTC-3:30."""
        offset = value.utcoffset()
        minutes = round(offset.total_seconds() / 60) if offset is not None else 0
        hours, rest = divmod(abs(minutes), 60)
        sign = "+" if minutes > 0 else "-"
        return "UTC" if not minutes else f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")

    def comments_url(path: str) -> str:
        """A URL on the comment server; root-relative when it shares the site's origin."""
        return config.comments.url.rstrip("/") + path

    env.globals.update(url_for=url_for, absolute_url=lambda p: absolute_url(config, p),
                       comments_url=comments_url, reader_strings=reader_strings,
                       config=config, feeds={"atom": ATOM_URL, "rss": RSS_URL},
                       highlight_css=HIGHLIGHT_CSS_URL)
    env.filters.update(date=format_date, isodate=isodate, zoned=zoned, utc_offset=utc_offset)


def prepare_environment(env: jinja2.Environment, site: Site) -> None:
    """Give templates the site and the helpers (before any page renders, or workers fork)."""
    from blogengine.cards import social_card  # here: cards.py builds on this module's Output

    register_filters(env, site.config)
    env.globals["site"] = site
    if isinstance(env, RecordingEnvironment):
        env.forget_object_fragments()
    env.globals["social_card"] = social_card(site.config)


def site_pages(site: Site) -> list[Entry | Listing]:
    """Every page a template renders: posts and pages, then listings."""
    return [*site.entries, *site.listings]


def render_order(pages: Sequence[Entry | Listing], indexes: Sequence[int]) -> list[int]:
    """The pages to render, by the date of the (newest) post each shows: the workers take
    them in slices, and a slice of listings from the same weeks as its posts makes most
    post summaries (shared_fragment) in one worker only, once."""
    def newest(index: int) -> float:
        page = pages[index]
        shown = page.posts[:1] if isinstance(page, Listing) else [page]
        return shown[0].date.timestamp() if shown and shown[0].date is not None else 0.0
    return sorted(indexes, key=newest)


def render_page(env: jinja2.Environment, page: Entry | Listing,
                plugins: PluginSet = PluginSet()) -> bytes:
    """One page through its template, with the plugins' variables and HTML rewrites; any
    template problem is a ThemeError naming file and line."""
    # The comment page shell is shown by the comment server, perhaps on another origin: its
    # links to the site are absolute.
    context = {"url_for": env.globals["absolute_url"]} if page.kind == "comment-page" else {}
    if plugins:
        context.update(plugins.page_context(page, env.globals.get("site")))
    try:
        html = env.get_template(TEMPLATES[page.kind]).render(page=page, **context)
        return (plugins.page_html(page, html) if plugins else html).encode("utf-8")
    except jinja2.TemplateSyntaxError as exc:
        raise ThemeError(f"template syntax error: {exc.message}",
                         path=exc.filename or exc.name, line=exc.lineno) from None
    except jinja2.TemplateNotFound as exc:
        raise ThemeError(f"template {exc.name!r} not found in the theme chain "
                         f"(needed for {page.url})") from None
    except (ContentError, PluginError):
        raise    # a shortcode's problem, reported at its line in the content file
    except Exception as exc:  # any error raised while a template runs is the template's
        path, line = _template_position(exc.__traceback__)
        raise ThemeError(f"template error while rendering {page.url}: {exc}", path=path,
                         line=line) from None


@dataclass(frozen=True)
class RenderedSlice:
    """What a slice of pages produced: the templates it used, files changed, template errors,
    and the pages' records when the worker could not store them in the cache itself."""

    templates: set[str]
    written: int
    errors: list[BlogError]
    outputs: dict[str, OutputRecord]
    notes: dict[str, PageNote] = field(default_factory=dict)     # (RenderWork.facts)
    stamps: dict[str, PageStamp] = field(default_factory=dict)


@dataclass(frozen=True)
class RenderWork:
    """What rendering a page needs besides the page's index; build workers inherit it by fork."""

    env: RecordingEnvironment
    pages: list[Entry | Listing]
    staging: Staging
    digests: Digests
    fingerprint: str
    cache: BuildCache
    plugins: PluginSet = PluginSet()
    facts: Wanted = Wanted()   # what to note of each page written, for the index and the check


def render_pages(work: RenderWork, indexes: Sequence[int]) -> RenderedSlice:
    """Render pages (by index into work.pages) straight into the staging folder, recording
    what each one read. Runs in a build worker or in the main process."""
    env, staging, digests, fingerprint = work.env, work.staging, work.digests, work.fingerprint
    outputs: dict[str, OutputRecord] = {}
    errors: list[BlogError] = []
    written = 0
    notes: dict[str, PageNote] = {}
    stamps: dict[str, PageStamp] = {}
    for index in indexes:
        page = work.pages[index]
        rel = output_path(page.url)
        recorder = env.recorder = Recorder()
        try:
            body = render_page(env, page, work.plugins)
        except (ThemeError, ContentError, PluginError) as exc:
            errors.append(exc)
            continue
        finally:
            env.recorder = None
        staged = staging.write(rel, body)
        written += staged
        if work.facts.notes or work.facts.stamps:   # while the bytes are at hand
            note, stamp = page_facts(staging.stat(rel, staged), body, work.facts)
            if note is not None:
                notes[rel] = note
            if stamp is not None:
                stamps[rel] = stamp
        # The key is worked out here, in the worker, where the digests are at hand.
        used = tuple(sorted(recorder.inputs))
        outputs[rel] = OutputRecord(digests.key(used, fingerprint), used, touched_objects(used))
    templates = {name for record in outputs.values() for kind, name, _ in record.inputs or ()
                 if kind == "template"}
    try:
        work.cache.put_pending(outputs)   # the main process only has to confirm them
    except Exception:  # no cache (read-only, locked): the records travel back instead
        return RenderedSlice(templates=templates, written=written, errors=errors, outputs=outputs,
                             notes=notes, stamps=stamps)
    return RenderedSlice(templates=templates, written=written, errors=errors, outputs={},
                         notes=notes, stamps=stamps)


def unique_errors(errors: Iterable[BlogError]) -> list[BlogError]:
    """One error per template problem, however many pages met it."""
    found: dict[tuple[str, int, str], BlogError] = {}
    for error in errors:
        key = (str(error.path or ""), error.line or 0, error.message.split(" while rendering")[0])
        found.setdefault(key, error)
    return list(found.values())


def data_outputs(site: Site, chain: list[Theme], assets: list[Asset], objects: Mapping[str, str],
                 env: jinja2.Environment | None = None,
                 cache_dir: Path | None = None) -> list[Output]:
    """Every file besides the pages: feeds, sitemap, robots.txt, the thread manifest, the
    highlighting stylesheet, theme static files and content assets, each with its input key,
    made of the digests of the model's objects (`objects`: deps.object_digests) it shows.
    With `env`, the feeds' posts have their shortcodes filled in; resized images come from
    `cache_dir` (default: .blogengine/ in the site folder)."""
    config = site.config
    latest = config.feed_items
    html = feed_html(env)

    # Each post's newest date, found once: a big site's tag feeds hold 50,000 posts between them.
    newest_of = {id(post): post.updated or post.published for post in site.posts}
    updated = max(newest_of.values(), default=None)   # site.updated

    def feed_key(kind: str, posts: list[Entry]) -> str:
        newest = max(map(newest_of.__getitem__, map(id, posts)), default=updated)
        shortcodes = templates_key(env, posts[:latest]) if env is not None else ""
        return digest(kind, newest, [[objects[oid] for oid in entry_object_ids(post.url)]
                                     for post in posts[:latest]], shortcodes)

    # Where each entry is, its title, dates, author and front matter: what the sitemap and
    # the thread manifest show of it.
    places = [objects[object_id("entry", entry.url)] for entry in site.entries]

    outputs = [
        Output(url=ATOM_URL, make=lambda: atom_feed(site, html=html),
               key=feed_key("atom", site.posts)),
        Output(url=RSS_URL, make=lambda: rss_feed(site, html=html),
               key=feed_key("rss", site.posts)),
    ]
    for tag in site.tags:
        outputs.append(Output(url=tag.feed_url, make=functools.partial(
            atom_feed, site, title=f"{config.title}: {tag.name}", page_url=tag.url,
            feed_url=tag.feed_url, posts=tag.posts, html=html), key=feed_key(tag.name, tag.posts)))
    outputs.append(Output(url=SITEMAP_URL, make=lambda: sitemap_xml(site), key=digest(
        "sitemap", places, [listing.url for listing in site.listings])))
    if not any(str(asset.rel) == "robots.txt" for asset in assets):  # the author's own wins
        outputs.append(Output(url=ROBOTS_URL, make=lambda: robots_txt(site), key="robots"))
    icon = _theme_favicon(chain)
    if icon is not None and not any(str(asset.rel) == FAVICON for asset in assets):
        # Browsers ask for /favicon.ico whatever the page links: answer with the theme's.
        outputs.append(_copied("/" + FAVICON, icon))
    outputs.append(Output(url=THREADS_URL, make=lambda: threads_manifest(site), key=digest(
        "threads", places, config.fediverse.account)))
    outputs.append(Output(url=HIGHLIGHT_CSS_URL, make=lambda: pygments_css(
        config.pygments_style, config.pygments_dark_style).encode("utf-8"), key="pygments"))
    outputs.extend(theme_static(chain))
    if config.images.enabled:
        outputs.extend(image_outputs(site, cache_dir or config.root / CACHE_DIR))
        outputs.extend(_asset(asset) for asset in assets)
    else:
        outputs.extend(_copied("/" + str(asset.rel), asset.path) for asset in assets)
    return outputs


def image_outputs(site: Site, cache_dir: Path) -> list[Output]:
    """The resized variants of the images posts and pages show (images.py), copied from the
    image cache in `cache_dir`, where the build made them."""
    found: dict[str, Output] = {}
    for entry in site.entries:
        for image in entry.doc.images:
            for variant in variants(image, site.config.images.widths):
                found.setdefault(variant.url, Output(
                    url=variant.url, make=functools.partial(variant_bytes, variant, cache_dir),
                    key=digest("variant", image.digest, variant.width, variant.format)))
    return [found[url] for url in sorted(found)]


def _asset(asset: Asset) -> Output:
    """A content file, copied; an image that tells where it was taken is published without
    its EXIF data."""
    if not has_location(asset.path):
        return _copied("/" + str(asset.rel), asset.path)
    stamp = FileStamp.of(asset.path)
    return Output(url="/" + str(asset.rel), make=without_location(asset.path),
                  key=digest("no-location", str(asset.path), stamp.mtime_ns, stamp.size))


def feed_html(env: jinja2.Environment | None) -> Callable[[Entry], str]:
    """A post's HTML for feeds: its shortcodes filled in through `env`."""
    if env is None:
        return lambda entry: entry.doc.html

    def html(entry: Entry) -> str:
        try:
            return expand_shortcodes(env, entry, entry.doc.html)
        except ContentError:
            # The post's page meets the same call and reports it; that fails the build.
            return PLACEHOLDER.sub(lambda match: match[2] or "", entry.doc.html)
    return html


def _theme_favicon(chain: list[Theme]) -> Path | None:
    """The favicon.ico of the first theme in the chain that has one."""
    for theme in chain:
        if (theme.static / FAVICON).is_file():
            return theme.static / FAVICON
    return None


def _copied(url: str, path: Path) -> Output:
    stamp = FileStamp.of(path)
    return Output(url=url, copy_from=path, key=digest(str(path), stamp.mtime_ns, stamp.size))


def theme_static(chain: list[Theme]) -> Iterator[Output]:
    """Static files of the theme chain under /theme/; a child theme's file wins."""
    files: dict[str, Path] = {}
    for theme in reversed(chain):
        if not theme.static.is_dir():
            continue
        for folder, _dirs, names in os.walk(theme.static):
            for name in names:
                path = Path(folder) / name
                files[path.relative_to(theme.static).as_posix()] = path
    for rel in sorted(files):
        yield _copied(f"{THEME_PREFIX}{rel}", files[rel])


def _template_position(tb: TracebackType | None) -> tuple[str | None, int | None]:
    """The innermost template frame of a traceback (Jinja rewrites frames to template lines)."""
    found: tuple[str | None, int | None] = (None, None)
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith((".html", ".xml", ".htm", ".j2")):
            found = (filename, tb.tb_lineno)
        tb = tb.tb_next
    return found

