"""Deploy tells a real comment server to reload threads.json, so a new post takes comments at once."""

from __future__ import annotations

import contextlib
import http.server
import json
import re
import threading
import urllib.error
import urllib.request

import pytest

from blogengine.deploy.comments import reload_threads
from blogengine.errors import DeployError
from comments_server.app import create_app
from tests.support.deploy import deploy, make_deploy_site, one_line_error, snapshot
from tests.support.live import serve_folder, serve_wsgi
from tests.support.site import post, write_files

TOKEN = "deploy-token-0123456789abcdef"
NEW_THREAD = "/2024/07/third-post/"


@pytest.fixture
def setup(tmp_path):
    """A site deployed to www/, www/ served over http, and a comment server whose manifest is
    www/threads.json by URL, fetched again only every hour."""
    site = make_deploy_site(tmp_path / "site", '[deploy]\ntarget = "dir"\n[deploy.dir]\npath = "../www"\n')
    assert deploy(site).exit_code == 0
    with serve_folder(tmp_path / "www") as www:
        app = create_app({
            "SECRET_KEY": "test-secret-key-0123456789-abcdefghij",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'comments.sqlite3'}",
            "THREADS_MANIFEST": f"{www}/threads.json",
            "THREADS_MANIFEST_TTL": 3600,
            "AUTHOR_TOKENS": [TOKEN],
            "RATE_LIMIT": None, "READ_RATE_LIMIT": None, "MIN_SUBMIT_SECONDS": None,
        })
        with serve_wsgi(app) as url:
            config = site / "blogengine.toml"
            config.write_text(config.read_text().replace(
                "[deploy]\n", "[deploy]\nreload_comments = true\n")
                + f'\n[comments]\nurl = "{url}"\n')
            write_files(site, {"content/posts/third.md": post("Third post", "2024-07-01")})
            yield site, url


def thread_status(url, path):
    try:
        with urllib.request.urlopen(f"{url}/api/comments?thread={path}", timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.slow
def test_deploy_reloads_the_comment_servers_manifest(setup):
    site, url = setup
    assert thread_status(url, NEW_THREAD) == 404
    result = deploy(site, env={"BLOGENGINE_COMMENTS_TOKEN": TOKEN})
    assert result.exit_code == 0, result.output
    manifest = json.loads((site.parent / "www/threads.json").read_text())
    assert NEW_THREAD in [t["path"] for t in manifest["threads"]]
    assert f"The comment server reloaded threads.json ({len(manifest['threads'])} threads)." \
        in result.output
    assert thread_status(url, NEW_THREAD) == 200


@pytest.mark.slow
def test_deploy_with_a_wrong_token_deploys_and_says_the_server_was_not_told(setup):
    site, url = setup
    result = deploy(site, "--comments-token", "not-the-token")
    error = one_line_error(result)
    assert "the site was deployed, but the comment server did not reload threads.json" in error
    assert "answered 401" in error and "not valid" in error
    assert f"new      {NEW_THREAD[1:]}index.html" in result.output   # what was deployed, first
    assert "Deployed to dir" in result.output
    assert (site.parent / f"www{NEW_THREAD}index.html").is_file()
    assert thread_status(url, NEW_THREAD) == 404


def test_deploy_without_a_token_stops_before_building(setup):
    site, url = setup
    before = snapshot(site.parent / "www")
    error = one_line_error(deploy(site, env={"BLOGENGINE_COMMENTS_TOKEN": ""}))
    assert "reload_comments is on, but no author API token" in error
    assert "BLOGENGINE_COMMENTS_TOKEN" in error
    assert snapshot(site.parent / "www") == before


@pytest.mark.slow
def test_dry_run_does_not_call_the_comment_server(setup):
    site, url = setup
    result = deploy(site, "--dry-run", env={"BLOGENGINE_COMMENTS_TOKEN": ""})
    assert result.exit_code == 0, result.output
    assert "reloaded" not in result.output
    assert thread_status(url, NEW_THREAD) == 404


@pytest.mark.slow
def test_deploy_with_an_unreachable_comment_server(setup):
    site, _url = setup
    config = site / "blogengine.toml"
    config.write_text(re.sub(r'url = "http://127.0.0.1:\d+"', 'url = "http://127.0.0.1:1"',
                             config.read_text()))
    error = one_line_error(deploy(site, env={"BLOGENGINE_COMMENTS_TOKEN": TOKEN}))
    assert "the site was deployed, but the comment server did not reload threads.json" in error
    assert "cannot reach http://127.0.0.1:1" in error


# --- the author token stays with the comment server (issue 13 item 8) ---------------------------


class _Recorder(http.server.BaseHTTPRequestHandler):
    """Answers every request with `redirect_to` (a 302) or records the Authorization it got."""

    redirect_to = ""
    status = 302
    seen: list = []

    def _answer(self):
        if self.redirect_to:
            self.send_response(self.status)
            self.send_header("Location", self.redirect_to)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        type(self).seen.append((self.command, self.path, self.headers.get("Authorization")))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"threads": 1}')

    do_GET = do_POST = _answer

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def recorder(redirect_to=""):
    handler = type("Handler", (_Recorder,), {"redirect_to": redirect_to, "seen": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", handler
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_reload_does_not_follow_a_redirect_with_the_token(status):
    """`deploy` sent the comment-server token on to wherever the reload URL redirected."""
    with recorder() as (thief, stolen), recorder(redirect_to=f"{thief}/collect") as (server, redirector):
        redirector.status = status
        with pytest.raises(DeployError, match="not followed"):
            reload_threads(server, TOKEN, timeout=5)
    assert stolen.seen == []


def test_reload_sends_the_token_only_over_https_or_to_this_machine():
    with pytest.raises(DeployError, match="https"):
        reload_threads("http://comments.example.com", TOKEN, timeout=5)
    with recorder() as (server, handler):
        assert reload_threads(server, TOKEN, timeout=5) == 1
    assert handler.seen == [("POST", "/api/threads/reload", f"Bearer {TOKEN}")]
