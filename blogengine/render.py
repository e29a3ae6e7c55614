"""Render stage: Site + Jinja environment -> a stream of Output files."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType

import jinja2

from blogengine.config import SiteConfig
from blogengine.errors import BlogError, BuildFailed, ThemeError
from blogengine.feeds import absolute_url, atom_feed, rss_feed
from blogengine.load import Asset
from blogengine.markup import pygments_css
from blogengine.model import (ATOM_URL, ROBOTS_URL, RSS_URL, SITEMAP_URL, THEME_PREFIX,
                              THREADS_URL, Entry, Listing, Site, output_path)
from blogengine.sitefiles import robots_txt, sitemap_xml, threads_manifest
from blogengine.themes import Theme

TEMPLATES = {"post": "post.html", "page": "page.html", "index": "index.html",
             "tag": "term.html", "category": "term.html", "tags": "tags.html",
             "archive": "archive.html", "404": "404.html"}
HIGHLIGHT_CSS_URL = THEME_PREFIX + "pygments.css"


@dataclass(frozen=True)
class Output:
    """One file of the built site: bytes to write, or a file to copy."""

    url: str
    body: bytes | None = None
    copy_from: Path | None = None

    @property
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

    def comments_url(path: str) -> str:
        """A URL on the comment server; root-relative when it shares the site's origin."""
        return config.comments.url.rstrip("/") + path

    env.globals.update(url_for=url_for, absolute_url=lambda p: absolute_url(config, p),
                       comments_url=comments_url,
                       config=config, feeds={"atom": ATOM_URL, "rss": RSS_URL},
                       highlight_css=HIGHLIGHT_CSS_URL)
    env.filters.update(date=format_date, isodate=isodate)


def render_site(site: Site, env: jinja2.Environment, chain: list[Theme],
                assets: list[Asset]) -> Iterator[Output]:
    """Yield every output file; template errors are collected and raised together at the end."""
    errors: dict[tuple[str, int, str], BlogError] = {}
    register_filters(env, site.config)
    env.globals["site"] = site
    pages: list[Entry | Listing] = [*site.entries, *site.listings]
    for page in pages:
        body = _render_page(env, page, errors)
        if body is not None:
            yield Output(url=page.url, body=body)
    yield Output(url=ATOM_URL, body=atom_feed(site))
    yield Output(url=RSS_URL, body=rss_feed(site))
    for tag in site.tags:
        yield Output(url=tag.feed_url, body=atom_feed(
            site, title=f"{site.config.title}: {tag.name}", page_url=tag.url,
            feed_url=tag.feed_url, posts=tag.posts))
    yield Output(url=SITEMAP_URL, body=sitemap_xml(site))
    if not any(str(asset.rel) == "robots.txt" for asset in assets):  # the author's own wins
        yield Output(url=ROBOTS_URL, body=robots_txt(site))
    yield Output(url=THREADS_URL, body=threads_manifest(site))
    yield Output(url=HIGHLIGHT_CSS_URL, body=pygments_css(
        site.config.pygments_style, site.config.pygments_dark_style).encode("utf-8"))
    yield from theme_static(chain)
    for asset in assets:
        yield Output(url="/" + str(asset.rel), copy_from=asset.path)
    if errors:
        raise BuildFailed(list(errors.values()))


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
        yield Output(url=f"{THEME_PREFIX}{rel}", copy_from=files[rel])


def _render_page(env: jinja2.Environment, page: Entry | Listing,
                 errors: dict[tuple[str, int, str], BlogError]) -> bytes | None:
    name = TEMPLATES[page.kind]
    try:
        template = env.get_template(name)
        return template.render(page=page).encode("utf-8")
    except jinja2.TemplateSyntaxError as exc:
        error = ThemeError(f"template syntax error: {exc.message}",
                           path=exc.filename or exc.name, line=exc.lineno)
    except jinja2.TemplateNotFound as exc:
        error = ThemeError(f"template {exc.name!r} not found in the theme chain "
                           f"(needed for {page.url})")
    except Exception as exc:  # any error raised while a template runs is the template's
        path, line = _template_position(exc.__traceback__)
        error = ThemeError(f"template error while rendering {page.url}: {exc}", path=path,
                           line=line)
    key = (str(error.path or ""), error.line or 0, error.message.split(" while rendering")[0])
    errors.setdefault(key, error)
    return None


def _template_position(tb: TracebackType | None) -> tuple[str | None, int | None]:
    """The innermost template frame of a traceback (Jinja rewrites frames to template lines)."""
    found: tuple[str | None, int | None] = (None, None)
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith((".html", ".xml", ".htm", ".j2")):
            found = (filename, tb.tb_lineno)
        tb = tb.tb_next
    return found

