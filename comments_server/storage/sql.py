"""SqlStorage: the one comment store, on SQLite (default) or PostgreSQL. All SQL lives here."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import fields
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Row, create_engine, event, func, select, text
from sqlalchemy.engine import make_url

from comments_server.models import MAX_ID, Comment, ImportedComment, NewComment, Status
from comments_server.storage.tables import comments

_NEW_FIELDS = [f.name for f in fields(NewComment)]
# Seconds a writer waits for SQLite's lock before giving up; generous, since giving up loses a comment.
SQLITE_BUSY_TIMEOUT = 30


def normalize_url(url: str) -> str:
    """postgres:// and postgresql:// mean psycopg 3, the driver this package installs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def sqlite_path(url: str) -> Path | None:
    """The database file of a sqlite URL, or None for other backends and in-memory databases."""
    parsed = make_url(normalize_url(url))
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def make_engine(url: str) -> Engine:
    """An Engine set up for concurrent web use: WAL, foreign keys, busy timeout on SQLite."""
    url = normalize_url(url)
    path = sqlite_path(url)
    if make_url(url).get_backend_name() != "sqlite":
        engine = create_engine(url, pool_pre_ping=True)
    else:
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Take transaction control away from pysqlite so BEGIN is ours (see _on_begin).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT * 1000}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            # A write transaction that starts as a reader can fail with SQLITE_BUSY at once when it
            # upgrades; taking the write lock up front makes it wait for the busy timeout instead.
            immediate = conn.get_execution_options().get("sqlite_write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    # Forked workers (gunicorn --preload) must not share the parent's connections.
    os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))
    return engine


def _row_to_comment(row: Row[Any]) -> Comment:
    data = row._mapping
    return Comment(**{name: data[name] for name in (*_NEW_FIELDS, "id", "edited_at")})


class SqlStorage:
    """Comment storage over SQLAlchemy Core; each public method is one transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writer = engine.execution_options(sqlite_write=True)

    def close(self) -> None:
        self.engine.dispose()

    def ping(self) -> None:
        """Raise if the database cannot be reached."""
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def add_comment(self, new: NewComment) -> Comment:
        """Insert a comment; it is committed when this returns."""
        values = {name: getattr(new, name) for name in _NEW_FIELDS}
        values["uid"] = new.uid or uuid.uuid4().hex
        with self._writer.begin() as conn:
            result = conn.execute(comments.insert().values(**values))
            new_id = result.inserted_primary_key[0] if result.inserted_primary_key else None
        assert new_id is not None
        return Comment(**values, id=int(new_id))

    def get_comment(self, comment_id: int) -> Comment | None:
        if not 1 <= comment_id <= MAX_ID:
            return None
        with self.engine.begin() as conn:
            row = conn.execute(select(comments).where(comments.c.id == comment_id)).first()
        return _row_to_comment(row) if row is not None else None

    def list_thread(
        self, thread: str, statuses: Sequence[Status] = (Status.PUBLISHED, Status.DELETED)
    ) -> list[Comment]:
        """Every comment of a thread with one of `statuses`, oldest first, in one query."""
        query = (
            select(comments)
            .where(comments.c.thread == thread, comments.c.status.in_(list(statuses)))
            .order_by(comments.c.created_at, comments.c.id)
        )
        with self.engine.begin() as conn:
            return [_row_to_comment(row) for row in conn.execute(query)]

    def update_body(self, comment_id: int, body: str, body_html: str, edited_at: datetime) -> Comment | None:
        """Replace a comment's text; None if it does not exist."""
        if not 1 <= comment_id <= MAX_ID:
            return None
        with self._writer.begin() as conn:
            conn.execute(
                comments.update()
                .where(comments.c.id == comment_id)
                .values(body=body, body_html=body_html, edited_at=edited_at)
            )
            row = conn.execute(select(comments).where(comments.c.id == comment_id)).first()
        return _row_to_comment(row) if row is not None else None

    def set_status(self, comment_id: int, status: Status) -> None:
        with self._writer.begin() as conn:
            conn.execute(comments.update().where(comments.c.id == comment_id).values(status=status))

    def delete_comment(self, comment_id: int) -> None:
        """Mark DELETED and forget what the reader wrote and who they are; the row keeps replies attached."""
        with self._writer.begin() as conn:
            conn.execute(
                comments.update()
                .where(comments.c.id == comment_id)
                .values(
                    status=Status.DELETED, author_name="", author_email=None, author_url=None,
                    body="", body_html="", ip=None, edit_token_hash=None, notify_replies=False,
                )
            )

    def counts(self, threads: Iterable[str]) -> dict[str, int]:
        """Published comments per thread; threads without any get 0."""
        wanted = list(dict.fromkeys(threads))
        result = dict.fromkeys(wanted, 0)
        if not wanted:
            return result
        query = (
            select(comments.c.thread, func.count())
            .where(comments.c.thread.in_(wanted), comments.c.status == Status.PUBLISHED)
            .group_by(comments.c.thread)
        )
        with self.engine.begin() as conn:
            for thread, count in conn.execute(query):
                result[thread] = int(count)
        return result

    def recent(self, limit: int, thread: str | None = None) -> list[Comment]:
        """The newest published comments, newest first (for feeds)."""
        query = select(comments).where(comments.c.status == Status.PUBLISHED)
        if thread is not None:
            query = query.where(comments.c.thread == thread)
        query = query.order_by(comments.c.created_at.desc(), comments.c.id.desc()).limit(limit)
        with self.engine.begin() as conn:
            return [_row_to_comment(row) for row in conn.execute(query)]

    def has_published(self, author_email: str) -> bool:
        """Whether this email has a published comment (moderation of first-time commenters)."""
        query = (
            select(comments.c.id)
            .where(comments.c.author_email == author_email, comments.c.status == Status.PUBLISHED)
            .limit(1)
        )
        with self.engine.begin() as conn:
            return conn.execute(query).first() is not None

    def all_comments(self) -> list[Comment]:
        """Every comment in every state, parents before their replies (for exports)."""
        with self.engine.begin() as conn:
            return [_row_to_comment(row) for row in conn.execute(select(comments).order_by(comments.c.id))]

    def import_comments(self, records: Sequence[ImportedComment]) -> tuple[int, int]:
        """Insert records (parents first) in one transaction, skipping uids already stored.

        Returns (added, skipped). A parent uid must be stored already or come earlier."""
        added = skipped = 0
        with self._writer.begin() as conn:
            known: dict[str, int] = {}
            uids = [r.comment.uid for r in records] + [r.parent_uid for r in records if r.parent_uid]
            for start in range(0, len(uids), 500):
                query = select(comments.c.uid, comments.c.id).where(comments.c.uid.in_(uids[start:start + 500]))
                known.update({uid: int(cid) for uid, cid in conn.execute(query)})
            for record in records:
                if record.comment.uid in known:
                    skipped += 1
                    continue
                values = {name: getattr(record.comment, name) for name in _NEW_FIELDS}
                values["parent_id"] = known[record.parent_uid] if record.parent_uid else None
                values["edited_at"] = record.edited_at
                result = conn.execute(comments.insert().values(**values))
                assert result.inserted_primary_key is not None
                known[record.comment.uid] = int(result.inserted_primary_key[0])
                added += 1
        return added, skipped
