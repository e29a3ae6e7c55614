"""SqlStorage: the one comment store, on SQLite (default) or PostgreSQL. All SQL lives here."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Engine,
    Row,
    Select,
    String,
    Subquery,
    and_,
    bindparam,
    case,
    create_engine,
    event,
    exists,
    func,
    literal,
    or_,
    select,
    text,
    type_coerce,
)
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.sql.elements import BindParameter

from comments_server.dburl import normalize_url, sqlite_path
from comments_server.private_files import create_private
from comments_server.models import (
    MAX_ID,
    Comment,
    ImportedComment,
    Mention,
    NewComment,
    NewJob,
    OutgoingMail,
    State,
    Status,
    TrackedComment,
)
from comments_server.storage.accounts import AccountStore, refuse_account_names as refuse_names
from comments_server.storage.addresses import AddressStore, suppress
from comments_server.storage.changes import DataVersion
from comments_server.storage.jobs import JobStore, enqueue_job
from comments_server.storage.mentions import MentionStore, insert_mentions
from comments_server.storage.once import Once, OnceStore, spend
from comments_server.storage.outbox import OutboxStore, enqueue
from comments_server.storage.remote import RemoteStore
from comments_server.storage.rows import row_to_comment, touch_threads as _touch
from comments_server.storage.tables import Id, comments, mentions, thread_versions

# Builds the emails about a comment once it has its id; they are enqueued in the same transaction.
MailBuilder = Callable[[Comment], Sequence[OutgoingMail]]
# Makes the background jobs about a comment once it has its id (posting an answer elsewhere).
JobBuilder = Callable[[Comment], Sequence[NewJob]]

log = logging.getLogger(__name__)

_NEW_FIELDS = [f.name for f in fields(NewComment)]
# Seconds a writer waits for SQLite's lock before giving up; generous, since giving up loses a comment.
SQLITE_BUSY_TIMEOUT = 30
# A process checkpoints the WAL after this many of its writes, once it has let go of the writer lock.
CHECKPOINT_EVERY_WRITES = 50
# SQLite's own automatic checkpoint (run inside a commit, under the lock) stays as a backstop for
# writes that bypass the hook; pages, against its default of 1,000.
WAL_BACKSTOP_PAGES = 4000


def _enable_wal(cursor: Any) -> None:
    """Switch the file to WAL; several processes opening a brand-new file at once may find it
    locked (switching takes an exclusive lock and ignores the busy timeout), so retry a while."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def make_engine(url: str) -> Engine:
    """An Engine set up for concurrent web use: WAL, foreign keys, busy timeout on SQLite."""
    url = normalize_url(url)
    path = sqlite_path(url)
    if make_url(url).get_backend_name() != "sqlite":
        engine = create_engine(url, pool_pre_ping=True)
    else:
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            create_private(path)  # sqlite3 would create it world-readable (0644)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT})
        writers = _WriterLock(Path(f"{path}-writer.lock")) if path is not None and _WriterLock.available() else None

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Take transaction control away from pysqlite so BEGIN is ours (see _on_begin).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT * 1000}")
            cursor.execute("PRAGMA foreign_keys=ON")
            _enable_wal(cursor)
            if writers is not None:
                cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_BACKSTOP_PAGES}")
                # The commit leaves the WAL unsynced, so that the next writer need not wait for
                # the disk under the lock; _WalSync syncs it before the write is answered.
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            # A write transaction that starts as a reader can fail with SQLITE_BUSY at once when it
            # upgrades; taking the write lock up front makes it wait for the busy timeout instead.
            immediate = conn.get_execution_options().get("sqlite_write", False)
            if immediate and writers is not None:
                writers.acquire()
                conn.connection.info["writer_lock"] = True  # released when the connection is checked in
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        if writers is not None:
            checkpoints = _CheckpointPacer(CHECKPOINT_EVERY_WRITES)
            wal = _WalSync(Path(f"{path}-wal"))

            @event.listens_for(engine, "checkin")
            def _on_checkin(dbapi_connection: Any, record: Any) -> None:
                locked = record.info.pop("writer_lock", False)
                if locked:
                    writers.release()
                if dbapi_connection is None:
                    return
                wal.sync_writes(dbapi_connection, record.info)
                if locked and checkpoints.due():
                    _checkpoint(dbapi_connection)

    # Forked workers (gunicorn --preload) must not share the parent's connections.
    os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))
    return engine


