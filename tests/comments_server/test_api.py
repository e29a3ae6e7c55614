"""The JSON API through Flask's test client: every endpoint, every error, one error shape."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from comments_server.models import Status
from comments_server.services import services
from tests.support.server import (
    AUTHOR_TOKEN,
    CLOSED,
    OTHER,
    POST,
    assert_error,
    new_comment,
    post_comment,
)


def storage(app):
    return services(app).storage


# --- reading ---------------------------------------------------------------------------------


def test_list_thread_returns_nested_tree(client):
    first = post_comment(client, body="First!!").get_json()
    reply = post_comment(client, parent_id=first["id"], body="A reply").get_json()
    post_comment(client, parent_id=reply["id"], body="A reply to the reply")
    post_comment(client, body="Second top-level")
    response = client.get("/api/comments", query_string={"thread": POST})
    assert response.status_code == 200
    data = response.get_json()
    assert data["thread"] == POST and data["title"] == "A post" and data["open"] is True
    assert data["count"] == 4
    assert [c["body_html"] for c in data["comments"]] == ["<p>First!!</p>", "<p>Second top-level</p>"]
    assert data["comments"][0]["replies"][0]["id"] == reply["id"]
    assert data["comments"][0]["replies"][0]["replies"][0]["body_html"] == "<p>A reply to the reply</p>"


def test_list_thread_times_are_rfc3339_utc(client):
    post_comment(client)
    comment = client.get("/api/comments", query_string={"thread": POST}).get_json()["comments"][0]
    assert comment["created_at"] == "2026-06-01T12:00:00Z"
    assert datetime.fromisoformat(comment["created_at"]).utcoffset().total_seconds() == 0
    assert comment["edited_at"] is None


def test_list_thread_never_shows_email_or_ip(client):
    client.post("/api/comments", json=new_comment(author_email="secret@example.org"),
                environ_base={"REMOTE_ADDR": "203.0.113.9"})
    for url in ("/api/comments?thread=" + POST, "/api/comments/1", "/feeds/comments.atom"):
        text = client.get(url).get_data(as_text=True)
        assert "secret@example.org" not in text and "203.0.113.9" not in text
        assert "edit_token" not in text


def test_list_thread_is_empty_for_a_post_without_comments(client):
    data = client.get("/api/comments", query_string={"thread": OTHER}).get_json()
    assert data["count"] == 0 and data["comments"] == []


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ({}, 400, "missing"),
        ({"thread": ""}, 400, "empty"),
        ({"thread": "no-slash"}, 400, "invalid"),
        ({"thread": "/has space/"}, 400, "invalid"),
        ({"thread": "//evil.example/"}, 400, "invalid"),
        ({"thread": "/" + "a" * 600}, 400, "too_long"),
        ({"thread": "/nope/"}, 404, "unknown_thread"),
    ],
)
def test_list_thread_rejects_bad_thread(client, query, status, code):
    assert_error(client.get("/api/comments", query_string=query), status, code, "thread")


def test_list_thread_nests_to_display_depth_then_lists_flat(make_app):
    client = make_app(DISPLAY_DEPTH=2).test_client()
    parent = None
    ids = []
    for n in range(5):
        parent = post_comment(client, parent_id=parent, body=f"level {n}").get_json()["id"]
        ids.append(parent)
    top = client.get("/api/comments", query_string={"thread": POST}).get_json()["comments"]
    assert [c["id"] for c in top] == [ids[0]]
    level1 = top[0]["replies"]
    assert [c["id"] for c in level1] == [ids[1]]
    level2 = level1[0]["replies"]
    # Levels 2, 3 and 4 all sit at the last shown level, in order, keeping their real parent_id.
    assert [c["id"] for c in level2] == ids[2:]
    assert [c["parent_id"] for c in level2] == ids[1:4]
    assert all(c["replies"] == [] for c in level2)


@pytest.mark.slow
def test_list_thread_handles_unlimited_storage_depth(client):
    parent = None
    for _ in range(300):
        parent = post_comment(client, parent_id=parent, body="deeper").get_json()["id"]
    data = client.get("/api/comments", query_string={"thread": POST}).get_json()
    assert data["count"] == 300


def test_get_comment(client):
    created = post_comment(client).get_json()
    response = client.get(f"/api/comments/{created['id']}")
    assert response.status_code == 200
    assert response.get_json()["body_html"] == "<p>A thoughtful comment.</p>"


@pytest.mark.parametrize("comment_id", ["999", str(2**70), "abc", "-1"])
def test_get_comment_unknown_is_404(client, comment_id):
    response = client.get(f"/api/comments/{comment_id}")
    assert_error(response, 404, "not_found")


# --- posting ---------------------------------------------------------------------------------


def test_post_publishes_with_edit_token(client, app):
    response = post_comment(client, author_url="https://reader.example/", author_email="r@example.org")
    assert response.status_code == 201
    data = response.get_json()
    assert data["author_name"] == "Reader" and data["author_url"] == "https://reader.example/"
    assert data["is_author"] is False and data["parent_id"] is None and data["replies"] == []
    assert len(data["edit_token"]) >= 32
    assert data["editable_until"] == "2026-06-01T12:15:00Z"
    assert response.headers["Location"] == f"/api/comments/{data['id']}"
    stored = storage(app).get_comment(data["id"])
    assert stored.status == Status.PUBLISHED and stored.author_email == "r@example.org"
    assert stored.body == "A thoughtful comment." and stored.edit_token_hash != data["edit_token"]


def test_post_stores_notify_flag_and_client_ip(client, app):
    response = client.post("/api/comments", json=new_comment(author_email="N@Example.org", notify_replies=True),
                           environ_base={"REMOTE_ADDR": "198.51.100.7"})
    stored = storage(app).get_comment(response.get_json()["id"])
    assert stored.notify_replies is True and stored.ip == "198.51.100.7"
    assert stored.author_email == "n@example.org"


@pytest.mark.parametrize(
    ("content_type", "payload"),
    [
        ("application/x-www-form-urlencoded", "thread=/2024/05/a-post/&author_name=x&body=hello"),
        ("text/plain", json.dumps(new_comment())),
        ("multipart/form-data; boundary=x", "--x--"),
        (None, json.dumps(new_comment())),
    ],
)
def test_post_accepts_only_json(client, content_type, payload):
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post("/api/comments", data=payload, headers=headers)
    assert_error(response, 415, "unsupported_media_type")


@pytest.mark.parametrize("payload", ["{", "", "[1, 2]", '"text"', "null", "12", "\xff\xfe", '{"a": 1}}'])
def test_post_rejects_malformed_json(client, payload):
    response = client.post("/api/comments", data=payload.encode("latin-1"), content_type="application/json")
    assert_error(response, 400, "invalid_json")


@pytest.mark.parametrize("field", ["thread", "author_name", "body"])
def test_post_rejects_missing_field(client, field):
    data = new_comment()
    del data[field]
    assert_error(client.post("/api/comments", json=data), 400, "missing", field)


@pytest.mark.parametrize("field", ["thread", "author_name", "body"])
def test_post_rejects_empty_field(client, field):
    assert_error(post_comment(client, **{field: ""}), 400, "empty", field)


def test_post_rejects_blank_body(client):
    assert_error(post_comment(client, body="  \n\t "), 400, "empty", "body")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("thread", 5),
        ("thread", ["/2024/05/a-post/"]),
        ("author_name", {"first": "A"}),
        ("author_name", 12),
        ("author_email", 5),
        ("author_url", True),
        ("body", ["text"]),
        ("parent_id", "1"),
        ("parent_id", True),
        ("parent_id", 1.5),
        ("notify_replies", "yes"),
        ("notify_replies", 1),
        ("form_token", 5),
    ],
)
def test_post_rejects_wrong_types(client, field, value):
    assert_error(post_comment(client, **{field: value}), 400, "wrong_type", field)


def test_post_rejects_body_over_limit_with_413(make_app):
    client = make_app(MAX_BODY_LENGTH=50).test_client()
    assert post_comment(client, body="x" * 50).status_code == 201
    assert_error(post_comment(client, body="x" * 51), 413, "too_long", "body")


def test_post_rejects_short_body(make_app):
    client = make_app(MIN_BODY_LENGTH=5).test_client()
    assert_error(post_comment(client, body="abc"), 400, "too_short", "body")


@pytest.mark.parametrize(
    ("field", "key"),
    [("author_name", "MAX_NAME_LENGTH"), ("author_url", "MAX_URL_LENGTH"), ("author_email", "MAX_EMAIL_LENGTH")],
)
def test_post_rejects_long_fields(make_app, field, key):
    client = make_app(**{key: 30}).test_client()
    value = {"author_name": "n" * 31, "author_url": "https://e.com/" + "p" * 20,
             "author_email": "e" * 25 + "@example.org"}[field]
    assert_error(post_comment(client, **{field: value}), 400, "too_long", field)


def test_length_limits_can_be_switched_off(make_app):
    client = make_app(MAX_BODY_LENGTH=None, MAX_NAME_LENGTH=None, MIN_BODY_LENGTH=None).test_client()
    assert post_comment(client, body="x" * 20000, author_name="n" * 500).status_code == 201
    assert post_comment(client, body="x").status_code == 201


def test_post_rejects_request_over_max_content_length(make_app):
    client = make_app(MAX_CONTENT_LENGTH=1000, MAX_BODY_LENGTH=None).test_client()
    assert_error(post_comment(client, body="x" * 2000), 413, "too_large")


@pytest.mark.parametrize("email", ["not-an-email", "a@b", "two@@example.org", "sp ace@example.org"])
def test_post_rejects_invalid_email(client, email):
    assert_error(post_comment(client, author_email=email), 400, "invalid", "author_email")


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,<script>", "ftp://example.com/",
     "//example.com/", "example.com", "http://", "https://ex.com/\"><script>", "http:evil"],
)
def test_post_rejects_non_http_author_url(client, url):
    assert_error(post_comment(client, author_url=url), 400, "invalid", "author_url")


@pytest.mark.parametrize(("field", "value"), [("body", "nul \x00 byte"), ("author_name", "tab\tname"),
                                              ("author_name", "bell\x07"), ("thread", "/a\x00/")])
def test_post_rejects_control_characters(client, field, value):
    assert_error(post_comment(client, **{field: value}), 400, "invalid_characters", field)


def test_post_rejects_lone_surrogates(client):
    raw = json.dumps(new_comment()).replace("A thoughtful comment.", "bad \\ud800 half")
    response = client.post("/api/comments", data=raw, content_type="application/json")
    assert_error(response, 400, "invalid_characters", "body")


def test_post_keeps_unicode(client):
    data = post_comment(client, author_name="Zoë 🦊", body="Ça va? 日本語 🎉").get_json()
    assert data["author_name"] == "Zoë 🦊" and data["body_html"] == "<p>Ça va? 日本語 🎉</p>"


def test_post_needs_email_for_notifications(client):
    assert_error(post_comment(client, notify_replies=True), 400, "missing", "author_email")


def test_post_to_unknown_thread_is_404(client):
    assert_error(post_comment(client, thread="/no/such/post/"), 404, "unknown_thread", "thread")


def test_post_to_closed_thread_is_403(client):
    assert_error(post_comment(client, thread=CLOSED), 403, "thread_closed", "thread")


def test_post_with_unknown_parent_is_404(client):
    assert_error(post_comment(client, parent_id=12345), 404, "unknown_parent", "parent_id")


@pytest.mark.parametrize("parent_id", [0, -3, 2**63, 10**30])
def test_post_with_out_of_range_parent_is_400(client, parent_id):
    assert_error(post_comment(client, parent_id=parent_id), 400, "out_of_range", "parent_id")


def test_post_with_parent_in_other_thread_is_409(client):
    # 409, not 400: the request is well formed (schemathesis found the document could not say
    # otherwise); it conflicts with where the parent is.
    other = post_comment(client, thread=OTHER).get_json()
    assert_error(post_comment(client, parent_id=other["id"]), 409, "parent_in_other_thread", "parent_id")


def test_post_reply_to_held_comment_is_404(make_app):
    app = make_app(MODERATION="all")
    client = app.test_client()
    assert post_comment(client).status_code == 202
    assert_error(post_comment(client, parent_id=1), 404, "unknown_parent", "parent_id")


def test_post_ignores_unknown_fields(client):
    assert post_comment(client, colour="blue").status_code == 201


# --- author status ---------------------------------------------------------------------------


def test_author_token_posts_as_author(client):
    response = client.post("/api/comments", json=new_comment(author_name=""),
                           headers={"Authorization": f"Bearer {AUTHOR_TOKEN}"})
    assert response.status_code == 201
    data = response.get_json()
    assert data["is_author"] is True and data["author_name"] == "Ann Author"


def test_wrong_author_token_is_401(client):
    response = client.post("/api/comments", json=new_comment(), headers={"Authorization": "Bearer guess"})
    assert_error(response, 401, "invalid_author_token")
    response = client.post("/api/comments", json=new_comment(), headers={"Authorization": "Basic abc"})
    assert_error(response, 401, "invalid_author_token")


def test_cookies_and_names_never_grant_author_status(client):
    client.set_cookie("is_author", "1")
    client.set_cookie("session", AUTHOR_TOKEN)
    data = post_comment(client, author_name="Rita", is_author=True).get_json()
    assert data["is_author"] is False
    # The post author's name is not a reader's to take (test_notify has the attack in full).
    assert_error(post_comment(client, author_name="Ann Author"), 400, "reserved", "author_name")


# --- moderation ------------------------------------------------------------------------------


def test_moderation_all_holds_comments_with_202(make_app):
    app = make_app(MODERATION="all")
    client = app.test_client()
    response = post_comment(client)
    assert response.status_code == 202 and response.get_json() == {"status": "pending"}
    assert storage(app).get_comment(1).status == Status.PENDING
    data = client.get("/api/comments", query_string={"thread": POST}).get_json()
    assert data["count"] == 0 and data["comments"] == []
    assert client.get("/api/counts", query_string={"thread": POST}).get_json() == {POST: 0}


def test_moderation_first_time_answers_the_same_for_every_address(make_app):
    """The attack: post with an address and read 201 or 202 to learn whether it has commented
    here, or post with a known commenter's address to publish at once. Every reader comment is
    now held (202); only mail to the address publishes a returning commenter's (test_notify)."""
    app = make_app(MODERATION="first-time")
    client = app.test_client()
    assert post_comment(client, author_email="new@example.org").status_code == 202
    storage(app).set_status(1, Status.PUBLISHED)  # what the dashboard will do
    for address in ("NEW@example.org", "other@example.org", None):
        response = post_comment(client, author_email=address)
        assert response.status_code == 202 and response.get_json() == {"status": "pending"}
    assert [c.status for c in storage(app).all_comments()][1:] == [Status.PENDING] * 3


