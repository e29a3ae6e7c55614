"""Received Webmentions in a real Chromium: a comment server in a subprocess (its background job
runner verifying for real), a "remote" blog on 127.0.0.1 whose pages reply to, like and mention a
post of a built fixture site, and that post opened in the browser. The widget draws the remote
reply with its site and avatar, the likes as faces with a count, the mentions as links; and the
hostile corpus delivered as Webmentions runs nothing."""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from blogengine.build import BuildOptions, build
from blogengine.config import load_config
from tests.e2e.test_hostile_corpus import CORPUS
from tests.support.live import free_port, serve_folder
from tests.support.remote_blog import h_card, h_entry_page, running_remote_blog
from tests.support.site import NOW, post, write_files

pytest.importorskip("playwright.sync_api", reason="needs the playwright package")
THREAD = "/2024/01/a-post/"
SITE = """
title = "Webmention Blog"
base_url = "https://blog.example.com/"
timezone = "UTC"

[author]
name = "Ann Author"

[comments]
url = "{server}"
"""


def webmention(server: Any, source: str) -> None:
    data = urllib.parse.urlencode({"source": source, "target": "https://blog.example.com" + THREAD}).encode()
    with urllib.request.urlopen(urllib.request.Request(server.url + "/webmention", data=data), timeout=30) as r:
        assert r.status == 202


def thread(server: Any) -> dict[str, Any]:
    status, _, body = server.request("GET", f"/api/comments?thread={THREAD}")
    assert status == 200, body
    return json.loads(body)


def wait_for(server: Any, done: Any, timeout: float = 60) -> dict[str, Any]:
    """The thread once the server's own job runner has verified what was sent."""
    deadline = time.monotonic() + timeout
    while True:
        data = thread(server)
        if done(data):
            return data
        assert time.monotonic() < deadline, f"not verified in time: {data}\n{server.output()[-3000:]}"
        time.sleep(0.2)


def test_widget_draws_replies_reactions_and_mentions_and_hostile_ones_stay_inert(tmp_path: Path, live_servers,
                                                                                browser):
    port = free_port()
    root = tmp_path / "site"
    root.mkdir()
    (root / "blogengine.toml").write_text(SITE.format(server=f"http://127.0.0.1:{port}"))
    write_files(root, {"content/posts/a-post.md": post("A post", "2024-01-05", body="A post.")})
    build(load_config(root), BuildOptions(now=NOW))
    with running_remote_blog() as remote, serve_folder(root / "public") as site_url:
        server = live_servers.comments(tmp_path, port=port, THREADS_MANIFEST=str(root / "public/threads.json"),
                                       CORS_ORIGINS=site_url, SITE_URL="https://blog.example.com/",
                                       WEBMENTION_ALLOW_HOSTS="127.0.0.1", WEBMENTION_RATE_LIMIT="off",
                                       MAX_LINKS="off", MAX_NAME_LENGTH="off")
        target = "https://blog.example.com" + THREAD
        rita = h_card("Rita Remote", remote.url + "/", remote.url + "/rita.jpg")
        reply = remote.page("/re", h_entry_page(about=target, author=rita, content_html="<p>Lovely <em>post</em></p>"))
        like = remote.page("/like", h_entry_page(kind_property="u-like-of", about=target, content_html="",
                                                 author=h_card("Liz", remote.url + "/liz")))
        mention = remote.page("/links", f'<html><head><title>Good links</title></head><body>'
                                        f'<a href="{target}">this</a></body></html>')
        hostile = []
        for n, item in enumerate(CORPUS):
            payload = item["payload"]
            author = (f'<span class="p-author h-card"><a class="u-url" href="{payload.replace(chr(34), "&quot;")}">'
                      f'<span class="p-name">{payload.replace("&", "&amp;").replace("<", "&lt;")}</span></a></span>')
            hostile.append(remote.page(f"/hostile/{n}", h_entry_page(about=target, author=author,
                                                                     content_html=payload, title=payload)))
        for source in (reply, like, mention, *hostile):
            webmention(server, source)
        data = wait_for(server, lambda d: d["count"] == len(CORPUS) + 1 and len(d["mentions"]) == 2)

        context = browser.new_context()
        page = context.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.goto(site_url + THREAD)
        page.wait_for_selector("#comments.bec-live")
        rita_id = next(c["id"] for c in data["comments"] if c["origin_url"] == reply)
        item = page.locator(f"#comment-{rita_id}")
        assert "bec-remote" in item.get_attribute("class")
        assert item.locator(".bec-author").text_content() == "Rita Remote"
        assert item.locator(".bec-origin").get_attribute("href") == reply
        assert item.locator(".bec-origin").text_content() == "on 127.0.0.1"
        assert item.locator(".bec-avatar").get_attribute("src") == remote.url + "/rita.jpg"
        assert item.locator(".bec-text").inner_html() == "<p>Lovely <em>post</em></p>"
        assert page.locator(".bec-reactions .bec-likes .bec-reaction-count").text_content() == "1 like"
        assert page.locator(".bec-reactions .bec-likes .bec-face").get_attribute("title") == "Liz"
        assert page.locator(".bec-mentions a").text_content() == "Good links"
        assert page.locator(".bec-mentions a").get_attribute("href") == mention
        assert page.locator("#comments li.bec-comment").count() == len(CORPUS) + 1
        # Nothing the hostile pages said ran or became markup that can run.
        page.wait_for_timeout(500)
        assert dialogs == []
        risky = page.evaluate("""() => {
            const found = [];
            for (const node of document.querySelectorAll('#comments .bec-text *, #comments .bec-meta *')) {
                const tag = node.tagName.toLowerCase();
                if (['script', 'iframe', 'object', 'embed', 'svg', 'math', 'form', 'style', 'base', 'meta', 'link']
                        .includes(tag)) found.push(tag);
                for (const attr of node.attributes) {
                    if (attr.name.startsWith('on') || attr.name === 'style') found.push(tag + ' ' + attr.name);
                    if (['href', 'src'].includes(attr.name) && !/^(https?:|mailto:|#)/i.test(attr.value.trim()))
                        found.push(tag + ' ' + attr.name + '=' + attr.value);
                }
            }
            return found;
        }""")
        assert risky == []
        context.close()
