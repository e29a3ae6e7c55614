"""The reader's path without JavaScript, in a real Chromium: the demo site served by `blogengine
serve` (its comment server on the same origin, default settings: form tokens and rate limits on),
and the same site built into public/ and served by a plain static server (no comment server)."""

from __future__ import annotations

import re
import time

from collections.abc import Iterator

import pytest

from blogengine.build import BuildOptions, build
from blogengine.config import load_config
from tests.support.live import LiveServers, serve_folder
from tests.support.reader_site import POST_PATH, Demo, start_demo

expect = pytest.importorskip("playwright.sync_api", reason="needs the playwright package").expect


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, module_live_servers: LiveServers) -> Demo:
    return start_demo(module_live_servers, tmp_path_factory.mktemp("reader-path"))


@pytest.fixture(scope="module")
def preview(demo: Demo) -> Iterator[str]:
    """The demo site built into public/ (its conversations baked in) on a plain static server."""
    build(load_config(demo.root), BuildOptions())
    with serve_folder(demo.root / "public") as url:
        yield url


def test_reader_without_javascript_posts_the_baked_form_once_and_sees_their_comment(demo, browser):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(demo.url + POST_PATH)
    form = page.locator("#comments form.bec-form-new")
    assert form.locator("input[name=form_token]").count() == 0   # static: the baked form has no token
    page.fill("#bec-body", "Read it twice, then *commented*.")
    page.fill("#bec-author_name", "Noor")
    page.click("#comments button[type=submit]")   # at once: no waiting for a minimum time
    page.wait_for_url(lambda url: url.startswith(demo.url + "/comments/posted?"))
    mine = page.locator("#comments .bec-thread .bec-comment")
    expect(mine).to_have_count(1)
    assert mine.locator(".bec-text").inner_html() == "<p>Read it twice, then <em>commented</em>.</p>"
    assert mine.locator(".bec-author").text_content() == "Noor"
    # serve publishes on comment: the page says when, and the static post has it by then
    expect(page.locator(".bec-posted")).to_contain_text(
        re.compile(r"It will be on the post (in a moment|in about \d+ seconds)\."))
    expect(page.locator("a.site-title")).to_have_text("The Coffee Table")   # in the site's theme
    comment_id = int((mine.get_attribute("id") or "").removeprefix("comment-"))
    assert comment_id in [c["id"] for c in demo.thread()["comments"]]
    page.click("a.bec-back")
    page.wait_for_url(f"{demo.url}{POST_PATH}#comment-{comment_id}")
    baked = page.locator(f"#comment-{comment_id} .bec-author")   # baked into the static page
    deadline = time.monotonic() + 15
    while baked.count() == 0 and time.monotonic() < deadline:
        page.wait_for_timeout(300)
        page.reload()
    expect(baked).to_have_text("Noor")
    context.close()


def test_reply_link_without_javascript_shows_the_comment_answered(demo, browser):
    first = demo.thread()["comments"][0]
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(demo.url + POST_PATH)
    page.locator(f"#comment-{first['id']} > .bec-item a.bec-reply").click()
    page.wait_for_url(lambda url: url.startswith(demo.url + "/comments/form?"))
    answered = page.locator(".bec-answering")
    expect(answered.locator(".bec-author")).to_have_text(first["author_name"])
    expect(answered.locator(".bec-text")).to_have_text(
        page.evaluate("html => { const d = document.createElement('div'); d.innerHTML = html; return d.textContent; }",
                      first["body_html"]))
    assert page.locator("input[name=parent_id]").input_value() == str(first["id"])
    context.close()


def test_static_preview_with_javascript_says_comments_need_the_comment_server(preview, browser):
    context = browser.new_context()
    page = context.new_page()
    page.goto(preview + POST_PATH)
    expect(page.locator("#comments .bec-offline")).to_be_visible()
    expect(page.locator("#comments .bec-offline")).to_contain_text("blogengine serve")
    expect(page.locator("#comments .bec-new")).to_be_hidden()
    expect(page.locator("#comments .bec-actions").first).to_be_hidden()
    expect(page.locator("#comments .bec-thread .bec-comment").first).to_be_visible()   # baked
    context.close()


def test_static_preview_without_javascript_hides_the_honeypot_and_styles_the_form(preview, browser):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(preview + POST_PATH)
    expect(page.locator("#comments .bec-new")).to_be_visible()
    expect(page.locator("#comments .bec-offline")).to_be_hidden()
    trap = page.locator("#comments .bec-hp").bounding_box()
    assert trap is not None and trap["x"] + trap["width"] <= 0   # off-screen, as embed.css puts it
    form = page.locator("#comments form.bec-form-new").bounding_box()
    body = page.locator("#bec-body").bounding_box()
    assert form is not None and body is not None and abs(body["width"] - form["width"]) < 1   # full width
    label = page.locator("label[for=bec-author_name]").bounding_box()
    field = page.locator("#bec-author_name").bounding_box()
    assert label is not None and field is not None and label["y"] + label["height"] <= field["y"] + 1
    context.close()
