"""The email outbox and used reply links in SQL: enqueue (inside a comment's transaction), claim,
mark sent or retry later. Several processes may send from one outbox: a row is claimed first."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Row, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from comments_server.models import OutgoingMail, QueuedMail
from comments_server.storage.tables import outbox, used_links

# How long a claimed message is reserved for its sender before another may try it.
CLAIM_SECONDS = 120


def _insert(conn: Connection, table: Any) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING on both backends."""
    dialect = sqlite if conn.dialect.name == "sqlite" else postgresql
    return dialect.insert(table).on_conflict_do_nothing()


def enqueue(conn: Connection, mails: Sequence[OutgoingMail], now: datetime) -> int:
    """Add mails in the caller's transaction; one whose dedupe_key is already there is skipped.

    Returns how many were added."""
    rows = [{
        "kind": m.kind, "comment_id": m.comment_id, "recipient": m.recipient, "subject": m.subject,
        "body_text": m.body_text, "body_html": m.body_html, "headers": json.dumps(dict(m.headers)),
        "dedupe_key": m.dedupe_key, "created_at": now, "attempts": 0, "next_attempt_at": now,
        "claimed_until": None, "sent_at": None, "failed_at": None, "last_error": None,
    } for m in mails]
    # RETURNING, not rowcount: psycopg reports -1 for an INSERT whose primary key SQLAlchemy fetched.
    return sum(len(conn.execute(_insert(conn, outbox).values(**row).returning(outbox.c.id)).all()) for row in rows)


def _row_to_mail(row: Row[Any]) -> QueuedMail:
    data = row._mapping
    return QueuedMail(
        kind=data["kind"], recipient=data["recipient"], subject=data["subject"],
        body_text=data["body_text"], body_html=data["body_html"], headers=json.loads(data["headers"]),
        comment_id=data["comment_id"], dedupe_key=data["dedupe_key"], id=int(data["id"]),
        created_at=data["created_at"], attempts=int(data["attempts"]), next_attempt_at=data["next_attempt_at"],
        sent_at=data["sent_at"], failed_at=data["failed_at"], last_error=data["last_error"],
    )


class OutboxStore:
    """Outbox rows and single-use link nonces; each public method is one transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writer = engine.execution_options(sqlite_write=True)

    def add(self, mails: Sequence[OutgoingMail], now: datetime) -> int:
        """Enqueue mails on their own (digests), skipping those already queued; how many were added.

        Notifications about a comment are enqueued with the comment instead (SqlStorage)."""
        with self._writer.begin() as conn:
            return enqueue(conn, mails, now)

    def claim_due(self, now: datetime, limit: int = 20) -> list[QueuedMail]:
        """Reserve up to `limit` messages that are due and not claimed by another sender."""
        pending = (outbox.c.sent_at.is_(None), outbox.c.failed_at.is_(None), outbox.c.next_attempt_at <= now,
                   or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until < now))
        claimed: list[QueuedMail] = []
        with self._writer.begin() as conn:
            rows = conn.execute(
                select(outbox).where(*pending).order_by(outbox.c.next_attempt_at, outbox.c.id).limit(limit)
            ).all()
            for row in rows:
                result = conn.execute(
                    outbox.update().where(outbox.c.id == row.id, *pending)
                    .values(claimed_until=now + timedelta(seconds=CLAIM_SECONDS))
                )
                if result.rowcount == 1:
                    claimed.append(_row_to_mail(row))
        return claimed

    def mark_sent(self, mail_id: int, now: datetime) -> None:
        with self._writer.begin() as conn:
            conn.execute(outbox.update().where(outbox.c.id == mail_id).values(
                sent_at=now, claimed_until=None, attempts=outbox.c.attempts + 1, last_error=None))

    def mark_retry(self, mail_id: int, error: str, next_attempt_at: datetime) -> None:
        with self._writer.begin() as conn:
            conn.execute(outbox.update().where(outbox.c.id == mail_id).values(
                claimed_until=None, attempts=outbox.c.attempts + 1, last_error=error[:1000],
                next_attempt_at=next_attempt_at))

    def mark_failed(self, mail_id: int, error: str, now: datetime) -> None:
        """Give up on a message the server refused for good (an unknown recipient)."""
        with self._writer.begin() as conn:
            conn.execute(outbox.update().where(outbox.c.id == mail_id).values(
                claimed_until=None, attempts=outbox.c.attempts + 1, last_error=error[:1000], failed_at=now))

    def get(self, mail_id: int) -> QueuedMail | None:
        with self.engine.begin() as conn:
            row = conn.execute(select(outbox).where(outbox.c.id == mail_id)).first()
        return _row_to_mail(row) if row is not None else None

    def all(self) -> list[QueuedMail]:
        """Every message, oldest first (tests and the health page)."""
        with self.engine.begin() as conn:
            return [_row_to_mail(r) for r in conn.execute(select(outbox).order_by(outbox.c.id))]

    def status(self) -> tuple[int, int, str | None]:
        """(waiting, failed, the latest error of a waiting or failed message)."""
        waiting = (outbox.c.sent_at.is_(None), outbox.c.failed_at.is_(None))
        with self.engine.begin() as conn:
            count = conn.execute(select(func.count()).select_from(outbox).where(*waiting)).scalar_one()
            failed = conn.execute(
                select(func.count()).select_from(outbox).where(outbox.c.failed_at.is_not(None))).scalar_one()
            error = conn.execute(
                select(outbox.c.last_error).where(outbox.c.sent_at.is_(None), outbox.c.last_error.is_not(None))
                .order_by(outbox.c.id.desc()).limit(1)).scalar()
        return int(count), int(failed), error

    def use_link(self, nonce: str, now: datetime) -> bool:
        """Record a single-use link as used; False if it had been used already."""
        with self._writer.begin() as conn:
            inserted = conn.execute(_insert(conn, used_links).values(nonce=nonce, used_at=now)
                                    .returning(used_links.c.nonce)).first()
            return inserted is not None

    def link_used(self, nonce: str) -> bool:
        with self.engine.begin() as conn:
            return conn.execute(select(used_links.c.nonce).where(used_links.c.nonce == nonce)).first() is not None
