"""GET /api/counts kept in memory between commits, and the lane that answers it before Flask when no
read limit applies: the same answers as Flask's, fresh after any commit (another worker's too),
and the read limit still counting when it is on (SQLite; the cross-worker case on PostgreSQL too)."""

from __future__ import annotations

import sqlite3

import pytest
from werkzeug.test import Client

from comments_server.api.counts import CountsLane
from comments_server.models import Status
from comments_server.services import services
from tests.comments_server.test_caching import Statements
from tests.support.server import OTHER, POST, assert_error, post_comment

ORIGIN = "https://blog.example.com"   # in the test apps' CORS_ORIGINS


def counts(client, *paths: str, **headers: str):
    return client.get("/api/counts", query_string={"thread": list(paths or (POST, OTHER))}, headers=headers)


def lane_of(app) -> CountsLane:
    lane = app.wsgi_app
    assert isinstance(lane, CountsLane)
    return lane


def answer(wsgi_app, url: str, **headers: str):
    response = Client(wsgi_app).get(url, headers=headers)
    return response.status, list(response.headers.items()), response.get_data()


REQUESTS = [
    ("/api/counts?thread=/2024/05/a-post/&thread=/2024/06/another/", {}),
    ("/api/counts?thread=/2024/05/a-post/&thread=/2024/06/another/", {"Origin": ORIGIN}),
    ("/api/counts?thread=/2024/05/a-post/&thread=/2024/06/another/", {"Origin": "https://elsewhere.example"}),
    ("/api/counts?thread=/2024/05/a-post/&thread=/2024/05/a-post/&x=1", {}),          # a repeat, another parameter
    ("/api/counts?thread=%2Fposts%2Fhello%2F&thread=/posts/%E2%9C%93/", {}),    # percent-encoded, UTF-8
    ("/api/counts?thread=/2024/05/a-post/", {"If-Modified-Since": "Thu, 01 Jan 2099 00:00:00 GMT"}),
    ("/api/counts?thread=/2024/05/a-post/", {"If-None-Match": '"nope"', "If-Modified-Since": "Thu, 01 Jan 2099 00:00:00 GMT"}),
    ("/api/counts", {}),                                                         # errors: Flask's own answers
    ("/api/counts?thread=nope", {}),
    ("/api/counts?thread=/a%00b/", {}),
    ("/api/counts?thread=%FF", {}),
    ("/api/counts?" + "&".join(f"thread=/p/{n}/" for n in range(101)), {}),
]


@pytest.mark.parametrize(("url", "headers"), REQUESTS)
def test_the_lane_answers_as_flask_does(make_app, clock, url, headers):
    app = make_app()
    client = app.test_client()
    post_comment(client)
    clock.advance(3)   # settled: Last-Modified is sent
    lane = lane_of(app)
    through_flask = answer(lane.app, url, **headers)
    assert answer(lane, url, **headers) == through_flask
    etag = dict(through_flask[1]).get("ETag")
    if etag is not None:   # and the 304 for the copy just sent
        assert answer(lane, url, **{**headers, "If-None-Match": etag}) == answer(lane.app, url, **{**headers, "If-None-Match": etag})
        assert answer(lane, url, **{**headers, "If-None-Match": etag})[0] == "304 NOT MODIFIED"


def test_only_get_of_the_counts_path_takes_the_lane(make_app):
    app = make_app()
    lane = lane_of(app)
    assert answer(lane, "/api/counts/?thread=/2024/05/a-post/")[0] == "404 NOT FOUND"
    head = Client(lane).head("/api/counts?thread=/2024/05/a-post/")
    assert head.status_code == 200 and head.get_data() == b""
    posted = Client(lane).post("/api/counts?thread=/2024/05/a-post/")
    assert posted.status_code == 405


def test_unchanged_counts_cost_no_query_and_a_commit_shows_at_once(make_app):
    app = make_app()
    client = app.test_client()
    post_comment(client)
    sql = Statements(services(app).storage.engine)
    first, ran = sql.during(lambda: counts(client))
    assert first.get_json() == {POST: 1, OTHER: 0} and len(ran) == 1, ran
    again, ran = sql.during(lambda: counts(client))
    assert again.get_data() == first.get_data() and ran == [], ran
    post_comment(client, thread=OTHER)
    after, ran = sql.during(lambda: counts(client))
    assert after.get_json() == {POST: 1, OTHER: 1} and len(ran) == 1, ran
    assert after.headers["ETag"] != first.headers["ETag"]


def test_a_commit_by_another_process_shows_at_once(make_app, tmp_path):
    """Another worker, or a command, writing to the SQLite file: the kept answer is not served again."""
    app = make_app()
    client = app.test_client()
    post_comment(client)
    assert counts(client).get_json() == {POST: 1, OTHER: 0}
    with sqlite3.connect(tmp_path / "comments.sqlite3") as other:   # not this process's engine
        other.execute("UPDATE comments SET status = ? WHERE thread = ?", (Status.DELETED.value, POST))
    assert counts(client).get_json() == {POST: 0, OTHER: 0}


def test_workers_see_each_others_comments(make_app, db_url):
    """Two apps on one database, as two gunicorn workers: counts read in one follow posts to the other."""
    reader = make_app(DATABASE_URL=db_url).test_client()
    writer = make_app(DATABASE_URL=db_url).test_client()
    assert counts(reader).get_json() == {POST: 0, OTHER: 0}
    for expected in (1, 2):
        post_comment(writer, thread=OTHER)
        assert counts(reader).get_json() == {POST: 0, OTHER: expected}
    created = post_comment(writer).get_json()
    assert counts(reader).get_json() == {POST: 1, OTHER: 2}
    writer.delete(f"/api/comments/{created['id']}", headers={"X-Edit-Token": created["edit_token"]})
    assert counts(reader).get_json() == {POST: 0, OTHER: 2}


def test_the_read_limit_still_counts_counts(make_app):
    """With READ_RATE_LIMIT on, counts go through Flask and its limiter, as the docs say."""
    app = make_app(READ_RATE_LIMIT="2/minute")
    assert not isinstance(app.wsgi_app, CountsLane)
    client = app.test_client()
    assert counts(client).status_code == 200
    second = counts(client)
    assert second.status_code == 200 and "X-RateLimit-Limit" in second.headers
    assert_error(counts(client), 429, "rate_limited")


def test_the_kept_answers_stay_within_their_budget(make_app):
    app = make_app()
    cache = services(app).counts_cache
    cache.size = 2000
    client = app.test_client()
    for n in range(60):
        assert counts(client, f"/posts/{n}/", f"/posts/{n}-b/").status_code == 200
    assert 0 < cache.used <= 2000


def test_an_unreachable_database_is_flasks_503(make_app, tmp_path):
    app = make_app()
    client = app.test_client()
    assert counts(client).status_code == 200
    services(app).storage.close()
    (tmp_path / "comments.sqlite3").unlink()
    (tmp_path / "comments.sqlite3").mkdir()   # no database there any more
    response = counts(client, "/posts/new/")
    assert response.status_code in (500, 503) and "error" in response.get_json()


def test_counts_without_a_commit_counter_ask_every_time(make_app):
    """In-memory SQLite (and PostgreSQL) have no data version: every request queries."""
    app = make_app(DATABASE_URL="sqlite://")
    assert services(app).storage.data_version is None
    client = app.test_client()
    sql = Statements(services(app).storage.engine)
    for _ in range(2):
        response, ran = sql.during(lambda: counts(client))
        assert response.get_json() == {POST: 0, OTHER: 0} and len(ran) == 1, ran
