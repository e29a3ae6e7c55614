"""Migrations 0003 (authors, dismissals) and 0004 (outbox), each from the schema before it with rows
in it, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import inspect, text

from comments_server.models import NewComment, OutgoingMail, State, Status
from comments_server.storage import schema
from comments_server.storage.sql import SqlStorage, make_engine
from comments_server.storage.tables import metadata

T = datetime(2026, 1, 1, tzinfo=UTC)
INSERT_V2 = text(
    "INSERT INTO comments (id, thread, parent_id, status, author_name, is_author, notify_replies, body, body_html,"
    " created_at, uid) VALUES (:id, '/a/', :parent, :status, 'R', :author, :notify, :body, '<p>x</p>', :created, :uid)"
)


@pytest.fixture
def engine(db_url):
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def columns(engine, table):
    return {c["name"] for c in inspect(engine).get_columns(table)}


def test_0003_keeps_a_conversation_and_adds_the_marks(engine):
    schema.upgrade(engine, "0002")
    rows = [(1, None, "published", False), (2, 1, "published", True), (3, 2, "published", False),
            (4, None, "pending", False), (5, None, "published", False)]
    with engine.begin() as conn:
        for cid, parent, status, author in rows:
            conn.execute(INSERT_V2, {"id": cid, "parent": parent, "status": status, "author": author,
                                     "notify": cid == 1, "body": f"b{cid}", "created": T, "uid": f"u{cid}"})
    schema.upgrade(engine, "0003")
    assert {"author_id", "dismissed_at", "snoozed_until"} <= columns(engine, "comments")
    assert {"authors", "author_tokens", "author_sessions"} <= set(inspect(engine).get_table_names())
    with engine.begin() as conn:
        kept = conn.execute(text("SELECT id, parent_id, notify_replies, author_id, dismissed_at FROM comments"
                                 " ORDER BY id")).all()
    assert [(r[0], r[1], bool(r[2]), r[3], r[4]) for r in kept] == [
        (1, None, True, None, None), (2, 1, False, None, None), (3, 2, False, None, None),
        (4, None, False, None, None), (5, None, False, None, None)]
    schema.upgrade(engine)
    states = {t.comment.id: t.state for t in SqlStorage(engine).conversation()}
    assert states == {1: State.ANSWERED, 2: State.AUTHOR, 3: State.UNANSWERED, 4: State.HELD, 5: State.UNANSWERED}


def test_0004_keeps_authors_tokens_sessions_and_marks(engine):
    schema.upgrade(engine, "0003")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO authors (id, name, name_key, email, password_hash, created_at)"
                          " VALUES (7, 'Ann', 'ann', 'ann@example.com', 'scrypt:x', :t)"), {"t": T})
        conn.execute(text("INSERT INTO author_tokens (author_id, label, token_hash, created_at)"
                          " VALUES (7, 'script', :h, :t)"), {"h": "a" * 64, "t": T})
        conn.execute(text("INSERT INTO author_sessions (id_hash, author_id, created_at, expires_at)"
                          " VALUES (:h, 7, :t, :t)"), {"h": "b" * 64, "t": T})
        conn.execute(INSERT_V2, {"id": 1, "parent": None, "status": "published", "author": False, "notify": False,
                                 "body": "q", "created": T, "uid": "u1"})
        conn.execute(INSERT_V2, {"id": 2, "parent": 1, "status": "published", "author": True, "notify": False,
                                 "body": "a", "created": T, "uid": "u2"})
        conn.execute(text("UPDATE comments SET author_id = 7 WHERE id = 2"))
        conn.execute(text("UPDATE comments SET dismissed_at = :t WHERE id = 1"), {"t": T})
    schema.upgrade(engine, "0004")
    schema.upgrade(engine)   # the current code reads the rows at the head
    store = SqlStorage(engine)
    assert store.accounts.find_author("ann").id == 7
    assert [t.label for t in store.accounts.list_tokens(7)] == ["script"]
    assert store.get_comment(2).author_id == 7
    # Answered outranks dismissed: an author did reply.
    assert {t.comment.id: t.state for t in store.conversation()}[1] == State.ANSWERED
    mail = OutgoingMail(kind="digest", recipient="ann@example.com", subject="s", body_text="t", body_html="h",
                        dedupe_key="digest:7:2026-01-01")
    assert store.outbox.add([mail, mail], T) == 1
    assert [m.recipient for m in store.outbox.claim_due(T)] == ["ann@example.com"]


def test_removing_an_author_keeps_their_comments_with_the_badge(engine):
    schema.upgrade(engine)
    store = SqlStorage(engine)
    author = store.accounts.add_author("Ann", "ann@example.com", "scrypt:x", T)
    store.accounts.add_token(author.id, "script", "c" * 64, T)
    with engine.begin() as conn:
        conn.execute(INSERT_V2, {"id": 1, "parent": None, "status": "published", "author": True, "notify": False,
                                 "body": "mine", "created": T, "uid": "u1"})
        conn.execute(text("UPDATE comments SET author_id = :a"), {"a": author.id})
    assert store.accounts.remove_author(author.id)
    comment = store.get_comment(1)
    assert comment.author_id is None and comment.is_author is True
    assert store.accounts.author_for_token("c" * 64, T) is None


def test_downgrade_from_0004_to_0002_keeps_comments(engine):
    schema.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(INSERT_V2, {"id": 1, "parent": None, "status": "published", "author": False, "notify": True,
                                 "body": "kept", "created": T, "uid": "u1"})
    schema.downgrade(engine, "0002")
    assert "author_id" not in columns(engine, "comments") and not inspect(engine).has_table("outbox")
    with engine.begin() as conn:
        assert conn.execute(text("SELECT body FROM comments")).scalar_one() == "kept"


def test_every_batch_migration_keeps_replies(engine):
    """Batch mode copies the comments table; replies pointing at their parents must survive it."""
    schema.upgrade(engine, "0001")
    with engine.begin() as conn:
        for cid, parent in ((1, None), (2, 1), (3, 2)):
            conn.execute(text(
                "INSERT INTO comments (id, thread, parent_id, status, author_name, is_author, notify_replies,"
                " body, body_html, created_at) VALUES (:id, '/a/', :parent, 'published', 'R', :author, false,"
                " 'b', '<p>b</p>', :t)"), {"id": cid, "parent": parent, "author": cid == 2, "t": T})
    schema.upgrade(engine)
    store = SqlStorage(engine)
    assert [(c.id, c.parent_id) for c in store.all_comments()] == [(1, None), (2, 1), (3, 2)]
    assert [t.comment.id for t in store.unanswered(T)] == [3]


def reflected(engine):
    """Everything the database says about its tables, in comparable form."""
    found = {}
    inspector = inspect(engine)
    for table in sorted(inspector.get_table_names()):
        found[table] = {
            "columns": sorted((c["name"], str(c["type"]).split("(")[0], c["nullable"])
                              for c in inspector.get_columns(table)),
            "pk": inspector.get_pk_constraint(table)["constrained_columns"],
            "indexes": sorted((i["name"], tuple(i["column_names"]), bool(i["unique"]))
                              for i in inspector.get_indexes(table)),
            "fks": sorted((f["name"], tuple(f["constrained_columns"]), f["referred_table"],
                           (f.get("options") or {}).get("ondelete")) for f in inspector.get_foreign_keys(table)),
            "checks": sorted((c["name"], " ".join(c["sqltext"].split())) for c in inspector.get_check_constraints(table)),
        }
    return found


def test_a_fresh_database_gets_exactly_the_migrated_schema(db_url):
    """First start creates tables.py at once; `comments migrate` replays migrations: same result."""
    from comments_server.storage import open_storage

    created = open_storage(db_url)
    assert schema.schema_state(created.engine).is_current
    fresh = reflected(created.engine)
    created.close()
    engine = make_engine(db_url)
    with engine.begin() as conn:
        for table in [*(t.name for t in reversed(metadata.sorted_tables)), "alembic_version"]:
            conn.execute(text(f"DROP TABLE {table}"))
    assert schema.upgrade(engine) == schema.head_revision()
    assert reflected(engine) == fresh
    engine.dispose()


def test_0007_keeps_rows_and_never_hands_out_an_id_twice(engine):
    schema.upgrade(engine, "0006")
    with engine.begin() as conn:
        for name in ("ann", "bob"):
            conn.execute(text("INSERT INTO authors (name, name_key, email, password_hash, created_at)"
                              " VALUES (:n, :k, :e, 'scrypt:x', :t)"), {"n": name, "k": name, "e": f"{name}@x.org", "t": T})
        conn.execute(text("INSERT INTO author_tokens (author_id, label, token_hash, created_at)"
                          " VALUES (2, 'script', :h, :t)"), {"h": "a" * 64, "t": T})
        for body, parent, author in (("q", None, False), ("a", 1, True)):
            conn.execute(text("INSERT INTO comments (thread, parent_id, status, author_name, is_author, notify_replies,"
                              " body, body_html, created_at, uid) VALUES ('/a/', :p, 'published', 'R', :a, false, :b,"
                              " '<p>x</p>', :t, :u)"), {"p": parent, "a": author, "b": body, "u": body, "t": T})
        conn.execute(text("UPDATE comments SET author_id = 2 WHERE id = 2"))
    schema.upgrade(engine, "0007")
    assert {"used_form_tokens", "idempotency_keys"} <= set(inspect(engine).get_table_names())
    schema.upgrade(engine)   # the current code reads the rows at the head
    store = SqlStorage(engine)
    assert store.get_comment(2).author_id == 2 and store.get_comment(2).parent_id == 1
    assert [t.label for t in store.accounts.list_tokens(2)] == ["script"]
    # The newest author and the newest comment go; their ids are not handed out again.
    assert store.accounts.remove_author(2)
    assert store.accounts.add_author("Eve", "eve@x.org", "scrypt:y", T).id == 3
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM comments WHERE id = 2"))
    assert store.add_comment(NewComment(
        thread="/a/", parent_id=None, status=Status.PUBLISHED, author_name="R", author_email=None, author_url=None,
        is_author=False, notify_replies=False, body="b", body_html="<p>b</p>", created_at=T, ip=None,
        edit_token_hash=None)).id == 3
    schema.downgrade(engine, "0006")
    schema.upgrade(engine)
