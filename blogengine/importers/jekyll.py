"""Jekyll: a site folder (_config.yml, _posts/, collections, pages, assets, Staticman comments)
read into a Plan."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any, Literal
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from slugify import slugify

from blogengine.config import SiteConfig
from blogengine.frontmatter import SLUG_PATTERN
from blogengine.importers.html import html_to_markdown
from blogengine.importers.jekyll_config import JekyllSettings, left_out, read_settings
from blogengine.importers.jekyll_text import (kramdown_to_markdown, liquid_to_markdown,
                                              resolve_links)
from blogengine.importers.contained import site_file
from blogengine.importers.plan import Entry, Plan, SourceError, local_date
from blogengine.importers.redirects import normalize_path
from blogengine.importers.staticman import staticman_comments
from blogengine.importers.staticsite import (parse_date, permalink_path, split_front_matter,
                                             text_value, walk, words, zone)

CONTENT_SUFFIXES = (".md", ".markdown", ".mkd", ".mkdn", ".mdown", ".html", ".htm")
MARKDOWN_SUFFIXES = (".md", ".markdown", ".mkd", ".mkdn", ".mdown")
# Files Jekyll runs through Liquid when they have front matter: not copied as they are.
TEMPLATED_SUFFIXES = (".xml", ".txt", ".json", ".css", ".scss", ".sass", ".js")
POST_NAME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})-(.+)$")
STYLES = {
    "date": "/:categories/:year/:month/:day/:title:output_ext",
    "pretty": "/:categories/:year/:month/:day/:title/",
    "ordinal": "/:categories/:year/:y_day/:title:output_ext",
    "none": "/:categories/:title:output_ext",
}
COLLECTION_PERMALINK = "/:collection/:path:output_ext"


@dataclass
class _Run:
    """One import of one Jekyll site: its settings and what has been read so far."""

    settings: JekyllSettings
    plan: Plan
    tz: ZoneInfo           # the Jekyll site's
    site_tz: ZoneInfo      # the new site's
    permalink: str         # the site's `permalink` setting
    pattern: str           # posts' permalink pattern
    baseurl: str
    used: set[PurePosixPath] = field(default_factory=set)
    posts: dict[str, Entry] = field(default_factory=dict)   # name under _posts/, no suffix
    files: dict[str, Entry] = field(default_factory=dict)   # path in the source
    kramdown: dict[str, set[str]] = field(default_factory=dict)   # what was removed, by label

    def rel(self, path: Path) -> str:
        return path.relative_to(self.settings.source).as_posix()


def read_jekyll(folder: Path, config: SiteConfig, authors: tuple[str, ...] = ()) -> Plan:
    """Read a Jekyll site: posts (filename dates, categories, tags, permalink, published: false
    as drafts), published collections, pages, assets, and Staticman comments from
    _data/comments/; what is not carried over is reported with its reason."""
    if not folder.exists():
        raise SourceError("no such folder (expected a Jekyll site)", path=folder)
    if not folder.is_dir():
        raise SourceError("not a folder (expected a Jekyll site)", path=folder)
    if not any((folder / n).is_file() for n in ("_config.yml", "_config.yaml")) \
            and not (folder / "_posts").is_dir():
        raise SourceError("not a Jekyll site: no _config.yml and no _posts/ folder", path=folder)
    settings = read_settings(folder)
    site = settings.config
    permalink = str(site.get("permalink") or "date")
    posts_settings = settings.collections.get("posts", {})
    pattern = str(posts_settings.get("permalink") or STYLES.get(permalink, permalink))
    run = _Run(settings=settings, plan=Plan(system="jekyll", source=folder, files_root=folder),
               tz=zone(site.get("timezone"), config.tz), site_tz=config.tz, permalink=permalink,
               pattern=pattern, baseurl="/" + str(site.get("baseurl") or "").strip("/"))
    run.plan.hosts = {urlsplit(str(site.get("url") or "")).netloc.lower()} - {""}
    _read_posts(run)
    collection_folders = _read_collections(run)
    comments_folder = settings.source / "_data" / "comments"
    claimed = {PurePosixPath(run.rel(f)) for f in collection_folders + [comments_folder]
               if f.is_dir()}
    for path, rel in walk(settings.source,
                          lambda r: r in claimed or "_posts" in r.parts or "_drafts" in r.parts
                          or left_out(settings, r)):
        _page_or_asset(run, path, rel)
    resolve_links(run.plan, run.posts, run.files)
    _note_kramdown(run)
    authors_set = {a.strip().lower() for a in authors if a.strip()}
    site_id = str(site.get("url") or folder.name).split("//")[-1].strip("/")
    attach_comments(run.plan, staticman_comments(comments_folder, run.plan, "jekyll", site_id,
                                                 authors_set, run.tz))
    return run.plan


def _read_posts(run: _Run) -> None:
    source = run.settings.source
    found = sorted(p for p in source.rglob("*") if site_file(p, source)
                   and p.suffix.lower() in CONTENT_SUFFIXES and not p.name.startswith("."))
    for path in found:
        parts = PurePosixPath(run.rel(path)).parts
        home = next((n for n, part in enumerate(parts[:-1]) if part in ("_posts", "_drafts")), None)
        # Only _posts and _drafts folders Jekyll reads: not in node_modules/, vendor/, ...
        if home is None or any(left_out(run.settings, PurePosixPath(*parts[: n + 1]))
                               for n in range(home)):
            continue
        name = "/".join(parts[home + 1:])
        entry = _post(run, path, draft=parts[home] == "_drafts")
        if entry is not None:
            run.plan.entries.append(entry)
            if parts[home] == "_posts":
                run.posts[str(PurePosixPath(name).with_suffix(""))] = entry
                run.posts.setdefault(path.stem, entry)


def _read_collections(run: _Run) -> list[Path]:
    """Documents of collections other than posts: published ones (output: true) become posts
    when every document has a date, pages otherwise; the others are reported."""
    folders = []
    base = run.settings.source / str(run.settings.collections_dir)
    for label, options in sorted(run.settings.collections.items()):
        if label in ("posts", "drafts"):
            continue
        folder = base / f"_{label}"
        folders.append(folder)
        docs = [p for p, _rel in walk(folder, lambda r: r.name.startswith("."))
                if p.suffix.lower() in CONTENT_SUFFIXES]
        if not docs:
            continue
        if options.get("output") is not True:
            run.plan.skipped["documents (a collection Jekyll does not publish)"] += len(docs)
            run.plan.skipped_details.append(
                f"{run.rel(folder)}/: {len(docs)} documents of collection {label!r}, which has "
                "no `output: true`; Jekyll does not publish them; not imported")
            continue
        # Named like posts (2019-05-31-name.md), they are a blog; otherwise pages.
        dated = all(POST_NAME.match(p.stem) for p in docs)
        for path in docs:
            if dated:
                entry = _post(run, path, draft=False, collection=(label, options))
                if entry is not None:
                    run.plan.entries.append(entry)
            else:
                _page(run, path, PurePosixPath(run.rel(path)), collection=(label, options))
    return folders


def attach_comments(plan: Plan, comments: dict[str, list[Any]]) -> None:
    """Give each post the Staticman comments filed under one of its names."""
    by_slug = {slug: entry for entry in plan.entries for slug in entry.slugs}
    for slug, items in comments.items():
        entry = by_slug.get(slug)
        if entry is None:
            plan.skipped["comments (no post with their folder's name)"] += len(items)
            plan.skipped_details.append(f"comments/{slug}/: no imported post is named {slug!r}")
            continue
        entry.comments.extend(items)
        if entry.kind == "page":
            entry.front["comments"] = True


def _slug_of(value: str) -> str:
    slug = value.strip()
    return slug if SLUG_PATTERN.match(slug) else slugify(slug, max_length=80, word_boundary=True)


def _read(run: _Run, path: Path,
          rel: str) -> tuple[dict[str, Any], str] | None | Literal[False]:
    """(front matter, body); None when the file has none; False when it cannot be read (and
    reported)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        run.plan.skip("files", "not UTF-8 text", f"{rel}: not UTF-8 text")
        return False
    except OSError as exc:
        run.plan.skip("files", "unreadable", f"{rel}: cannot read it ({exc.strerror})")
        return False
    try:
        return split_front_matter(text, path)
    except SourceError as exc:
        where = f"{rel}:{exc.line}" if exc.line else rel
        run.plan.skip("files", "invalid front matter", f"{where}: {exc.message}")
        return False