class _CheckpointPacer:
    """Says when a process has written enough to checkpoint. Why not SQLite's automatic checkpoint:
    it runs inside the commit that crosses its threshold, while this process still holds the writer
    lock, so every other writer waits for the pages to be copied and the file to be synced."""

    def __init__(self, every: int) -> None:
        self.every = every
        self._writes = 0
        self._lock = threading.Lock()

    def due(self) -> bool:
        with self._lock:
            self._writes += 1
            if self._writes < self.every:
                return False
            self._writes = 0
            return True


class _WalSync:
    """Makes a connection's writes durable when it is checked in (after it let go of the writer
    lock), before the request that wrote is answered. The commit itself leaves the WAL unsynced
    (synchronous NORMAL, still never corrupt): synced inside it, under the lock, every other
    writer waited for this one's disk, and two gunicorn workers posted about a tenth fewer comments."""

    def __init__(self, wal: Path) -> None:
        self.wal = wal

    def sync_writes(self, dbapi_connection: Any, info: dict[str, Any]) -> None:
        changes = dbapi_connection.total_changes   # rows this connection ever wrote
        if changes == info.get("synced_changes", 0):
            return                                  # it only read since the last sync
        try:
            fd = os.open(self.wal, os.O_RDONLY)
        except FileNotFoundError:
            pass   # no WAL: the last connection closed it, checkpointed and synced
        else:
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        info["synced_changes"] = changes


def _checkpoint(dbapi_connection: Any) -> None:
    """A PASSIVE checkpoint: copies what no reader still needs, never waits for or blocks a writer.
    Commits are durable in the WAL before this (_WalSync); a failure only leaves the WAL longer,
    and SQLite's backstop checkpoint still bounds it."""
    try:
        dbapi_connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
    except sqlite3.Error as exc:
        log.warning("WAL checkpoint failed (the backstop will retry): %s", exc)


