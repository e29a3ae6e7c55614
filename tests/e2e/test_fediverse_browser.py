"""Fediverse replies in the widget, in a real Chromium: a built site served over HTTP, the comment
server on a werkzeug thread (its SQLite file polled from a fake Mastodon on 127.0.0.1), and the
default theme's comment section. The replies arrive after the build, so the widget draws them:
handle, avatar, "via fediverse"; then the hostile corpus as status content, names and URLs runs
nothing and leaves nothing script-capable in the section."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from blogengine.build import BuildOptions, build
from blogengine.config import load_config
from comments_server.app import create_app
from comments_server.services import services
from tests.e2e.test_hostile_corpus import CORPUS
from tests.support.live import serve_folder, serve_wsgi
from tests.support.mastodon import fake_mastodon
from tests.support.server import NO_LIMITS, SECRET
from tests.support.site import NOW, post, write_files

pytest.importorskip("playwright.sync_api", reason="needs the playwright package")
THREAD = "/2024/05/a-post/"
CONFIG = """
title = "Fediverse Blog"
base_url = "https://blog.example.com/"
timezone = "UTC"

[author]
name = "Ann Author"

[comments]
url = "{server}"
"""

# Whatever is found in the comment section after the widget drew it, that could run script.
AUDIT_JS = """() => {
  const found = [];
  for (const node of document.querySelectorAll('#comments .bec-thread *')) {
    const tag = node.tagName.toLowerCase();
    if (['script', 'iframe', 'object', 'embed', 'svg', 'math', 'form', 'style', 'base', 'meta', 'link'].includes(tag))
      found.push('<' + tag + '>');
    for (const attr of node.attributes) {
      const name = attr.name.toLowerCase(), value = attr.value.replace(/[\\x00-\\x20]/g, '').toLowerCase();
      if (name.startsWith('on') || name === 'style' || name === 'srcdoc') found.push(tag + ' ' + name);
      if (['href', 'src', 'action', 'formaction'].includes(name) && !/^(https?:|mailto:|#|$)/.test(value))
        found.push(tag + ' ' + name + '=' + value);
    }
  }
  return found;
}"""


def build_site(root: Path) -> None:
    build(load_config(root), BuildOptions(now=NOW))


@pytest.fixture
def world(tmp_path):
    """The fake Mastodon with an announcement, the site naming it, the comment server; yields
    (mastodon, announcement, site URL, app)."""
    with fake_mastodon() as mastodon:
        mastodon.account("ann", "Ann Author")
        announced = mastodon.status("ann", "<p>New post</p>")
        root = tmp_path / "site"
        root.mkdir()
        (root / "blogengine.toml").write_text(CONFIG.format(server="http://127.0.0.1:9/"))
        write_files(root, {"content/posts/a-post.md": post("A post", "2024-05-01", "Read me.",
                                                           fediverse=announced["url"])})
        build_site(root)   # threads.json, for the server
        with serve_folder(root / "public") as site_url:
            app = create_app({"SECRET_KEY": SECRET, "DATABASE_URL": f"sqlite:///{tmp_path / 'comments.sqlite3'}",
                              "THREADS_MANIFEST": str(root / "public" / "threads.json"), "CORS_ORIGINS": [site_url],
                              "FEDIVERSE_ALLOW_HOSTS": [mastodon.host], "JOBS_IN_BACKGROUND": False,
                              "MAX_LINKS": None, "MAX_NAME_LENGTH": None, **NO_LIMITS})
            with serve_wsgi(app) as server_url:
                (root / "blogengine.toml").write_text(CONFIG.format(server=server_url + "/"))
                build_site(root)   # the page with the widget, before any reply came in
                yield mastodon, announced, site_url, app


def poll(app) -> None:
    svc = services(app)
    svc.jobs.run_due(svc)
    job = svc.storage.jobs.find("fediverse-poll", THREAD)
    svc.storage.jobs.enqueue("fediverse-poll", THREAD, job.payload, svc.clock(), svc.clock())
    svc.jobs.run_due(svc)


def open_thread(browser: Any, url: str) -> tuple[Any, Any, list[str]]:
    context = browser.new_context()
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(url + THREAD)
    page.wait_for_selector("#comments.bec-live")
    return context, page, dialogs


def test_the_widget_shows_handle_avatar_and_a_link_to_the_status(world, browser):
    mastodon, announced, site_url, app = world
    mastodon.account("bob", "Bob Builder")
    reply = mastodon.status("bob", "<p>Nice <b>post</b>!</p>", in_reply_to=announced["id"])
    poll(app)
    context, page, dialogs = open_thread(browser, site_url)
    item = page.locator("#comments li.bec-comment")
    item.wait_for()
    assert item.locator(".bec-author").text_content() == "Bob Builder"
    assert item.locator(".bec-handle").text_content() == "@bob@127.0.0.1"
    origin = item.locator(".bec-origin")
    assert origin.text_content() == "via fediverse" and origin.get_attribute("href") == reply["url"]
    avatar = item.locator("img.bec-avatar")
    assert avatar.get_attribute("src") == f"{mastodon.url}/avatars/bob.png"
    assert (avatar.get_attribute("loading"), avatar.get_attribute("width")) == ("lazy", "24")
    assert item.locator(".bec-text").inner_html().strip() == "<p>Nice post!</p>"
    assert dialogs == []
    context.close()


def test_the_hostile_corpus_as_statuses_runs_nothing_in_the_widget(world, browser):
    mastodon, announced, site_url, app = world
    for n, item in enumerate(CORPUS):
        payload = item["payload"]
        account = mastodon.account(f"h{n}", payload)
        account["display_name"], account["url"], account["avatar"] = payload, payload, payload
        mastodon.status(f"h{n}", payload, in_reply_to=announced["id"])
    poll(app)
    context, page, dialogs = open_thread(browser, site_url)
    page.wait_for_function(f"document.querySelectorAll('#comments li.bec-comment').length === {len(CORPUS)}")
    page.wait_for_timeout(500)   # give any planted handler or timer its chance
    assert page.evaluate(AUDIT_JS) == []
    assert dialogs == []
    # The audit sees what it looks for.
    page.evaluate("document.querySelector('#comments .bec-text').insertAdjacentHTML('beforeend', "
                  "'<img src=x onerror=1><a href=javascript:1>x</a>')")
    assert sorted(page.evaluate(AUDIT_JS)) == ["a href=javascript:1", "img onerror", "img src=x"]
    assert page.locator("#comments .bec-origin").count() == len(CORPUS)
    context.close()
