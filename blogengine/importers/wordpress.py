"""WordPress: a WXR export (Tools -> Export) read into a Plan of posts, pages and comments."""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

from slugify import slugify

from blogengine.config import SiteConfig
from blogengine.frontmatter import SLUG_PATTERN
from blogengine.importers.html import html_to_text, wordpress_to_markdown
from blogengine.importers.plan import (CommentItem, Entry, MentionItem, Plan, SourceError,
                                       local_date)
from blogengine.importers.redirects import normalize_path
from blogengine.importers.contained import site_file
from blogengine.importers.wxrdates import export_dates, rss_time, wordpress_time
from blogengine.importers.xmlsafe import local_name, namespace, read_xml

EXPECTED = "a WordPress export (WXR) from Tools > Export"
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
DC_NS = "http://purl.org/dc/elements/1.1/"
MENTION_TYPES = ("pingback", "trackback", "webmention")
DRAFT_STATUSES = ("draft", "pending", "private")


# Every WXR version WordPress and WordPress.com have written; https:// since WordPress 6.x.
_WP_NAMESPACE = re.compile(r"^https?://wordpress\.org/export/1\.\d+/?$")


@dataclass(frozen=True)
class _Author:
    id: str
    login: str
    name: str
    email: str = ""


class _Item:
    """One <item>: reads its wp:, content: and dc: children by name."""

    def __init__(self, element: ET.Element, wp: str) -> None:
        self.element = element
        self.wp = wp

    def wp_text(self, name: str, element: ET.Element | None = None) -> str:
        return ((element if element is not None else self.element).findtext(f"{{{self.wp}}}{name}")
                or "").strip()

    def text(self, tag: str) -> str:
        return self.element.findtext(tag) or ""


def _wp_namespace(channel: ET.Element) -> str | None:
    """The export's wp: namespace: the WXR one its elements use most (a file may redeclare the
    prefix inside an item; those few elements are not the export's own)."""
    found = Counter(namespace(e) for e in channel.iter() if _WP_NAMESPACE.match(namespace(e)))
    return found.most_common(1)[0][0] if found else None


def _item_date(item: _Item, tz: ZoneInfo,
               export_wide: list[tuple[datetime, str]]) -> tuple[datetime, str]:
    """When an item was published, and where that came from when not from its wp:post_date:
    the item's RSS pubDate, then its wp:post_modified, then the export's own dates."""
    own = wordpress_time(item.wp_text("post_date_gmt"), item.wp_text("post_date"), tz)
    if own is not None:
        return own, ""
    candidates: list[tuple[datetime | None, str]] = [
        (rss_time(item.text("pubDate")), "its RSS pubDate"),
        (wordpress_time(item.wp_text("post_modified_gmt"), item.wp_text("post_modified"), tz),
         "its wp:post_modified"),
        *export_wide]
    return next(((moment, source) for moment, source in candidates if moment is not None),
                export_wide[-1])


def _site_id(channel: ET.Element, wp: str) -> str:
    base = (channel.findtext(f"{{{wp}}}base_site_url") or channel.findtext("link") or "").strip()
    parts = urlsplit(base)
    return (parts.netloc + parts.path.rstrip("/")) or "site"


def _slug(raw: str, title: str, fallback: str) -> str:
    slug = unquote(raw).strip()
    if slug and SLUG_PATTERN.match(slug):
        return slug
    return slugify(slug or title, max_length=80, word_boundary=True) or fallback