class _WriterLock:
    """Writers of one SQLite file wait here, in turn, across threads and processes (flock), rather
    than in SQLite's busy handler: that one polls with sleeps of up to 100 ms, so two gunicorn
    workers writing at once would lose most of their time sleeping. Held until after the commit."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._threads = threading.RLock()
        self._depth = 0
        self._fd = -1
        self._pid = 0

    @staticmethod
    def available() -> bool:
        try:
            import fcntl  # noqa: F401
        except ImportError:  # not on POSIX: SQLite's own locking only
            return False
        return True

    def acquire(self) -> None:
        import fcntl

        self._threads.acquire()
        try:
            if self._depth == 0:
                if self._pid != os.getpid():
                    # A descriptor opened before a fork shares its lock with the parent: open our own.
                    self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
                    self._pid = os.getpid()
                fcntl.flock(self._fd, fcntl.LOCK_EX)
            self._depth += 1
        except BaseException:
            self._threads.release()
            raise

    def release(self) -> None:
        import fcntl

        self._depth -= 1
        if self._depth == 0:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._threads.release()


_row_to_comment = row_to_comment


class SqlStorage:
    """Comment storage over SQLAlchemy Core; each public method is one transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writer = engine.execution_options(sqlite_write=True)
        self.accounts = AccountStore(engine)
        self.outbox = OutboxStore(engine)
        self.mentions = MentionStore(engine)
        self.jobs = JobStore(engine)
        self.remote = RemoteStore(engine)
        self.addresses = AddressStore(engine)
        self.once = OnceStore(engine)
        path = sqlite_path(engine.url.render_as_string(hide_password=False))
        # None where no cheap change check exists (PostgreSQL, in-memory SQLite): ask every time.
        self.data_version = DataVersion(path) if path is not None else None

    def close(self) -> None:
        if self.data_version is not None:
            self.data_version.close()
        self.engine.dispose()

    def ping(self) -> None:
        """Raise if the database cannot be reached."""
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def add_comment(self, new: NewComment, mail: MailBuilder | None = None, once: Once | None = None,
                    jobs: JobBuilder | None = None, *, refuse_account_names: bool = False) -> Comment:
        """Insert a comment, the emails `mail` and the jobs `jobs` make about it; all committed
        when this returns.

        With `once`, nothing is stored if its form token was used (FormTokenUsed) or its
        Idempotency-Key answered already (RequestSeen); with `refuse_account_names`, if it is
        signed with an account's name (NameTaken)."""
        values = {name: getattr(new, name) for name in _NEW_FIELDS}
        values["uid"] = new.uid or uuid.uuid4().hex
        with self._writer.begin() as conn:
            if refuse_account_names:
                refuse_names(conn, new.author_name)
            result = conn.execute(comments.insert(), values)
            new_id = result.inserted_primary_key[0] if result.inserted_primary_key else None
            assert new_id is not None
            comment = Comment(**values, id=int(new_id))
            if once is not None:
                spend(conn, once, comment.id, new.created_at)
            if new.status in (Status.PUBLISHED, Status.DELETED):  # readers see it: the thread changed
                _touch(conn, [new.thread], new.created_at)
            if mail is not None:
                enqueue(conn, mail(comment), new.created_at)
            for job in jobs(comment) if jobs is not None else ():
                enqueue_job(conn, job.kind, job.key, job.payload, new.created_at, new.created_at)
        return comment

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

    def list_threads(self, threads: Iterable[str]) -> dict[str, list[Comment]]:
        """The published and deleted comments of many threads, oldest first, a few hundred
        threads a query (the static build reads every post's conversation this way)."""
        wanted = list(dict.fromkeys(threads))
        found: dict[str, list[Comment]] = {thread: [] for thread in wanted}
        visible = [Status.PUBLISHED, Status.DELETED]
        with self.engine.begin() as conn:
            for start in range(0, len(wanted), 500):
                query = (
                    select(comments)
                    .where(comments.c.thread.in_(wanted[start:start + 500]),
                           comments.c.status.in_(visible))
                    .order_by(comments.c.created_at, comments.c.id)
                )
                for row in conn.execute(query):
                    comment = _row_to_comment(row)
                    found[comment.thread].append(comment)
        return found

    def thread_snapshot(self, thread: str, known_version: int | None = None,
                        statuses: Sequence[Status] = (Status.PUBLISHED, Status.DELETED)) -> ThreadSnapshot:
        """The thread's version and change time and, unless its version is still `known_version`, its
        comments (as list_thread would list them): one indexed statement, whatever the thread's size."""
        query = _snapshot_select(tuple(statuses))
        with self.engine.begin() as conn:
            rows = conn.execute(query, {"thread": thread, "known": -1 if known_version is None else known_version}
                                ).all()
        first = rows[0]._mapping
        listed = [_row_to_comment(row) for row in rows if row._mapping["id"] is not None]
        unchanged = known_version is not None and first["version"] == known_version
        return ThreadSnapshot(first["version"] or 0, first["changed_at"], None if unchanged else listed,
                              bool(first["has_mentions"]))

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
            if row is not None:
                _touch(conn, [row._mapping["thread"]], edited_at)
        return _row_to_comment(row) if row is not None else None

    def set_status(self, comment_id: int, status: Status, mail: MailBuilder | None = None,
                   now: datetime | None = None) -> Comment | None:
        """Change a comment's status (and enqueue the emails `mail` makes about it, at `now`)."""
        with self._writer.begin() as conn:
            conn.execute(comments.update().where(comments.c.id == comment_id).values(status=status))
            row = conn.execute(select(comments).where(comments.c.id == comment_id)).first()
            comment = _row_to_comment(row) if row is not None else None
            if comment is not None:
                _touch(conn, [comment.thread], now)
            if comment is not None and mail is not None:
                enqueue(conn, mail(comment), now or comment.created_at)
        return comment

    def set_marks(self, comment_id: int, **marks: datetime | None) -> None:
        """Set the author's marks on a comment: dismissed_at, snoozed_until and/or reopened_at (None clears)."""
        allowed = {"dismissed_at", "snoozed_until", "reopened_at"}
        assert marks and set(marks) <= allowed, marks
        with self._writer.begin() as conn:
            conn.execute(comments.update().where(comments.c.id == comment_id).values(**marks))

    def unsubscribe(self, author_email: str, now: datetime) -> int:
        """Stop reply notifications to this email on every comment, and put it on the suppression
        list so no later comment turns them on again; how many comments asked for them."""
        with self._writer.begin() as conn:
            suppress(conn, author_email, now)
            result = conn.execute(
                comments.update()
                .where(func.lower(comments.c.author_email) == author_email.lower(), comments.c.notify_replies)
                .values(notify_replies=False)
            )
            return int(result.rowcount)

    def get_comments(self, ids: Iterable[int]) -> dict[int, Comment]:
        """Several comments by id, in one query."""
        wanted = sorted({i for i in ids if 1 <= i <= MAX_ID})
        found: dict[int, Comment] = {}
        with self.engine.begin() as conn:
            for start in range(0, len(wanted), 500):
                query = select(comments).where(comments.c.id.in_(wanted[start:start + 500]))
                found.update({c.id: c for c in map(_row_to_comment, conn.execute(query))})
        return found

    # Conversations: the unanswered rule ------------------------------------------------------

    def conversation(self, query: ConversationQuery | None = None) -> list[TrackedComment]:
        """Comments with their conversation state, oldest first, each with its parent for context."""
        query = query or ConversationQuery()
        with self.engine.begin() as conn:
            tracked = [_tracked(row) for row in conn.execute(_conversation_select(query))]
            parents = _parents(conn, [t.comment.parent_id for t in tracked if t.comment.parent_id])
        return [TrackedComment(t.comment, t.state, t.first_reply_at, t.dismissed_at, t.snoozed_until,
                               parents.get(t.comment.parent_id or 0)) for t in tracked]

    def unanswered(self, now: datetime, threads: Sequence[str] | None = None, *,
                   include_snoozed: bool = False) -> list[TrackedComment]:
        """Reader comments waiting for an author's answer, oldest first (snoozed ones only if asked)."""
        return self.conversation(ConversationQuery(
            states=(State.UNANSWERED,), threads=threads, awake_at=None if include_snoozed else now))

    def delete_comment(self, comment_id: int, now: datetime | None = None) -> None:
        """Mark DELETED and forget what the reader wrote and who they are; the row keeps replies attached."""
        with self._writer.begin() as conn:
            result = conn.execute(
                comments.update()
                .where(comments.c.id == comment_id)
                .values(
                    status=Status.DELETED, author_name="", author_email=None, author_url=None,
                    body="", body_html="", ip=None, edit_token_hash=None, notify_replies=False,
                    # A remote reply keeps origin_url, so the same reply sent again stays deleted.
                    author_photo=None,
                )
                .returning(comments.c.thread)
            )
            _touch(conn, [thread for (thread,) in result], now)

    def counts(self, threads: Iterable[str]) -> dict[str, int]:
        """Published comments per thread; threads without any get 0."""
        return self.thread_counts(threads).counts

    def thread_counts(self, threads: Iterable[str]) -> ThreadCounts:
        """Published comments per thread (0 for none) and the threads' latest change, in one statement."""
        wanted = list(dict.fromkeys(threads))
        result = dict.fromkeys(wanted, 0)
        if not wanted:
            return ThreadCounts(result, None)
        # With no published comment at all there is no row, hence no time: callers then send no Last-Modified.
        raw: Any = None
        with self.engine.begin() as conn:
            for thread, count, raw in conn.execute(_COUNTS, {"threads": wanted}):
                result[thread] = int(count)
        return ThreadCounts(result, _aware(raw))

    def recent(self, limit: int, thread: str | None = None) -> list[Comment]:
        """The newest published comments, newest first (for feeds)."""
        query = select(comments).where(comments.c.status == Status.PUBLISHED)
        if thread is not None:
            query = query.where(comments.c.thread == thread)
        query = query.order_by(comments.c.created_at.desc(), comments.c.id.desc()).limit(limit)
        with self.engine.begin() as conn:
            return [_row_to_comment(row) for row in conn.execute(query)]

    def has_published(self, author_email: str) -> bool:
        """Whether this email has a published reader comment (moderation of first-time commenters)."""
        query = (
            select(comments.c.id)
            .where(comments.c.author_email == author_email, comments.c.status == Status.PUBLISHED,
                   comments.c.is_author.is_(False))
            .limit(1)
        )
        with self.engine.begin() as conn:
            return conn.execute(query).first() is not None

    def change_summary(self) -> list[tuple[Any, ...]]:
        """Per status: how many comments, the newest id, the latest edit. It changes whenever a
        comment is added, edited, deleted or moderated (the static build's cheap check)."""
        query = select(comments.c.status, func.count(), func.max(comments.c.id),
                       func.max(comments.c.edited_at)).group_by(comments.c.status)
        # Received likes and mentions change no comment; every change readers see bumps a version.
        versions = select(func.coalesce(func.sum(thread_versions.c.version), 0))
        with self.engine.begin() as conn:
            summary = sorted(tuple(row) for row in conn.execute(query))
            return [*summary, ("versions", int(conn.execute(versions).scalar_one()))]

    def publish_marker(self) -> int:
        """The sum of every thread's version: it moves on each change readers can see (each bumps
        a version in its own transaction), and only then; what publish-on-comment watches."""
        with self.engine.begin() as conn:
            return int(conn.execute(select(func.coalesce(func.sum(thread_versions.c.version), 0))).scalar_one())

    def all_comments(self) -> list[Comment]:
        """Every comment in every state, parents before their replies (for exports)."""
        with self.engine.begin() as conn:
            return [_row_to_comment(row) for row in conn.execute(select(comments).order_by(comments.c.id))]

    def import_comments(self, records: Sequence[ImportedComment]) -> tuple[int, int]:
        """Insert records (parents first) in one transaction, skipping uids already stored.

        Returns (added, skipped). A parent uid must be stored already or come earlier."""
        with self._writer.begin() as conn:
            return _import_comment_rows(conn, records)

    def import_conversations(self, records: Sequence[ImportedComment], mentions: Sequence[Mention],
                             *, dry_run: bool = False) -> tuple[tuple[int, int], tuple[int, int]]:
        """Comments (as import_comments) and mentions, all in one transaction; re-running adds
        nothing. Returns (added, skipped) for each. A dry run does the same work and rolls it
        back, so its counts are the real ones."""
        with self._writer.connect() as conn, conn.begin() as transaction:
            counts = _import_comment_rows(conn, records), insert_mentions(conn, mentions)
            if dry_run:
                transaction.rollback()
            return counts


