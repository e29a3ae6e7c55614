"""Comments as JSON: the one public shape shared by the API, the pages the static build bakes and
the dashboard's queue. No Flask here (the build uses it), and the only place that masks what a
deleted comment said."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from urllib.parse import urlsplit

from comments_server.fediverse.client import handle_of
from comments_server.models import ORIGINS, URL_PATTERN, Comment, CommentNode, Mention, Status
from comments_server.sanitize import clean_html

_URL = re.compile(URL_PATTERN)
_HANDLE = re.compile(r"@[\w.-]{1,100}@[A-Za-z0-9.-]{1,253}(?::\d{1,5})?")
# A baked conversation from an API answer: no deeper, no longer than any real one would be.
MAX_CHECKED_DEPTH = 100
MAX_CHECKED_NAME = 200
MAX_CHECKED_URL = 2000

DELETED_NAME = "[deleted]"
DELETED_HTML = "<p>[deleted]</p>"


def rfc3339(value: datetime | None) -> str | None:
    """A time as the API writes it: UTC, whole seconds, a Z (None stays None)."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def source_site(url: str | None) -> str | None:
    """The site a remote reply or mention came from, as readers see it: its host, without "www."."""
    if not url:
        return None
    host = (urlsplit(url).hostname or "").lower()
    return (host[4:] if host.startswith("www.") else host) or None


def comment_json(comment: Comment, in_reply_to_url: str | None = None) -> dict[str, Any]:
    """The public view of a comment: never the email, IP address or token hash; a deleted
    comment keeps only its place in the conversation. A reply written elsewhere (a Webmention,
    the fediverse) says where (`origin`, `origin_url`, `origin_site`); `in_reply_to_url` is the
    remote page an answer to such a reply answers (a baked page links it as u-in-reply-to)."""
    deleted = comment.status == Status.DELETED
    # An author's answer keeps where it was also posted (fediverse.answer), which is not its origin.
    remote_url = None if deleted or comment.origin == "comment" else comment.origin_url
    return {
        "id": comment.id,
        "parent_id": comment.parent_id,
        "author_name": DELETED_NAME if deleted else comment.author_name,
        "author_url": None if deleted else comment.author_url,
        "is_author": False if deleted else comment.is_author,
        "body_html": DELETED_HTML if deleted else comment.body_html,
        "created_at": rfc3339(comment.created_at),
        "edited_at": None if deleted else rfc3339(comment.edited_at),
        "deleted": deleted,
        "origin": comment.origin,
        "origin_url": remote_url,
        "origin_site": source_site(remote_url),
        "author_photo": None if deleted else comment.author_photo,
        "in_reply_to_url": None if deleted else in_reply_to_url,
        "author_handle": handle_of(comment.author_url) if comment.origin == "fediverse" and not deleted else None,
        "replies": [],
    }


def mention_json(mention: Mention) -> dict[str, Any]:
    """A like, repost, bookmark or mention of a post (or an imported pingback), as readers see it."""
    return {
        "id": mention.id,
        "kind": mention.kind,
        "source_url": mention.source_url,
        "source_site": source_site(mention.source_url),
        "title": mention.title,
        "author_name": mention.author_name,
        "author_url": mention.author_url,
        "author_photo": mention.author_photo,
        "created_at": rfc3339(mention.created_at),
    }


def _remote_urls(nodes: list[CommentNode]) -> dict[int, str]:
    """The origin_url of each published remote reply in a tree, by comment id."""
    found: dict[int, str] = {}
    stack = list(nodes)
    while stack:
        node = stack.pop()
        comment = node.comment
        if comment.origin_url and comment.origin != "comment" and comment.status == Status.PUBLISHED:
            found[comment.id] = comment.origin_url
        stack.extend(node.replies)
    return found


def tree_json(nodes: list[CommentNode]) -> list[dict[str, Any]]:
    """Nested comment JSON; iterative, though display depth keeps nesting shallow anyway."""
    out: list[dict[str, Any]] = []
    remote = _remote_urls(nodes)
    stack: list[tuple[list[CommentNode], list[dict[str, Any]]]] = [(nodes, out)]
    while stack:
        level, target = stack.pop()
        for node in level:
            item = comment_json(node.comment, remote.get(node.comment.parent_id or 0))
            target.append(item)
            if node.replies:
                stack.append((node.replies, item["replies"]))
    return out


def parent_json(parent: Comment | None) -> dict[str, Any] | None:
    """The comment a queued one answers, as the queue shows it: who and what, masked alike."""
    if parent is None:
        return None
    public = comment_json(parent)
    return {key: public[key] for key in ("id", "author_name", "is_author", "body_html")}


class _NotAComment(ValueError):
    pass


def _int(value: Any, *, optional: bool = False) -> int | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _NotAComment(value)
    return value


