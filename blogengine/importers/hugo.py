"""Hugo: a site folder (config, content/ in YAML, TOML or JSON front matter, static/, page
bundles, Staticman comments in data/comments/) read into a Plan."""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from slugify import slugify

from blogengine.config import SiteConfig
from blogengine.frontmatter import SLUG_PATTERN
from blogengine.importers.redirects import normalize_path
from blogengine.importers.html import html_to_markdown
from blogengine.importers.hugo_text import shortcodes_to_markdown
from blogengine.importers.jekyll import attach_comments
from blogengine.importers.contained import site_file
from blogengine.importers.plan import Entry, Plan, SourceError, local_date
from blogengine.importers.staticman import staticman_comments
from blogengine.importers.staticsite import (load_data_file, parse_date, permalink_path,
                                             split_front_matter, text_value,
                                             walk, words, zone)

CONFIG_NAMES = ("hugo.toml", "hugo.yaml", "hugo.yml", "hugo.json", "config.toml", "config.yaml",
                "config.yml", "config.json")
CONTENT_SUFFIXES = (".md", ".markdown", ".html", ".htm")
POST_SECTIONS = ("posts", "post", "blog")
# Layouts that list the site's posts: the page is the listing, blogengine makes its own.
LISTING_LAYOUTS = ("archives", "archive", "search", "list", "terms", "taxonomy")


def _config(folder: Path) -> dict[str, Any]:
    for name in CONFIG_NAMES:
        for path in (folder / name, folder / "config" / "_default" / name):
            if path.is_file():
                data = load_data_file(path)
                if data is None:    # a YAML config of comments only
                    data = {}
                if not isinstance(data, dict):
                    raise SourceError("must be a mapping of settings", path=path)
                return data
    raise SourceError("not a Hugo site: no hugo.toml, config.toml (or .yaml, .json) here",
                      path=folder)


def _urlize(text: str) -> str:
    return slugify(text, lowercase=True) or text


def read_hugo(folder: Path, config: SiteConfig, authors: tuple[str, ...] = ()) -> Plan:
    """Read a Hugo site: posts from the main sections (draft, aliases, permalinks, url), other
    content as pages, bundles' files beside their post, static/ as assets, shortcodes turned
    into Markdown where they have a plain equivalent, Staticman comments from data/comments/."""
    if not folder.exists():
        raise SourceError("no such folder (expected a Hugo site)", path=folder)
    if not folder.is_dir():
        raise SourceError("not a folder (expected a Hugo site)", path=folder)
    settings = {k.lower(): v for k, v in _config(folder).items()}
    params = {k.lower(): v for k, v in (settings.get("params") or {}).items()} \
        if isinstance(settings.get("params"), dict) else {}
    tz = zone(settings.get("timezone"), config.tz)
    base = "/" + str(re.sub(r"^[a-z]+://[^/]+", "", str(settings.get("baseurl") or ""))).strip("/")
    permalinks = {str(k): str(v) for k, v in (settings.get("permalinks") or {}).items()
                  if isinstance(v, str)} if isinstance(settings.get("permalinks"), dict) else {}
    main = words(params.get("mainsections") or settings.get("mainsections")) or list(POST_SECTIONS)
    ugly = bool(settings.get("uglyurls"))
    content = folder / str(settings.get("contentdir") or "content")
    if not content.is_dir():
        raise SourceError(f"not a Hugo site: no {content.name}/ folder", path=folder)
    plan = Plan(system="hugo", source=folder, files_root=folder)
    plan.hosts = {urlsplit(str(settings.get("baseurl") or "")).netloc.lower()} - {""}
    used: set[PurePosixPath] = set()
    bundles = {p.parent for p in content.rglob("index.*") if p.suffix in CONTENT_SUFFIXES}
    headless = _headless_bundles(content, bundles, plan)
    for path, rel in walk(content, lambda r: r.name.startswith(".")):
        bundle = next((b for b in bundles if path.is_relative_to(b)), None)
        if bundle in headless:
            continue
        if path.suffix.lower() not in CONTENT_SUFFIXES:
            if bundle is None:
                plan.assets.append((rel, path))   # files beside content: served at that path
            continue
        if path.stem == "_index":
            plan.skip("pages", "a section list", f"content/{rel}: a list page; blogengine makes "
                      "its own index, tag and archive pages")
            continue
        if bundle is not None and path.parent / path.stem != bundle / "index":
            plan.skip("files", "a page bundle's content resource", f"content/{rel}: a resource "
                      f"of the bundle {bundle.name}/, which Hugo does not publish as a page")
            continue
        entry = _entry(path, rel, plan, tz, config.tz, main, permalinks, base, ugly, used)
        if entry is not None:
            if path.stem == "index":
                entry.resources = [(str(PurePosixPath(r.relative_to(path.parent).as_posix())), r)
                                   for r in sorted(path.parent.rglob("*")) if site_file(r, folder)
                                   and r != path and r.suffix not in CONTENT_SUFFIXES
                                   and not r.name.startswith(".")]
            plan.entries.append(entry)
    _refs(plan)
    static = folder / str(settings.get("staticdir") or "static")
    for path, rel in walk(static, lambda r: r.name.startswith(".")):
        plan.assets.append((rel, path))
    authors_set = {a.strip().lower() for a in authors if a.strip()}
    site_id = re.sub(r"^[a-z]+://", "", str(settings.get("baseurl") or folder.name)).strip("/")
    attach_comments(plan, staticman_comments(folder / "data" / "comments", plan, "hugo",
                                             site_id, authors_set, tz))
    return plan


