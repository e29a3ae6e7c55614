"""Anti-spam and abuse limits: honeypot, minimum submit time, links, rate limits, CORS, proxies."""

from __future__ import annotations

import uuid

import pytest

from comments_server.models import Status
from comments_server.services import services
from tests.support.authoring import login
from tests.support.server import AUTHOR_TOKEN, OTHER, POST, REDIS_URL, assert_error, new_comment, post_comment

SITE = "https://blog.example.com"


def storage(app):
    return services(app).storage


# --- honeypot ---------------------------------------------------------------------------------


def test_honeypot_filled_is_kept_as_spam_and_answered_as_pending(app, client):
    response = post_comment(client, website="http://spam.example/")
    assert response.status_code == 202 and response.get_json() == {"status": "pending"}
    assert storage(app).get_comment(1).status == Status.SPAM
    assert client.get("/api/comments", query_string={"thread": POST}).get_json()["comments"] == []


def test_honeypot_with_an_unknown_parent_is_404_not_500(client):
    """Found by schemathesis: a filled honeypot must not skip the parent check (a foreign key)."""
    assert_error(post_comment(client, website="bot", parent_id=88940), 404, "unknown_parent", "parent_id")


def test_honeypot_field_name_is_configurable_and_can_be_off(make_app):
    client = make_app(HONEYPOT_FIELD="fax").test_client()
    assert post_comment(client, website="filled").status_code == 201
    assert post_comment(client, fax="filled").status_code == 202
    client = make_app(HONEYPOT_FIELD="").test_client()
    assert post_comment(client, website="filled").status_code == 201


# --- minimum time between loading the form and submitting it -----------------------------------


@pytest.fixture
def timed(make_app, clock):
    return make_app(MIN_SUBMIT_SECONDS=3).test_client()


def form_token(client, thread=POST):
    return client.get("/api/form-token", query_string={"thread": thread}).get_json()["form_token"]


def test_form_token_is_required(timed):
    assert_error(post_comment(timed), 400, "missing", "form_token")


def test_submitting_too_fast_is_refused(timed, clock):
    token = form_token(timed)
    clock.advance(1)
    assert_error(post_comment(timed, form_token=token), 400, "too_fast", "form_token")
    clock.advance(2)
    assert post_comment(timed, form_token=token).status_code == 201


def test_form_token_must_match_thread_and_signature(timed, clock):
    other = form_token(timed, OTHER)
    good = form_token(timed)
    clock.advance(10)
    assert_error(post_comment(timed, form_token=other), 400, "invalid", "form_token")
    stamp, nonce, sig = good.split(".")
    assert_error(post_comment(timed, form_token=f"{int(stamp) - 100}.{nonce}.{sig}"), 400, "invalid", "form_token")
    assert_error(post_comment(timed, form_token=f"{stamp}.other-nonce.{sig}"), 400, "invalid", "form_token")
    assert_error(post_comment(timed, form_token="garbage"), 400, "invalid", "form_token")
    assert_error(post_comment(timed, form_token="9" * 40 + f".{nonce}." + sig), 400, "invalid", "form_token")
    assert_error(post_comment(timed, form_token=f"{stamp}.{sig}"), 400, "invalid", "form_token")  # the old shape


def test_one_form_token_posts_one_comment(make_app, clock, db_url):
    """Issue 13 item 10: one form token posted any number of comments for 24 hours."""
    client = make_app(MIN_SUBMIT_SECONDS=3, DATABASE_URL=db_url).test_client()
    token = form_token(client)
    clock.advance(10)
    assert post_comment(client, form_token=token).status_code == 201
    for n in range(3):
        again = post_comment(client, form_token=token, body=f"Another comment, number {n}.")
        assert_error(again, 400, "used", "form_token")
    assert client.get("/api/comments", query_string={"thread": POST}).get_json()["count"] == 1
    fresh = form_token(client)
    clock.advance(10)
    assert post_comment(client, form_token=fresh, body="A second, with its own form.").status_code == 201


def test_a_refused_post_leaves_its_form_token_unused(make_app, clock):
    client = make_app(MIN_SUBMIT_SECONDS=3, MAX_LINKS=0).test_client()
    token = form_token(client)
    clock.advance(10)
    assert_error(post_comment(client, form_token=token, body="See https://example.com"), 400, "too_many_links", "body")
    assert post_comment(client, form_token=token, body="Fixed, no link.").status_code == 201


def test_form_token_expires(timed, clock):
    token = form_token(timed)
    clock.advance(86400 + 1)
    assert_error(post_comment(timed, form_token=token), 400, "expired", "form_token")


