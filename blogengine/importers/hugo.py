"""Hugo: a site folder (config, content/ in YAML, TOML or JSON front matter, static/, page
bundles, Staticman comments in data/comments/) read into a Plan."""

from __future__ import annotations

import html
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
from blogengine.importers.jekyll import attach_comments
from blogengine.importers.plan import Entry, Plan, SourceError, local_date
from blogengine.importers.staticman import staticman_comments
from blogengine.importers.staticsite import (load_data_file, parse_date, permalink_path,
                                             split_front_matter, text_value,
                                             walk, words, zone)

CONFIG_NAMES = ("hugo.toml", "hugo.yaml", "hugo.yml", "hugo.json", "config.toml", "config.yaml",
                "config.yml", "config.json")
CONTENT_SUFFIXES = (".md", ".markdown", ".html", ".htm")
POST_SECTIONS = ("posts", "post", "blog")


def _config(folder: Path) -> dict[str, Any]:
    for name in CONFIG_NAMES:
        for path in (folder / name, folder / "config" / "_default" / name):
            if path.is_file():
                data = load_data_file(path)
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
    plan = Plan(system="hugo", source=folder)
    plan.hosts = {urlsplit(str(settings.get("baseurl") or "")).netloc.lower()} - {""}
    used: set[PurePosixPath] = set()
    bundles = {p.parent for p in content.rglob("index.*") if p.suffix in CONTENT_SUFFIXES}
    for path, rel in walk(content, lambda r: r.name.startswith(".")):
        if path.suffix.lower() not in CONTENT_SUFFIXES:
            if not any(path.is_relative_to(b) for b in bundles):
                plan.assets.append((rel, path))   # files beside content: served at that path
            continue
        if path.stem == "_index":
            plan.skip("pages", "a section list", f"content/{rel}: a list page; blogengine makes "
                      "its own index, tag and archive pages")
            continue
        entry = _entry(path, rel, plan, tz, config.tz, main, permalinks, base, ugly, used)
        if entry is not None:
            if path.stem == "index":
                entry.resources = [(str(PurePosixPath(r.relative_to(path.parent).as_posix())), r)
                                   for r in sorted(path.parent.rglob("*")) if r.is_file()
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


def shortcodes_to_markdown(body: str, leftover: set[str]) -> str:
    """Hugo shortcodes with a plain Markdown equivalent: figure, highlight, youtube, vimeo, gist,
    tweet links; ref/relref become markers resolved once every post's old URL is known. Others
    are left as text (readable) and named in `leftover`."""
    def attrs(text: str) -> dict[str, str]:
        return {m.group(1): m.group(2) if m.group(2) is not None else m.group(3)
                for m in re.finditer(r'(\w+)=(?:"([^"]*)"|(\S+))', text)}

    def positional(text: str) -> str:
        match = re.match(r'\s*"?([^"\s]+)"?', text)
        return match.group(1) if match else ""

    def figure(match: re.Match[str]) -> str:
        a = attrs(match.group(1))
        image = f"![{a.get('alt') or a.get('title') or ''}]({a.get('src', '')})"
        if a.get("link"):
            image = f"[{image}]({a['link']})"
        caption = a.get("caption") or a.get("title")
        return image + (f"\n\n*{html.unescape(caption)}*" if caption else "")

    def highlight(match: re.Match[str]) -> str:
        return f"```{positional(match.group(1))}\n{match.group(2).strip(chr(10))}\n```"

    def video(match: re.Match[str]) -> str:
        kind, arg = match.group(1), attrs(match.group(2)).get("id") or positional(match.group(2))
        url = f"https://www.youtube.com/watch?v={arg}" if kind == "youtube" else f"https://vimeo.com/{arg}"
        return f"<{url}>"

    def gist(match: re.Match[str]) -> str:
        parts = match.group(1).split()
        return f"<https://gist.github.com/{parts[0]}/{parts[1]}>" if len(parts) >= 2 else match.group(0)

    open_, close = r"\{\{[<%]-?\s*", r"\s*-?[>%]\}\}"
    body = re.sub(open_ + r"highlight\s+([^>%]*?)" + close + r"\n?(.*?)" + open_ + r"/highlight" + close,
                  highlight, body, flags=re.DOTALL)
    body = re.sub(open_ + r"figure\s+(.*?)" + close, figure, body, flags=re.DOTALL)
    body = re.sub(open_ + r"(youtube|vimeo)\s+(.*?)" + close, video, body)
    body = re.sub(open_ + r"gist\s+(.*?)" + close, gist, body)
    body = re.sub(open_ + r"(?:rel)?ref\s+\"?([^\"\s>%]+)\"?" + close, lambda m: f"\x00ref:{m.group(1)}\x00", body)
    for match in re.finditer(open_ + r"/?(\w+)", body):
        leftover.add(match.group(1))
    return body


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
    parsed = split_front_matter(text, path)
    if parsed is None:
        plan.skip("files", "no front matter", f"{label}: no front matter")
        return None
    data = {str(k).lower(): v for k, v in parsed[0].items()}
    body = parsed[1]
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