def _time(value: Any, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise _NotAComment(value)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _NotAComment(value) from None
    if parsed.tzinfo is None:
        raise _NotAComment(value)
    return rfc3339(parsed)


def _checked_comment(data: Any) -> dict[str, Any]:
    """One comment of an API answer, rebuilt from checked fields (replies left to the caller)."""
    if not isinstance(data, dict):
        raise _NotAComment(data)
    deleted = data.get("deleted") is True
    name, url, html = data.get("author_name"), data.get("author_url"), data.get("body_html")
    if not isinstance(name, str) or not isinstance(html, str):
        raise _NotAComment(data)
    if not isinstance(url, str) or len(url) > MAX_CHECKED_URL or not _URL.fullmatch(url):
        url = None
    origin = data.get("origin") if data.get("origin") in ORIGINS else "comment"
    origin_url, photo, answers = (_checked_url(data.get(key)) for key in ("origin_url", "author_photo",
                                                                          "in_reply_to_url"))
    return {
        "id": _int(data.get("id")),
        "parent_id": _int(data.get("parent_id"), optional=True),
        "author_name": DELETED_NAME if deleted else " ".join(name.split())[:MAX_CHECKED_NAME],
        "author_url": None if deleted else url,
        "is_author": False if deleted else data.get("is_author") is True,
        "body_html": DELETED_HTML if deleted else clean_html(html),
        "created_at": _time(data.get("created_at")),
        "edited_at": None if deleted else _time(data.get("edited_at"), optional=True),
        "deleted": deleted,
        "origin": origin,
        "origin_url": None if deleted else origin_url,
        "origin_site": None if deleted else source_site(origin_url),
        "author_photo": None if deleted else photo,
        "in_reply_to_url": None if deleted else answers,
        "author_handle": None if deleted or origin != "fediverse" else _checked_handle(data.get("author_handle")),
        "replies": [],
    }


def _checked_handle(value: Any) -> str | None:
    """A fediverse handle (`@user@host`) from an API answer, else None."""
    if not isinstance(value, str) or not _HANDLE.fullmatch(value):
        return None
    return value


def _checked_url(value: Any) -> str | None:
    """An http(s) URL from an API answer (older servers send none), else None."""
    if not isinstance(value, str) or len(value) > MAX_CHECKED_URL or not _URL.fullmatch(value):
        return None
    return value


def checked_conversation(data: Any) -> tuple[int, list[dict[str, Any]]] | None:
    """A `GET /api/comments` answer from a server the build does not control, as (count, tree):
    every comment rebuilt from checked fields and its HTML sanitised again. None if it is not one."""
    if not isinstance(data, dict) or not isinstance(data.get("comments"), list):
        return None
    try:
        count = _int(data.get("count"))
        out: list[dict[str, Any]] = []
        stack: list[tuple[list[Any], list[dict[str, Any]], int]] = [(data["comments"], out, 0)]
        while stack:
            level, target, depth = stack.pop()
            if depth > MAX_CHECKED_DEPTH:
                return None
            for raw in level:
                item = _checked_comment(raw)
                target.append(item)
                replies = raw.get("replies") or []
                if not isinstance(replies, list):
                    return None
                if replies:
                    stack.append((replies, item["replies"], depth + 1))
    except _NotAComment:
        return None
    assert count is not None
    return count, out


MENTION_KINDS_SHOWN = ("like", "repost", "bookmark", "mention", "pingback", "trackback", "webmention")


def checked_mentions(data: Any) -> list[dict[str, Any]]:
    """The `mentions` of a `GET /api/comments` answer from a server the build does not control,
    each rebuilt from checked fields (text stays text: templates escape it); [] when it has none."""
    raw = data.get("mentions") if isinstance(data, dict) else None
    if not isinstance(raw, list):
        return []
    out: list[dict[str, Any]] = []
    for item in raw:
        if not isinstance(item, dict) or item.get("kind") not in MENTION_KINDS_SHOWN:
            continue
        source = _checked_url(item.get("source_url"))
        created = item.get("created_at")
        try:
            when = _time(created)
        except _NotAComment:
            continue
        if source is None or not isinstance(item.get("id"), int):
            continue
        title, name = item.get("title"), item.get("author_name")
        out.append({
            "id": item["id"], "kind": item["kind"], "source_url": source, "source_site": source_site(source),
            "title": " ".join(title.split())[:MAX_CHECKED_NAME] if isinstance(title, str) else "",
            "author_name": " ".join(name.split())[:MAX_CHECKED_NAME] if isinstance(name, str) else None,
            "author_url": _checked_url(item.get("author_url")), "author_photo": _checked_url(item.get("author_photo")),
            "created_at": when,
        })
    return out
