"""SqlStorage on SQLite and PostgreSQL (the `db_url` fixture runs every test on both)."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import event

from comments_server.models import Comment, NewComment, Status
from comments_server.storage import open_storage
from comments_server.dburl import normalize_url, sqlite_path

T0 = datetime(2026, 6, 1, 12, 0, 0, 123456, tzinfo=UTC)


def new(thread: str = "/a/", **fields) -> NewComment:
    base = dict(
        thread=thread, parent_id=None, status=Status.PUBLISHED, author_name="Reader",
        author_email="reader@example.org", author_url="https://reader.example/", is_author=False,
        notify_replies=True, body="Hello *there*", body_html="<p>Hello <em>there</em></p>",
        created_at=T0, ip="192.0.2.1", edit_token_hash="ab" * 32,
    )
    base.update(fields)
    return NewComment(**base)


@pytest.fixture
def store(db_url):
    storage = open_storage(db_url)
    yield storage
    storage.close()


def test_add_and_get_round_trip_every_field(store):
    stored = store.add_comment(new())
    fetched = store.get_comment(stored.id)
    assert fetched == stored
    assert isinstance(fetched, Comment) and fetched.id >= 1
    assert fetched.created_at == T0 and fetched.created_at.tzinfo is not None
    assert fetched.edited_at is None and fetched.status is Status.PUBLISHED


def test_times_given_in_other_zones_come_back_in_utc(store):
    local = T0.astimezone(timezone(timedelta(hours=-5)))
    stored = store.add_comment(new(created_at=local))
    assert store.get_comment(stored.id).created_at == T0
    assert store.get_comment(stored.id).created_at.utcoffset() == timedelta(0)


def test_get_unknown_or_out_of_range_id_is_none(store):
    assert store.get_comment(1) is None
    assert store.get_comment(2**63) is None
    assert store.get_comment(0) is None


def test_list_thread_filters_by_thread_and_status_oldest_first(store):
    later = store.add_comment(new(created_at=T0 + timedelta(minutes=5), body="later"))
    earlier = store.add_comment(new(created_at=T0, body="earlier"))
    store.add_comment(new(status=Status.PENDING))
    store.add_comment(new(status=Status.SPAM))
    deleted = store.add_comment(new(status=Status.DELETED))
    store.add_comment(new(thread="/b/"))
    listed = store.list_thread("/a/")
    assert [c.id for c in listed] == [earlier.id, deleted.id, later.id]
    assert [c.id for c in store.list_thread("/a/", [Status.PENDING, Status.SPAM])] == [3, 4]


def test_list_thread_is_one_query(store):
    parent = store.add_comment(new())
    for n in range(30):
        store.add_comment(new(parent_id=parent.id, body=f"reply {n}"))
    statements = []

    def record(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        assert len(store.list_thread("/a/")) == 31
    finally:
        event.remove(store.engine, "before_cursor_execute", record)
    assert len(statements) == 1


def test_replies_reference_parents(store):
    parent = store.add_comment(new())
    reply = store.add_comment(new(parent_id=parent.id))
    assert store.get_comment(reply.id).parent_id == parent.id


def test_parent_must_exist(store):
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        store.add_comment(new(parent_id=999))


def test_update_body_sets_edited_at(store):
    stored = store.add_comment(new())
    edited = store.update_body(stored.id, "new", "<p>new</p>", T0 + timedelta(minutes=2))
    assert edited.body == "new" and edited.body_html == "<p>new</p>"
    assert edited.edited_at == T0 + timedelta(minutes=2)
    assert store.update_body(999, "x", "x", T0) is None


def test_set_status(store):
    stored = store.add_comment(new(status=Status.PENDING))
    store.set_status(stored.id, Status.PUBLISHED)
    assert store.get_comment(stored.id).status is Status.PUBLISHED


def test_delete_comment_scrubs_personal_data(store):
    stored = store.add_comment(new())
    store.delete_comment(stored.id)
    gone = store.get_comment(stored.id)
    assert gone.status is Status.DELETED
    assert (gone.author_name, gone.author_email, gone.author_url, gone.ip) == ("", None, None, None)
    assert (gone.body, gone.body_html, gone.edit_token_hash, gone.notify_replies) == ("", "", None, False)
    assert gone.thread == "/a/" and gone.created_at == T0


def test_counts_published_only_with_zero_for_unknown(store):
    store.add_comment(new())
    store.add_comment(new())
    store.add_comment(new(status=Status.PENDING))
    store.add_comment(new(status=Status.DELETED))
    store.add_comment(new(thread="/b/"))
    assert store.counts(["/a/", "/b/", "/c/", "/a/"]) == {"/a/": 2, "/b/": 1, "/c/": 0}
    assert store.counts([]) == {}


def test_recent_newest_first_published_only(store):
    for n in range(5):
        store.add_comment(new(created_at=T0 + timedelta(minutes=n), body=f"n{n}", thread="/a/" if n % 2 else "/b/"))
    store.add_comment(new(created_at=T0 + timedelta(hours=1), status=Status.PENDING))
    assert [c.body for c in store.recent(3)] == ["n4", "n3", "n2"]
    assert [c.body for c in store.recent(10, "/a/")] == ["n3", "n1"]


def test_has_published(store):
    store.add_comment(new(author_email="held@example.org", status=Status.PENDING))
    store.add_comment(new(author_email="known@example.org"))
    assert store.has_published("known@example.org")
    assert not store.has_published("held@example.org")
    assert not store.has_published("nobody@example.org")


def test_text_survives_exactly(store):
    body = "emoji 🦊, RTL \u202e, quotes ' \" ; DROP TABLE comments; --\nline two\ttab"
    stored = store.add_comment(new(body=body, author_name="O'Brien \"Bob\""))
    fetched = store.get_comment(stored.id)
    assert fetched.body == body and fetched.author_name == "O'Brien \"Bob\""


def test_concurrent_writers_lose_nothing(store):
    ids: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def write(worker: int) -> None:
        try:
            for n in range(15):
                stored = store.add_comment(new(body=f"{worker}-{n}"))
                with lock:
                    ids.append(stored.id)
        except BaseException as exc:  # collected and reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(set(ids)) == 120
    assert sorted(c.id for c in store.list_thread("/a/")) == sorted(ids)


def test_url_helpers():
    assert normalize_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("sqlite:///x.db") == "sqlite:///x.db"
    assert str(sqlite_path("sqlite:////tmp/a/b.sqlite3")) == "/tmp/a/b.sqlite3"
    assert sqlite_path("sqlite://") is None
    assert sqlite_path("postgresql+psycopg://u@h/db") is None


def test_sqlite_uses_wal_and_foreign_keys(tmp_path):
    storage = open_storage(f"sqlite:///{tmp_path / 'sub' / 'dir' / 'c.sqlite3'}")
    with storage.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
    storage.close()


def test_comment_is_a_new_comment_with_id():
    stored = Comment(**vars(new()), id=7)
    assert replace(stored, body="x").id == 7


@pytest.mark.slow
def test_sqlite_writers_take_turns_on_a_lock_file(tmp_path):
    """Writers of one SQLite file queue on `<file>-writer.lock` (flock, across processes) rather than
    in SQLite's busy handler, which sleeps up to 100 ms between tries."""
    import fcntl

    path = tmp_path / "turns.sqlite3"
    storage = open_storage(f"sqlite:///{path}")
    written = threading.Event()
    with open(f"{path}-writer.lock", "a+") as other_process:  # its own open file: as another process's
        fcntl.flock(other_process, fcntl.LOCK_EX)
        writer = threading.Thread(target=lambda: (storage.add_comment(new()), written.set()))
        writer.start()
        assert not written.wait(0.5)
        assert storage.list_thread("/a/") == []  # readers do not wait
        fcntl.flock(other_process, fcntl.LOCK_UN)
        assert written.wait(10)
    writer.join()
    storage.add_comment(new())  # the lock is free again once a write is over
    assert len(storage.list_thread("/a/")) == 2
    storage.close()