def test_author_comments_skip_moderation(make_app):
    client = make_app(MODERATION="all").test_client()
    response = client.post("/api/comments", json=new_comment(), headers={"Authorization": f"Bearer {AUTHOR_TOKEN}"})
    assert response.status_code == 201


# --- editing and deleting ----------------------------------------------------------------------


def test_edit_with_token_within_window(client, clock):
    created = post_comment(client).get_json()
    clock.advance(60)
    response = client.patch(f"/api/comments/{created['id']}", json={"body": "Edited *text*"},
                            headers={"X-Edit-Token": created["edit_token"]})
    assert response.status_code == 200
    data = response.get_json()
    assert data["body_html"] == "<p>Edited <em>text</em></p>" and data["edited_at"] == "2026-06-01T12:01:00Z"
    listed = client.get("/api/comments", query_string={"thread": POST}).get_json()["comments"][0]
    assert listed["body_html"] == "<p>Edited <em>text</em></p>"


def test_edit_errors(client, clock):
    created = post_comment(client).get_json()
    url, token = f"/api/comments/{created['id']}", {"X-Edit-Token": created["edit_token"]}
    assert_error(client.patch(url, json={"body": "x y z"}), 401, "missing_token")
    assert_error(client.patch(url, json={"body": "x y z"}, headers={"X-Edit-Token": "nope"}), 403, "wrong_token")
    assert_error(client.patch("/api/comments/999", json={"body": "x y z"}, headers=token), 404, "not_found")
    assert_error(client.patch(url, json={"body": ""}, headers=token), 400, "empty", "body")
    assert_error(client.patch(url, json={}, headers=token), 400, "missing", "body")
    assert_error(client.patch(url, json={"body": 5}, headers=token), 400, "wrong_type", "body")
    assert_error(client.patch(url, data="body=x", headers=token), 415, "unsupported_media_type")
    assert_error(client.patch(url, data="{", content_type="application/json", headers=token), 400, "invalid_json")
    clock.advance(15 * 60 + 1)
    assert_error(client.patch(url, json={"body": "late edit"}, headers=token), 403, "edit_window_closed")
    assert_error(client.delete(url, headers=token), 403, "edit_window_closed")