def _import_comment_rows(conn: Connection, records: Sequence[ImportedComment]) -> tuple[int, int]:
    """import_comments in the caller's transaction."""
    added = skipped = 0
    known: dict[str, int] = {}
    touched: set[str] = set()
    uids = [r.comment.uid for r in records] + [r.parent_uid for r in records if r.parent_uid]
    for start in range(0, len(uids), 500):
        query = select(comments.c.uid, comments.c.id).where(comments.c.uid.in_(uids[start:start + 500]))
        known.update({uid: int(cid) for uid, cid in conn.execute(query)})
    for record in records:
        if record.comment.uid in known:
            skipped += 1
            continue
        if record.comment.origin_url:
            # A remote reply stored here already (received again, under another uid): the same
            # reply, and its answers in the file attach to it.
            same = conn.execute(select(comments.c.id).where(comments.c.origin == record.comment.origin,
                                                            comments.c.origin_url == record.comment.origin_url)).first()
            if same is not None:
                known[record.comment.uid] = int(same.id)
                skipped += 1
                continue
        values = {name: getattr(record.comment, name) for name in _NEW_FIELDS}
        values["parent_id"] = known[record.parent_uid] if record.parent_uid else None
        values["edited_at"] = record.edited_at
        result = conn.execute(comments.insert().values(**values))
        assert result.inserted_primary_key is not None
        known[record.comment.uid] = int(result.inserted_primary_key[0])
        touched.add(record.comment.thread)
        added += 1
    _touch(conn, touched, None)  # imported comments carry their old times; the change is now
    return added, skipped


