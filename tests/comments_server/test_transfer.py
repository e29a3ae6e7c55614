"""Export and import in the server's own JSON format: lossless, idempotent, all or nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner

from comments_server.cli import comments as comments_cli
from comments_server.models import NewComment, Status
from comments_server.storage import open_storage
from comments_server.transfer import (FORMAT, TransferError, export_document, import_document,
                                      parse_document)
from tests.support.server import POSTGRES_URL, postgres_schema


def stored(storage, **fields) -> int:
    base = dict(thread="/2024/05/a-post/", parent_id=None, status=Status.PUBLISHED,
                author_name="Reader", author_email="r@example.com", author_url="https://r.example/",
                is_author=False, notify_replies=True, body="Hello *there*",
                body_html="<p>Hello <em>there</em></p>", created_at=datetime(2024, 5, 1, 9, 30, tzinfo=UTC),
                ip="192.0.2.1", edit_token_hash=None)
    base.update(fields)
    return storage.add_comment(NewComment(**base)).id


def document(*records: dict) -> str:
    return json.dumps({"format": FORMAT, "version": 1, "comments": list(records)})


def record(uid: str, **fields) -> dict:
    base = {"uid": uid, "thread": "/2024/05/a-post/", "author_name": "R", "body": "Some text",
            "created_at": "2024-05-01T09:30:00Z"}
    base.update(fields)
    return base


@pytest.fixture
def storage(db_url):
    store = open_storage(db_url)
    yield store
    store.close()


@pytest.fixture
def other_db(tmp_path):
    """A second, empty database on the other backend when PostgreSQL is there, else SQLite."""
    if not POSTGRES_URL:
        yield f"sqlite:///{tmp_path / 'other.sqlite3'}"
        return
    with postgres_schema(POSTGRES_URL) as url:
        yield url


def comparable(doc: dict) -> list[dict]:
    return doc["comments"]


def test_round_trip_between_databases_is_lossless(storage, other_db):
    root = stored(storage)
    reply = stored(storage, parent_id=root, is_author=True, author_name="Ann Author",
                   author_email=None, author_url=None, ip=None, notify_replies=False,
                   body="Thanks!", body_html="<p>Thanks!</p>")
    stored(storage, parent_id=reply, status=Status.PENDING, body="held", body_html="<p>held</p>")
    stored(storage, status=Status.SPAM, thread="/2024/06/another/", body="buy", body_html="<p>buy</p>")
    storage.update_body(root, "Hello *again*", "<p>Hello <em>again</em></p>",
                        datetime(2024, 5, 2, tzinfo=UTC))
    first = export_document(storage)
    target = open_storage(other_db)
    try:
        report = import_document(target, json.dumps(first))
        assert (report.added, report.skipped) == (4, 0)
        second = export_document(target)
        assert comparable(second) == comparable(first)
        by_body = {c.body: c for c in target.all_comments()}
        assert by_body["Thanks!"].parent_id == by_body["Hello *again*"].id
        assert by_body["Hello *again*"].body_html == "<p>Hello <em>again</em></p>"
        assert by_body["Thanks!"].is_author is True
    finally:
        target.close()


def test_importing_twice_adds_nothing_the_second_time(storage):
    text_ = document(record("a"), record("b", parent_uid="a"))
    assert import_document(storage, text_).added == 2
    again = import_document(storage, text_)
    assert (again.added, again.skipped) == (0, 2)
    assert len(storage.all_comments()) == 2


def test_reply_to_a_comment_already_in_the_database(storage):
    import_document(storage, document(record("a")))
    import_document(storage, document(record("a"), record("b", parent_uid="a")))
    parent, child = storage.all_comments()
    assert child.parent_id == parent.id


def test_html_from_the_file_is_never_trusted(storage):
    hostile = record("x", body="<script>alert(1)</script> [x](javascript:alert(1))",
                     body_html="<script>alert(1)</script>")
    import_document(storage, document(hostile))
    [comment] = storage.all_comments()
    soup = BeautifulSoup(comment.body_html, "html5lib")
    assert soup.find("script") is None
    assert all(not a.get("href", "").startswith("javascript") for a in soup.find_all("a"))


@pytest.mark.parametrize("text_, message", [
    ("{", "line 1: not valid JSON"),
    ('{"format": "other"}', "not a blogengine comments export"),
    (json.dumps({"format": FORMAT, "version": 9, "comments": []}), "unsupported export version"),
    (document(record("a"), record("a")), "comments[1].uid: 'a' appears twice"),
    (document(record("b", parent_uid="nope")), "comments[0].parent_uid"),
    (document(record("a", thread="no-slash")), "comments[0].thread"),
    (document(record("a", created_at="yesterday")), "comments[0].created_at"),
    (document(record("a", created_at="2024-05-01T09:30:00")), "needs a time zone"),
    (document(record("a", status="lost")), "comments[0].status"),
    (document(record("a", is_author="yes")), "comments[0].is_author"),
    (document(record("a", body="")), "comments[0].body: missing"),
    # The field checks a posted comment passes (models.validate_author_fields), not looser ones.
    (document(record("a", author_url="javascript:alert(1)")), "comments[0].author_url: author_url must be an http"),
    (document(record("a", author_email="no-at-sign")), "comments[0].author_email: author_email must look like"),
    (document(record("a", author_name="Eve\r\nBcc: x@example.com")), "comments[0].author_name: author_name contains a control character"),
    (document(record("a", author_name="N" * 81)), "comments[0].author_name: author_name must be at most 80"),
    (document(record("a", ip="'; DROP TABLE comments")), "comments[0].ip: ip must be an IPv4 or IPv6 address"),
    (document(record("a", body="nul\x00")), "comments[0].body: body contains a control character"),
])
def test_bad_files_name_the_problem(text_, message):
    with pytest.raises(TransferError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_document(text_)


def test_a_bad_record_imports_nothing(storage):
    with pytest.raises(TransferError):
        import_document(storage, document(record("a"), record("b"), record("c", thread="bad")))
    assert storage.all_comments() == []


def test_cli_export_then_import_into_another_database(tmp_path, monkeypatch):
    monkeypatch.setenv("COMMENTS_DATABASE_URL", f"sqlite:///{tmp_path / 'one.sqlite3'}")
    monkeypatch.delenv("COMMENTS_SITE", raising=False)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    source = tmp_path / "in.json"
    source.write_text(document(record("a"), record("b", parent_uid="a", is_author=True)))
    result = runner.invoke(comments_cli, ["import", str(source)])
    assert result.exit_code == 0, result.output
    assert "Imported 2 comments" in result.output
    result = runner.invoke(comments_cli, ["export", str(tmp_path / "out.json")])
    assert result.exit_code == 0, result.output
    exported = json.loads((tmp_path / "out.json").read_text())
    assert [c["uid"] for c in exported["comments"]] == ["a", "b"]
    monkeypatch.setenv("COMMENTS_DATABASE_URL", f"sqlite:///{tmp_path / 'two.sqlite3'}")
    result = runner.invoke(comments_cli, ["import", str(tmp_path / "out.json")])
    assert result.exit_code == 0 and "Imported 2 comments" in result.output
    result = runner.invoke(comments_cli, ["import", str(tmp_path / "out.json")])
    assert "Imported 0 comments" in result.output and "2 were already there" in result.output


def test_cli_import_of_a_bad_file_is_one_clear_line(tmp_path, monkeypatch):
    monkeypatch.setenv("COMMENTS_DATABASE_URL", f"sqlite:///{tmp_path / 'one.sqlite3'}")
    monkeypatch.chdir(tmp_path)
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2")
    result = CliRunner().invoke(comments_cli, ["import", str(bad)])
    assert result.exit_code == 1
    assert "bad.json: line 1: not valid JSON" in result.output and "nothing was imported" in result.output
    assert "Traceback" not in result.output


def test_the_configured_limits_apply_to_an_export_file(storage):
    from comments_server.models import Limits

    roomy = Limits(max_name_length=200)
    import_document(storage, document(record("a", author_name="N" * 150)), limits=roomy)
    assert storage.all_comments()[0].author_name == "N" * 150


def test_repair_mends_fields_from_another_blog_and_says_what_it_changed(storage):
    from comments_server.models import Limits
    from comments_server.transfer import import_data

    data = json.loads(document(record("a", author_name="  Zoë  " + "z" * 100, author_email="nope",
                                      author_url="ftp://x", ip="not an ip", body="ok\x07"),
                               record("b", author_email="B@Example.COM", ip="2001:DB8::1")))
    report = import_data(storage, data, limits=Limits(), repair=True)
    mended, fine = sorted(storage.all_comments(), key=lambda c: c.uid)
    assert len(mended.author_name) == 80 and mended.author_name.startswith("Zoë")
    assert (mended.author_email, mended.author_url, mended.ip, mended.body) == (None, None, None, "ok")
    assert (fine.author_email, fine.ip) == ("b@example.com", "2001:db8::1")
    assert [change.split(" (")[0] for uid, change in report.repaired] == [
        "author_name shortened", "author_email left out", "author_url left out", "ip left out",
        "body cleaned of control characters"]
    assert {uid for uid, _change in report.repaired} == {"a"}


def test_a_dry_run_counts_without_storing(storage):
    from comments_server.transfer import import_data

    import_document(storage, document(record("a")))
    report = import_data(storage, json.loads(document(record("a"), record("b"))), dry_run=True)
    assert (report.added, report.skipped) == (1, 1)
    assert [c.uid for c in storage.all_comments()] == ["a"]
    nothing_yet = import_data(None, json.loads(document(record("a"), record("b"))), dry_run=True)
    assert (nothing_yet.added, nothing_yet.skipped) == (2, 0)


def test_an_unsubscribe_survives_export_and_restore(storage, other_db):
    """The attack: an address that unsubscribed gets mail again after the operator restores a
    backup, because the suppression list was not in it. It is, and a restore never lifts one."""
    stored(storage, author_email="gone@example.org")
    moment = datetime(2024, 6, 1, tzinfo=UTC)
    storage.unsubscribe("gone@example.org", moment)
    storage.addresses.confirm("kept@example.org", moment)
    exported = export_document(storage)
    assert exported["reader_addresses"] == [
        {"email": "gone@example.org", "confirmed_at": None, "suppressed_at": "2024-06-01T00:00:00Z"},
        {"email": "kept@example.org", "confirmed_at": "2024-06-01T00:00:00Z", "suppressed_at": None}]
    target = open_storage(other_db)
    try:
        target.addresses.confirm("gone@example.org", moment)   # confirmed there, suppressed here
        import_document(target, json.dumps(exported))
        assert target.addresses.state("gone@example.org").suppressed
        assert not target.addresses.state("gone@example.org").may_mail
        assert target.addresses.state("kept@example.org").may_mail
    finally:
        target.close()


def test_reader_addresses_in_a_file_pass_the_address_policy():
    data = {"format": FORMAT, "version": 1, "comments": [], "reader_addresses": [{"email": "root@[10.0.0.1]"}]}
    with pytest.raises(TransferError, match=r"reader_addresses\[0\]\.email"):
        import_document(None, json.dumps(data))


def test_a_file_cannot_give_itself_the_author_badge(tmp_path, monkeypatch):
    """Issue 13, item 9: `is_author` in an import file is a claim, not an identity. The badge
    stays only on comments whose email is an author account's, unless the operator says the file
    is their own export."""
    url = f"sqlite:///{tmp_path / 'one.sqlite3'}"
    monkeypatch.setenv("COMMENTS_DATABASE_URL", url)
    monkeypatch.delenv("COMMENTS_SITE", raising=False)
    store = open_storage(url)
    store.accounts.add_author("Ann", "ann@example.com", "x", datetime(2024, 1, 1, tzinfo=UTC))
    store.close()
    forged = tmp_path / "forged.json"
    forged.write_text(document(record("a"),
                               record("b", parent_uid="a", is_author=True, author_email="eve@example.net"),
                               record("c", parent_uid="a", is_author=True, author_email="Ann@Example.com")))
    result = CliRunner().invoke(comments_cli, ["import", str(forged)])
    assert result.exit_code == 0, result.output
    assert "1 comments marked as the author's in the file are stored as readers'" in result.output
    store = open_storage(url)
    assert {c.uid: c.is_author for c in store.all_comments()} == {"a": False, "b": False, "c": True}
    store.close()

    monkeypatch.setenv("COMMENTS_DATABASE_URL", f"sqlite:///{tmp_path / 'two.sqlite3'}")
    result = CliRunner().invoke(comments_cli, ["import", str(forged), "--keep-author-badges"])
    assert result.exit_code == 0 and "stored as readers'" not in result.output
    store = open_storage(f"sqlite:///{tmp_path / 'two.sqlite3'}")
    assert {c.uid: c.is_author for c in store.all_comments()} == {"a": False, "b": True, "c": True}
    store.close()
