"""Comments as JSON: the one public shape shared by the API, the pages the static build bakes and
the dashboard's queue. No Flask here (the build uses it), and the only place that masks what a
deleted comment said."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from comments_server.models import Comment, CommentNode, Status

DELETED_NAME = "[deleted]"
DELETED_HTML = "<p>[deleted]</p>"


def rfc3339(value: datetime | None) -> str | None:
    """A time as the API writes it: UTC, whole seconds, a Z (None stays None)."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def comment_json(comment: Comment) -> dict[str, Any]:
    """The public view of a comment: never the email, IP address or token hash; a deleted
    comment keeps only its place in the conversation."""
    deleted = comment.status == Status.DELETED
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
        "replies": [],
    }


def tree_json(nodes: list[CommentNode]) -> list[dict[str, Any]]:
    """Nested comment JSON; iterative, though display depth keeps nesting shallow anyway."""
    out: list[dict[str, Any]] = []
    stack: list[tuple[list[CommentNode], list[dict[str, Any]]]] = [(nodes, out)]
    while stack:
        level, target = stack.pop()
        for node in level:
            item = comment_json(node.comment)
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