def _text(run: _Run, path: Path, label: str, body: str) -> str:
    """The body as Markdown: HTML converted, Liquid and Kramdown extras handled and reported."""
    leftover: set[str] = set()
    text = html_to_markdown(body) if path.suffix.lower() in (".html", ".htm") else body
    text = liquid_to_markdown(text, leftover, run.settings.source / "_includes")
    kept = sorted(t for t in leftover if t.endswith("(its text kept)"))
    if kept:
        run.plan.notes.append(f"{label}: Liquid tags of a plugin removed: " + ", ".join(kept))
    if leftover - set(kept):
        run.plan.notes.append(f"{label}: Liquid left as text: "
                              + ", ".join(sorted(leftover - set(kept))))
    removed: set[str] = set()
    text = kramdown_to_markdown(text, removed)
    if removed:
        run.kramdown[label] = removed
    return text


def _note_kramdown(run: _Run) -> None:
    for label, removed in sorted(run.kramdown.items()):
        if "toc" in removed:
            run.plan.notes.append(
                f"{label}: Kramdown's table of contents marker ({{:toc}}) removed; the default "
                "theme shows its own on posts with three or more headings")
        if "attribute lists" in removed:
            run.plan.notes.append(f"{label}: Kramdown attribute lists ({{: ...}}) removed "
                                  "(classes and ids on blocks and links are not kept)")


