"""HTTP caching of GET /api/comments and GET /api/counts: ETag, Last-Modified, 304s, the form token
apart from the cached thread, and one query per read (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import event

from comments_server.services import services
from comments_server.models import ImportedComment, NewComment, Status
from tests.support.server import AUTHOR_TOKEN, OTHER, POST, post_comment

COUNTS = {"thread": [POST, OTHER]}


def read(client, **headers):
    return client.get("/api/comments", query_string={"thread": POST}, headers=headers)


def http_date(value: datetime) -> str:
    return format_datetime(value.astimezone(UTC), usegmt=True)


def storage_of(app):
    return services(app).storage


@pytest.fixture
def dated_manifest(manifest, clock):
    """The manifest written long before the clock's now, so only comments move Last-Modified."""
    stamp = (clock.now - timedelta(days=30)).timestamp()
    os.utime(manifest, (stamp, stamp))
    return manifest


# --- ETag and 304 ----------------------------------------------------------------------------


def test_thread_carries_an_etag_and_asks_for_revalidation(client):
    post_comment(client)
    response = read(client)
    assert response.status_code == 200
    assert response.headers["ETag"].startswith('"') and response.headers["Cache-Control"] == "no-cache"
    assert "form_token" not in response.get_json()
    again = read(client)
    assert again.headers["ETag"] == response.headers["ETag"] and again.get_data() == response.get_data()


def test_a_matching_if_none_match_gets_304_without_a_body(client):
    post_comment(client)
    first = read(client)
    response = read(client, **{"If-None-Match": first.headers["ETag"]})
    assert response.status_code == 304
    assert response.get_data() == b""
    assert response.headers["ETag"] == first.headers["ETag"]
    assert response.headers["Cache-Control"] == "no-cache"
    assert "Content-Type" not in response.headers
    # A list of tags, or a weak form of ours, matches too (If-None-Match compares weakly).
    listed = read(client, **{"If-None-Match": f'"other", W/{first.headers["ETag"]}'})
    assert listed.status_code == 304
    assert read(client, **{"If-None-Match": '"something-else"'}).status_code == 200


def edit_body(client, app):
    created = post_comment(client, body="First words.").get_json()
    def write():
        response = client.patch(f"/api/comments/{created['id']}", json={"body": "Second words."},
                                headers={"X-Edit-Token": created["edit_token"]})
        assert response.status_code == 200
    return write


def delete_own(client, app):
    created = post_comment(client, body="Soon gone.").get_json()
    def write():
        response = client.delete(f"/api/comments/{created['id']}", headers={"X-Edit-Token": created["edit_token"]})
        assert response.status_code == 204
    return write


def new_comment(client, app):
    post_comment(client)
    return lambda: post_comment(client, body="Another one.")


def author_reply(client, app):
    created = post_comment(client).get_json()
    return lambda: client.post("/api/comments", json={"thread": POST, "parent_id": created["id"],
                                                      "body": "The author answers."},
                               headers={"Authorization": f"Bearer {AUTHOR_TOKEN}"})


def moderation(client, app):
    created = post_comment(client).get_json()
    return lambda: services(app).conversations.mark_spam(created["id"])


def approval(client, app):
    post_comment(client)
    held = storage_of(app).add_comment(NewComment(
        thread=POST, parent_id=None, status=Status.PENDING, author_name="Held", author_email=None,
        author_url=None, is_author=False, notify_replies=False, body="Held back.", body_html="<p>Held back.</p>",
        created_at=datetime(2026, 6, 1, 11, tzinfo=UTC), ip=None, edit_token_hash=None))
    return lambda: services(app).conversations.approve(held.id)


def an_import(client, app):
    post_comment(client)
    old = NewComment(
        thread=POST, parent_id=None, status=Status.PUBLISHED, author_name="From Disqus", author_email=None,
        author_url=None, is_author=False, notify_replies=False, body="Years ago.", body_html="<p>Years ago.</p>",
        created_at=datetime(2019, 1, 1, tzinfo=UTC), ip=None, edit_token_hash=None, uid="disqus-1")
    return lambda: storage_of(app).import_comments([ImportedComment(comment=old, parent_uid=None, edited_at=None)])


@pytest.mark.parametrize("prepare", [new_comment, author_reply, edit_body, delete_own, moderation, approval,
                                     an_import])