def test_edit_window_can_be_switched_off(make_app, clock):
    client = make_app(EDIT_WINDOW_SECONDS=None).test_client()
    created = post_comment(client).get_json()
    assert created["editable_until"] is None
    clock.advance(86400 * 30)
    response = client.patch(f"/api/comments/{created['id']}", json={"body": "much later"},
                            headers={"X-Edit-Token": created["edit_token"]})
    assert response.status_code == 200


def test_edit_checks_link_limit(make_app):
    client = make_app(MAX_LINKS=1).test_client()
    created = post_comment(client).get_json()
    response = client.patch(f"/api/comments/{created['id']}", json={"body": "http://a.com http://b.com"},
                            headers={"X-Edit-Token": created["edit_token"]})
    assert_error(response, 400, "too_many_links", "body")


def test_delete_without_replies_removes_comment(client, app):
    created = post_comment(client, author_email="gone@example.org").get_json()
    response = client.delete(f"/api/comments/{created['id']}", headers={"X-Edit-Token": created["edit_token"]})
    assert response.status_code == 204 and response.data == b""
    data = client.get("/api/comments", query_string={"thread": POST}).get_json()
    assert data["count"] == 0 and data["comments"] == []
    stored = storage(app).get_comment(created["id"])
    assert stored.status == Status.DELETED and stored.author_email is None and stored.body == ""
    assert_error(client.delete(f"/api/comments/{created['id']}", headers={"X-Edit-Token": created["edit_token"]}),
                 404, "not_found")


