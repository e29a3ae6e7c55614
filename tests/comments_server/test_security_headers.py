"""Security settings, checked from the outside: response headers on the dashboard, the API and every
other page; the session cookie's flags; the dashboard closed to other origins (no CORS, CSRF on every
state-changing request); and secrets kept out of the server's log."""

from __future__ import annotations

import http.cookies
import json
import logging
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from http.cookiejar import CookieJar

import pytest
from bs4 import BeautifulSoup

from comments_server.dashboard import bp as dashboard_bp
from tests.support import REPO
from tests.support.authoring import ANN, PASSWORD, add_author, csrf_token, desk, login
from tests.support.live import free_port, serve_command, server_env
from tests.support.server import AUTHOR_TOKEN, POST, SECRET, new_comment

EVIL = "https://evil.example"
SITE = "https://blog.example.com"


def csp(response) -> dict[str, list[str]]:
    """The Content-Security-Policy header as {directive: [sources]}."""
    header = response.headers.get("Content-Security-Policy", "")
    assert header, f"{response.request.path} has no Content-Security-Policy"
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = [w.lower() for w in words[1:]]
    return directives


def assert_common_headers(response) -> None:
    path = response.request.path
    assert response.headers.get("X-Content-Type-Options") == "nosniff", path
    assert response.headers.get("Referrer-Policy") in ("same-origin", "no-referrer"), path  # nothing leaves the origin
    assert "Access-Control-Allow-Credentials" not in response.headers, path


def assert_not_frameable(response) -> None:
    policy = csp(response)
    assert policy.get("frame-ancestors") == ["'none'"], response.request.path
    assert response.headers.get("X-Frame-Options") == "DENY", response.request.path


def assert_no_inline_script(response) -> None:
    """No source list lets inline or evaluated script (or style, for the dashboard) run."""
    policy = csp(response)
    for directive, sources in policy.items():
        assert "'unsafe-eval'" not in sources, (response.request.path, directive)
        if directive in ("script-src", "script-src-elem", "script-src-attr", "default-src"):
            assert "'unsafe-inline'" not in sources and "*" not in sources and "data:" not in sources, directive
    script = policy.get("script-src", policy.get("default-src"))
    assert script in (["'self'"], ["'none'"]), script
    assert policy.get("base-uri") == ["'none'"] and policy.get("object-src", policy.get("default-src")) == ["'none'"]


@pytest.fixture
def logged_in(app):
    add_author(app)
    client = app.test_client()
    assert login(client).status_code == 303
    return client


# --- the dashboard ------------------------------------------------------------------------------------


def dashboard_pages(app, client):
    reader = client.post("/api/comments", json=new_comment(body="A question?")).get_json()
    link = desk(app).notifier.reply_link(reader["id"], desk(app).accounts.all()[0])
    pages = ["/dashboard/login", "/dashboard/", "/dashboard/comments", "/dashboard/moderation", "/dashboard/health",
             "/dashboard/comments?state=nonsense", "/dashboard/nothing-here", link.split("blog.example.com", 1)[1]]
    return [client.get(p) for p in pages] + [client.post("/dashboard/logout")]  # the last: a CSRF error page


@pytest.mark.slow
def test_dashboard_pages_send_a_strict_csp_and_no_frame_headers(app, logged_in):
    for response in dashboard_pages(app, logged_in):
        assert response.status_code in (200, 302, 400, 404), (response.request.path, response.status_code)
        assert_common_headers(response)
        assert_not_frameable(response)
        assert_no_inline_script(response)
        policy = csp(response)
        assert "'unsafe-inline'" not in policy.get("style-src", policy["default-src"]), response.request.path
        assert policy.get("form-action") == ["'self'"]
        assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.slow
def test_dashboard_html_needs_nothing_the_csp_forbids(app, logged_in):
    """The CSP is only strict if the pages keep to it: no inline script, style or event handlers."""
    for response in dashboard_pages(app, logged_in):
        soup = BeautifulSoup(response.get_data(as_text=True), "html5lib")
        assert not [s for s in soup.find_all("script") if not s.get("src")], response.request.path
        assert soup.find("style") is None and soup.find(style=True) is None, response.request.path
        for element in soup.find_all(True):
            assert not [a for a in element.attrs if a.lower().startswith("on")], (response.request.path, element.name)
        for script in soup.find_all("script"):
            assert script["src"].startswith("/dashboard/static/"), script["src"]


def test_dashboard_static_files_are_typed_and_not_sniffed(client):
    for path, mimetype in (("/dashboard/static/dashboard.js", "text/javascript"),
                           ("/dashboard/static/dashboard.css", "text/css")):
        response = client.get(path)
        assert response.status_code == 200 and response.mimetype == mimetype
        assert response.headers["X-Content-Type-Options"] == "nosniff"