def test_list_threads_reads_many_threads_visible_comments_oldest_first(store):
    first = store.add_comment(new("/a/", body="a1"))
    store.add_comment(new("/b/", body="b1"))
    store.add_comment(new("/a/", body="held", status=Status.PENDING))
    later = store.add_comment(new("/a/", body="a2"))
    found = store.list_threads(["/a/", "/b/", "/none/", "/a/"])
    assert list(found) == ["/a/", "/b/", "/none/"]
    assert [c.id for c in found["/a/"]] == [first.id, later.id]
    assert [c.body for c in found["/b/"]] == ["b1"] and found["/none/"] == []


def test_sqlite_checkpoints_after_writes_outside_the_commit(tmp_path):
    """The WAL is copied into the file every CHECKPOINT_EVERY_WRITES writes, by the writing process
    after it let go of the writer lock; SQLite's own checkpoint (inside the commit) is only a backstop
    at a larger size. (The commits are synced after the lock too: the next test.)"""
    from comments_server.storage.sql import CHECKPOINT_EVERY_WRITES, WAL_BACKSTOP_PAGES

    path = tmp_path / "ckpt.sqlite3"
    storage = open_storage(f"sqlite:///{path}")
    with storage.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == WAL_BACKSTOP_PAGES
    checkpoints: list[str] = []
    storage.engine.dispose()  # new connections, each watched for the statements SQLite runs

    @event.listens_for(storage.engine, "connect")
    def watch(dbapi_connection, _record):
        dbapi_connection.set_trace_callback(lambda sql: checkpoints.append(sql) if "wal_checkpoint" in sql else None)

    for _ in range(CHECKPOINT_EVERY_WRITES * 3 - 1):
        storage.add_comment(new())
    assert len(checkpoints) == 2
    storage.add_comment(new())
    assert len(checkpoints) == 3
    import sqlite3

    with sqlite3.connect(path) as other:  # every comment is there
        assert other.execute("SELECT count(*) FROM comments").fetchone()[0] == CHECKPOINT_EVERY_WRITES * 3
    storage.close()