def test_form_token_from_another_secret_is_invalid(make_app, clock):
    token = form_token(make_app(MIN_SUBMIT_SECONDS=3, SECRET_KEY="another-secret-key-abcdef-0123456789").test_client())
    clock.advance(10)
    assert_error(post_comment(make_app(MIN_SUBMIT_SECONDS=3).test_client(), form_token=token),
                 400, "invalid", "form_token")


def test_a_post_with_a_bad_form_token_is_refused_before_its_markdown_is_rendered(timed, monkeypatch):
    """Issue 13 item 3: `CommentService.post` rendered the body before checking the form token,
    so posts without a valid token still cost a Markdown render each. The real renderer is
    wrapped to count its calls (not replaced)."""
    from comments_server import service

    calls = []
    real = service.render_comment
    monkeypatch.setattr(service, "render_comment", lambda text: calls.append(text) or real(text))
    attack = {"body": "*a" * 4000}
    assert_error(post_comment(timed, **attack), 400, "missing", "form_token")
    assert_error(post_comment(timed, form_token="1.forged", **attack), 400, "invalid", "form_token")
    assert post_comment(timed, website="bot", **attack).status_code == 202  # the honeypot: no render either
    assert calls == []


def test_author_needs_no_form_token(timed):
    response = timed.post("/api/comments", json=new_comment(), headers={"Authorization": f"Bearer {AUTHOR_TOKEN}"})
    assert response.status_code == 201


# --- links ------------------------------------------------------------------------------------


def test_link_limit(make_app):
    client = make_app(MAX_LINKS=2).test_client()
    assert post_comment(client, body="see http://a.com and [b](https://b.com)").status_code == 201
    response = post_comment(client, body="http://a.com http://b.com www.c.com")
    assert_error(response, 400, "too_many_links", "body")


def test_link_limit_off(make_app):
    client = make_app(MAX_LINKS=None).test_client()
    assert post_comment(client, body=" ".join(f"http://{n}.example.com" for n in range(30))).status_code == 201


# --- rate limits ------------------------------------------------------------------------------


def test_write_rate_limit_per_ip(make_app):
    client = make_app(RATE_LIMIT="2/minute").test_client()
    assert post_comment(client).status_code == 201
    assert post_comment(client).status_code == 201
    response = post_comment(client)
    assert_error(response, 429, "rate_limited")
    assert int(response.headers["Retry-After"]) > 0
    # Edits and deletes draw on the same budget.
    assert_error(client.delete("/api/comments/1", headers={"X-Edit-Token": "x"}), 429, "rate_limited")
    # Another address has its own budget; the author is never limited.
    other = client.post("/api/comments", json=new_comment(), environ_base={"REMOTE_ADDR": "192.0.2.50"})
    assert other.status_code == 201
    author = client.post("/api/comments", json=new_comment(), headers={"Authorization": f"Bearer {AUTHOR_TOKEN}"})
    assert author.status_code == 201


def test_read_rate_limit(make_app):
    client = make_app(READ_RATE_LIMIT="3/minute").test_client()
    for _ in range(3):
        assert client.get("/api/counts", query_string={"thread": POST}).status_code == 200
    assert_error(client.get("/api/comments", query_string={"thread": POST}), 429, "rate_limited")
    assert client.get("/healthz").status_code == 200


def test_rate_limit_shared_through_redis_by_two_instances(make_app, tmp_path):
    if not REDIS_URL:
        pytest.skip("Redis rate-limit test: set COMMENTS_TEST_REDIS_URL=redis://127.0.0.1:6379/15")
    config = {"RATE_LIMIT": "3/minute", "RATE_LIMIT_STORAGE_URL": REDIS_URL,
              "RATE_LIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}"}
    first, second = make_app(**config).test_client(), make_app(**config).test_client()
    assert post_comment(first).status_code == 201
    assert post_comment(second).status_code == 201
    assert post_comment(first).status_code == 201
    assert_error(post_comment(second), 429, "rate_limited")


# --- cross-origin rules ---------------------------------------------------------------------------


