"""The unanswered queue as JSON: `GET /api/unanswered` and `blogengine comments unanswered --json`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from comments_server.conversation import Queue
from comments_server.serialize import parent_json, rfc3339


def queue_json(queue: Queue, url: Callable[[str], str]) -> dict[str, Any]:
    """Oldest first within each post, the author's own posts first; never an email or IP address."""
    items = []
    for group in queue.groups:
        for item in group.items:
            c = item.comment
            items.append({
                "id": c.id,
                "thread": c.thread,
                "title": group.thread.title,
                "post_url": group.post_url,
                "mine": group.mine,
                "author_name": c.author_name,
                "body_html": c.body_html,
                "created_at": rfc3339(c.created_at),
                "waiting_seconds": int(item.waiting.total_seconds()),
                "is_question": item.question,
                "parent": parent_json(item.tracked.parent),
                "reply_url": url(f"/dashboard/#comment-{c.id}"),
                "origin": c.origin,
                "origin_url": c.origin_url,
            })
    oldest = queue.oldest_waiting
    return {"count": queue.count, "oldest_waiting_seconds": int(oldest.total_seconds()) if oldest is not None else None,
            "snoozed": queue.snoozed, "comments": items}
