"""The whole API on both databases: the same requests through the app on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from comments_server.models import Status
from comments_server.services import services

from tests.support.server import OTHER, POST, assert_error, post_comment
from tests.comments_server.test_api import FUZZ_VALUES
from tests.comments_server.test_hostile import HOSTILE_BODIES, assert_inert


@pytest.fixture
def backend_client(make_app, db_url):
    return make_app(DATABASE_URL=db_url).test_client()


def test_full_comment_life_cycle(backend_client):
    client = backend_client
    first = post_comment(client, author_name="Zoë 🦊", body="Ça *va*? 日本語").get_json()
    reply = post_comment(client, parent_id=first["id"], author_email="r@example.org", notify_replies=True).get_json()
    post_comment(client, thread=OTHER)
    edited = client.patch(f"/api/comments/{reply['id']}", json={"body": "edited"},
                          headers={"X-Edit-Token": reply["edit_token"]})
    assert edited.status_code == 200
    client.delete(f"/api/comments/{first['id']}", headers={"X-Edit-Token": first["edit_token"]})
    data = client.get("/api/comments", query_string={"thread": POST}).get_json()
    assert data["count"] == 1 and data["comments"][0]["deleted"] is True
    assert data["comments"][0]["replies"][0]["body_html"] == "<p>edited</p>"
    assert client.get("/api/counts", query_string=[("thread", POST), ("thread", OTHER)]).get_json() == {
        POST: 1, OTHER: 1}
    assert client.get("/feeds/comments.atom").status_code == 200
    assert_error(post_comment(client, parent_id=2**63), 400, "out_of_range", "parent_id")
    assert_error(client.get(f"/api/comments/{2**64}"), 404, "not_found")


def test_first_time_moderation(make_app, db_url):
    """An address that has commented publishes nothing by itself: anyone can type it."""
    app = make_app(DATABASE_URL=db_url, MODERATION="first-time")
    client = app.test_client()
    assert post_comment(client, author_email="a@example.org").status_code == 202
    services(app).storage.set_status(1, Status.PUBLISHED)
    assert post_comment(client, author_email="a@example.org").status_code == 202
    assert services(app).storage.get_comment(2).status == Status.PENDING


def test_no_input_causes_a_server_error(backend_client):
    for field in ("thread", "parent_id", "author_name", "author_email", "author_url", "body"):
        for value in [*FUZZ_VALUES, "nul\x00", "\ud800"]:
            response = post_comment(backend_client, **{field: value})
            assert response.status_code < 500, (field, value, response.get_data(as_text=True))
    for thread in ("/a\x00/", "/" + "x" * 5000):
        assert backend_client.get("/api/counts", query_string={"thread": thread}).status_code == 400


@pytest.mark.slow
def test_hostile_bodies(backend_client):
    for body in HOSTILE_BODIES:
        assert post_comment(backend_client, body=body).status_code == 201
    for comment in backend_client.get("/api/comments", query_string={"thread": POST}).get_json()["comments"]:
        assert_inert(comment["body_html"])
