"""Writes that happen at most once: a form token posts one comment, and a retried request with the
same Idempotency-Key gets the first answer. Both are recorded in the comment's own transaction, so
every instance of the server agrees, and a comment is never stored without its record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from comments_server.storage.tables import idempotency_keys, used_form_tokens


class FormTokenUsed(Exception):
    """This form token has posted a comment already."""


class RequestSeen(Exception):
    """Another request with this Idempotency-Key stored its comment first (on any instance)."""


@dataclass(frozen=True)
class IdempotentWrite:
    """The key of a write and what it answered (`comment_id` is filled in by the store)."""

    key_hash: str
    request_hash: str
    status: int
    expires_at: datetime


@dataclass(frozen=True)
class Answered:
    """What a write with this key answered the first time."""

    request_hash: str
    comment_id: int
    status: int


@dataclass(frozen=True)
class Once:
    """What keeps a new comment from being stored twice: the form token it spends (its nonce and
    when the token expires) and the Idempotency-Key it answers."""

    form_nonce: str | None = None
    form_expires_at: datetime | None = None
    write: IdempotentWrite | None = None


def _insert(conn: Connection, table: Any) -> Any:
    dialect = sqlite if conn.dialect.name == "sqlite" else postgresql
    return dialect.insert(table).on_conflict_do_nothing()


def spend(conn: Connection, once: Once, comment_id: int, now: datetime) -> None:
    """Record `once` for a comment in the caller's transaction; raise (so it rolls back) when the
    key or the token was recorded already. Expired records are pruned on the way."""
    if once.write is not None:
        conn.execute(delete(idempotency_keys).where(idempotency_keys.c.expires_at < now))
        w = once.write
        row = conn.execute(_insert(conn, idempotency_keys).values(
            key_hash=w.key_hash, request_hash=w.request_hash, comment_id=comment_id, status=w.status,
            created_at=now, expires_at=w.expires_at).returning(idempotency_keys.c.key_hash)).first()
        if row is None:
            raise RequestSeen(w.key_hash)
    if once.form_nonce is not None:
        assert once.form_expires_at is not None
        conn.execute(delete(used_form_tokens).where(used_form_tokens.c.expires_at < now))
        row = conn.execute(_insert(conn, used_form_tokens).values(
            nonce=once.form_nonce, expires_at=once.form_expires_at).returning(used_form_tokens.c.nonce)).first()
        if row is None:
            raise FormTokenUsed(once.form_nonce)


class OnceStore:
    """Looks up what a key answered; recording happens with the comment (SqlStorage.add_comment)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def answered(self, key_hash: str, now: datetime) -> Answered | None:
        with self.engine.begin() as conn:
            row = conn.execute(select(idempotency_keys).where(
                idempotency_keys.c.key_hash == key_hash, idempotency_keys.c.expires_at >= now)).first()
        if row is None:
            return None
        data = row._mapping
        return Answered(data["request_hash"], int(data["comment_id"]), int(data["status"]))

    def form_token_used(self, nonce: str) -> bool:
        with self.engine.begin() as conn:
            return conn.execute(select(used_form_tokens.c.nonce).where(
                used_form_tokens.c.nonce == nonce)).first() is not None