# --- the API and the other pages ----------------------------------------------------------------------


def api_responses(client):
    created = client.post("/api/comments", json=new_comment()).get_json()
    return [
        client.get("/api/comments", query_string={"thread": POST}),
        client.get("/api/comments", query_string={"thread": POST}, headers={"Origin": SITE}),
        client.get(f"/api/comments/{created['id']}"),
        client.get("/api/counts", query_string={"thread": POST}),
        client.get("/api/form-token", query_string={"thread": POST}),
        client.post("/api/comments", json=new_comment()),
        client.post("/api/comments", json=new_comment(body="")),
        client.post("/api/preview", json={"body": "*hi*"}),
        client.patch(f"/api/comments/{created['id']}", json={"body": "Edited."},
                     headers={"X-Edit-Token": created["edit_token"]}),
        client.get("/api/unanswered"),
        client.get("/api/unanswered", headers={"Authorization": f"Bearer {AUTHOR_TOKEN}"}),
        client.get("/api/openapi.json"),
        client.get("/api/nothing"),
        client.put("/api/comments"),
        client.options("/api/comments", headers={"Origin": SITE, "Access-Control-Request-Method": "POST"}),
        client.post("/api/comments", json=new_comment(), headers={"Origin": EVIL}),
        client.get("/healthz"),
    ]


def test_api_responses_are_nosniff_unframeable_data(client):
    for response in api_responses(client):
        assert_common_headers(response)
        assert_not_frameable(response)
        policy = csp(response)
        # JSON is data: nothing in it may load or run, should a browser ever render it.
        assert policy["default-src"] == ["'none'"], response.request.path
        assert response.headers.get("Referrer-Policy") == "same-origin"
        if response.status_code != 204 and response.data:
            assert response.mimetype == "application/json", (response.request.path, response.mimetype)


def test_reader_pages_feeds_and_widget_files_carry_headers_too(client):
    responses = [
        client.get("/comments/form", query_string={"thread": POST}),
        client.post("/comments/form", data={"thread": POST, "author_name": "Reader", "body": ""}),
        client.get("/comments/form", query_string={"thread": "/2023/01/closed/"}),
        client.get("/feeds/comments.atom"),
        client.get("/notify/unsubscribe/forged"),
    ]
    for response in responses:
        assert_common_headers(response)
        assert_not_frameable(response)
        assert_no_inline_script(response)
    # "no-referrer" would make the browser send "Origin: null" with the form page's own POST, which
    # the server refuses as a foreign write (test_widget_browser posts through it in Chromium).
    assert responses[0].headers["Referrer-Policy"] == "same-origin"
    assert client.post("/comments/form", data={"thread": POST, "author_name": "R", "body": "Hello"},
                       headers={"Origin": "null"}).status_code == 403
    for path, mimetype in (("/embed.js", "text/javascript"), ("/embed.css", "text/css")):
        response = client.get(path)
        assert response.mimetype == mimetype and response.headers["X-Content-Type-Options"] == "nosniff"
        # The site's pages load these from another origin.
        assert response.headers.get("Cross-Origin-Resource-Policy", "cross-origin") == "cross-origin"


# --- cookies --------------------------------------------------------------------------------------------


def set_cookies(response) -> list[str]:
    return response.headers.getlist("Set-Cookie")


def test_readers_never_get_a_cookie(client):
    for response in api_responses(client):
        assert set_cookies(response) == [], response.request.path
    for response in (client.get("/comments/form", query_string={"thread": POST}), client.get("/embed.js"),
                     client.post("/comments/form", data={"thread": POST, "author_name": "Reader", "body": "Hello"})):
        assert set_cookies(response) == [], response.request.path


def test_session_cookie_is_httponly_secure_samesite(app):
    add_author(app)
    client = app.test_client()
    response = login(client)
    cookies = set_cookies(response)
    assert len(cookies) == 1
    morsel = next(iter(http.cookies.SimpleCookie(cookies[0]).values()))
    assert morsel.key == "blogengine_dashboard"
    assert morsel["httponly"] and morsel["secure"] and morsel["samesite"] == "Lax" and morsel["path"] == "/"
    assert "Domain" not in cookies[0]  # host-only: no subdomain of the server's gets it


# --- the dashboard is same-origin only ------------------------------------------------------------------


def test_cors_is_never_granted_to_the_dashboard(app, logged_in):
    for origin in (SITE, EVIL):  # not even the site's own origin, which the API trusts
        for response in (
            logged_in.get("/dashboard/", headers={"Origin": origin}),
            logged_in.get("/dashboard/login", headers={"Origin": origin}),
            logged_in.options("/dashboard/", headers={"Origin": origin, "Access-Control-Request-Method": "POST"}),
            logged_in.options("/dashboard/comments/1/reply",
                              headers={"Origin": origin, "Access-Control-Request-Method": "POST"}),
            logged_in.get("/api/unanswered", headers={"Origin": origin}),
        ):
            assert "Access-Control-Allow-Credentials" not in response.headers, response.request.path
            if response.request.path.startswith("/dashboard/"):
                assert "Access-Control-Allow-Origin" not in response.headers, response.request.path


