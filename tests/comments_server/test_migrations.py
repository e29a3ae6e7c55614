"""Alembic migrations on SQLite and PostgreSQL: each from the schema before it, with rows in it."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from comments_server.app import create_app
from comments_server.errors import ConfigError, SchemaError
from comments_server.models import NewComment, State, Status
from comments_server.storage import open_storage, schema
from comments_server.storage.sql import SqlStorage, make_engine
from comments_server.storage.tables import metadata
from tests.support.server import SECRET

REVISIONS = list(reversed(list(ScriptDirectory.from_config(schema.alembic_config()).walk_revisions())))


def row(**fields) -> NewComment:
    base = dict(
        thread="/a/", parent_id=None, status=Status.PUBLISHED, author_name="R", author_email=None,
        author_url=None, is_author=False, notify_replies=False, body="b", body_html="<p>b</p>",
        created_at=datetime(2026, 1, 1, tzinfo=UTC), ip=None, edit_token_hash=None,
    )
    base.update(fields)
    return NewComment(**base)


@pytest.fixture
def engine(db_url):
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def test_revisions_are_a_single_line_with_telling_names():
    assert [r.revision for r in REVISIONS] == ["0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008", "0009", "0010", "0011"]
    assert all(r.doc for r in REVISIONS)
    files = sorted(p.name for p in (schema.MIGRATIONS_DIR / "versions").glob("*.py"))
    assert files == ["0001_create_comments.py", "0002_add_comment_uid.py",
                     "0003_add_authors_and_dismissals.py", "0004_add_outbox.py",
                     "0005_add_mentions.py", "0006_add_thread_versions.py",
                     "0007_never_reuse_ids_add_used_form_tokens_and_idempotency_keys.py",
                     "0008_add_reader_addresses.py", "0009_add_comment_reopened_at.py",
                     "0010_add_comment_held_reason.py",
                     "0011_add_remote_replies_mention_fields_and_jobs.py"]


# Rows as the first schema had them; every later revision must keep them readable.
INSERT_V1 = text(
    "INSERT INTO comments (thread, status, author_name, is_author, notify_replies, body, body_html, created_at)"
    " VALUES ('/a/', 'published', 'R', :author, :notify, :body, '<p>x</p>', :created)"
)
# From 0002 on, every comment has a uid.
INSERT_V2 = text(
    "INSERT INTO comments (thread, status, author_name, is_author, notify_replies, body, body_html, created_at,"
    " uid) VALUES ('/a/', 'published', 'R', :author, :notify, :body, '<p>x</p>', :created, :uid)"
)


def insert_old_row(conn, revision: str | None, **values) -> None:
    """A row in the shape the schema at `revision` takes."""
    if revision == "0001":
        conn.execute(INSERT_V1, values)
    else:
        conn.execute(INSERT_V2, {"uid": f"uid-{values['body']}", **values})


@pytest.mark.parametrize("revision", REVISIONS, ids=lambda r: r.revision)
def test_each_migration_upgrades_from_the_schema_before_it_keeping_rows(engine, revision):
    before = revision.down_revision
    if before is not None:
        schema.upgrade(engine, before)
    old_bodies = []
    if schema.schema_state(engine).has_tables:
        with engine.begin() as conn:
            for n in range(3):
                insert_old_row(conn, before, author=False, notify=False, body=f"old {n}",
                               created=datetime(2026, 1, 1, tzinfo=UTC))
                old_bodies.append(f"old {n}")
    assert schema.upgrade(engine, revision.revision) == revision.revision
    with engine.begin() as conn:
        assert [r[0] for r in conn.execute(text("SELECT body FROM comments ORDER BY id"))] == old_bodies
    # ...and the current code reads them once the database is at the head.
    schema.upgrade(engine)
    store = SqlStorage(engine)
    assert [c.body for c in store.all_comments()] == old_bodies
    assert store.add_comment(row()).id >= 1


def test_0002_gives_existing_comments_distinct_uids(engine):
    schema.upgrade(engine, "0001")
    with engine.begin() as conn:
        for n in range(3):
            conn.execute(INSERT_V1, {"author": False, "notify": False, "body": f"b{n}",
                                     "created": datetime(2026, 1, 1, tzinfo=UTC)})
    schema.upgrade(engine, "0002")
    with engine.begin() as conn:
        uids = [r[0] for r in conn.execute(text("SELECT uid FROM comments"))]
    assert len(set(uids)) == 3 and all(uids)


def test_0008_confirms_no_address_that_asked_for_replies_before_it(engine):
    """Anyone could have typed those addresses: their owners confirm on their next comment."""
    schema.upgrade(engine, "0006")
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO comments (thread, status, author_name, author_email, is_author, notify_replies, body,"
            " body_html, created_at, uid) VALUES ('/a/', 'published', 'R', 'rita@example.org', :no, :yes, 'b',"
            " '<p>b</p>', :created, 'u1')"), {"no": False, "yes": True, "created": datetime(2026, 1, 1, tzinfo=UTC)})
    schema.upgrade(engine, "0008")
    schema.upgrade(engine)   # the current code reads the rows at the head
    store = SqlStorage(engine)
    assert store.all_comments()[0].notify_replies is True
    assert not store.addresses.state("rita@example.org").may_mail


def test_0009_keeps_every_answered_comment_answered(engine):
    """Rows from before it have no reopened_at: the one rule reads them as it did."""
    schema.upgrade(engine, "0008")
    created = datetime(2026, 1, 1, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(INSERT_V2, {"author": False, "notify": False, "body": "question", "created": created,
                                 "uid": "q"})
        conn.execute(text(
            "INSERT INTO comments (thread, parent_id, status, author_name, is_author, notify_replies, body,"
            " body_html, created_at, uid) SELECT '/a/', id, 'published', 'A', :yes, :no, 'answer', '<p>a</p>',"
            " :created, 'a' FROM comments WHERE uid = 'q'"), {"yes": True, "no": False, "created": created})
    schema.upgrade(engine, "0009")
    with engine.begin() as conn:
        assert [r[0] for r in conn.execute(text("SELECT reopened_at FROM comments"))] == [None, None]
    schema.upgrade(engine)
    states = {t.comment.body: t.state for t in SqlStorage(engine).conversation()}
    assert states == {"question": State.ANSWERED, "answer": State.AUTHOR}


def test_downgrade_to_base_and_back(engine):
    schema.upgrade(engine)
    SqlStorage(engine).add_comment(row())
    schema.downgrade(engine, "base")
    assert not inspect(engine).has_table("comments")
    schema.upgrade(engine)
    assert SqlStorage(engine).list_thread("/a/") == []


def test_migrated_schema_matches_tables_module(engine):
    schema.upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_first_start_migrates_an_empty_database(db_url):
    storage = open_storage(db_url)
    assert schema.schema_state(storage.engine).is_current
    storage.close()


def test_empty_database_without_auto_migrate_is_refused(db_url):
    with pytest.raises(SchemaError, match="blogengine comments migrate"):
        open_storage(db_url, auto_migrate=False)


def test_create_app_refuses_pending_migrations(db_url, engine, monkeypatch, manifest):
    schema.upgrade(engine)
    # A newer version of the code would ship a revision this database has not had yet.
    monkeypatch.setattr(schema, "head_revision", lambda: "9000")
    known = schema.known_revisions()
    monkeypatch.setattr(schema, "known_revisions", lambda: {*known, "9000"})
    config = {"SECRET_KEY": SECRET, "DATABASE_URL": db_url, "THREADS_MANIFEST": str(manifest)}
    with pytest.raises(SchemaError, match=r"pending migrations .*run `blogengine comments migrate`"):
        create_app(config)


def test_unknown_revision_is_refused(db_url, engine):
    schema.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(SchemaError, match="does not know"):
        open_storage(db_url)


def test_tables_without_migration_record_are_refused(db_url, engine):
    schema.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE alembic_version"))
    with pytest.raises(SchemaError, match="no migration record"):
        open_storage(db_url)


def test_concurrent_first_starts_migrate_once(db_url):
    errors: list[BaseException] = []

    def start() -> None:
        try:
            open_storage(db_url).close()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    storage = open_storage(db_url)
    assert schema.schema_state(storage.engine).is_current
    storage.close()


def test_bad_database_url_is_a_config_error(manifest):
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        create_app({"SECRET_KEY": SECRET, "DATABASE_URL": "mysql://x/y", "THREADS_MANIFEST": str(manifest)})


def test_0010_leaves_existing_comments_without_a_held_reason(engine):
    """Comments from before plugins were held by nobody: NULL, and the dashboard shows no reason."""
    schema.upgrade(engine, "0009")
    created = datetime(2026, 1, 1, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(INSERT_V2, {"author": False, "notify": False, "body": "held", "created": created,
                                 "uid": "h"})
        conn.execute(text("UPDATE comments SET status = 'pending'"))
    schema.upgrade(engine, "0010")
    with engine.begin() as conn:
        assert [r[0] for r in conn.execute(text("SELECT held_reason FROM comments"))] == [None]
    schema.upgrade(engine)
    store = SqlStorage(engine)
    [comment] = store.all_comments()
    assert (comment.status, comment.held_reason) == (Status.PENDING, None)
    added = store.add_comment(row(status=Status.PENDING, held_reason="blocklist: links to x.example"))
    assert store.get_comment(added.id).held_reason == "blocklist: links to x.example"


def test_0011_makes_existing_comments_local_and_keeps_imported_mentions(engine):
    """Comments from before remote replies were all written here; imported pingbacks stay
    published mentions without author or content; the job table starts empty."""
    schema.upgrade(engine, "0010")
    created = datetime(2026, 1, 1, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(INSERT_V2, {"author": False, "notify": False, "body": "old", "created": created, "uid": "o"})
        conn.execute(text("INSERT INTO mentions (uid, thread, kind, source_url, title, excerpt, created_at)"
                          " VALUES ('wp-1', '/a/', 'pingback', 'https://x.example/', 'X', 'e', :created)"),
                     {"created": created})
    schema.upgrade(engine, "0011")
    with engine.begin() as conn:
        assert conn.execute(text("SELECT origin, origin_url, origin_id, author_photo FROM comments")).all() == [
            ("comment", None, None, None)]
        assert conn.execute(text("SELECT status, author_name, content_html FROM mentions")).all() == [
            ("published", None, None)]
        assert conn.execute(text("SELECT count(*) FROM jobs")).scalar() == 0
    schema.upgrade(engine)
    store = SqlStorage(engine)
    [comment] = store.all_comments()
    assert (comment.origin, comment.origin_url) == ("comment", None)
    [mention] = store.mentions.list_thread("/a/")
    assert (mention.kind, mention.status, mention.author_name) == ("pingback", "published", None)
    store.remote.save_reply(row(origin="webmention", origin_url="https://r.example/1", author_photo="https://r.example/p.png"),
                            created)
    store.jobs.enqueue("webmention-verify", "k", {}, created, created)
    # ...and back down: the new columns and the job table go, the rows stay.
    schema.downgrade(engine, "0010")
    with engine.begin() as conn:
        assert not inspect(conn).has_table("jobs")
        assert "origin" not in {c["name"] for c in inspect(conn).get_columns("comments")}
        assert "author_name" not in {c["name"] for c in inspect(conn).get_columns("mentions")}
        assert conn.execute(text("SELECT count(*) FROM comments")).scalar() == 2
        assert conn.execute(text("SELECT count(*) FROM mentions")).scalar() == 1