def read_wordpress(path: Path, config: SiteConfig, uploads: Path | None = None) -> Plan:
    """Read a WXR file: posts and pages (drafts kept as drafts), comments with their nesting and
    author status, pingbacks and trackbacks as mentions; spam and trash skipped and counted.

    With `uploads` (a copy of the blog's wp-content/uploads folder), attachments and the files
    posts link to there are copied into the site and the links made local."""
    root = read_xml(path, EXPECTED)
    channel = root.find("channel")
    wp = _wp_namespace(channel) if channel is not None else None
    if local_name(root) != "rss" or channel is None or wp is None:
        raise SourceError(f"not a WordPress export: found <{local_name(root)}> without WordPress "
                          f"(wp:) elements (expected {EXPECTED})", path=path)
    tz = config.tz
    site = _site_id(channel, wp)
    plan = Plan(system="wordpress", source=path)
    plan.hosts = {urlsplit((channel.findtext(f"{{{wp}}}{key}") or channel.findtext("link") or "")
                           .strip()).netloc.lower() for key in ("base_site_url", "base_blog_url")} - {""}
    authors: dict[str, _Author] = {}
    for element in channel.findall(f"{{{wp}}}author"):
        login = (element.findtext(f"{{{wp}}}author_login") or "").strip()
        authors[login] = _Author(
            id=(element.findtext(f"{{{wp}}}author_id") or "").strip(), login=login,
            name=(element.findtext(f"{{{wp}}}author_display_name") or login).strip(),
            email=(element.findtext(f"{{{wp}}}author_email") or "").strip())
    items = [_Item(e, wp) for e in channel.findall("item")]
    attachments: dict[str, tuple[str, str]] = {}
    by_parent: dict[str, list[tuple[str, str]]] = {}
    for item in items:
        if item.wp_text("post_type") == "attachment":
            found = (item.wp_text("attachment_url"), item.text("title").strip())
            attachments[item.wp_text("post_id")] = found
            by_parent.setdefault(item.wp_text("post_parent"), []).append(found)
    pages = _page_slugs(items)
    export_wide = export_dates(channel, path)
    used: set[PurePosixPath] = set()
    for item in items:
        entry = _entry(item, plan, site, tz, authors, attachments, by_parent, pages, used,
                       export_wide)
        if entry is not None:
            plan.entries.append(entry)
    if uploads is not None:
        _copy_uploads(plan, uploads, [url for url, _title in attachments.values()], config.base_path)
    elif attachments:
        plan.notes.append(f"{len(attachments)} attachments (images and files) stay where they are: "
                          "posts link to their URLs on the old site (--uploads copies them)")
    return plan


def _page_slugs(items: list[_Item]) -> dict[str, tuple[str, str]]:
    """Each page's slug and parent id, by page id.

    A child page is written in a folder named after its parent, and the site makes a folder
    name into a URL segment the way it makes a title into a slug (Greek letters transliterated,
    capitals lowered). So a page with children takes that form of its slug as its own too:
    its URL and its children's then share the segment (its old URL redirects)."""
    pages = {item.wp_text("post_id"): (
        _slug(item.wp_text("post_name"), item.text("title"), f"page-{item.wp_text('post_id')}"),
        item.wp_text("post_parent")) for item in items if item.wp_text("post_type") == "page"}
    parents = {parent for _own, parent in pages.values() if parent in pages}
    return {page_id: ((slugify(slug, max_length=80, word_boundary=True) or f"page-{page_id}")
                      if page_id in parents else slug, parent)
            for page_id, (slug, parent) in pages.items()}


_UPLOAD = re.compile(r"https?://([^/\s()<>\"']+)/(?:[^\s()<>\"']*/)?wp-content/uploads/([^\s()<>\"'?#]+)")


def _copy_uploads(plan: Plan, uploads: Path, attachment_urls: list[str], base_path: str) -> None:
    """Copy attachments and linked upload files from `uploads` to content/wp-content/uploads/
    (so they keep their paths) and point the posts' links at them."""
    if not uploads.is_dir():
        raise SourceError("no such folder (expected a copy of wp-content/uploads)", path=uploads)
    root = uploads.resolve()
    plan.files_root = root
    found: dict[str, str] = {}      # old URL -> new site path
    missing: set[str] = set()
    outside: set[str] = set()

    def local(match: re.Match[str]) -> str:
        url, rel = match.group(0), unquote(match.group(2))
        if match.group(1).lower() not in plan.hosts:
            return url
        if url not in found:
            if ".." in PurePosixPath(rel).parts or rel.startswith("/"):   # never a real upload
                outside.add(rel)
                return url
            source = uploads / rel
            if not site_file(source, root):
                (missing if not source.is_symlink() else outside).add(rel)
                return url
            plan.assets.append((PurePosixPath("wp-content/uploads", rel), source))
            found[url] = base_path.rstrip("/") + "/wp-content/uploads/" + rel
        return found[url]

    for entry in plan.entries:
        entry.body = _UPLOAD.sub(local, entry.body)
    for url in attachment_urls:
        _UPLOAD.sub(local, url)
    plan.assets = list(dict.fromkeys(plan.assets))
    if outside:
        plan.notes.append(f"{len(outside)} upload links lead out of {uploads} (through '..' or a "
                          "symbolic link) and keep their old URLs: " + ", ".join(sorted(outside)[:5]))
    if missing:
        plan.notes.append(f"{len(missing)} uploaded files are not in {uploads} and keep their old "
                          "URLs: " + ", ".join(sorted(missing)[:5]) + (" …" if len(missing) > 5 else ""))