def test_sqlite_syncs_each_write_before_it_returns_and_after_letting_go_of_the_writer_lock(tmp_path, monkeypatch):
    """A write is on disk when add_comment returns: the WAL is fsynced once the writer lock is
    free (the commit itself is synchronous NORMAL, so the next writer does not wait for this
    one's disk); a read syncs nothing."""
    import fcntl
    import os
    import sqlite3

    path = tmp_path / "synced.sqlite3"
    storage = open_storage(f"sqlite:///{path}")
    storage.add_comment(new())          # the schema and a first write, before watching
    syncs: list[tuple[str, bool, int]] = []
    real_fsync = os.fsync

    def watched_fsync(fd: int) -> None:
        with open(f"{path}-writer.lock", "a+") as other:   # as another process would try it
            try:
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
                lock_free = True
                fcntl.flock(other, fcntl.LOCK_UN)
            except BlockingIOError:
                lock_free = False
        with sqlite3.connect(path) as reader:   # committed already: visible to others
            stored = reader.execute("SELECT count(*) FROM comments").fetchone()[0]
        syncs.append((os.readlink(f"/proc/self/fd/{fd}"), lock_free, stored))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", watched_fsync)
    with storage.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1   # NORMAL: synced by us
    storage.add_comment(new())
    assert syncs == [(f"{path}-wal", True, 2)]
    storage.list_thread("/a/")
    storage.get_comment(1)
    assert len(syncs) == 1                  # reads: nothing to sync
    storage.add_comment(new())
    assert syncs[1:] == [(f"{path}-wal", True, 3)]
    storage.close()


def test_a_comment_signed_with_an_accounts_name_is_refused_in_its_own_transaction(store):
    """The account names are read in the comment's transaction: a refused comment stores
    nothing and spends nothing (its form token can still post), whatever case, spacing or
    invisible characters the name is written with."""
    from comments_server.storage.accounts import NameTaken
    from comments_server.storage.once import Once
    store.accounts.add_author("Ann Author", "ann@example.org", "hash", T0)
    once = Once(form_nonce="n1", form_expires_at=T0 + timedelta(hours=1))
    for name in ("Ann Author", "  ann   AUTHOR ", "Ann\u200bAuthor", "\uff21nn Author"):
        with pytest.raises(NameTaken):
            store.add_comment(new(author_name=name), once=once, refuse_account_names=True)
    assert store.list_thread("/a/") == [] and not store.once.form_token_used("n1")
    assert store.add_comment(new(author_name="Ann Author"), refuse_account_names=False).id
    stored = store.add_comment(new(author_name="Ann Other"), once=once, refuse_account_names=True)
    assert store.once.form_token_used("n1") and [c.id for c in store.list_thread("/a/")][-1] == stored.id
