"""Jekyll: a site folder (_config.yml, _posts/, pages, assets, Staticman comments) read into a Plan."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from slugify import slugify

from blogengine.config import SiteConfig
from blogengine.frontmatter import SLUG_PATTERN
from blogengine.importers.redirects import normalize_path
from blogengine.importers.html import html_to_markdown
from blogengine.importers.plan import Entry, Plan, SourceError, local_date
from blogengine.importers.staticman import staticman_comments
from blogengine.importers.staticsite import (load_data_file, parse_date, permalink_path,
                                             split_front_matter, text_value,
                                             walk, words, zone)

CONTENT_SUFFIXES = (".md", ".markdown", ".mkd", ".html", ".htm")
POST_NAME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})-(.+)$")
STYLES = {
    "date": "/:categories/:year/:month/:day/:title:output_ext",
    "pretty": "/:categories/:year/:month/:day/:title/",
    "ordinal": "/:categories/:year/:y_day/:title:output_ext",
    "none": "/:categories/:title:output_ext",
}
# Files of the site's machinery, not its content.
NOT_ASSETS = {"gemfile", "gemfile.lock", "_config.yml", "_config.yaml", "readme.md", "license",
              "license.md", "license.txt", "package.json", "package-lock.json", "vendor",
              "node_modules", "cname", "rakefile"}


def _skip(rel: PurePosixPath) -> bool:
    name = rel.name
    return name.startswith((".", "_", "#")) or name.endswith("~") or name.lower() in NOT_ASSETS \
        or name.endswith(".gemspec")


def read_jekyll(folder: Path, config: SiteConfig, authors: tuple[str, ...] = ()) -> Plan:
    """Read a Jekyll site: posts (filename dates, categories, tags, permalink, published: false
    as drafts), pages, assets, and Staticman comments from _data/comments/."""
    if not folder.exists():
        raise SourceError("no such folder (expected a Jekyll site)", path=folder)
    if not folder.is_dir():
        raise SourceError("not a folder (expected a Jekyll site)", path=folder)
    config_file = next((folder / n for n in ("_config.yml", "_config.yaml")
                        if (folder / n).is_file()), None)
    if config_file is None and not (folder / "_posts").is_dir():
        raise SourceError("not a Jekyll site: no _config.yml and no _posts/ folder", path=folder)
    site_config = load_data_file(config_file) if config_file else {}
    if not isinstance(site_config, dict):
        raise SourceError("must be a mapping of settings", path=config_file)
    tz = zone(site_config.get("timezone"), config.tz)
    permalink = str(site_config.get("permalink") or "date")
    pattern = STYLES.get(permalink, permalink)
    baseurl = "/" + str(site_config.get("baseurl") or "").strip("/")
    plan = Plan(system="jekyll", source=folder)
    plan.hosts = {urlsplit(str(site_config.get("url") or "")).netloc.lower()} - {""}
    posts = sorted(p for p in folder.rglob("*") if p.is_file() and "_posts" in
                   p.relative_to(folder).parts[:-1] and p.suffix.lower() in CONTENT_SUFFIXES
                   and not p.name.startswith("."))
    drafts = sorted(p for p in (folder / "_drafts").glob("*") if p.suffix.lower() in CONTENT_SUFFIXES) \
        if (folder / "_drafts").is_dir() else []
    used: set[PurePosixPath] = set()
    for path in posts + drafts:
        entry = _post(path, folder, plan, tz, config.tz, pattern, baseurl, used,
                      draft=path in drafts)
        if entry is not None:
            plan.entries.append(entry)
    for path, rel in walk(folder, _skip):
        _page_or_asset(path, rel, plan, tz, config.tz, permalink, baseurl, used)
    authors_set = {a.strip().lower() for a in authors if a.strip()}
    comments = staticman_comments(folder / "_data" / "comments", plan, "jekyll",
                                  str(site_config.get("url") or folder.name).split("//")[-1].strip("/"),
                                  authors_set, tz)
    attach_comments(plan, comments)
    return plan


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


def liquid_to_markdown(body: str, leftover: set[str]) -> str:
    """Liquid that Jekyll would have run: highlight blocks become fenced code, raw/endraw and
    site.baseurl vanish; other tags are left as text (blogengine never runs post text) and named."""
    def fence(match: re.Match[str]) -> str:
        return f"```{match.group(1)}\n{match.group(2).strip(chr(10))}\n```"

    body = re.sub(r"\{%-?\s*highlight\s+([\w+-]+)[^%]*-?%\}\n?(.*?)\{%-?\s*endhighlight\s*-?%\}",
                  fence, body, flags=re.DOTALL)
    body = re.sub(r"\{%-?\s*(?:raw|endraw)\s*-?%\}", "", body)
    body = re.sub(r"\{\{-?\s*(?:site\.baseurl|site\.url|site\.github\.url)\s*-?\}\}", "", body)
    for match in re.finditer(r"\{%-?\s*(\w+)|\{\{", body):
        leftover.add(match.group(1) or "{{ }}")
    return body


def _slug_of(value: str) -> str:
    slug = value.strip()
    return slug if SLUG_PATTERN.match(slug) else slugify(slug, max_length=80, word_boundary=True)


def _post(path: Path, root: Path, plan: Plan, tz: ZoneInfo, site_tz: ZoneInfo, pattern: str,
          baseurl: str,
          used: set[PurePosixPath], *, draft: bool) -> Entry | None:
    rel = path.relative_to(root).as_posix()
    parsed = _read(path, plan, rel)
    if parsed is None:
        return None
    data, body = parsed
    name = POST_NAME.match(path.stem)
    file_slug = name.group(4) if name else path.stem
    when = parse_date(data.get("date"), tz)
    if when is None and name:
        when = parse_date(f"{name.group(1)}-{name.group(2)}-{name.group(3)}", tz)
    if when is None:
        when = datetime.fromtimestamp(path.stat().st_mtime, tz).replace(microsecond=0)
        plan.notes.append(f"{rel}: no date; dated by the file's modification time")
    # Categories from the folders above _posts/ come first, as Jekyll orders them.
    folders = [p for p in PurePosixPath(rel).parts[:-1] if p not in ("_posts", "_drafts")]
    categories = list(dict.fromkeys(folders + words(data.get("categories"))
                                    + words(data.get("category"))))
    tags = words(data.get("tags")) + words(data.get("tag"))
    slug = _slug_of(str(data.get("slug") or file_slug)) or "post"
    title = text_value(data.get("title")) or file_slug.replace("-", " ").capitalize()
    target = PurePosixPath("posts", f"{slug}.md")
    if target in used:
        target = target.with_name(f"{when:%Y-%m-%d}-{slug}.md")
    used.add(target)
    unpublished = draft or data.get("published") is False
    leftover: set[str] = set()
    text = html_to_markdown(body) if path.suffix.lower() in (".html", ".htm") else body
    text = liquid_to_markdown(text, leftover)
    if leftover:
        plan.notes.append(f"{rel}: Liquid left as text: " + ", ".join(sorted(leftover)))
    front = _front(data, title, when.astimezone(site_tz), slug, categories, tags, unpublished)
    entry = Entry(label=rel, kind="post", rel=target, front=front, body=text,
                  slugs=tuple(dict.fromkeys((file_slug, slug, path.stem))))
    if not unpublished:
        local = when.astimezone(tz)
        own = str(data.get("permalink") or pattern)
        values = {
            "year": f"{local:%Y}", "month": f"{local:%m}", "day": f"{local:%d}",
            "i_month": str(local.month), "i_day": str(local.day), "short_year": f"{local:%y}",
            "y_day": f"{local:%j}", "hour": f"{local:%H}", "minute": f"{local:%M}",
            "second": f"{local:%S}", "title": str(data.get("slug") or file_slug),
            "slug": slugify(str(data.get("slug") or file_slug)),
            "categories": "/".join(quote(c.lower()) for c in categories), "output_ext": ".html",
            "name": file_slug,
        }
        old = normalize_path(baseurl.rstrip("/") + permalink_path(own, values))
        if old:
            entry.old_urls.append(old)
    return entry


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


def _read(path: Path, plan: Plan, rel: str) -> tuple[dict[str, Any], str] | None:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        plan.skip("files", "not UTF-8 text", f"{rel}: not UTF-8 text")
        return None
    return split_front_matter(text, path)


def _page_or_asset(path: Path, rel: PurePosixPath, plan: Plan, tz: ZoneInfo, site_tz: ZoneInfo,
                   permalink: str, baseurl: str, used: set[PurePosixPath]) -> None:
    parsed = _read(path, plan, str(rel)) if path.suffix.lower() in (
        CONTENT_SUFFIXES + (".xml", ".txt", ".json", ".css", ".scss", ".sass", ".js")) else None
    if parsed is None:
        plan.assets.append((rel, path))
        return
    data, body = parsed
    if path.suffix.lower() not in CONTENT_SUFFIXES:
        plan.skip("files", "made by Jekyll from a template", f"{rel}: needs Jekyll to build it")
        return
    if rel.stem in ("index", "404") and len(rel.parts) == 1:
        plan.skip("pages", "blogengine writes its own", f"{rel}: blogengine writes its own {rel.stem} page")
        return
    if re.search(r"\{%-?\s*for\s+\w+\s+in\s+(?:site|paginator)\.", body):
        plan.skip("pages", "a Liquid listing of posts", f"{rel}: lists posts with Liquid; "
                  "blogengine makes its own index, tag and archive pages")
        return
    slug = _slug_of(str(data.get("slug") or rel.stem)) or "page"
    target = PurePosixPath("pages", *rel.parts[:-1], f"{slug}.md")
    if target in used:
        plan.skip("pages", "two pages with one name", f"{rel}: another page is already {target}")
        return
    used.add(target)
    leftover: set[str] = set()
    text = html_to_markdown(body) if path.suffix.lower() in (".html", ".htm") else body
    text = liquid_to_markdown(text, leftover)
    if leftover:
        plan.notes.append(f"{rel}: Liquid left as text: " + ", ".join(sorted(leftover)))
    title = text_value(data.get("title")) or rel.stem.replace("-", " ").capitalize()
    when = parse_date(data.get("date"), tz)
    front = {"title": title, "date": local_date(when.astimezone(site_tz)) if when else None,
             "slug": slug,
             "summary": text_value(data.get("description")),
             "draft": True if data.get("published") is False else None}
    entry = Entry(label=str(rel), kind="page", rel=target, front=front, body=text,
                  slugs=(rel.stem, slug))
    own = data.get("permalink")
    pretty = permalink == "pretty" or permalink.endswith("/")
    default = "/" + str(rel.with_suffix("")) + ("/" if pretty else ".html")
    old = normalize_path(baseurl.rstrip("/") + (str(own) if own else default))
    if old:
        entry.old_urls.append(old)
    plan.entries.append(entry)