def test_delete_with_replies_leaves_placeholder(client):
    parent = post_comment(client, body="Parent words").get_json()
    reply = post_comment(client, parent_id=parent["id"], body="Reply words").get_json()
    client.delete(f"/api/comments/{parent['id']}", headers={"X-Edit-Token": parent["edit_token"]})
    data = client.get("/api/comments", query_string={"thread": POST}).get_json()
    assert data["count"] == 1
    placeholder = data["comments"][0]
    assert placeholder["deleted"] is True and placeholder["author_name"] == "[deleted]"
    assert placeholder["body_html"] == "<p>[deleted]</p>" and placeholder["author_url"] is None
    assert "Parent words" not in json.dumps(data)
    assert [r["id"] for r in placeholder["replies"]] == [reply["id"]]
    # Once the reply goes too, nothing is left to hold the placeholder up.
    client.delete(f"/api/comments/{reply['id']}", headers={"X-Edit-Token": reply["edit_token"]})
    assert client.get("/api/comments", query_string={"thread": POST}).get_json()["comments"] == []


def test_delete_errors(client):
    created = post_comment(client).get_json()
    assert_error(client.delete(f"/api/comments/{created['id']}"), 401, "missing_token")
    assert_error(client.delete(f"/api/comments/{created['id']}", headers={"X-Edit-Token": "x"}), 403, "wrong_token")
    assert_error(client.delete("/api/comments/4242", headers={"X-Edit-Token": "x"}), 404, "not_found")


