"""Mentions in SQL: pingbacks, trackbacks and webmentions, stored apart from comments."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Row, func, or_, select
from sqlalchemy.engine import Connection

from comments_server.models import Mention
from comments_server.storage.tables import mentions

_FIELDS = ("thread", "kind", "source_url", "title", "excerpt", "created_at", "uid", "status", "author_name",
           "author_url", "author_photo", "content_html", "published_at", "updated_at")


def insert_mentions(conn: Connection, records: Sequence[Mention]) -> tuple[int, int]:
    """Add mentions in the caller's transaction, skipping uids already stored: (added, skipped)."""
    uids = [m.uid for m in records]
    known: set[str] = set()
    for start in range(0, len(uids), 500):
        query = select(mentions.c.uid).where(mentions.c.uid.in_(uids[start:start + 500]))
        known.update(uid for (uid,) in conn.execute(query))
    added = 0
    for mention in records:
        if mention.uid in known:
            continue
        conn.execute(mentions.insert().values(**{name: getattr(mention, name) for name in _FIELDS}))
        known.add(mention.uid)
        added += 1
    return added, len(records) - added


def _row_to_mention(row: Row[Any]) -> Mention:
    data = row._mapping
    return Mention(**{name: data[name] for name in _FIELDS}, id=int(data["id"]))


class MentionStore:
    """Reading mentions; each public method is one transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def list_thread(self, thread: str) -> list[Mention]:
        """A post's published mentions, oldest first."""
        query = (select(mentions).where(mentions.c.thread == thread, mentions.c.status == "published")
                 .order_by(mentions.c.created_at, mentions.c.id))
        with self.engine.begin() as conn:
            return [_row_to_mention(row) for row in conn.execute(query)]

    def search(self, *, threads: Sequence[str] | None = None, words: str = "", since: datetime | None = None,
               until: datetime | None = None, limit: int = 50) -> list[Mention]:
        """Mentions, newest first: of some posts, with `words` in the title, excerpt or link (any
        case), created in [since, until) (the dashboard's All comments page)."""
        query = select(mentions)
        if threads is not None:
            query = query.where(mentions.c.thread.in_(list(threads)))
        if words:
            needle = words.lower()
            query = query.where(or_(*(func.lower(column).contains(needle, autoescape=True) for column in
                                      (mentions.c.title, mentions.c.excerpt, mentions.c.source_url))))
        if since is not None:
            query = query.where(mentions.c.created_at >= since)
        if until is not None:
            query = query.where(mentions.c.created_at < until)
        query = query.order_by(mentions.c.created_at.desc(), mentions.c.id.desc()).limit(limit)
        with self.engine.begin() as conn:
            return [_row_to_mention(row) for row in conn.execute(query)]

    def all_mentions(self) -> list[Mention]:
        """Every mention, in the order stored (for exports)."""
        with self.engine.begin() as conn:
            return [_row_to_mention(row) for row in conn.execute(select(mentions).order_by(mentions.c.id))]