_SNAPSHOTS: dict[tuple[Status, ...], Select[Any]] = {}


def _snapshot_select(statuses: tuple[Status, ...]) -> Select[Any]:
    """thread_snapshot's statement (params: thread, known), built once: building it costs more than
    running it. A thread without a version row lists its comments every time (a missed bump costs
    speed, never freshness); known = -1 asks for the comments whatever the version."""
    query = _SNAPSHOTS.get(statuses)
    if query is None:
        versions = thread_versions
        thread = bindparam("thread", type_=comments.c.thread.type)
        fresh = or_(versions.c.version.is_(None), versions.c.version != bindparam("known", type_=Id))
        anchor = select(literal(1).label("one")).subquery("anchor")
        # Whether the thread has likes or mentions to list too: asked here, so that the thread read
        # stays one statement for the many threads that have none.
        has_mentions = exists().where(mentions.c.thread == thread, mentions.c.status == "published")
        query = _SNAPSHOTS[statuses] = (
            select(versions.c.version, versions.c.changed_at, has_mentions.label("has_mentions"), comments)
            .select_from(
                anchor.outerjoin(versions, versions.c.thread == thread)
                .outerjoin(comments, and_(comments.c.thread == thread, comments.c.status.in_(list(statuses)), fresh))
            )
            .order_by(comments.c.created_at, comments.c.id)
        )
    return query