# --- counts, health, unknown routes ------------------------------------------------------------


def test_counts(client):
    post_comment(client)
    post_comment(client)
    post_comment(client, thread=OTHER)
    response = client.get("/api/counts", query_string=[("thread", POST), ("thread", OTHER), ("thread", "/x/")])
    assert response.status_code == 200
    assert response.get_json() == {POST: 2, OTHER: 1, "/x/": 0}


def test_counts_errors(make_app):
    client = make_app(COUNTS_MAX_THREADS=3).test_client()
    assert_error(client.get("/api/counts"), 400, "missing", "thread")
    assert_error(client.get("/api/counts", query_string=[("thread", f"/{n}/") for n in range(4)]),
                 400, "too_many", "thread")
    assert_error(client.get("/api/counts", query_string={"thread": "bad"}), 400, "invalid", "thread")


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_unknown_route_and_method_use_error_shape(client):
    assert_error(client.get("/api/nothing-here"), 404, "not_found")
    assert_error(client.get("/nothing"), 404, "not_found")
    response = client.put("/api/comments")
    assert_error(response, 405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]


FUZZ_VALUES = [None, True, False, 0, -1, 2**64, 1.5e308, "", " ", "x" * 5000, "\u202e", "<script>", [], [1],
               {}, {"a": {"b": []}}, "\U0001f600" * 100, "/", "//", "/../../etc/passwd"]