def _entry(item: _Item, plan: Plan, site: str, tz: ZoneInfo, authors: dict[str, _Author],
           attachments: dict[str, tuple[str, str]], by_parent: dict[str, list[tuple[str, str]]],
           pages: dict[str, tuple[str, str]], used: set[PurePosixPath],
           export_wide: list[tuple[datetime, str]]) -> Entry | None:
    kind = item.wp_text("post_type")
    post_id = item.wp_text("post_id")
    title = html.unescape(item.text("title").strip())
    label = " ".join(filter(None, (kind, post_id, repr(title))))
    comments = item.element.findall(f"{{{item.wp}}}comment")
    if kind == "attachment":
        return None
    if not kind:
        plan.skip("items", "no wp:post_type", f"item {label}: skipped (no wp:post_type)")
        if comments:
            plan.skipped["comments (on a skipped item)"] += len(comments)
        return None
    if kind not in ("post", "page"):
        plan.skip(f"items of type {kind}", "not a post or page")
        return None
    status = item.wp_text("status")
    if status in ("trash", "auto-draft", "inherit"):
        plan.skip(f"{kind}s", status, f"{label}: skipped ({status})")
        if comments:
            plan.skipped[f"comments (on a skipped {kind})"] += len(comments)
        return None
    when, dated_from = _item_date(item, tz, export_wide)
    if dated_from:
        plan.notes.append(f"{label}: no usable wp:post_date; dated "
                          f"{when.astimezone(tz):%Y-%m-%d %H:%M} from {dated_from}")
    slug = _slug(item.wp_text("post_name"), title, f"{kind}-{post_id}")
    if kind == "page":
        slug = pages[post_id][0]
        folders: list[str] = []
        parent, seen = item.wp_text("post_parent"), {post_id}
        while parent in pages and parent not in seen:
            seen.add(parent)
            folders.insert(0, pages[parent][0])
            parent = pages[parent][1]
        rel = PurePosixPath("pages", *folders, f"{slug}.md")
    else:
        rel = PurePosixPath("posts", f"{slug}.md")
    if rel in used:
        rel = rel.with_name(f"{slug}-{post_id}.md")
    used.add(rel)
    login = item.text(f"{{{DC_NS}}}creator").strip()
    author = authors.get(login, _Author(id="", login=login, name=login))
    tags, categories = [], []
    for category in item.element.findall("category"):
        name = (category.text or "").strip()
        if not name:
            continue
        if category.get("domain") == "post_tag":
            tags.append(name)
        elif category.get("domain") == "category" and category.get("nicename") != "uncategorized":
            categories.append(name)
    draft = status in DRAFT_STATUSES
    if item.wp_text("post_password"):
        draft = True
        plan.notes.append(f"{label}: password-protected on WordPress; imported as a draft")
    leftovers: set[str] = set()
    body = wordpress_to_markdown(item.text(f"{{{CONTENT_NS}}}encoded"), attachments,
                                 by_parent.get(post_id, []), leftovers.add, footnotes=_footnotes(item))
    if leftovers:
        plan.notes.append(f"{label}: not carried over: " + "; ".join(sorted(leftovers)))
    excerpt = next((e.text or "" for e in item.element if local_name(e) == "encoded"
                    and namespace(e).rstrip("/").endswith("excerpt")), "")
    updated = wordpress_time(item.wp_text("post_modified_gmt"), item.wp_text("post_modified"), tz)
    front: dict[str, Any] = {
        "title": title or slug,
        "date": local_date(when.astimezone(tz)),
        "updated": local_date(updated.astimezone(tz)) if updated and updated > when else None,
        "slug": slug,
        "author": author.name or None,
        "category": categories[0] if categories else None,
        # blogengine has one category per post; the others become tags, so nothing is lost.
        "tags": list(dict.fromkeys(tags + categories[1:])),
        "summary": html_to_text(excerpt) or None,
        "draft": True if draft else None,
    }
    entry = Entry(label=label, kind=kind, rel=rel, front=front, body=body, slugs=(slug,))
    link = normalize_path(item.text("link"))
    if link and not draft:
        entry.old_urls.append(link)
    for number, element in enumerate(comments, 1):
        _comment(element, item, plan, site, tz, author, entry, label, when, number)
    if kind == "page" and entry.comments:
        front["comments"] = True
    return entry


