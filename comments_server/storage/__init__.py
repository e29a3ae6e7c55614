"""The storage interface: a small Storage protocol and open_storage(url). Never imports Flask."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Protocol

from comments_server.models import Comment, NewComment, Status
from comments_server.storage.schema import ensure_schema
from comments_server.storage.sql import SqlStorage, make_engine


class Storage(Protocol):
    """What the web layer may ask of the comment store."""

    def add_comment(self, new: NewComment) -> Comment: ...
    def get_comment(self, comment_id: int) -> Comment | None: ...
    def list_thread(self, thread: str, statuses: Sequence[Status] = ...) -> list[Comment]: ...
    def update_body(self, comment_id: int, body: str, body_html: str, edited_at: datetime) -> Comment | None: ...
    def set_status(self, comment_id: int, status: Status) -> None: ...
    def delete_comment(self, comment_id: int) -> None: ...
    def counts(self, threads: Iterable[str]) -> dict[str, int]: ...
    def recent(self, limit: int, thread: str | None = None) -> list[Comment]: ...
    def has_published(self, author_email: str) -> bool: ...
    def ping(self) -> None: ...
    def close(self) -> None: ...


def open_storage(url: str, *, auto_migrate: bool = True) -> SqlStorage:
    """Connect to `url`, migrating an empty database; SchemaError if it needs `comments migrate`."""
    engine = make_engine(url)
    try:
        ensure_schema(engine, auto_migrate=auto_migrate)
    except BaseException:
        engine.dispose()
        raise
    return SqlStorage(engine)


__all__ = ["Storage", "SqlStorage", "open_storage", "make_engine"]
