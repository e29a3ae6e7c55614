"""The storage interface: a small Storage protocol and open_storage(url). Never imports Flask."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Protocol

from comments_server.models import Comment, ImportedComment, Mention, NewComment, Status, TrackedComment
from comments_server.storage.accounts import AccountStore, DuplicateAuthor
from comments_server.storage.addresses import AddressState, AddressStore, ReaderAddress
from comments_server.storage.changes import DataVersion
from comments_server.storage.jobs import JobStore
from comments_server.storage.mentions import MentionStore
from comments_server.storage.once import Once, OnceStore
from comments_server.storage.outbox import OutboxStore
from comments_server.storage.remote import RemoteStore
from comments_server.storage.schema import ensure_schema, upgrade
from comments_server.storage.sql import (
    ConversationQuery,
    JobBuilder,
    MailBuilder,
    SqlStorage,
    ThreadCounts,
    ThreadSnapshot,
    make_engine,
)


class Storage(Protocol):
    """What the web layer may ask of the comment store."""

    accounts: AccountStore
    outbox: OutboxStore
    mentions: MentionStore
    jobs: JobStore
    remote: RemoteStore
    addresses: AddressStore
    once: OnceStore
    data_version: DataVersion | None   # SQLite's commit counter, where there is one (read caches)

    def add_comment(self, new: NewComment, mail: MailBuilder | None = None, once: Once | None = None,
                    jobs: JobBuilder | None = None, *, refuse_account_names: bool = False) -> Comment: ...
    def get_comment(self, comment_id: int) -> Comment | None: ...
    def get_comments(self, ids: Iterable[int]) -> dict[int, Comment]: ...
    def list_thread(self, thread: str, statuses: Sequence[Status] = ...) -> list[Comment]: ...
    def list_threads(self, threads: Iterable[str]) -> dict[str, list[Comment]]: ...
    def thread_snapshot(self, thread: str, known_version: int | None = None,
                        statuses: Sequence[Status] = ...) -> ThreadSnapshot: ...
    def update_body(self, comment_id: int, body: str, body_html: str, edited_at: datetime) -> Comment | None: ...
    def set_status(self, comment_id: int, status: Status, mail: MailBuilder | None = None,
                   now: datetime | None = None) -> Comment | None: ...
    def set_marks(self, comment_id: int, **marks: datetime | None) -> None: ...
    def unsubscribe(self, author_email: str, now: datetime) -> int: ...
    def conversation(self, query: ConversationQuery | None = None) -> list[TrackedComment]: ...
    def unanswered(self, now: datetime, threads: Sequence[str] | None = None, *,
                   include_snoozed: bool = False) -> list[TrackedComment]: ...
    def delete_comment(self, comment_id: int, now: datetime | None = None) -> None: ...
    def counts(self, threads: Iterable[str]) -> dict[str, int]: ...
    def thread_counts(self, threads: Iterable[str]) -> ThreadCounts: ...
    def recent(self, limit: int, thread: str | None = None) -> list[Comment]: ...
    def has_published(self, author_email: str) -> bool: ...
    def publish_marker(self) -> int: ...
    def all_comments(self) -> list[Comment]: ...
    def import_comments(self, records: Sequence[ImportedComment]) -> tuple[int, int]: ...
    def import_conversations(self, records: Sequence[ImportedComment], mentions: Sequence[Mention],
                             *, dry_run: bool = False) -> tuple[tuple[int, int], tuple[int, int]]: ...
    def ping(self) -> None: ...
    def close(self) -> None: ...


def open_storage(url: str, *, auto_migrate: bool = True, follow_code: bool = False) -> SqlStorage:
    """Connect to `url`, giving an empty database the schema when `auto_migrate`; SchemaError if
    it needs `comments migrate`, unless `follow_code` (development) applies its migrations here."""
    engine = make_engine(url)
    try:
        if follow_code:
            upgrade(engine)
        ensure_schema(engine, auto_migrate=auto_migrate)
    except BaseException:
        engine.dispose()
        raise
    return SqlStorage(engine)


__all__ = ["Storage", "SqlStorage", "open_storage", "make_engine", "AddressState", "AddressStore", "ReaderAddress",
           "ConversationQuery", "DuplicateAuthor",
           "JobBuilder", "MailBuilder", "ThreadCounts", "ThreadSnapshot"]