def _footnotes(item: _Item) -> list[dict[str, str]]:
    """A post's footnotes, as the block editor (WordPress 6.3+) keeps them: JSON in the
    `footnotes` post meta, [{"id": ..., "content": ...}], which the post's marks link to by id.
    For the content converter, which puts them at the end of the post."""
    for meta in item.element.findall(f"{{{item.wp}}}postmeta"):
        if item.wp_text("meta_key", meta) != "footnotes":
            continue
        try:
            notes = json.loads(meta.findtext(f"{{{item.wp}}}meta_value") or "")
        except ValueError:
            return []
        return [{"id": str(note.get("id", "")), "content": str(note.get("content", ""))}
                for note in notes if isinstance(note, dict)] if isinstance(notes, list) else []
    return []


def _by_post_author(user_id: str, email: str, name: str, author: _Author) -> bool:
    """Whether WordPress recorded a comment as the post author's own.

    When the export gives the author's wp:author_id, the comment's comment_user_id must be it.
    Exports without author ids (WordPress.com's) are read by what else WordPress recorded: the
    comment's email is the author's wp:author_email, or the comment was written logged in
    (comment_user_id not 0) under the author's login or display name. A reader who only types
    the author's name, logged out, stays a reader."""
    logged_in = user_id not in ("", "0")
    if author.id:
        return logged_in and user_id == author.id
    if author.email and email.strip().lower() == author.email.lower():
        return True
    return logged_in and name.strip() in {author.login, author.name} - {""}


def _comment(element: ET.Element, item: _Item, plan: Plan, site: str, tz: ZoneInfo,
             post_author: _Author, entry: Entry, label: str, post_date: datetime,
             number: int) -> None:
    def get(name: str) -> str:
        return item.wp_text(name, element)

    # Without an id, the comment's place in its post keeps it the same on the next import.
    comment_id = get("comment_id") or f"{item.wp_text('post_id')}-{number}"
    approved = get("comment_approved")
    kind = get("comment_type") or "comment"
    what = "mentions" if kind in MENTION_TYPES else "comments"
    if approved == "spam":
        plan.skip(what, "spam")
        return
    if approved in ("trash", "post-trashed"):
        plan.skip(what, "trash")
        return
    when = wordpress_time(get("comment_date_gmt"), get("comment_date"), tz)
    if when is None:
        when = post_date    # a comment is no older than its post
        plan.notes.append(f"{label}: comment {comment_id} has no valid date; dated as its post")
    uid = f"wordpress:{site}:{comment_id}"
    content = element.findtext(f"{{{item.wp}}}comment_content") or ""
    if kind in MENTION_TYPES:
        if approved != "1":
            plan.skip(what, "not approved")
            return
        entry.mentions.append(MentionItem(
            uid=uid, kind=kind, source_url=get("comment_author_url"),
            title=html.unescape(get("comment_author")), excerpt=html_to_text(content), created_at=when.astimezone(UTC)))
        return
    parent = get("comment_parent")
    user = get("comment_user_id")
    entry.comments.append(CommentItem(
        uid=uid, parent_uid=f"wordpress:{site}:{parent}" if parent not in ("", "0") else None,
        author_name=html.unescape(get("comment_author")), author_email=get("comment_author_email") or None,
        author_url=get("comment_author_url") or None,
        is_author=_by_post_author(user, get("comment_author_email"),
                                  html.unescape(get("comment_author")), post_author),
        body=wordpress_to_markdown(content), created_at=when.astimezone(UTC),
        pending=approved != "1", ip=get("comment_author_IP") or None))