def test_every_visible_write_changes_the_etag_and_a_conditional_get_gets_the_new_body(client, app, prepare):
    write = prepare(client, app)
    before = read(client)
    assert read(client, **{"If-None-Match": before.headers["ETag"]}).status_code == 304
    write()
    after = read(client, **{"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    assert after.headers["ETag"] != before.headers["ETag"]
    assert after.get_json() != before.get_json()
    # What the cache serves is what a process that never cached the thread builds.
    services(app).thread_cache.clear()
    assert read(client).get_data() == after.get_data()


def test_writes_nobody_sees_keep_the_etag(client, app):
    created = post_comment(client).get_json()
    before = read(client)
    storage_of(app).set_marks(created["id"], dismissed_at=datetime(2026, 6, 1, tzinfo=UTC))
    storage_of(app).unsubscribe("nobody@example.com", datetime.now(UTC))
    assert read(client, **{"If-None-Match": before.headers["ETag"]}).status_code == 304


def test_a_manifest_change_changes_the_etag(client, app, manifest):
    import json

    post_comment(client)
    before = read(client)
    data = json.loads(manifest.read_text())
    data["threads"][0]["title"] = "A renamed post"
    data["threads"][0]["open"] = False
    manifest.write_text(json.dumps(data))
    stamp = datetime.now(UTC).timestamp() + 5  # a new mtime even on coarse file systems
    os.utime(manifest, (stamp, stamp))
    after = read(client, **{"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    assert after.get_json()["title"] == "A renamed post" and after.get_json()["open"] is False
    assert after.get_json()["comments"] == before.get_json()["comments"]
    services(app).thread_cache.clear()
    assert read(client).get_data() == after.get_data()


def test_the_cache_keeps_the_recently_read_threads_within_its_budget():
    from comments_server.api.caching import CachedThread, ThreadCache
    from comments_server.models import Thread

    def entry(path: str, size: int) -> CachedThread:
        return CachedThread.build(Thread(path=path, title=path), 1, None, 0, b"[" + b" " * size + b"]", None)

    cache = ThreadCache(size=3100)
    for path in ("/a/", "/b/", "/c/"):
        cache.put(path, entry(path, 900))
    assert cache.get("/a/") is not None  # read: now the most recent
    cache.put("/d/", entry("/d/", 900))
    assert cache.get("/b/") is None and all(cache.get(p) for p in ("/a/", "/c/", "/d/"))
    assert cache.used <= 3100
    cache.put("/a/", entry("/a/", 100))  # replacing an entry counts it once
    assert cache.used == sum(len(cache.get(p).body) for p in ("/a/", "/c/", "/d/"))


def test_every_process_makes_the_same_etag_for_the_same_thread(make_app, client, app):
    post_comment(client)
    other = make_app().test_client()  # a second app on the same database: another worker
    assert read(other).headers["ETag"] == read(client).headers["ETag"]


# --- Last-Modified and If-Modified-Since --------------------------------------------------------


def test_last_modified_follows_the_latest_change_once_settled(make_app, dated_manifest, clock):
    client = make_app().test_client()
    post_comment(client)
    written = clock.now
    # Within two seconds of the change there is no Last-Modified, only the ETag.
    assert "Last-Modified" not in read(client).headers
    clock.advance(3)
    response = read(client)
    assert parsedate_to_datetime(response.headers["Last-Modified"]) == written.replace(microsecond=0)
    same = read(client, **{"If-Modified-Since": response.headers["Last-Modified"]})
    assert same.status_code == 304 and same.get_data() == b""
    assert same.headers["ETag"] == response.headers["ETag"]  # (Werkzeug leaves Last-Modified out of a 304)
    later = read(client, **{"If-Modified-Since": http_date(clock.now)})
    assert later.status_code == 304
    earlier = read(client, **{"If-Modified-Since": http_date(written - timedelta(seconds=1))})
    assert earlier.status_code == 200 and earlier.get_json()["count"] == 1


def test_a_change_in_the_same_second_still_moves_last_modified(make_app, dated_manifest, clock):
    client = make_app().test_client()
    clock.now = clock.now.replace(microsecond=100_000)
    post_comment(client)
    clock.advance(3)
    first = read(client)
    clock.now = clock.now.replace(microsecond=0) - timedelta(seconds=3)  # back in the first comment's second
    post_comment(client, body="Same second, second comment.")
    clock.advance(10)
    after = read(client, **{"If-Modified-Since": first.headers["Last-Modified"]})
    assert after.status_code == 200 and after.get_json()["count"] == 2
    assert parsedate_to_datetime(after.headers["Last-Modified"]) > parsedate_to_datetime(
        first.headers["Last-Modified"])


def test_if_none_match_decides_over_if_modified_since(make_app, dated_manifest, clock):
    client = make_app().test_client()
    post_comment(client)
    clock.advance(3)
    first = read(client)
    post_comment(client, body="Newer.")
    clock.advance(3)
    stale = read(client, **{"If-None-Match": first.headers["ETag"], "If-Modified-Since": http_date(clock.now)})
    assert stale.status_code == 200
    current = read(client, **{"If-None-Match": stale.headers["ETag"],
                              "If-Modified-Since": http_date(datetime(2000, 1, 1, tzinfo=UTC))})
    assert current.status_code == 304


def test_a_newer_manifest_moves_last_modified(make_app, dated_manifest, clock):
    client = make_app().test_client()
    post_comment(client)
    clock.advance(3)
    first = read(client)
    stamp = (clock.now - timedelta(seconds=1)).timestamp()  # rebuilt after the comment
    os.utime(dated_manifest, (stamp, stamp))
    clock.advance(3)
    after = read(client, **{"If-Modified-Since": first.headers["Last-Modified"]})
    assert after.status_code == 200
    assert parsedate_to_datetime(after.headers["Last-Modified"]) > parsedate_to_datetime(
        first.headers["Last-Modified"])


# --- counts ------------------------------------------------------------------------------------


def counts(client, **headers):
    return client.get("/api/counts", query_string=COUNTS, headers=headers)


def test_counts_carry_validators_and_answer_304(make_app, clock):
    client = make_app().test_client()
    post_comment(client)
    first = counts(client)
    assert first.get_json() == {POST: 1, OTHER: 0}
    assert first.headers["Cache-Control"] == "no-cache" and "Last-Modified" not in first.headers
    again = counts(client, **{"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""
    clock.advance(3)
    settled = counts(client)
    assert settled.headers["ETag"] == first.headers["ETag"]
    assert counts(client, **{"If-Modified-Since": settled.headers["Last-Modified"]}).status_code == 304
    post_comment(client, thread=OTHER)
    changed = counts(client, **{"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and changed.get_json() == {POST: 1, OTHER: 1}
    assert changed.headers["ETag"] != first.headers["ETag"]
    clock.advance(3)
    since = counts(client, **{"If-Modified-Since": settled.headers["Last-Modified"]})
    assert since.status_code == 200 and since.get_json() == {POST: 1, OTHER: 1}


def test_counts_falling_to_zero_are_never_a_304_by_date(make_app, clock):
    client = make_app().test_client()
    created = post_comment(client).get_json()
    clock.advance(3)
    first = counts(client)
    client.delete(f"/api/comments/{created['id']}", headers={"X-Edit-Token": created["edit_token"]})
    clock.advance(3)
    after = counts(client, **{"If-Modified-Since": first.headers["Last-Modified"]})
    assert after.status_code == 200 and after.get_json() == {POST: 0, OTHER: 0}


# --- the form token, apart from the cached thread ---------------------------------------------


def test_posting_takes_its_token_from_the_form_token_endpoint(make_app, clock):
    client = make_app(MIN_SUBMIT_SECONDS=3).test_client()
    thread = read(client)
    assert "form_token" not in thread.get_json()
    response = client.get("/api/form-token", query_string={"thread": POST})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    token = response.get_json()["form_token"]
    assert response.get_json()["thread"] == POST
    clock.advance(5)
    # The thread revalidates to 304; the token still works, being apart from it.
    assert read(client, **{"If-None-Match": thread.headers["ETag"]}).status_code == 304
    created = post_comment(client, form_token=token)
    assert created.status_code == 201
    assert read(client).get_json()["count"] == 1


def test_form_token_endpoint_refuses_unknown_threads(client):
    assert client.get("/api/form-token", query_string={"thread": "/nowhere/"}).status_code == 404
    assert client.get("/api/form-token").status_code == 400


def test_form_token_is_rate_limited_as_a_read(make_app):
    client = make_app(READ_RATE_LIMIT="2/minute").test_client()
    assert client.get("/api/form-token", query_string={"thread": POST}).status_code == 200
    assert read(client).status_code == 200
    assert client.get("/api/form-token", query_string={"thread": POST}).status_code == 429


def test_the_form_without_javascript_still_posts_with_its_own_token(make_app, clock):
    client = make_app(MIN_SUBMIT_SECONDS=3).test_client()
    read(client)  # the thread is cached in this process; the form never is
    page = client.get("/comments/form", query_string={"thread": POST})
    assert page.headers["Cache-Control"] == "no-store"
    token = BeautifulSoup(page.get_data(as_text=True), "html.parser").find("input", {"name": "form_token"})["value"]
    clock.advance(5)
    response = client.post("/comments/form", data={"thread": POST, "author_name": "Noah", "body": "No script.",
                                                   "form_token": token})
    assert response.status_code == 303
    assert read(client).get_json()["count"] == 1


# --- one query per read -----------------------------------------------------------------------------


class Statements:
    """The SQL statements an engine runs (BEGIN aside), counted with before_cursor_execute."""

    def __init__(self, engine) -> None:
        self.seen: list[str] = []
        self.parameters: list = []
        event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.strip().upper() not in ("BEGIN", "BEGIN IMMEDIATE"):
            self.seen.append(statement)
            self.parameters.append(parameters)

    def during(self, action):
        self.seen.clear()
        self.parameters.clear()
        result = action()
        return result, list(self.seen)


@pytest.mark.slow
def test_a_thread_read_is_one_query_whatever_its_size(make_app, db_url):
    app = make_app(DATABASE_URL=db_url)
    client = app.test_client()
    first = post_comment(client).get_json()
    for n in range(60):
        post_comment(client, parent_id=first["id"] if n % 3 else None, body=f"Comment number {n}.")
    sql = Statements(storage_of(app).engine)

    response, cold = sql.during(lambda: read(client))
    assert response.get_json()["count"] == 61
    # The first read also works out the author's reply median, kept a minute per process.
    assert len(cold) == 2, cold
    response, warm = sql.during(lambda: read(client))
    assert response.status_code == 200 and len(warm) == 1, warm
    assert "thread_versions" in warm[0] and "comments" in warm[0]
    _, not_modified = sql.during(lambda: read(client, **{"If-None-Match": response.headers["ETag"]}))
    assert len(not_modified) == 1, not_modified
    post_comment(client, body="One more.")
    after, changed = sql.during(lambda: read(client))
    assert after.get_json()["count"] == 62 and len(changed) == 1, changed
    services(app).thread_cache.clear()  # a process that never saw this thread
    _, fresh = sql.during(lambda: read(client))
    assert len(fresh) == 1, fresh


def test_counts_are_one_query(make_app, db_url):
    app = make_app(DATABASE_URL=db_url)
    client = app.test_client()
    post_comment(client)
    sql = Statements(storage_of(app).engine)
    response, statements = sql.during(lambda: counts(client))
    assert response.get_json() == {POST: 1, OTHER: 0} and len(statements) == 1, statements


def test_the_thread_query_uses_the_indexes(make_app):
    """On SQLite: the version by primary key, the comments through the (thread, status, created_at) index."""
    app = make_app()
    post_comment(app.test_client())

    storage = storage_of(app)
    sql = Statements(storage.engine)
    sql.during(lambda: storage.thread_snapshot(POST, 0))
    [statement], [parameters] = sql.seen, sql.parameters
    with storage.engine.connect() as conn:
        plan = " ".join(str(row[-1]) for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters))
    assert "SCAN comments" not in plan and "SCAN thread_versions" not in plan, plan
    assert "ix_comments_thread_status_created_at" in plan, plan


# --- sanitised once, at write time -------------------------------------------------------------


def test_reads_serve_the_html_stored_when_the_comment_was_written(client, app):
    """Bodies are sanitised once, when stored: a read sends the stored HTML as it is, re-rendering nothing."""
    created = post_comment(client, body="Plain *Markdown*.").get_json()
    assert created["body_html"] == "<p>Plain <em>Markdown</em>.</p>"
    stored = storage_of(app).add_comment(NewComment(
        thread=POST, parent_id=None, status=Status.PUBLISHED, author_name="Imported", author_email=None,
        author_url=None, is_author=False, notify_replies=False, body="*not what is shown*",
        body_html="<p>kept as stored</p>", created_at=datetime(2026, 6, 1, 11, tzinfo=UTC), ip=None,
        edit_token_hash=None))
    shown = {c["id"]: c["body_html"] for c in read(client).get_json()["comments"]}
    assert shown == {created["id"]: "<p>Plain <em>Markdown</em>.</p>", stored.id: "<p>kept as stored</p>"}