@dataclass(frozen=True)
class ThreadSnapshot:
    """What `SqlStorage.thread_snapshot` read: `comments` is None when the caller's version is current."""

    version: int                 # 0: the thread never had a comment
    changed_at: datetime | None
    comments: list[Comment] | None
    has_mentions: bool = False   # published likes, reposts or mentions to list beside the comments


@dataclass(frozen=True)
class ThreadCounts:
    """Published comments per thread, and when the latest of those threads changed (None: unknown)."""

    counts: dict[str, int]
    changed_at: datetime | None


def _counts_select() -> Select[Any]:
    """Published comments per thread and the threads' latest change, for the expanding list of
    paths `threads`. Built once: building it per request cost more than running it."""
    paths: BindParameter[str] = bindparam("threads", expanding=True)
    changed = select(func.max(thread_versions.c.changed_at)).where(thread_versions.c.thread.in_(paths))
    # Every row repeats the time: left raw, so that only one of them is converted.
    return (
        select(comments.c.thread, func.count(), type_coerce(changed.scalar_subquery(), String))
        .where(comments.c.thread.in_(paths), comments.c.status == Status.PUBLISHED)
        .group_by(comments.c.thread)
    )


_COUNTS = _counts_select()


@dataclass(frozen=True)
class ConversationQuery:
    """Which comments `SqlStorage.conversation` returns; every filter is optional."""

    states: Sequence[State] | None = None
    threads: Sequence[str] | None = None
    search: str = ""                      # in the body or the commenter's name, any case
    since: datetime | None = None         # created at or after
    until: datetime | None = None         # created before
    awake_at: datetime | None = None      # leave out comments snoozed beyond this time
    newest_first: bool = False
    limit: int | None = None
    offset: int = 0