def state_changing_routes(app, comment_id: int) -> list[str]:
    """Every POST route of the dashboard, with a real comment id where one is needed."""
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith(f"{dashboard_bp.name}.") and "POST" in rule.methods:
            path = re.sub(r"<int:[a-z_]+>", str(comment_id), rule.rule)
            routes.append(re.sub(r"<[a-z_]+>", "token", path))
    return sorted(routes)


@pytest.mark.slow
def test_every_state_changing_dashboard_request_needs_its_csrf_token(app, logged_in):
    reader = logged_in.post("/api/comments", json=new_comment(body="Waiting for an answer")).get_json()
    routes = state_changing_routes(app, reader["id"])
    assert {"/dashboard/login", "/dashboard/logout", f"/dashboard/comments/{reader['id']}/reply",
            f"/dashboard/comments/{reader['id']}/delete"} <= set(routes)
    other = app.test_client()
    add_author(app, name="Bo Other", email="bo@example.com")
    assert login(other, name="Bo Other").status_code == 303
    foreign_token = csrf_token(other, "/dashboard/")
    for path in routes:
        data = {"body": "A forged reply", "until": "2030-01-01", "name": ANN["name"], "password": PASSWORD}
        for token in (None, "forged", foreign_token):
            sent = dict(data, **({"csrf_token": token} if token else {}))
            response = logged_in.post(path, data=sent, headers={"Origin": EVIL, "Referer": f"{EVIL}/attack"})
            assert response.status_code in (400, 403), (path, token, response.status_code)
        # A GET never changes anything.
        assert logged_in.get(path).status_code in (404, 405) or path.startswith("/dashboard/reply/") or \
            path == "/dashboard/login", path
    # Nothing happened: the comment is still there, unanswered, and the session still open.
    assert desk(app).storage.get_comment(reader["id"]).status.value == "published"
    assert [c["id"] for c in logged_in.get("/api/unanswered").get_json()["comments"]] == [reader["id"]]
    assert logged_in.get("/dashboard/").status_code == 200


def test_the_dashboard_cookie_gives_no_authority_to_api_writes(app, logged_in):
    """A page elsewhere can make the browser POST to the API with the cookie (SameSite=Lax aside):
    the API only takes author status from a bearer token, so that comment is a reader's."""
    response = logged_in.post("/api/comments", json=new_comment(author_name="Rita"))
    assert response.status_code == 201 and response.get_json()["is_author"] is False
    # Nor may it sign with the author's name: that is refused to every reader.
    response = logged_in.post("/api/comments", json=new_comment(author_name="Ann Author"))
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "reserved"
    response = logged_in.post("/api/threads/reload")
    assert response.status_code == 401


def test_foreign_origins_cannot_write_through_the_api_or_the_form(client):
    assert client.post("/api/comments", json=new_comment(), headers={"Origin": EVIL}).status_code == 403
    assert client.post("/comments/form", data={"thread": POST, "author_name": "R", "body": "Hello"},
                       headers={"Origin": EVIL}).status_code == 403
    response = client.options("/api/comments", headers={"Origin": EVIL, "Access-Control-Request-Method": "POST"})
    assert response.status_code == 403 and "Access-Control-Allow-Origin" not in response.headers


# --- secrets never reach the log ----------------------------------------------------------------------------


def run_cli(env, *args: str, stdin: str = "") -> str:
    result = subprocess.run([sys.executable, "-m", "comments_server", *args], env=env, input=stdin,
                            capture_output=True, text=True, timeout=60, cwd=REPO)
    assert result.returncode == 0, result.stderr
    return result.stdout + result.stderr