def unrendered(data: dict[str, Any]) -> str | None:
    """Why Hugo renders no page for this front matter (headless, build.render never), or None."""
    if data.get("headless") is True:
        return "headless: true"
    for key in ("build", "_build"):
        options = data.get(key)
        if isinstance(options, dict) and options.get("render") in ("never", False, "false"):
            return f"{key}: {{render: {str(options['render']).lower()}}}"
    return None


def _headless_bundles(content: Path, bundles: set[Path], plan: Plan) -> set[Path]:
    """Leaf bundles Hugo publishes no page for, each reported once with its resources (other
    pages and templates may still use them, but they have no URL of their own)."""
    found = set()
    for bundle in sorted(bundles):
        index = next(p for p in sorted(bundle.glob("index.*")) if p.suffix in CONTENT_SUFFIXES)
        try:
            parsed = split_front_matter(index.read_text(encoding="utf-8"), index)
        except (OSError, UnicodeDecodeError, SourceError):
            continue     # reported when the page is read
        why = unrendered({str(k).lower(): v for k, v in parsed[0].items()}) if parsed else None
        if why is None:
            continue
        found.add(bundle)
        resources = [r.relative_to(bundle).as_posix() for r in sorted(bundle.rglob("*"))
                     if r.is_file() and r != index and not r.name.startswith(".")]
        plan.skip("pages", "a headless bundle",
                  f"content/{bundle.relative_to(content).as_posix()}/: a headless bundle ({why}): "
                  "Hugo publishes no page for it; its resources ("
                  + (", ".join(resources) or "none") + ") are only used from other pages or "
                  "templates; not imported")
        if resources:
            plan.skipped["resources (of a headless bundle)"] += len(resources)
    return found


def _refs(plan: Plan) -> None:
    """{{< ref "x.md" >}}: the old URL of the content it names (a redirect leads on from there)."""
    old: dict[str, str] = {}
    for entry in plan.entries:
        for name in entry.slugs:
            if entry.old_urls:
                old.setdefault(name, entry.old_urls[0])
    for entry in plan.entries:
        def resolve(match: re.Match[str], entry: Entry = entry) -> str:
            target = match.group(1).split("#")[0].rstrip("/")
            stem = PurePosixPath(target).stem if PurePosixPath(target).stem != "index" \
                else PurePosixPath(target).parent.name
            found = old.get(target) or old.get(stem)
            if found is None:
                plan.notes.append(f"{entry.label}: ref {match.group(1)!r} names no imported content")
                return match.group(1)
            return found
        entry.body = re.sub(r"\x00ref:([^\x00]*)\x00", resolve, entry.body)


