"""Helpers the stores share: a comments row as a Comment, and bumping thread versions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Row, Select, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from comments_server.models import Comment, NewComment
from comments_server.storage.tables import thread_versions

_NEW_FIELDS = [f.name for f in fields(NewComment)]


def row_to_comment(row: Row[Any]) -> Comment:
    data = row._mapping
    return Comment(**{name: data[name] for name in (*_NEW_FIELDS, "id", "edited_at")})


def touch_threads(conn: Connection, threads: Iterable[str], now: datetime | None) -> None:
    """Bump each thread's version in the caller's write transaction (every write readers can see).

    changed_at moves to `now` (default: the real time), and always into a later second than before:
    HTTP dates have whole seconds, and two versions sharing one would look alike to If-Modified-Since.
    Under more than one write a second it runs ahead of the clock; Last-Modified is then left out."""
    now = now or datetime.now(UTC)
    insert, read, update = _TOUCH_POSTGRESQL if conn.dialect.name == "postgresql" else _TOUCH_SQLITE
    for thread in sorted(set(threads)):
        found = conn.execute(read, {"b_thread": thread}).first()
        if found is None:   # a thread's first write: its row first (two may race to make it)
            conn.execute(insert, {"thread": thread, "version": 0, "changed_at": now})
            found = conn.execute(read, {"b_thread": thread}).one()
        version, changed_at = found
        if version:
            changed_at = max(now, changed_at.replace(microsecond=0) + timedelta(seconds=1))
        conn.execute(update, {"b_thread": thread, "new_version": version + 1, "new_changed_at": changed_at})


def _touch_statements(insert: Any) -> tuple[Any, Select[Any], Any]:
    """_touch's statements, built once: a row for a new thread, the current row (locked), the bump."""
    versions = thread_versions
    thread = bindparam("b_thread", type_=versions.c.thread.type)
    return (
        insert(versions).on_conflict_do_nothing(index_elements=[versions.c.thread]),
        select(versions.c.version, versions.c.changed_at).where(versions.c.thread == thread).with_for_update(),
        versions.update().where(versions.c.thread == thread).values(
            version=bindparam("new_version", type_=versions.c.version.type),
            changed_at=bindparam("new_changed_at", type_=versions.c.changed_at.type)),
    )


_TOUCH_SQLITE = _touch_statements(sqlite.insert)
_TOUCH_POSTGRESQL = _touch_statements(postgresql.insert)
