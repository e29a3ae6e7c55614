"""The dashboard through the Flask test client: login and sessions, CSRF, the queue's actions,
moderation, all comments, health, API tokens and GET /api/unanswered."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from comments_server.accounts import AccountError
from comments_server.dashboard import CSP
from comments_server.services import services
from tests.support.authoring import (
    ANN,
    PASSWORD,
    add_author,
    author_reply,
    csrf_token,
    dashboard_post,
    desk,
    login,
    page_text,
    queue_ids,
    reader,
    thread_comments,
)
from tests.support.server import AUTHOR_TOKEN, CLOSED, OTHER, POST, assert_error, write_manifest


@pytest.fixture
def app(make_app):
    app = make_app()
    add_author(app)
    return app


@pytest.fixture
def logged_in(app):
    client = app.test_client()
    assert login(client).status_code == 303
    return client


# Login, sessions, CSRF ---------------------------------------------------------------------------


def test_dashboard_pages_need_a_login(client, app):
    for path in ("/dashboard/", "/dashboard/moderation", "/dashboard/comments", "/dashboard/health"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"] == "/dashboard/login?next=" + path


def test_login_sets_a_hardened_session_cookie_and_returns_to_next(app):
    client = app.test_client()
    token = csrf_token(client)
    response = client.post("/dashboard/login", data={"name": ANN["email"].upper(), "password": PASSWORD,
                                                     "csrf_token": token, "next": "/dashboard/health"})
    assert response.status_code == 303 and response.headers["Location"] == "/dashboard/health"
    cookie = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("blogengine_dashboard=")][-1]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
    assert client.get("/dashboard/health").status_code == 200


@pytest.mark.parametrize("config", [{"DEBUG": True}, {"SECURE_COOKIES": False}], ids=["debug", "setting"])
def test_debug_mode_or_the_setting_drops_secure(make_app, config):
    app = make_app(**config)
    add_author(app)
    client = app.test_client()
    cookie = [h for h in login(client).headers.getlist("Set-Cookie") if "blogengine_dashboard=" in h][-1]
    assert "Secure" not in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.slow
def test_wrong_password_and_unknown_name_are_refused_alike(app):
    client = app.test_client()
    wrong = login(client, password="not the password")
    unknown = login(client, name="Nobody")
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "do not match an author account" in response.get_data(as_text=True)
    assert client.get("/dashboard/").status_code == 302


def test_post_without_csrf_token_is_refused(logged_in):
    question = reader(logged_in, body="Hello?")
    response = logged_in.post(f"/dashboard/comments/{question['id']}/reply", data={"body": "Hi"})
    assert response.status_code == 400
    assert "The form has expired" in response.get_data(as_text=True)
    forged = logged_in.post(f"/dashboard/comments/{question['id']}/reply",
                            data={"body": "Hi", "csrf_token": "forged"})
    assert forged.status_code == 400
    assert queue_ids(logged_in) == [question["id"]]


def test_login_form_needs_its_csrf_token_too(app):
    response = app.test_client().post("/dashboard/login", data={"name": ANN["name"], "password": PASSWORD})
    assert response.status_code == 400


def test_logout_ends_the_session_on_the_server(app, logged_in):
    cookie = logged_in.get_cookie("blogengine_dashboard")
    assert dashboard_post(logged_in, "/dashboard/logout").status_code == 303
    assert logged_in.get("/dashboard/").status_code == 302
    # The old cookie, replayed, no longer opens anything.
    replay = app.test_client()
    replay.set_cookie("blogengine_dashboard", cookie.value)
    assert replay.get("/dashboard/").status_code == 302
    assert replay.get("/api/unanswered").status_code == 401


@pytest.mark.slow
def test_changing_the_password_ends_sessions(app, logged_in):
    accounts = desk(app).accounts
    accounts.set_password(accounts.find(ANN["name"]), "a brand new password")
    assert logged_in.get("/dashboard/").status_code == 302
    assert login(logged_in, password="a brand new password").status_code == 303


@pytest.mark.slow
def test_login_attempts_are_rate_limited(make_app):
    app = make_app(LOGIN_RATE_LIMIT="3/minute")
    add_author(app)
    client = app.test_client()
    statuses = [login(client, password="wrong guess").status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    assert "Too many attempts" in login(client).get_data(as_text=True)
    assert client.get("/dashboard/login").status_code == 200  # showing the form is not an attempt


@pytest.mark.slow
def test_next_never_leaves_the_dashboard(app):
    client = app.test_client()
    token = csrf_token(client)
    for target in ("https://evil.example/", "//evil.example/", "/api/comments", "/dashboard/\\evil"):
        response = client.post("/dashboard/login", data={"name": ANN["name"], "password": PASSWORD,
                                                         "csrf_token": token, "next": target})
        assert response.headers["Location"] == "/dashboard/"
        dashboard_post(client, "/dashboard/logout")
        token = csrf_token(client)


@pytest.mark.slow
def test_dashboard_pages_send_a_strict_csp_and_no_inline_code(logged_in):
    reader(logged_in, body="Hello <script>alert(1)</script> and `code`?")
    anonymous = logged_in.application.test_client()
    for client, path in [(logged_in, "/dashboard/"), (logged_in, "/dashboard/moderation"),
                         (logged_in, "/dashboard/comments"), (logged_in, "/dashboard/health"),
                         (anonymous, "/dashboard/login")]:
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["Content-Security-Policy"] == CSP
        assert response.headers["Cache-Control"] == "no-store"
        html = response.get_data(as_text=True)
        assert "<style" not in html and " style=" not in html and "<script>" not in html
        assert re.findall(r"<script[^>]*>", html) == ['<script src="/dashboard/static/dashboard.js" defer>']


# The queue ---------------------------------------------------------------------------------------


def test_home_shows_count_oldest_wait_context_and_reply_box(logged_in, clock):
    first = reader(logged_in, body="First **point**.")
    question = reader(logged_in, parent_id=first["id"], author_name="Bea", body="Why is that?")
    clock.advance(3 * 86400 + 3600)
    home = logged_in.get("/dashboard/")
    assert page_text(home, "unanswered-count") == "2"
    assert page_text(home, "oldest-waiting") == "The oldest has waited 3 days."
    article = page_text(home, f"comment-{question['id']}")
    assert "In reply to Reader" in article and "First point." in article and "Why is that?" in article
    assert "Question" in article and "waiting 3 days" in article
    html = home.get_data(as_text=True)
    assert f'action="/dashboard/comments/{question["id"]}/reply"' in html
    assert '<a href="https://blog.example.com/2024/05/a-post/">A post</a>' in html


def test_replying_publishes_with_the_badge_and_takes_it_off_the_queue(logged_in, clock):
    question = reader(logged_in, body="How?")
    response = author_reply(logged_in, question["id"], "Like **this**.", clock=clock, advance=60)
    page = logged_in.get(response.headers["Location"]).get_data(as_text=True)
    assert "Reply published" in page and "#comment-" in page
    reply = thread_comments(logged_in)[-1]
    assert reply["parent_id"] == question["id"] and reply["is_author"] is True
    assert reply["author_name"] == ANN["name"] and reply["body_html"] == "<p>Like <strong>this</strong>.</p>"
    assert queue_ids(logged_in) == []


def test_author_replies_skip_moderation_and_spam_checks(make_app):
    app = make_app(MODERATION="all", MAX_LINKS=0)
    add_author(app)
    client = app.test_client()
    login(client)
    client.post("/api/comments", json={"thread": POST, "author_name": "R", "body": "Held?"})
    held = desk(app).storage.all_comments()[0]
    desk(app).approve(held.id)
    author_reply(client, held.id, "See https://example.com/ and https://example.org/")
    reply = thread_comments(client)[-1]
    assert reply["is_author"] and reply["body_html"].count("<a ") == 2


@pytest.mark.slow
def test_an_empty_reply_is_refused_and_the_comment_stays(logged_in):
    question = reader(logged_in, body="Anyone?")
    response = dashboard_post(logged_in, f"/dashboard/comments/{question['id']}/reply", body="  ", next="/dashboard/")
    assert response.status_code == 303
    assert "Reply not published" in logged_in.get("/dashboard/").get_data(as_text=True)
    assert queue_ids(logged_in) == [question["id"]]


def test_replying_to_a_held_comment_approves_it(make_app):
    app = make_app(MODERATION="all")
    add_author(app)
    client = app.test_client()
    login(client)
    client.post("/api/comments", json={"thread": POST, "author_name": "R", "body": "Held question?"})
    held = desk(app).storage.all_comments()[0]
    author_reply(client, held.id)
    comments = thread_comments(client)
    assert [c["id"] for c in comments][0] == held.id and comments[1]["is_author"]


def test_replying_to_a_closed_post_still_works_for_the_author(logged_in, app):
    from comments_server.models import NewComment, Status

    desk(app).storage.add_comment(NewComment(
        thread=CLOSED, parent_id=None, status=Status.PUBLISHED, author_name="Old", author_email=None,
        author_url=None, is_author=False, notify_replies=False, body="Old question?", body_html="<p>x</p>",
        created_at=services(app).clock(), ip=None, edit_token_hash=None))
    old = queue_ids(logged_in)[0]
    author_reply(logged_in, old)
    assert queue_ids(logged_in) == []


def test_snooze_hides_until_the_day_and_wake_brings_back(logged_in, clock):
    question = reader(logged_in, body="Later?")
    day = (clock.now + timedelta(days=3)).date().isoformat()
    dashboard_post(logged_in, f"/dashboard/comments/{question['id']}/snooze", until=day, next="/dashboard/")
    assert queue_ids(logged_in) == []
    body = logged_in.get("/api/unanswered").get_json()
    assert body["snoozed"] == 1 and body["count"] == 0
    assert "1 snoozed comment" in logged_in.get("/dashboard/").get_data(as_text=True)
    clock.advance(3 * 86400)
    assert queue_ids(logged_in) == [question["id"]]


def test_snooze_refuses_a_past_day_or_garbage(logged_in, clock):
    question = reader(logged_in, body="Now?")
    past = dashboard_post(logged_in, f"/dashboard/comments/{question['id']}/snooze",
                          until=clock.now.date().isoformat())
    assert past.status_code == 400 and "pick a day after today" in past.get_data(as_text=True)
    assert dashboard_post(logged_in, f"/dashboard/comments/{question['id']}/snooze", until="soon").status_code == 400
    assert dashboard_post(logged_in, "/dashboard/comments/999/dismiss").status_code == 404


# Moderation and all comments ------------------------------------------------------------------------


@pytest.mark.slow
def test_moderation_approve_spam_and_delete(make_app):
    app = make_app(MODERATION="all")
    add_author(app)
    client = app.test_client()
    login(client)
    for body in ("Keep me", "Buy pills", "Remove me"):
        assert client.post("/api/comments", json={"thread": POST, "author_name": "R", "body": body}).status_code == 202
    keep, pills, remove = (c.id for c in desk(app).storage.all_comments())
    page = client.get("/dashboard/moderation").get_data(as_text=True)
    assert all(f'id="comment-{i}"' in page for i in (keep, pills, remove))
    dashboard_post(client, f"/dashboard/comments/{keep}/approve", next="/dashboard/moderation")
    dashboard_post(client, f"/dashboard/comments/{pills}/spam", next="/dashboard/moderation")
    dashboard_post(client, f"/dashboard/comments/{remove}/delete", next="/dashboard/moderation")
    assert "Nothing is held" in client.get("/dashboard/moderation").get_data(as_text=True)
    assert [c["id"] for c in thread_comments(client)] == [keep]
    spam = client.get("/dashboard/comments?state=spam").get_data(as_text=True)
    assert f'id="comment-{pills}"' in spam and f'id="comment-{keep}"' not in spam


@pytest.mark.slow
def test_all_comments_search_and_filters(logged_in, clock):
    a = reader(logged_in, body="Apples are great")
    clock.advance(86400)
    b = reader(logged_in, thread=OTHER, author_name="Pear Fan", body="Pears!")
    author_reply(logged_in, b["id"], "Indeed.")

    def ids(query):
        html = logged_in.get(f"/dashboard/comments?{query}").get_data(as_text=True)
        return [int(i) for i in re.findall(r'<li class="queue-item[^"]*" id="comment-(\d+)"', html)]

    reply_id = thread_comments(logged_in, OTHER)[-1]["id"]
    assert ids("") == [reply_id, b["id"], a["id"]]
    assert ids("q=APPLE") == [a["id"]]
    assert ids("q=pear+fan") == [b["id"]]
    assert ids(f"thread={OTHER}") == [reply_id, b["id"]]
    assert ids("state=answered") == [b["id"]] and ids("state=unanswered") == [a["id"]]
    day = clock.now.date().isoformat()
    assert ids(f"from={day}") == [reply_id, b["id"]] and ids(f"to={day}") == [reply_id, b["id"], a["id"]]
    assert logged_in.get("/dashboard/comments?state=nonsense").status_code == 400
    assert logged_in.get("/dashboard/comments?from=yesterday").status_code == 400


def test_search_treats_wildcards_literally(logged_in):
    reader(logged_in, body="100% sure")
    other = reader(logged_in, body="1000 sure")
    html = logged_in.get("/dashboard/comments?q=100%25").get_data(as_text=True)
    assert f'id="comment-{other["id"]}"' not in html and "100% sure" in html


# Health ------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_health_page_numbers_chart_and_posts(logged_in, clock):
    q1 = reader(logged_in, body="One?")
    reader(logged_in, thread=OTHER, body="Two?")
    author_reply(logged_in, q1["id"], clock=clock, advance=1800)
    page = logged_in.get("/dashboard/health")
    assert page_text(page, "reply-rate") == "50%"
    assert page_text(page, "median-response") == "30 minutes" and page_text(page, "p90-response") == "30 minutes"
    html = page.get_data(as_text=True)
    assert '<svg viewBox="0 0 640 200" role="img"' in html and "<polyline" in html
    assert "Unanswered comments, daily, last 90 days" in html
    assert ">A post</a>" in html and ">Another post</a>" in html
    assert logged_in.get("/dashboard/health?period=all").status_code == 200
    assert logged_in.get("/dashboard/health?period=7").status_code == 404


def test_health_counts_unanswered_over_time(logged_in, app, clock):
    question = reader(logged_in, body="Day one?")
    clock.advance(2 * 86400)
    author_reply(logged_in, question["id"])
    report = desk(app).health(None, 30)
    assert [p.unanswered for p in report.series][-3:] == [1, 1, 0]
    assert [p.unanswered for p in report.series][:-3] == [0] * 27


@pytest.mark.slow
def test_each_author_sees_their_own_posts_first(make_app, manifest, clock):
    write_manifest(manifest, [
        {"path": "/a/", "title": "Ann's post", "author": "Ann Author", "open": True},
        {"path": "/b/", "title": "Bob's post", "author": "bob@example.com", "open": True},
    ])
    app = make_app()
    add_author(app)
    add_author(app, "Bob", "bob@example.com")
    ann, bob = app.test_client(), app.test_client()
    login(ann)
    login(bob, "Bob")
    reader(ann, thread="/b/", body="For Bob, first")
    reader(ann, clock, 60, thread="/a/", body="For Ann, later")
    assert [c["title"] for c in ann.get("/api/unanswered").get_json()["comments"]] == ["Ann's post", "Bob's post"]
    assert [c["title"] for c in bob.get("/api/unanswered").get_json()["comments"]] == ["Bob's post", "Ann's post"]
    assert [c["mine"] for c in bob.get("/api/unanswered").get_json()["comments"]] == [True, False]
    html = bob.get("/dashboard/health").get_data(as_text=True)
    assert html.index("Bob&#39;s post") < html.index("Ann&#39;s post") and "Yours" in html


# Accounts, tokens and the API ----------------------------------------------------------------------


def test_account_rules(app):
    accounts = desk(app).accounts
    for name, email, password, problem in [
        ("ann author", "other@example.com", PASSWORD, "exists already"),
        ("Other", "ANN@example.com", PASSWORD, "exists already"),
        ("Other", "not-an-email", PASSWORD, "not an email address"),
        ("Other", "other@example.com", "short", "at least 10 characters"),
        ("a@b", "other@example.com", PASSWORD, "must not contain '@'"),
        ("   ", "other@example.com", PASSWORD, "must not be empty"),
    ]:
        with pytest.raises(AccountError, match=problem):
            accounts.add(name, email, password)
    stored = accounts.find("ANN AUTHOR")
    assert stored.password_hash.startswith("scrypt:") and PASSWORD not in stored.password_hash


def test_an_account_token_posts_as_that_author_whatever_the_name_field(app, client):
    accounts = desk(app).accounts
    _, secret = accounts.add_token(accounts.find(ANN["name"]), "script")
    question = reader(client, body="Token?")
    response = client.post("/api/comments", json={"thread": POST, "parent_id": question["id"],
                                                  "author_name": "Somebody Else", "body": "From a script."},
                           headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 201
    body = response.get_json()
    assert body["is_author"] is True and body["author_name"] == ANN["name"]
    assert desk(app).storage.get_comment(body["id"]).author_id == accounts.find(ANN["name"]).id
    unanswered = client.get("/api/unanswered", headers={"Authorization": f"Bearer {secret}"})
    assert unanswered.status_code == 200 and unanswered.get_json()["count"] == 0
    assert accounts.remove_token(accounts.find(ANN["name"]), "script") == 1
    assert_error(client.get("/api/unanswered", headers={"Authorization": f"Bearer {secret}"}),
                 401, "invalid_author_token")


def test_legacy_author_tokens_still_work(client):
    response = client.post("/api/comments", json={"thread": POST, "body": "Site author here."},
                           headers={"Authorization": f"Bearer {AUTHOR_TOKEN}"})
    assert response.status_code == 201 and response.get_json()["is_author"] is True
    assert client.get("/api/unanswered", headers={"Authorization": f"Bearer {AUTHOR_TOKEN}"}).status_code == 200


def test_unanswered_api_needs_a_login_or_token(client, logged_in):
    assert_error(client.get("/api/unanswered"), 401, "unauthorized")
    assert_error(client.get("/api/unanswered", headers={"Authorization": "Bearer wrong-token-0123456789"}),
                 401, "invalid_author_token")
    question = reader(logged_in, body="Hello? <b>bold</b>")
    body = logged_in.get("/api/unanswered").get_json()
    item = body["comments"][0]
    assert item["id"] == question["id"] and item["post_url"] == "https://blog.example.com/2024/05/a-post/"
    assert item["reply_url"] == f"https://blog.example.com/dashboard/#comment-{question['id']}"
    assert "email" not in str(item) and "&lt;b&gt;" in item["body_html"]


@pytest.mark.slow
def test_reply_median_in_the_thread_response(logged_in, clock):
    def median():
        return logged_in.get("/api/comments", query_string={"thread": POST}).get_json()["author_reply_median_seconds"]

    assert median() is None
    for wait in (600, 1200, 3600):
        question = reader(logged_in, body="Q?")
        author_reply(logged_in, question["id"], clock=clock, advance=wait)
    assert median() == 1200
    # Older than 90 days no longer counts.
    clock.advance(91 * 86400)
    services(logged_in.application).conversations._medians.clear()
    assert median() is None


def test_password_guesses_from_many_addresses_are_limited_per_account(make_app):
    """Issue 13 item 11: no per-account backoff, so guesses spread over many addresses (or
    IPv6 /64s) were never slowed. Failed logins now count per account, by name or email alike."""
    app = make_app(LOGIN_ACCOUNT_RATE_LIMIT="3/15 minutes", LOGIN_RATE_LIMIT="100/minute")
    add_author(app)
    add_author(app, "Bob Builder", "bob@example.com")
    statuses = []
    for n, name in enumerate([ANN["name"], ANN["email"], ANN["name"].upper(), ANN["name"]]):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"198.51.100.{n + 1}"
        statuses.append(login(client, name=name, password=f"wrong guess {n}").status_code)
    assert statuses == [401, 401, 401, 429]
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "192.0.2.50"
    assert login(elsewhere).status_code == 429  # even the right password waits
    assert login(elsewhere, name="Bob Builder").status_code == 303  # other accounts are not held up


def test_a_good_login_does_not_use_up_the_account_budget(make_app):
    app = make_app(LOGIN_ACCOUNT_RATE_LIMIT="2/15 minutes", LOGIN_RATE_LIMIT="100/minute")
    add_author(app)
    assert [login(app.test_client()).status_code for _ in range(4)] == [303] * 4


def test_a_login_under_an_unknown_name_costs_what_a_real_accounts_check_costs():
    """The dummy hash checked for unknown names is written out (made at import, it cost every
    process 0.15 s); it must stay a real hash of the same kind and cost as a new account's."""
    from werkzeug.security import check_password_hash, generate_password_hash

    from comments_server.accounts import DUMMY_HASH

    fresh = generate_password_hash("a new account's password", method="scrypt")
    assert DUMMY_HASH.split("$")[0] == fresh.split("$")[0]   # scrypt, same n, r and p
    assert check_password_hash(DUMMY_HASH, "not a password")