class Browser:
    """urllib with a cookie jar, for the live server."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def open(self, method: str, path: str, data: bytes | None = None, headers: dict[str, str] | None = None):
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers or {})
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read().decode()

    def form(self, path: str, fields: dict[str, str]):
        from urllib.parse import urlencode

        return self.open("POST", path, urlencode(fields).encode(),
                         {"Content-Type": "application/x-www-form-urlencoded"})


def test_secrets_never_reach_the_servers_log(tmp_path, manifest, live_servers):
    """Log in, fail to log in, use account and legacy API tokens, a wrong token, an edit token and a
    reply link against a real server (with an SMTP password set and its server down, so the mail
    sender logs), then read everything the server printed."""
    db_url = f"sqlite:///{tmp_path / 'secrets.sqlite3'}"
    legacy = "legacy-author-token-5f0e9a7c31"
    smtp_password = "smtp-password-8d1c44e2"
    env = server_env(
        SECRET_KEY=SECRET, DATABASE_URL=db_url, THREADS_MANIFEST=str(manifest), AUTHOR_TOKENS=legacy,
        RATE_LIMIT="off", READ_RATE_LIMIT="off", MIN_SUBMIT_SECONDS="off", SECURE_COOKIES="false",
        MAIL_HOST="127.0.0.1", MAIL_PORT=str(free_port()), MAIL_TLS="off", MAIL_USERNAME="mailer",
        MAIL_PASSWORD=smtp_password, MAIL_FROM="Blog <comments@blog.example.com>", MAIL_RETRY_SECONDS="1",
    )
    cli_output = run_cli(env, "migrate") + run_cli(env, "add-author", "Ann Author", "--email", "ann@example.com",
                                                     "--password-stdin", stdin=PASSWORD + "\n")
    token_output = run_cli(env, "add-token", "Ann Author", "--label", "ci")
    api_token = re.search(r"\bbec_[A-Za-z0-9_-]{20,}", token_output).group(0)
    assert PASSWORD not in cli_output

    port = free_port()
    # Werkzeug's access log, the app's log at every level and Python's warnings all go to this file.
    env["PYTHONWARNINGS"] = "default"
    server = live_servers.process(serve_command(port), port=port, env=env, log=tmp_path / "server.log",
                                  cwd=tmp_path, db_url=db_url)
    secrets = {"SECRET_KEY": SECRET, "password": PASSWORD, "wrong password": "not-the-password-123",
               "API token": api_token, "legacy token": legacy, "wrong token": "bec_wrong-token-value-123456",
               "SMTP password": smtp_password}
    try:
        author = Browser(server.url)
        status, _, page = author.open("GET", "/dashboard/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        assert author.form("/dashboard/login", {"name": "Ann Author", "password": secrets["wrong password"],
                                                "csrf_token": token})[0] == 401
        assert author.form("/dashboard/login", {"name": "ann@example.com", "password": PASSWORD,
                                                "csrf_token": token})[0] == 200  # followed to the dashboard
        session = next(c.value for c in author.jar if c.name == "blogengine_dashboard")
        secrets["session cookie"] = session
        secrets["CSRF token"] = token
        reader = Browser(server.url)
        status, _, body = reader.open("POST", "/api/comments", json.dumps(new_comment(
            body="Will you answer?", author_email="rita@example.org", notify_replies=True)).encode(),
            {"Content-Type": "application/json"})
        created = json.loads(body)
        secrets["edit token"] = created["edit_token"]
        assert reader.open("PATCH", f"/api/comments/{created['id']}", json.dumps({"body": "Edited?"}).encode(),
                           {"Content-Type": "application/json", "X-Edit-Token": created["edit_token"]})[0] == 200
        for bearer, expected in ((api_token, 200), (legacy, 200), (secrets["wrong token"], 401)):
            assert reader.open("GET", "/api/unanswered", headers={"Authorization": f"Bearer {bearer}"})[0] == expected
        assert reader.open("POST", "/api/threads/reload", headers={"Authorization": f"Bearer {api_token}"})[0] == 200
        status, _, page = author.open("GET", "/dashboard/")
        assert status == 200 and "Edited?" in page
        assert author.open("GET", "/dashboard/health")[0] == 200
        # The mail sender works in the background: let its first failed attempt reach the log.
        deadline = time.monotonic() + 30
        while "cannot reach the SMTP server" not in server.output() and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        server.stop()   # so that everything it printed is in the log
    log = server.output()
    assert "POST /dashboard/login" in log and "cannot reach the SMTP server" in log  # the log was written
    leaked = [name for name, value in secrets.items() if value in log]
    assert leaked == [], f"in the server log: {leaked}\n{log}"


@pytest.mark.slow
def test_secrets_never_reach_the_app_log_even_at_debug_level(app, caplog):
    add_author(app)
    caplog.set_level(logging.DEBUG)
    client = app.test_client()
    token = csrf_token(client)
    client.post("/dashboard/login", data={"name": ANN["name"], "password": "wrong-password-0000", "csrf_token": token})
    login(client)
    created = client.post("/api/comments", json=new_comment()).get_json()
    client.patch(f"/api/comments/{created['id']}", json={"body": "x"}, headers={"X-Edit-Token": created["edit_token"]})
    client.get("/api/unanswered", headers={"Authorization": f"Bearer {AUTHOR_TOKEN}"})
    client.get("/api/unanswered", headers={"Authorization": "Bearer wrong-token-0123456789"})
    text = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    for secret in (SECRET, PASSWORD, "wrong-password-0000", created["edit_token"], AUTHOR_TOKEN,
                   "wrong-token-0123456789", token):
        assert secret not in text
