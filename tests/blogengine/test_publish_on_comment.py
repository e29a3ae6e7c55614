"""Publish on comment, end to end: a reader posts the baked form without JavaScript, and within
seconds the static page itself carries the comment: under `blogengine serve`, and in production
with the comment server running PUBLISH_COMMAND (`blogengine build`) beside a static host."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from bs4 import BeautifulSoup

from tests.support.live import free_port, server_env, serve_folder
from tests.support.site import BASIC_CONFIG, post

POST_PATH = "/2024/01/hello/"
BODY = "A reader's question, posted without JavaScript: does this reach the static page?"


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def submit_baked_form(page_url: str, comment_server: str) -> int:
    """Fill the post page's own comment form as a reader would and send it (no JavaScript, so
    no form token: exactly the fields the static page carries)."""
    form = BeautifulSoup(fetch(page_url), "html.parser").select_one("form.bec-form-new")
    assert form is not None, "the post page has no comment form"
    fields = {field["name"]: field.get("value", "") for field in form.select("input[name]")
              if field.get("type") != "checkbox"}
    fields.update(author_name="Ines Reader", author_email="ines@example.org", body=BODY)
    action = urllib.parse.urljoin(comment_server + "/", form["action"])
    request = urllib.request.Request(action, data=urllib.parse.urlencode(fields).encode(), method="POST",
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def wait_for_text(url: str, text: str, timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if text in fetch(url):
            return time.monotonic() - started
        time.sleep(0.2)
    pytest.fail(f"{url} did not show the comment within {timeout:.0f} s")


@pytest.fixture
def site(make_site):
    return make_site({"content/posts/hello.md": post("Hello", "2024-01-01", body="Ask me anything.")},
                     config=BASIC_CONFIG.replace("https://blog.example.com/", "http://127.0.0.1:8000/")
                     + "\n[comments]\nenabled = true\n")


def test_under_serve_a_no_js_comment_is_on_the_served_page_within_seconds(site, live_servers):
    port = free_port()
    server = live_servers.process([sys.executable, "-m", "blogengine", "serve", "--port", str(port)],
                                  port=port, cwd=site, env=server_env(), log=site.parent / "serve.log",
                                  health="/")
    page = server.url + POST_PATH
    assert BODY not in fetch(page)
    assert submit_baked_form(page, server.url) in (201, 303)
    waited = wait_for_text(page, BODY, timeout=15)
    assert waited < 15
    assert "comments changed" in server.output()


def test_in_production_the_publish_command_rebuilds_the_static_site(site, live_servers):
    build = [sys.executable, "-m", "blogengine", "build"]
    subprocess.run(build, cwd=site, check=True, capture_output=True)
    comments = live_servers.comments(
        site, PUBLISH_COMMAND=" ".join(build), PUBLISH_DEBOUNCE_SECONDS="1", SITE=str(site),
        SITE_URL="http://127.0.0.1:8000/", MIN_SUBMIT_SECONDS=None, RATE_LIMIT="off")
    with serve_folder(site / "public") as static:
        page = static + POST_PATH
        assert BODY not in fetch(page)
        assert submit_baked_form(page, comments.url) in (201, 303)
        wait_for_text(page, BODY, timeout=60)
    assert "PUBLISH_COMMAND exited" not in comments.output()
