"""Migration 0005 (mentions) from the schema before it with rows in it, and storing mentions
apart from comments, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import inspect, text

from comments_server.models import ImportedComment, Mention, NewComment, State, Status
from comments_server.storage import schema
from comments_server.storage.sql import SqlStorage, make_engine


T = datetime(2026, 1, 1, tzinfo=UTC)
INSERT_COMMENT = text(
    "INSERT INTO comments (id, thread, parent_id, status, author_name, is_author, notify_replies, body,"
    " body_html, created_at, uid) VALUES (:id, '/a/', :parent, 'published', 'R', :author, false, :body,"
    " '<p>x</p>', :created, :uid)"
)


@pytest.fixture
def engine(db_url):  # noqa: F811
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def mention(uid: str, thread: str = "/a/", kind: str = "pingback") -> Mention:
    return Mention(thread=thread, kind=kind, source_url=f"https://elsewhere.example/{uid}/",
                   title="Elsewhere", excerpt="[…] a link […]", created_at=T, uid=uid)


def reader(uid: str, body: str = "A question?") -> ImportedComment:
    return ImportedComment(comment=NewComment(
        thread="/a/", parent_id=None, status=Status.PUBLISHED, author_name="Bob", author_email=None,
        author_url=None, is_author=False, notify_replies=False, body=body, body_html=f"<p>{body}</p>",
        created_at=T, ip=None, edit_token_hash=None, uid=uid), parent_uid=None)


def test_0005_adds_mentions_keeping_a_conversation_and_its_state(engine):
    schema.upgrade(engine, "0004")
    with engine.begin() as conn:
        for cid, parent, author in [(1, None, False), (2, 1, True), (3, None, False)]:
            conn.execute(INSERT_COMMENT, {"id": cid, "parent": parent, "author": author,
                                          "body": f"b{cid}", "created": T, "uid": f"u{cid}"})
        conn.execute(text("INSERT INTO outbox (kind, recipient, subject, body_text, body_html, headers,"
                          " created_at, attempts, next_attempt_at) VALUES ('digest', 'a@example.com',"
                          " 's', 't', 'h', '{}', :t, 0, :t)"), {"t": T})
    assert "mentions" not in inspect(engine).get_table_names()
    assert schema.upgrade(engine, "0005") == "0005"
    assert {c["name"] for c in inspect(engine).get_columns("mentions")} == {
        "id", "uid", "thread", "kind", "source_url", "title", "excerpt", "created_at"}
    schema.upgrade(engine)   # the current code reads the rows at the head
    store = SqlStorage(engine)
    assert [c.body for c in store.all_comments()] == ["b1", "b2", "b3"]
    assert {t.comment.id: t.state for t in store.conversation()} == {
        1: State.ANSWERED, 2: State.AUTHOR, 3: State.UNANSWERED}
    with engine.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM outbox")).scalar() == 1
    schema.downgrade(engine, "0004")
    assert "mentions" not in inspect(engine).get_table_names()
    with engine.begin() as conn:
        assert [r[0] for r in conn.execute(text("SELECT body FROM comments ORDER BY id"))] == ["b1", "b2", "b3"]


def test_mentions_are_stored_apart_from_comments_in_one_transaction(engine):
    schema.upgrade(engine)
    store = SqlStorage(engine)
    result = store.import_conversations([reader("c1")], [mention("m1"), mention("m2", kind="trackback")])
    assert result == ((1, 0), (2, 0))
    assert [(m.uid, m.kind) for m in store.mentions.list_thread("/a/")] == [("m1", "pingback"),
                                                                           ("m2", "trackback")]
    # A mention is neither a comment nor waiting for an answer.
    assert [c.uid for c in store.all_comments()] == ["c1"]
    assert [t.comment.uid for t in store.unanswered(T)] == ["c1"]
    # Re-importing adds nothing.
    assert store.import_conversations([reader("c1")], [mention("m1"), mention("m2")]) == ((0, 1), (0, 2))


def test_a_failing_import_stores_neither_comments_nor_mentions(engine):
    schema.upgrade(engine)
    store = SqlStorage(engine)
    orphan = ImportedComment(comment=reader("c2").comment, parent_uid="missing")
    with pytest.raises(KeyError):
        store.import_conversations([reader("c1"), orphan], [mention("m1")])
    assert store.all_comments() == []
    assert store.mentions.list_thread("/a/") == []


def test_export_and_import_carry_mentions_losslessly(tmp_path, engine, db_url):  # noqa: F811
    import json

    from comments_server.storage import open_storage
    from comments_server.transfer import TransferError, export_document, import_document

    schema.upgrade(engine)
    source = SqlStorage(engine)
    source.import_conversations([reader("c1")], [mention("m1"), mention("m2", kind="webmention")])
    document = export_document(source, now=T)
    assert [m["uid"] for m in document["mentions"]] == ["m1", "m2"]
    # Into a SQLite file from whichever backend this is, and back again.
    target = open_storage(f"sqlite:///{tmp_path / 'copy.sqlite3'}")
    report = import_document(target, json.dumps(document))
    assert (report.added, report.mentions_added) == (1, 2)
    assert target.mentions.list_thread("/a/") == [
        Mention(**{**m.__dict__, "id": n}) for n, m in enumerate(source.mentions.list_thread("/a/"), 1)]
    again = import_document(target, json.dumps(document))
    assert (again.added, again.skipped, again.mentions_added, again.mentions_skipped) == (0, 1, 0, 2)
    assert export_document(target, now=T) == document
    # An export without mentions reads as before; a bad mention is named.
    del document["mentions"]
    assert import_document(target, json.dumps(document)).mentions_added == 0
    document["mentions"] = [{"uid": "m9", "thread": "/a/", "kind": "follow", "created_at": "2026-01-01T00:00:00Z"}]
    with pytest.raises(TransferError, match=r"mentions\[0\]\.kind: must be one of pingback"):
        import_document(target, json.dumps(document))
    target.close()