def _post(run: _Run, path: Path, *, draft: bool,
          collection: tuple[str, dict[str, Any]] | None = None) -> Entry | None:
    rel = run.rel(path)
    parsed = _read(run, path, rel)
    if parsed is False:
        return None
    if parsed is None:
        run.plan.skip("posts", "no front matter",
                      f"{rel}: no front matter; Jekyll does not publish it as a post")
        return None
    data, body = parsed
    name = POST_NAME.match(path.stem)
    file_slug = name.group(4) if name else path.stem
    when = parse_date(data.get("date"), run.tz)
    if when is None and name:
        when = parse_date(f"{name.group(1)}-{name.group(2)}-{name.group(3)}", run.tz)
    if when is None:
        when = datetime.fromtimestamp(path.stat().st_mtime, run.tz).replace(microsecond=0)
        run.plan.notes.append(f"{rel}: no date; dated by the file's modification time")
    # Categories from the folders above _posts/ come first, as Jekyll orders them.
    folders = [p for p in PurePosixPath(rel).parts[:-1] if p not in ("_posts", "_drafts")
               and not p.startswith("_")]
    if collection is not None:
        folders = [collection[0]]
    categories = list(dict.fromkeys(folders + words(data.get("categories"))
                                    + words(data.get("category"))))
    tags = words(data.get("tags")) + words(data.get("tag"))
    slug = _slug_of(str(data.get("slug") or file_slug)) or "post"
    # Jekyll's own title for a post without one: each word of the file's slug capitalised.
    title = text_value(data.get("title")) or " ".join(w.capitalize() for w in file_slug.split("-"))
    target = PurePosixPath("posts", f"{slug}.md")
    if target in run.used:
        target = target.with_name(f"{when:%Y-%m-%d}-{slug}.md")
    run.used.add(target)
    unpublished = draft or data.get("published") is False
    front = _front(data, title, when.astimezone(run.site_tz), slug, categories, tags, unpublished)
    entry = Entry(label=rel, kind="post", rel=target, front=front,
                  body=_text(run, path, rel, body),
                  slugs=tuple(dict.fromkeys((file_slug, slug, path.stem))))
    run.files[rel] = entry
    if not unpublished:
        local = when.astimezone(run.tz)
        own = str(data.get("permalink") or (collection[1].get("permalink") if collection else None)
                  or (COLLECTION_PERMALINK if collection else run.pattern))
        values = {
            "year": f"{local:%Y}", "month": f"{local:%m}", "day": f"{local:%d}",
            "i_month": str(local.month), "i_day": str(local.day), "short_year": f"{local:%y}",
            "y_day": f"{local:%j}", "hour": f"{local:%H}", "minute": f"{local:%M}",
            "second": f"{local:%S}", "title": str(data.get("slug") or file_slug),
            "slug": slugify(str(data.get("slug") or file_slug)),
            "categories": "/".join(quote(c.lower()) for c in categories), "output_ext": ".html",
            "name": file_slug,
        } | (_collection_values(run, path, collection[0]) if collection else {})
        old = normalize_path(run.baseurl.rstrip("/") + permalink_path(own, values))
        if old:
            entry.old_urls.append(old)
    return entry


def _collection_values(run: _Run, path: Path, label: str) -> dict[str, str]:
    inside = path.relative_to(run.settings.source / str(run.settings.collections_dir) / f"_{label}")
    return {"collection": label, "path": PurePosixPath(inside.as_posix()).with_suffix("").as_posix(),
            "name": slugify(path.stem)}