def _first_author_replies(threads: Sequence[str] | None = None) -> Subquery:
    """For each comment, when an author first replied anywhere beneath it: THE rule, in one query.

    Every published author comment answers its parent and, walking up parent links, every comment
    above it on its branch. A recursive CTE carries (comment, reply time) up the tree; the earliest
    time per comment is its first author reply. A comment an author put back in the queue
    (reopened_at, the dashboard's "also answered" Undo) counts only replies written after that.
    Comments missing here are not answered. A reply answers only within its own thread, so
    `threads` can narrow the walk without changing a result.
    """
    reply = comments.alias("reply")
    answers = (
        select(reply.c.parent_id.label("id"), reply.c.created_at.label("reply_at"))
        .where(reply.c.is_author, reply.c.status == Status.PUBLISHED, reply.c.parent_id.is_not(None),
               *([reply.c.thread.in_(list(threads))] if threads is not None else []))
        .cte("answers", recursive=True)
    )
    above = comments.alias("above")
    answers = answers.union(
        select(above.c.parent_id, answers.c.reply_at)
        .where(above.c.id == answers.c.id, above.c.parent_id.is_not(None))
    )
    answered = comments.alias("answered")
    return (
        select(answers.c.id, func.min(answers.c.reply_at).label("first_reply_at"))
        .select_from(answers.join(answered, answered.c.id == answers.c.id))
        .where(or_(answered.c.reopened_at.is_(None), answers.c.reply_at > answered.c.reopened_at))
        .group_by(answers.c.id)
        .subquery("first_replies")
    )


def _state(first_reply_at: ColumnElement[Any]) -> ColumnElement[str]:
    """A comment's State: held, spam and deleted by status; author comments; then a reader comment is
    answered (an author replied beneath it), dismissed ("no reply needed"), or else unanswered."""
    c = comments.c
    return case(
        (c.status == Status.PENDING, State.HELD.value),
        (c.status == Status.SPAM, State.SPAM.value),
        (c.status == Status.DELETED, State.DELETED.value),
        (c.is_author, State.AUTHOR.value),
        (first_reply_at.is_not(None), State.ANSWERED.value),
        (c.dismissed_at.is_not(None), State.DISMISSED.value),
        else_=State.UNANSWERED.value,
    )


def _conversation_select(q: ConversationQuery) -> Select[Any]:
    first = _first_author_replies(q.threads)
    state = _state(first.c.first_reply_at).label("state")
    query = (
        select(comments, first.c.first_reply_at, state)
        .select_from(comments.outerjoin(first, first.c.id == comments.c.id))
    )
    if q.states is not None:
        query = query.where(state.in_([State(s).value for s in q.states]))
    if q.threads is not None:
        query = query.where(comments.c.thread.in_(list(q.threads)))
    if q.search:
        needle = q.search.lower()
        query = query.where(or_(func.lower(comments.c.body).contains(needle, autoescape=True),
                                func.lower(comments.c.author_name).contains(needle, autoescape=True)))
    if q.since is not None:
        query = query.where(comments.c.created_at >= q.since)
    if q.until is not None:
        query = query.where(comments.c.created_at < q.until)
    if q.awake_at is not None:
        query = query.where(or_(comments.c.snoozed_until.is_(None), comments.c.snoozed_until <= q.awake_at))
    order = (comments.c.created_at.desc(), comments.c.id.desc()) if q.newest_first else (
        comments.c.created_at, comments.c.id)
    query = query.order_by(*order)
    if q.limit is not None:
        query = query.limit(q.limit)
    if q.offset:
        query = query.offset(q.offset)
    return query


def _aware(value: datetime | str | None) -> datetime | None:
    """A time as the driver returned it (SQLite: text in UTC) as an aware datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC) if value is not None else None


def _tracked(row: Row[Any]) -> TrackedComment:
    data = row._mapping
    first = data["first_reply_at"]
    if isinstance(first, str):  # SQLite hands back MIN() over a CTE column as text
        first = datetime.fromisoformat(first)
    if first is not None and first.tzinfo is None:
        first = first.replace(tzinfo=UTC)
    return TrackedComment(_row_to_comment(row), State(data["state"]), first,
                          data["dismissed_at"], data["snoozed_until"])


def _parents(conn: Connection, ids: list[int]) -> dict[int, Comment]:
    found: dict[int, Comment] = {}
    wanted = sorted(set(ids))
    for start in range(0, len(wanted), 500):
        query = select(comments).where(comments.c.id.in_(wanted[start:start + 500]))
        found.update({c.id: c for c in map(_row_to_comment, conn.execute(query))})
    return found