@pytest.mark.parametrize("field", ["thread", "parent_id", "author_name", "author_email", "author_url", "body",
                                   "notify_replies", "form_token", "website"])
def test_no_input_causes_a_server_error(client, field):
    for value in FUZZ_VALUES:
        response = post_comment(client, **{field: value})
        assert response.status_code < 500, (field, value, response.get_data(as_text=True))
    for value in FUZZ_VALUES:
        response = client.patch("/api/comments/1", json={field: value}, headers={"X-Edit-Token": "t"})
        assert response.status_code < 500, (field, value)


# --- retries never duplicate: Idempotency-Key ----------------------------------------------------


def keyed(client, key, **fields):
    return client.post("/api/comments", json=new_comment(**fields), headers={"Idempotency-Key": key})


def test_a_retried_post_gets_the_first_answer_from_any_instance(make_app, db_url):
    """The first answer never reached the client (a dropped connection, an instance killed after
    the commit): the retry, to another instance on the same database, gets that answer and
    stores nothing, where before it posted the comment a second time."""
    one, two = make_app(DATABASE_URL=db_url), make_app(DATABASE_URL=db_url)
    first = keyed(one.test_client(), "retry-0001", body="Posted once.")
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    again = keyed(two.test_client(), "retry-0001", body="Posted once.")
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()  # the same id, and the same edit token
    assert again.headers["Location"] == first.headers["Location"]
    assert [c.body for c in storage(one).all_comments()] == ["Posted once."]
    token = again.get_json()["edit_token"]
    edited = two.test_client().patch(f"/api/comments/{first.get_json()['id']}", json={"body": "Edited."},
                                     headers={"X-Edit-Token": token})
    assert edited.status_code == 200


def test_concurrent_retries_on_two_instances_store_one_comment(make_app, db_url):
    import threading

    apps = [make_app(DATABASE_URL=db_url) for _ in range(2)]
    answers = []
    start = threading.Barrier(6)

    def send(app):
        client = app.test_client()
        start.wait()
        answers.append(keyed(client, "burst-key", body="Once, though sent six times."))

    threads = [threading.Thread(target=send, args=(apps[n % 2],)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(a.status_code for a in answers) == [201] * 6
    assert len({a.get_json()["id"] for a in answers}) == 1
    assert len(storage(apps[0]).all_comments()) == 1


def test_a_held_comment_is_replayed_as_held(make_app):
    client = make_app(MODERATION="all").test_client()
    assert keyed(client, "held-1").status_code == 202
    again = keyed(client, "held-1")
    assert again.status_code == 202 and again.get_json() == {"status": "pending"}


def test_an_idempotency_key_used_for_another_request_is_refused(client, app):
    assert keyed(client, "same-key", body="The first comment.").status_code == 201
    assert_error(keyed(client, "same-key", body="A different comment."), 422, "idempotency_key_reused",
                 "Idempotency-Key")
    assert len(storage(app).all_comments()) == 1


@pytest.mark.parametrize("key", ["", "x" * 256, "spaces are not allowed", "caf\u00e9"])
def test_a_malformed_idempotency_key_is_refused(client, key):
    response = client.post("/api/comments", json=new_comment(), headers={"Idempotency-Key": key})
    assert_error(response, 400, "invalid", "Idempotency-Key")


def test_an_idempotency_key_is_forgotten_after_its_ttl(make_app, clock):
    app = make_app(IDEMPOTENCY_KEY_TTL=60)
    client = app.test_client()
    first = keyed(client, "short-lived").get_json()
    clock.advance(61)
    later = keyed(client, "short-lived")
    assert later.status_code == 201 and later.get_json()["id"] != first["id"]


def test_keys_are_per_sender(client, app):
    """A reader cannot get an author's answer (and its edit token) by sending the same key."""
    auth = {"Authorization": f"Bearer {AUTHOR_TOKEN}", "Idempotency-Key": "shared"}
    by_author = client.post("/api/comments", json=new_comment(), headers=auth)
    by_reader = keyed(client, "shared")
    assert by_author.status_code == by_reader.status_code == 201
    assert by_author.get_json()["id"] != by_reader.get_json()["id"]
