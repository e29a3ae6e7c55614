"""Replies and mentions received from elsewhere in SQL: a remote reply is a comment found again by
its (origin, origin_url), so an update changes its row; a like, repost, bookmark or mention is a
mention found again by its uid. Every write bumps the thread's version, so baked pages republish."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, fields
from datetime import datetime

from sqlalchemy import ColumnElement, Engine, select
from sqlalchemy.engine import Connection

from comments_server.models import Comment, Mention, NewComment, OutgoingMail, Status
from comments_server.storage.outbox import enqueue
from comments_server.storage.rows import row_to_comment, touch_threads
from comments_server.storage.tables import comments, mentions

_NEW_FIELDS = [f.name for f in fields(NewComment)]
# What an update from the remote side may change; status and the author's marks stay ours.
_UPDATABLE = ("author_name", "author_url", "author_photo", "body", "body_html", "origin_id")


def _comment(conn: Connection, where: ColumnElement[bool]) -> Comment | None:
    row = conn.execute(select(comments).where(where)).first()
    return row_to_comment(row) if row is not None else None


def _touch(conn: Connection, thread: str, now: datetime) -> None:
    touch_threads(conn, [thread], now)


class RemoteStore:
    """Remote replies (comments with an origin) and received mentions; one transaction per method."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writer = engine.execution_options(sqlite_write=True)

    def find_reply(self, origin: str, origin_url: str) -> Comment | None:
        """The comment stored for a remote reply (deleted ones too), if any."""
        with self.engine.begin() as conn:
            return _comment(conn, (comments.c.origin == origin) & (comments.c.origin_url == origin_url))

    def save_reply(self, new: NewComment, now: datetime,
                   mail: Callable[[Comment], Sequence[OutgoingMail]] | None = None) -> tuple[Comment, bool]:
        """Insert a remote reply, or update the row stored for its (origin, origin_url): (comment,
        whether it was new). An update keeps the row's status (a reply the author deleted or held
        stays so), thread, parent and place; it changes what the remote side says. The emails
        `mail` makes about a new reply are queued with it."""
        assert new.origin != "comment" and new.origin_url, new
        with self._writer.begin() as conn:
            found = _comment(conn, (comments.c.origin == new.origin) & (comments.c.origin_url == new.origin_url))
            if found is None:
                values = {name: getattr(new, name) for name in _NEW_FIELDS}
                values["uid"] = new.uid or uuid.uuid4().hex
                new_id = conn.execute(comments.insert(), values).inserted_primary_key[0]  # type: ignore[index]
                comment = Comment(**values, id=int(new_id))
                if comment.status in (Status.PUBLISHED, Status.DELETED):
                    _touch(conn, comment.thread, now)
                if mail is not None:
                    enqueue(conn, mail(comment), now)
                return comment, True
            if found.status in (Status.DELETED, Status.SPAM):
                return found, False
            changes = {name: getattr(new, name) for name in _UPDATABLE}
            if all(getattr(found, name) == value for name, value in changes.items()):
                return found, False
            conn.execute(comments.update().where(comments.c.id == found.id).values(**changes, edited_at=now))
            updated = _comment(conn, comments.c.id == found.id)
            assert updated is not None
            _touch(conn, found.thread, now)
            return updated, False

    def remove_reply(self, origin: str, origin_url: str, now: datetime) -> Comment | None:
        """The remote side deleted its reply: the comment keeps its place as a tombstone (replies
        below it stay), forgets what was said, and lets go of origin_url so that a reply published
        again later is stored anew. The removed comment, or None if there was none."""
        with self._writer.begin() as conn:
            found = _comment(conn, (comments.c.origin == origin) & (comments.c.origin_url == origin_url))
            if found is None:
                return None
            conn.execute(comments.update().where(comments.c.id == found.id).values(
                status=Status.DELETED, author_name="", author_email=None, author_url=None, author_photo=None,
                body="", body_html="", ip=None, edit_token_hash=None, notify_replies=False, origin_url=None,
                origin_id=None))
            _touch(conn, found.thread, now)
            return found

    def save_mention(self, mention: Mention, now: datetime) -> tuple[Mention, bool]:
        """Insert a received mention or update the one with its uid: (mention, whether it was new)."""
        values = {key: value for key, value in asdict(mention).items() if key != "id"}
        with self._writer.begin() as conn:
            row = conn.execute(select(mentions).where(mentions.c.uid == mention.uid)).first()
            if row is None:
                new_id = conn.execute(mentions.insert(), values).inserted_primary_key[0]  # type: ignore[index]
                _touch(conn, mention.thread, now)
                return Mention(**{**values, "id": int(new_id)}), True
            values.pop("created_at")
            if row.status == "deleted":   # the author took it off the post: an update keeps it off
                values["status"] = "deleted"
            conn.execute(mentions.update().where(mentions.c.id == row.id).values(**values))
            _touch(conn, mention.thread, now)
            return Mention(**{**values, "created_at": row.created_at, "id": int(row.id)}), False

    def take_down_mention(self, mention_id: int, now: datetime) -> bool:
        """The author takes a mention off its post (spam, a like from a bot): kept as "deleted", so
        the same source sending it again does not bring it back. False if there is no such
        mention showing."""
        with self._writer.begin() as conn:
            threads = [t for (t,) in conn.execute(
                mentions.update().where(mentions.c.id == mention_id, mentions.c.status == "published")
                .values(status="deleted").returning(mentions.c.thread))]
            for thread in threads:
                _touch(conn, thread, now)
            return bool(threads)

    def remove_mention(self, uid: str, now: datetime) -> bool:
        """Delete a received mention (its source no longer links here); False if there was none."""
        with self._writer.begin() as conn:
            threads = [t for (t,) in conn.execute(mentions.delete().where(mentions.c.uid == uid)
                                                  .returning(mentions.c.thread))]
            for thread in threads:
                _touch(conn, thread, now)
            return bool(threads)

    def link_answer(self, comment_id: int, origin_url: str, origin_id: str) -> None:
        """Record where an author's reply was also posted (the status it became): its origin stays
        "comment", and polling finds it again by that URL instead of storing it twice."""
        with self._writer.begin() as conn:
            conn.execute(comments.update().where(comments.c.id == comment_id)
                         .values(origin_url=origin_url, origin_id=origin_id))