def _front(data: dict[str, Any], title: str, when: datetime, slug: str, categories: list[str],
           tags: list[str], draft: bool) -> dict[str, Any]:
    return {
        "title": title,
        "date": local_date(when),
        "slug": slug,
        "author": text_value(data.get("author")),
        "category": categories[0] if categories else None,
        "tags": list(dict.fromkeys(tags + categories[1:])),
        "summary": text_value(data.get("excerpt")) or text_value(data.get("description")),
        "image": text_value(data.get("image")),
        "draft": True if draft else None,
    }


def _page_or_asset(run: _Run, path: Path, rel: PurePosixPath) -> None:
    suffix = path.suffix.lower()
    if suffix not in CONTENT_SUFFIXES + TEMPLATED_SUFFIXES:
        run.plan.assets.append((rel, path))
        return
    parsed = _read(run, path, str(rel))
    if parsed is False:
        if suffix not in CONTENT_SUFFIXES:   # not text after all: copied as it is
            run.plan.assets.append((rel, path))
        return
    if parsed is None:
        if suffix in MARKDOWN_SUFFIXES:
            run.plan.skip("files", "no front matter", f"{rel}: no front matter, Jekyll copies it "
                          "as a static file; not imported")
        else:
            run.plan.assets.append((rel, path))   # Jekyll copies it as it is, and so do we
        return
    if suffix not in CONTENT_SUFFIXES:
        run.plan.skip("files", "made by Jekyll from a template", f"{rel}: needs Jekyll to build it")
        return
    _page(run, path, rel, parsed=parsed)


def _page(run: _Run, path: Path, rel: PurePosixPath,
          parsed: tuple[dict[str, Any], str] | None = None,
          collection: tuple[str, dict[str, Any]] | None = None) -> None:
    if parsed is None:
        read = _read(run, path, str(rel))
        if read is False:
            return
        if read is None:
            run.plan.skip("files", "no front matter", f"{rel}: no front matter, Jekyll copies it "
                          "as a static file; not imported")
            return
        parsed = read
    data, body = parsed
    if rel.stem in ("index", "404") and len(rel.parts) == 1:
        run.plan.skip("pages", "blogengine writes its own",
                      f"{rel}: blogengine writes its own {rel.stem} page")
        return
    if re.search(r"\{%-?\s*for\s+\w+\s+in\s+(?:site|paginator)\.", body):
        run.plan.skip("pages", "a Liquid listing of posts", f"{rel}: lists posts with Liquid; "
                      "blogengine makes its own index, tag and archive pages")
        return
    slug = _slug_of(str(data.get("slug") or rel.stem)) or "page"
    # _pages/ (a folder `include:` lets in) and _<collection>/ are not part of the URL.
    folders = [p.lstrip("_") if n == 0 else p for n, p in enumerate(rel.parts[:-1])
               if not (n == 0 and p == "_pages")]
    target = PurePosixPath("pages", *folders, f"{slug}.md")
    if target in run.used:
        run.plan.skip("pages", "two pages with one name", f"{rel}: another page is already {target}")
        return
    run.used.add(target)
    title = text_value(data.get("title")) or rel.stem.replace("-", " ").capitalize()
    when = parse_date(data.get("date"), run.tz)
    front = {"title": title, "date": local_date(when.astimezone(run.site_tz)) if when else None,
             "slug": slug,
             "summary": text_value(data.get("description")),
             "draft": True if data.get("published") is False else None}
    entry = Entry(label=str(rel), kind="page", rel=target, front=front,
                  body=_text(run, path, str(rel), body), slugs=(rel.stem, slug))
    run.files[str(rel)] = entry
    own = data.get("permalink")
    if collection is not None:
        values = {"output_ext": ".html", "title": slug} | _collection_values(run, path, collection[0])
        old = normalize_path(run.baseurl.rstrip("/") + permalink_path(
            str(own or collection[1].get("permalink") or COLLECTION_PERMALINK), values))
    else:
        pretty = run.permalink == "pretty" or run.permalink.endswith("/")
        default = "/" + str(rel.with_suffix("")) + ("/" if pretty else ".html")
        old = normalize_path(run.baseurl.rstrip("/") + (str(own) if own else default))
    if old:
        entry.old_urls.append(old)
    run.plan.entries.append(entry)