def _entry(path: Path, rel: PurePosixPath, plan: Plan, tz: ZoneInfo, site_tz: ZoneInfo, main: list[str],
           permalinks: dict[str, str], base: str, ugly: bool, used: set[PurePosixPath]) -> Entry | None:
    label = f"content/{rel}"
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        plan.skip("files", "not UTF-8 text", f"{label}: not UTF-8 text")
        return None
    except OSError as exc:
        plan.skip("files", "unreadable", f"{label}: cannot read it ({exc.strerror})")
        return None
    try:
        parsed = split_front_matter(text, path)
    except SourceError as exc:
        where = f"{label}:{exc.line}" if exc.line else label
        plan.skip("files", "invalid front matter", f"{where}: {exc.message}")
        return None
    if parsed is None:
        plan.skip("files", "no front matter", f"{label}: no front matter")
        return None
    data = {str(k).lower(): v for k, v in parsed[0].items()}
    body = parsed[1]
    why = unrendered(data)
    if why is not None:
        plan.skip("pages", "not rendered by Hugo", f"{label}: {why}; Hugo publishes no page for it")
        return None
    if not body.strip() and str(data.get("layout") or "").lower() in LISTING_LAYOUTS:
        plan.skip("pages", "a listing layout", f"{label}: layout {data['layout']!r} and no text; "
                  "blogengine makes its own index, tag and archive pages")
        return None
    bundle = path.stem == "index"
    parts = rel.parts[:-2] if bundle else rel.parts[:-1]
    file_name = rel.parts[-2] if bundle else path.stem
    section = parts[0] if parts else ""
    is_post = section in main
    title = text_value(data.get("title")) or file_name.replace("-", " ").capitalize()
    raw_slug = str(data.get("slug") or "").strip()
    slug = raw_slug if raw_slug and SLUG_PATTERN.match(raw_slug) else \
        slugify(raw_slug or file_name, max_length=80, word_boundary=True) or "page"
    when = parse_date(data.get("date") or data.get("publishdate") or data.get("pubdate"), tz)
    if is_post and when is None:
        plan.skip("posts", "no date", f"{label}: a post without `date`")
        return None
    updated = parse_date(data.get("lastmod"), tz)
    draft = data.get("draft") is True
    leftover: set[str] = set()
    text_body = html_to_markdown(body) if path.suffix.lower() in (".html", ".htm") else body
    text_body = shortcodes_to_markdown(text_body, leftover)
    if leftover:
        plan.notes.append(f"{label}: shortcodes left as text: " + ", ".join(sorted(leftover)))
    categories = words(data.get("categories"))
    target = PurePosixPath("posts", f"{slug}.md") if is_post else \
        PurePosixPath("pages", *parts, f"{slug}.md")
    if target in used:
        target = target.with_name(f"{slug}-{when:%Y-%m-%d}.md" if when else f"{slug}-2.md")
    used.add(target)
    local = when.astimezone(tz) if when else None
    front: dict[str, Any] = {
        "title": title,
        "date": local_date(when.astimezone(site_tz)) if when else None,
        "updated": local_date(updated.astimezone(site_tz)) if updated and when and updated > when
        else None,
        "slug": slug,
        "author": text_value(data.get("author")) or text_value(data.get("authors")),
        "category": categories[0] if categories else None,
        "tags": list(dict.fromkeys(words(data.get("tags")) + categories[1:])),
        "summary": text_value(data.get("summary")) or text_value(data.get("description")),
        "draft": True if draft else None,
    }
    entry = Entry(label=label, kind="post" if is_post else "page", rel=target, front=front,
                  body=text_body, slugs=tuple(dict.fromkeys((file_name, slug, str(rel)))))
    if draft:
        return entry
    url = data.get("url")
    if isinstance(url, str) and url.strip():
        old = "/" + url.strip().lstrip("/")
    else:
        section_path = "/".join(parts)
        pattern = permalinks.get(section)
        values = {"section": section, "sections": section_path, "title": _urlize(title),
                  "slug": slugify(raw_slug) if raw_slug else _urlize(title), "filename": file_name,
                  "slugorfilename": slugify(raw_slug) if raw_slug else file_name,
                  "contentbasename": file_name}
        if local:
            values |= {"year": f"{local:%Y}", "month": f"{local:%m}", "day": f"{local:%d}",
                       "monthname": f"{local:%B}".lower(), "yearday": str(local.timetuple().tm_yday),
                       "weekday": str(local.isoweekday() % 7), "weekdayname": f"{local:%A}".lower()}
        if pattern:
            old = permalink_path(pattern, values)
        else:
            old = "/" + (section_path + "/" if section_path else "") + \
                (slugify(raw_slug) if raw_slug else file_name) + "/"
        if ugly and old.endswith("/"):
            old = old.rstrip("/") + ".html"
    entry.old_urls = [p for p in (normalize_path(base.rstrip("/") + old),) if p]
    for alias in words(data.get("aliases")) if not isinstance(data.get("aliases"), str) \
            else [str(data["aliases"])]:
        path_alias = normalize_path(alias if alias.startswith("/") or "://" in alias
                                    else "/" + alias)
        if path_alias:
            entry.old_urls.append(path_alias)
    return entry
