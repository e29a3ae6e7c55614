"""SQLAlchemy Core tables of the comment store (the schema the latest migration produces)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    text,
)
from sqlalchemy.sql.elements import conv

from comments_server.models import Status

# Named constraints, so migrations (and SQLite batch mode) can refer to them.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# BIGINT on PostgreSQL; SQLite only auto-increments a column declared exactly INTEGER (and only
# never reuses ids with AUTOINCREMENT: tables with generated ids set sqlite_autoincrement).
Id = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps in UTC, aware in Python on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the comment store")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class StatusType(TypeDecorator[Status]):
    """Status enum stored as its lower-case name."""

    impl = String(16)
    cache_ok = True

    def process_bind_param(self, value: Status | None, dialect: Dialect) -> str | None:
        return None if value is None else Status(value).value

    def process_result_value(self, value: Any, dialect: Dialect) -> Status | None:
        return None if value is None else Status(value)


comments = Table(
    "comments",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("thread", Text, nullable=False),
    Column("parent_id", Id, ForeignKey("comments.id"), nullable=True),
    Column("status", StatusType, nullable=False),
    Column("author_name", Text, nullable=False),
    Column("author_email", Text, nullable=True),
    Column("author_url", Text, nullable=True),
    Column("is_author", Boolean(create_constraint=False), nullable=False, default=False),
    Column("notify_replies", Boolean(create_constraint=False), nullable=False, default=False),
    Column("body", Text, nullable=False),
    Column("body_html", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("edited_at", UTCDateTime, nullable=True),
    Column("ip", Text, nullable=True),
    Column("edit_token_hash", String(64), nullable=True),
    # Stable across databases: exports carry it, so importing one twice adds nothing twice.
    Column("uid", String(200), nullable=False),
    # The author account behind an author comment (NULL for readers and for AUTHOR_TOKENS posts).
    Column("author_id", Id, ForeignKey("authors.id", ondelete="SET NULL"), nullable=True),
    # "No reply needed" and "snooze until": the author's marks on a reader comment.
    Column("dismissed_at", UTCDateTime, nullable=True),
    Column("snoozed_until", UTCDateTime, nullable=True),
    # Put back in the queue by an author (migration 0009): only author replies after it answer it.
    Column("reopened_at", UTCDateTime, nullable=True),
    # Why a plugin held it for moderation or filed it as spam (migration 0010); NULL otherwise.
    Column("held_reason", String(500), nullable=True),
    # Where it was written (migration 0011): "comment" (here), "webmention" or "fediverse"; a
    # remote reply keeps its own URL (the replier's page, the status) and remote id.
    Column("origin", String(16), nullable=False, server_default="comment"),
    Column("origin_url", Text, nullable=True),
    Column("origin_id", String(200), nullable=True),
    Column("author_photo", Text, nullable=True),
    # Migration 0001 passed an already-prefixed name through the naming convention; every migrated
    # database has this doubled name, so databases created from this table must have it too.
    CheckConstraint("status IN ('published', 'pending', 'spam', 'deleted')",
                    name=conv("ck_comments_ck_comments_status")),
    Index(None, "thread", "status", "created_at"),
    Index(None, "parent_id"),
    Index(None, "author_email"),
    Index(None, "uid", unique=True),
    Index(None, "author_id"),
    # The unanswered query starts from published author comments and walks up their parents.
    Index(None, "is_author", "status", "parent_id"),
    # An update or deletion of a remote reply finds its row (reader comments have NULL origin_url).
    Index(None, "origin", "origin_url", unique=True),
    sqlite_autoincrement=True,  # ids are never handed out twice (migration 0007)
)

authors = Table(
    "authors",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", Text, nullable=False),
    # casefold(name): names are unique and looked up regardless of case.
    Column("name_key", String(200), nullable=False),
    Column("email", String(254), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "name_key", unique=True),
    Index(None, "email", unique=True),
    sqlite_autoincrement=True,  # ids are never handed out twice (migration 0007)
)

author_tokens = Table(
    "author_tokens",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("author_id", Id, ForeignKey("authors.id", ondelete="CASCADE"), nullable=False),
    Column("label", Text, nullable=False),
    Column("token_hash", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime, nullable=True),
    Index(None, "token_hash", unique=True),
    Index(None, "author_id"),
    sqlite_autoincrement=True,  # ids are never handed out twice (migration 0007)
)

# Dashboard logins: the cookie holds a random id, the table its hash, so logout really ends it.
author_sessions = Table(
    "author_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("author_id", Id, ForeignKey("authors.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index(None, "author_id"),
)

# Email waiting to be sent: written in the same transaction as the comment it is about.
outbox = Table(
    "outbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("comment_id", Id, nullable=True),
    Column("recipient", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("body_text", Text, nullable=False),
    Column("body_html", Text, nullable=False),
    Column("headers", Text, nullable=False),
    Column("dedupe_key", String(200), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("claimed_until", UTCDateTime, nullable=True),
    Column("sent_at", UTCDateTime, nullable=True),
    Column("failed_at", UTCDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    Index(None, "dedupe_key", unique=True),
    Index(None, "sent_at", "failed_at", "next_attempt_at"),
    sqlite_autoincrement=True,  # ids are never handed out twice (migration 0007)
)

# Single-use reply links: the nonce of each link that has been used.
used_links = Table(
    "used_links",
    metadata,
    Column("nonce", String(64), primary_key=True),
    Column("used_at", UTCDateTime, nullable=False),
)

# Reader addresses: confirmed (the owner opened the link of a first email; only then do reply
# emails go out) and suppressed (unsubscribed: no email of any kind, whatever a comment asks).
reader_addresses = Table(
    "reader_addresses",
    metadata,
    Column("email", String(254), primary_key=True),
    Column("confirmed_at", UTCDateTime, nullable=True),
    Column("suppressed_at", UTCDateTime, nullable=True),
)

# Links to a post from elsewhere that are not replies: pingbacks, trackbacks and webmentions from
# importers, received likes, reposts, bookmarks and mentions. Kept out of `comments` so they never
# wait for an answer nor show as a reader's comment (a received reply is a comment).
mentions = Table(
    "mentions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("uid", String(200), nullable=False),
    Column("thread", Text, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("source_url", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("excerpt", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # What a received Webmention says (migration 0011); NULL for imported pingbacks.
    Column("status", String(16), nullable=False, server_default="published"),
    Column("author_name", Text, nullable=True),
    Column("author_url", Text, nullable=True),
    Column("author_photo", Text, nullable=True),
    Column("content_html", Text, nullable=True),
    Column("published_at", UTCDateTime, nullable=True),
    Column("updated_at", UTCDateTime, nullable=True),
    Index(None, "uid", unique=True),
    Index(None, "thread", "created_at"),
    sqlite_autoincrement=True,  # ids are never handed out twice (migration 0007)
)

# One row per thread that has ever had a comment: a counter bumped, in the same transaction, by
# every write that can change what the thread's readers see. The read path compares it with its
# cached copy (one primary-key lookup); changed_at never goes back and gives Last-Modified.
thread_versions = Table(
    "thread_versions",
    metadata,
    Column("thread", Text, primary_key=True),
    Column("version", BigInteger, nullable=False),
    Column("changed_at", UTCDateTime, nullable=False),
)

# Form tokens that have posted a comment: each works once. Kept until the token would have
# expired anyway (FORM_TOKEN_MAX_AGE), then pruned.
used_form_tokens = Table(
    "used_form_tokens",
    metadata,
    Column("nonce", String(64), primary_key=True),
    Column("expires_at", UTCDateTime, nullable=False),
    Index(None, "expires_at"),
)

# Idempotency-Key of each write that created a comment, written in the comment's transaction: a
# retry of the same request (any instance) is answered from here for IDEMPOTENCY_KEY_TTL.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("key_hash", String(64), primary_key=True),     # sha256 of who sent it and the key
    Column("request_hash", String(64), nullable=False),   # sha256 of the request: a reused key is refused
    Column("comment_id", Id, nullable=False),
    Column("status", Integer, nullable=False),            # the first answer's status: 201 or 202
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index(None, "expires_at"),
)

_OPEN_JOB = "done_at IS NULL AND failed_at IS NULL"

# Durable background work (migration 0011): verify a received Webmention, send one, poll the
# fediverse. Claimed with a lease, so with several server instances each job runs once.
jobs = Table(
    "jobs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("key", String(300), nullable=False),
    Column("payload", Text, nullable=False),           # JSON
    Column("revision", Integer, nullable=False),       # bumped by each re-enqueue of a pending job
    Column("created_at", UTCDateTime, nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("claimed_until", UTCDateTime, nullable=True),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("done_at", UTCDateTime, nullable=True),
    Column("failed_at", UTCDateTime, nullable=True),
    # One open job per kind and key; finished ones stay as history.
    Index(None, "kind", "key", unique=True, sqlite_where=text(_OPEN_JOB), postgresql_where=text(_OPEN_JOB)),
    Index(None, "done_at", "failed_at", "due_at"),
    sqlite_autoincrement=True,
)