def test_preflight_from_site_origin_is_allowed(client):
    response = client.options("/api/comments", headers={
        "Origin": SITE, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == SITE
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in response.headers["Access-Control-Allow-Headers"]


def test_site_origin_can_post_and_read(client):
    response = client.post("/api/comments", json=new_comment(), headers={"Origin": SITE})
    assert response.status_code == 201 and response.headers["Access-Control-Allow-Origin"] == SITE
    response = client.get("/api/comments", query_string={"thread": POST}, headers={"Origin": SITE})
    assert response.headers["Access-Control-Allow-Origin"] == SITE
    assert "Origin" in response.headers["Vary"]


@pytest.mark.parametrize("origin", ["https://evil.example", "http://blog.example.com", "null",
                                    "https://blog.example.com.evil.example"])
def test_other_origins_cannot_write(client, origin):
    preflight = client.options("/api/comments", headers={"Origin": origin, "Access-Control-Request-Method": "POST"})
    assert_error(preflight, 403, "cross_origin_forbidden")
    assert "Access-Control-Allow-Origin" not in preflight.headers
    assert_error(client.post("/api/comments", json=new_comment(), headers={"Origin": origin}),
                 403, "cross_origin_forbidden")
    assert_error(client.delete("/api/comments/1", headers={"Origin": origin}), 403, "cross_origin_forbidden")
    form = client.post("/comments/form", data={"thread": POST}, headers={"Origin": origin})
    assert form.status_code == 403 and "not allowed to send comments" in form.get_data(as_text=True)
    read = client.get("/api/comments", query_string={"thread": POST}, headers={"Origin": origin})
    assert read.status_code == 200 and "Access-Control-Allow-Origin" not in read.headers


def test_same_origin_and_public_url_can_write(make_app):
    client = make_app(PUBLIC_URL="https://comments.example.com/").test_client()
    assert post_comment(client, environ_base={}).status_code == 201
    for origin in ("http://localhost", "https://comments.example.com"):
        assert client.post("/api/comments", json=new_comment(), headers={"Origin": origin}).status_code == 201


# --- client addresses behind proxies ---------------------------------------------------------------


def test_forwarded_for_is_ignored_without_trusted_proxies(app, client):
    client.post("/api/comments", json=new_comment(), headers={"X-Forwarded-For": "203.0.113.5"})
    assert storage(app).get_comment(1).ip == "127.0.0.1"


def test_forwarded_for_is_used_behind_a_trusted_proxy(make_app):
    app = make_app(TRUSTED_PROXY_COUNT=1, RATE_LIMIT="1/minute")
    client = app.test_client()
    assert client.post("/api/comments", json=new_comment(), headers={"X-Forwarded-For": "203.0.113.5"}).status_code == 201
    assert storage(app).get_comment(1).ip == "203.0.113.5"
    # Rate limits follow the real client, not the proxy.
    assert client.post("/api/comments", json=new_comment(), headers={"X-Forwarded-For": "203.0.113.6"}).status_code == 201
    assert client.post("/api/comments", json=new_comment(), headers={"X-Forwarded-For": "203.0.113.6"}).status_code == 429
    # A forged, unparsable address is not stored.
    app2 = make_app(TRUSTED_PROXY_COUNT=1)
    app2.test_client().post("/api/comments", json=new_comment(), headers={"X-Forwarded-For": "x" * 300})
    assert storage(app2).get_comment(3).ip is None


def test_an_ipv6_client_is_limited_by_its_64_not_each_address(make_app):
    """Issue 13 item 11: keyed by full address, one /64 (2^64 addresses, all the client's) had
    no limit at all."""
    client = make_app(RATE_LIMIT="2/minute").test_client()
    rotating = [f"2001:db8:1:2::{n:x}" for n in range(1, 5)]

    def post_from(address):
        return client.post("/api/comments", json=new_comment(body=f"From {address}"),
                           environ_base={"REMOTE_ADDR": address}).status_code

    assert [post_from(a) for a in rotating] == [201, 201, 429, 429]
    assert post_from("2001:db8:1:3::1") == 201  # another /64
    assert post_from("::ffff:192.0.2.1") == post_from("192.0.2.1") == 201
    assert post_from("192.0.2.1") == 429  # an IPv4-mapped address is its IPv4 address
    assert {c.ip for c in storage(client.application).all_comments()} >= {"2001:db8:1:2::1", "2001:db8:1:2::2"}


def test_forwarded_for_from_a_client_that_reaches_the_server_directly_is_ignored(make_app):
    """Issue 13 item 11: with TRUSTED_PROXY_COUNT set and the app reachable directly, a new
    X-Forwarded-For on each attempt was a new address, and the login limit never bit."""
    app = make_app(TRUSTED_PROXY_COUNT=1, LOGIN_RATE_LIMIT="3/minute")

    def attempt(peer, forwarded):
        client = app.test_client()
        client.environ_base.update(REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded)
        return login(client, name="Ann Author", password="a wrong guess").status_code

    statuses = [attempt("203.0.113.9", f"198.51.100.{n}") for n in range(5)]
    assert statuses == [401, 401, 401, 429, 429]
    # Through the proxy (a trusted address), the header names the client, as before.
    assert attempt("10.0.0.2", "198.51.100.77") == 401
    assert attempt("127.0.0.1", "198.51.100.78") == 401


def test_trusted_proxies_must_be_addresses(make_app):
    from comments_server.errors import ConfigError

    with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
        make_app(TRUSTED_PROXY_COUNT=1, TRUSTED_PROXIES=["nginx"])
