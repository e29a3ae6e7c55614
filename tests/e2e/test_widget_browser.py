"""The comment widget in a real Chromium: built fixture sites served over HTTP, a real comment server
started in a subprocess on a free port with a SQLite file, and the default theme's comment section."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from blogengine.build import BuildOptions, build
from blogengine.config import load_config
from tests.support import REPO
from tests.support.browser import axe_violations
from tests.support.live import LiveServer, LiveServers, free_port, serve_folder
from tests.support.server import AUTHOR_TOKEN
from tests.support.site import NOW, post, read_html, write_files

expect = pytest.importorskip("playwright.sync_api", reason="needs the playwright package").expect
ARTIFACTS = REPO / "test-artifacts"
SITE_CONFIG = """
title = "Widget Blog"
base_url = "https://blog.example.com/"
language = "{language}"
timezone = "{timezone}"
posts_per_page = 20

[author]
name = "Ann Author"

[comments]
url = "{server}"
"""
TITLES = ["A conversation", "Posting", "Editing", "Errors", "No script", "Keyboard", "French", "Limits",
          "Counted", "Light", "Dark", "Closing", "Deep", "Same markup"]
FILES = {f"content/posts/{i}.md": post(title, f"2024-01-{i + 1:02d}", tags="[talk]",
                                       body=f"The post called {title}.")
         for i, title in enumerate(TITLES)}


def thread_of(title: str) -> str:
    return f"/2024/01/{title.lower().replace(' ', '-')}/"


@dataclass
class Site:
    root: Path
    url: str = ""

    def rebuild(self) -> None:
        build(load_config(self.root), BuildOptions(now=NOW))

    def page_url(self, title: str) -> str:
        return self.url + thread_of(title)

    def html(self, title: str) -> Any:
        return read_html(self.root / "public" / thread_of(title).strip("/") / "index.html")


@dataclass
class World:
    server: LiveServer
    sites: dict[str, Site] = field(default_factory=dict)

    def comment(self, title: str, *, author: bool = False, **fields: Any) -> dict[str, Any]:
        """Post a comment through the API (as the author with the Bearer token); its JSON."""
        data = {"thread": thread_of(title), "body": "A comment.", **fields}
        if not author:  # the author's name comes from the post
            data.setdefault("author_name", "Reader")
        headers = {"Authorization": f"Bearer {AUTHOR_TOKEN}"} if author else {}
        status, _, body = self.server.request("POST", "/api/comments", data, headers)
        assert status == 201, body
        return json.loads(body)

    def thread(self, title: str) -> dict[str, Any]:
        status, _, body = self.server.request("GET", f"/api/comments?thread={thread_of(title)}")
        assert status == 200, body
        return json.loads(body)


def make_site(root: Path, language: str, server_url: str, timezone: str = "UTC") -> Site:
    root.mkdir(parents=True)
    (root / "blogengine.toml").write_text(SITE_CONFIG.format(language=language, server=server_url, timezone=timezone))
    write_files(root, FILES)
    site = Site(root)
    site.rebuild()  # the server is not up yet: the pages get the form alone (and threads.json)
    return site


def start_comment_server(servers: LiveServers, tmp: Path, port: int, manifest: Path, origins: list[str],
                         site_url: str, **limits: str) -> LiveServer:
    return servers.comments(tmp, port=port, THREADS_MANIFEST=str(manifest), CORS_ORIGINS=",".join(origins),
                            SITE_URL=site_url, **limits)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, module_live_servers: LiveServers) -> Iterator[World]:
    """An English site (in UTC) and a French one (in Paris time) on one comment server, limits off."""
    tmp = tmp_path_factory.mktemp("widget")
    port = free_port()
    server_url = f"http://127.0.0.1:{port}"
    en = make_site(tmp / "en", "en", server_url)
    fr = make_site(tmp / "fr", "fr", server_url, timezone="Europe/Paris")
    with serve_folder(en.root / "public") as en.url, serve_folder(fr.root / "public") as fr.url:
        server = start_comment_server(module_live_servers, tmp, port, en.root / "public/threads.json",
                                      [en.url, fr.url], en.url + "/")
        yield World(server, {"en": en, "fr": fr})
        server.stop()   # before the sites it serves go


@pytest.fixture
def page(browser, world):
    context = browser.new_context()
    yield context.new_page()
    context.close()


def open_post(page: Any, site: Site, title: str) -> None:
    page.goto(site.page_url(title))
    page.wait_for_selector("#comments.bec-live")


def comment_ids(page: Any) -> list[int]:
    return [int(i.removeprefix("comment-")) for i in page.eval_on_selector_all(
        "#comments li.bec-comment", "nodes => nodes.map(n => n.id)")]


def focused(page: Any) -> str:
    return page.evaluate("document.activeElement.name || document.activeElement.id || ''")


def main_form(page: Any) -> Any:
    return page.locator("#comments .bec-form-new")


def write_comment(form: Any, body: str, name: str | None = "Rosa", **fields: str) -> None:
    form.locator("textarea[name=body]").fill(body)
    if name is not None:
        form.locator("input[name=author_name]").fill(name)
    for key, value in fields.items():
        form.locator(f"input[name={key}]").fill(value)


# --- reading ---------------------------------------------------------------------------------


def test_baked_conversation_is_there_without_javascript_and_the_widget_takes_it_over(world, browser):
    en = world.sites["en"]
    question = world.comment("A conversation", author_name="Tomás", body="Why *this* way?")
    answer = world.comment("A conversation", author=True, parent_id=question["id"], body="Because it **lasts**.")
    thanks = world.comment("A conversation", author_name="Rosa <b>", author_url="https://rosa.example/",
                           parent_id=answer["id"], body="Thanks!")
    en.rebuild()
    ids = [question["id"], answer["id"], thanks["id"]]

    soup = en.html("A conversation")
    baked = soup.select("#comments li.bec-comment")
    assert [li["id"] for li in baked] == [f"comment-{i}" for i in ids]
    assert soup.select_one("#comments .bec-summary").get_text() == "3 comments"
    assert soup.select_one(f"#comment-{question['id']} > .bec-replies > #comment-{answer['id']}")
    assert soup.select_one(f"#comment-{answer['id']} > .bec-replies > #comment-{thanks['id']}")
    assert [b.find_parent("li")["id"] for b in soup.select(".bec-badge")] == [f"comment-{answer['id']}"]
    assert soup.select_one(f"#comment-{question['id']} .bec-text em").get_text() == "this"
    rosa = soup.select_one(f"#comment-{thanks['id']} .bec-author")
    assert rosa.get_text() == "Rosa <b>" and rosa["href"] == "https://rosa.example/"
    assert soup.select_one(f"#comment-{thanks['id']} time")["datetime"] == thanks["created_at"]
    reply_link = soup.select_one(f"#comment-{thanks['id']} a.bec-reply")["href"]
    assert reply_link.startswith(world.server.url + "/comments/form?thread=") and \
        reply_link.endswith(f"parent_id={thanks['id']}")

    context = browser.new_context(java_script_enabled=False)
    nojs = context.new_page()
    nojs.goto(en.page_url("A conversation"))
    assert nojs.locator(f"#comment-{answer['id']} .bec-badge").inner_text() == "AUTHOR"  # CSS uppercases
    assert nojs.locator(f"#comment-{thanks['id']} .bec-text").inner_text() == "Thanks!"
    context.close()

    context = browser.new_context()
    page = context.new_page()
    page.goto(en.page_url("A conversation") + f"#comment-{thanks['id']}")
    page.wait_for_selector("#comments.bec-live")
    assert comment_ids(page) == ids  # the same tree, each comment once
    assert page.locator(f"#comment-{question['id']} > .bec-replies > #comment-{answer['id']}").count() == 1
    assert page.locator(f"#comment-{answer['id']} > .bec-replies > #comment-{thanks['id']}").count() == 1
    assert page.locator(".bec-badge").count() == 1
    assert page.locator(f"#comment-{answer['id']} .bec-badge").text_content() == "Author"
    time = page.locator(f"#comment-{thanks['id']} time")
    assert time.get_attribute("title").startswith("just now · ")  # then the date and time, as baked
    assert time.get_attribute("datetime") == thanks["created_at"] and "20" in time.text_content()
    assert page.locator(f"#comment-{thanks['id']} .bec-author").text_content() == "Rosa <b>"
    assert page.locator("#comments a.bec-reply").count() == 3 and page.locator("button.bec-reply").count() == 0
    # A permalink in the address: that comment is highlighted and focused.
    assert focused(page) == f"comment-{thanks['id']}"
    assert "bec-highlight" in page.locator(f"#comment-{thanks['id']}").get_attribute("class")
    page.locator(f"#comment-{question['id']} > .bec-item .bec-permalink").click()
    assert page.evaluate("location.hash") == f"#comment-{question['id']}"
    assert focused(page) == f"comment-{question['id']}"
    assert "bec-highlight" in page.locator(f"#comment-{question['id']}").get_attribute("class")
    context.close()


# The comment section's parts the theme bakes and the widget draws, as a tree of [tag, attributes,
# children]; text nodes as they are, except whitespace alone (the template's indentation).
SECTION_TREE = """section => {
    const walk = node => node.nodeType === Node.TEXT_NODE ? (node.data.trim() ? node.data : null) :
        node.nodeType !== Node.ELEMENT_NODE ? null :
        [node.localName, Object.fromEntries([...node.attributes].map(a => [a.name, a.value])),
         [...node.childNodes].map(walk).filter(child => child !== null)];
    return [...section.querySelectorAll(':scope > .bec-summary, :scope > .bec-thread')].map(walk);
}"""


def without_relative_times(tree: Any, baked: Any) -> Any:
    """The widget's tree with the one thing that legitimately differs taken out: a time's title
    starts with how long ago it was ("3 days ago · "), which a static page cannot know."""
    if not isinstance(tree, list):
        return tree
    tag, attrs, children = tree
    if tag == "time" and isinstance(baked, list) and baked[0] == "time":
        relative, sep, exact = attrs["title"].partition(" · ")
        assert sep and relative and exact == baked[1]["title"], (attrs["title"], baked[1]["title"])
        attrs = {**attrs, "title": exact}
    twins = baked[2] if isinstance(baked, list) and len(baked[2]) == len(children) else [None] * len(children)
    return [tag, attrs, [without_relative_times(child, twin) for child, twin in zip(children, twins, strict=True)]]


@pytest.mark.parametrize("language", ["en", "fr"])
def test_baked_and_widget_markup_are_the_same_for_one_conversation(world, browser, language):
    """Nested replies, the author's badge, an author's web address, an edited comment and a
    deleted one with a reply below it: the page without JavaScript and the widget's rendering of
    the thread from the API give the same elements, classes, attributes and text."""
    title = "Same markup"
    if not world.thread(title)["comments"]:
        question = world.comment(title, author_name="Tomás <i>", author_url="https://tomas.example/",
                                 body="Why *this* way?\n\n> a quote\n\nSee [the docs](https://example.com/docs).")
        answer = world.comment(title, author=True, parent_id=question["id"], body="Because it **lasts**.")
        world.comment(title, author_name="Rosa", parent_id=answer["id"], body="Thanks! `code` too.")
        edited = world.comment(title, author_name="Kim", body="First thoughts.")
        status, _, _ = world.server.request("PATCH", f"/api/comments/{edited['id']}", {"body": "Second *thoughts*."},
                                            {"X-Edit-Token": edited["edit_token"]})
        assert status == 200
        gone = world.comment(title, author_name="Sam", body="Never mind.")
        world.comment(title, author_name="Lee", parent_id=gone["id"], body="Too late, I read it.")
        status, _, _ = world.server.request("DELETE", f"/api/comments/{gone['id']}",
                                            headers={"X-Edit-Token": gone["edit_token"]})
        assert status == 204
    site = world.sites[language]
    site.rebuild()

    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(site.page_url(title))
    baked = page.eval_on_selector("#comments", SECTION_TREE)
    context.close()
    context = browser.new_context()  # a new reader: none of these comments is theirs
    page = context.new_page()
    open_post(page, site, title)
    drawn = page.eval_on_selector("#comments", SECTION_TREE)
    context.close()

    summary, thread = baked
    assert summary == ["p", {"class": "bec-summary"}, [{"en": "5 comments", "fr": "5 commentaires"}[language]]]
    assert len(thread[2]) == 3 and "bec-edited" in json.dumps(thread) and "bec-badge" in json.dumps(thread)
    assert "bec-deleted" in json.dumps(thread) and "https://tomas.example/" in json.dumps(thread)
    assert [without_relative_times(part, twin) for part, twin in zip(drawn, baked, strict=True)] == baked


# --- posting, replying, editing, deleting ----------------------------------------------------


def test_reader_posts_with_a_live_preview_then_replies_and_sees_the_nesting(world, page):
    en = world.sites["en"]
    open_post(page, en, "Posting")
    assert page.locator("#comments .bec-summary").text_content() == "No comments yet"
    form = main_form(page)
    write_comment(form, "Hello **world**", author_email="rosa@example.com", author_url="rosa.example")
    assert form.locator(".bec-preview .bec-text strong").text_content() == "world"  # waits for /api/preview
    form.locator("button[type=submit]").click()
    first = page.locator("#comments .bec-thread > li.bec-comment")
    first.wait_for()
    first_id = first.get_attribute("id")
    assert focused(page) == first_id
    assert page.locator("#comments .bec-status").text_content() == "Your comment has been posted."
    assert page.locator("#comments .bec-summary").text_content() == "1 comment"
    assert first.locator(".bec-text strong").text_content() == "world"
    assert first.locator("a.bec-author").get_attribute("href") == "https://rosa.example"
    assert form.locator("textarea").input_value() == ""

    reply_button = first.locator("> .bec-item a.bec-reply")
    assert reply_button.get_attribute("aria-label") == "Reply to Rosa"
    reply_button.click()
    assert reply_button.get_attribute("aria-expanded") == "true"
    reply_form = first.locator(".bec-form-reply")
    assert focused(page) == "body"  # the reply's text box
    assert reply_form.locator("input[name=author_name]").input_value() == "Rosa"  # remembered
    reply_form.locator("textarea").fill("Replying to myself.")
    reply_form.locator("button[type=submit]").click()
    reply = first.locator("> .bec-replies > li.bec-comment")
    reply.wait_for()
    assert focused(page) == reply.get_attribute("id")
    assert reply_form.count() == 0
    assert page.locator("#comments .bec-summary").text_content() == "2 comments"

    page.reload()
    page.wait_for_selector("#comments.bec-live")
    assert page.locator(f"#{first_id} > .bec-replies > li").get_attribute("id") == reply.get_attribute("id")
    assert main_form(page).locator("input[name=author_name]").input_value() == "Rosa"
    assert main_form(page).locator("input[name=author_email]").input_value() == "rosa@example.com"
    stored = world.thread("Posting")
    assert stored["count"] == 2 and stored["comments"][0]["replies"][0]["body_html"] == "<p>Replying to myself.</p>"


def test_reader_edits_then_deletes_their_own_comment(world, page):
    en = world.sites["en"]
    open_post(page, en, "Editing")
    write_comment(main_form(page), "First draft.")
    main_form(page).locator("button[type=submit]").click()
    mine = page.locator("#comments .bec-thread > li.bec-comment").first
    mine.wait_for()
    mine_id = int(mine.get_attribute("id").removeprefix("comment-"))

    mine.locator("button.bec-edit").click()
    editor = mine.locator(".bec-form-edit textarea")
    assert editor.input_value() == "First draft." and focused(page) == "body"
    editor.fill("Second *draft*.")
    mine.locator(".bec-form-edit button[type=submit]").click()
    mine.locator(".bec-edited").wait_for()
    assert mine.locator("> .bec-item > .bec-text").inner_html() == "<p>Second <em>draft</em>.</p>"
    assert page.locator("#comments .bec-status").text_content() == "Your comment has been updated."
    assert focused(page) == f"comment-{mine_id}"
    assert world.thread("Editing")["comments"][0]["body_html"] == "<p>Second <em>draft</em>.</p>"

    # Someone answers; deleting now leaves a placeholder above the answer.
    answer = world.comment("Editing", author_name="Tomás", parent_id=mine_id, body="An answer.")
    page.reload()
    page.wait_for_selector("#comments.bec-live")
    assert page.locator(f"#comment-{answer['id']} button.bec-edit").count() == 0  # not mine
    mine.locator("> .bec-item button.bec-delete").click()
    confirm = mine.locator("> .bec-item .bec-actions")
    assert confirm.locator(".bec-confirm").text_content().strip() == "Delete this comment?"
    assert page.evaluate("document.activeElement.textContent") == "Yes, delete"
    confirm.locator("button", has_text="Yes, delete").click()
    page.wait_for_selector(f"#comment-{mine_id}.bec-deleted")
    assert mine.locator("> .bec-item .bec-author").text_content() == "[deleted]"
    assert mine.locator("> .bec-item .bec-text").text_content() == "This comment was deleted."
    assert mine.locator(f"> .bec-replies > #comment-{answer['id']}").count() == 1
    assert page.locator("#comments .bec-status").text_content() == "Your comment has been deleted."
    assert page.locator("#comments .bec-summary").text_content() == "1 comment"
    assert world.thread("Editing")["comments"][0]["deleted"] is True

    # Without replies, a deleted comment goes away altogether.
    write_comment(main_form(page), "Short-lived.")
    main_form(page).locator("button[type=submit]").click()
    page.wait_for_function("document.querySelectorAll('#comments .bec-thread > li').length === 2")
    last = page.locator("#comments .bec-thread > li").last
    last_id = last.get_attribute("id")
    last.locator("button.bec-delete").click()
    last.locator("button", has_text="Yes, delete").click()
    page.wait_for_selector(f"#{last_id}", state="detached")
    assert [c["id"] for c in world.thread("Editing")["comments"]] == [mine_id]


def test_replies_deeper_than_the_display_depth_go_where_the_server_puts_them(world, page):
    parent = None
    chain = []
    for level in range(6):  # levels 0 to 5: the server's default DISPLAY_DEPTH is 5
        parent = world.comment("Deep", author_name=f"Level {level}", parent_id=parent and parent["id"])
        chain.append(parent["id"])
    open_post(page, world.sites["en"], "Deep")
    deepest = page.locator(f"#comment-{chain[5]}")
    deepest.locator("> .bec-item a.bec-reply").click()
    write_comment(deepest.locator(".bec-form-reply"), "Deeper still.")
    deepest.locator(".bec-form-reply button[type=submit]").click()
    expect(page.locator("#comments li.bec-comment")).to_have_count(7)
    layout = "nodes => nodes.map(n => [n.id, n.parentNode.closest('li') && n.parentNode.closest('li').id])"
    shown = page.eval_on_selector_all("#comments li.bec-comment", layout)
    assert shown[-1][1] == f"comment-{chain[4]}"  # beside its parent, as the server shows it
    page.reload()
    page.wait_for_selector("#comments.bec-live")
    assert page.eval_on_selector_all("#comments li.bec-comment", layout) == shown


# --- errors -----------------------------------------------------------------------------------


def test_api_errors_are_explained_next_to_the_field(world, page):
    en = world.sites["en"]
    open_post(page, en, "Errors")
    form = main_form(page)
    message = form.locator(".bec-msg")
    write_comment(form, "x" * 10001)
    form.locator("button[type=submit]").click()
    message.filter(has_text="too long").wait_for()
    assert message.text_content() == "“Comment” is too long: at most 10000 characters."
    assert message.get_attribute("role") == "alert"
    assert form.locator("textarea").get_attribute("aria-invalid") == "true"
    assert focused(page) == "body"

    write_comment(form, "Fine text.", author_email="not-an-address")
    form.locator("button[type=submit]").click()
    message.filter(has_text="name@example.com").wait_for()
    assert message.text_content() == "“Email (optional, never shown)” should look like name@example.com."
    assert form.locator("textarea").get_attribute("aria-invalid") is None
    assert focused(page) == "author_email"

    form.locator("input[name=author_email]").fill("")
    form.locator("input[name=author_name]").fill("")
    form.locator("button[type=submit]").click()
    assert message.text_content() == "Please fill in “Name”."

    page.route(world.server.url + "/api/comments", lambda route: route.abort("connectionrefused"))
    form.locator("input[name=author_name]").fill("Rosa")
    form.locator("button[type=submit]").click()
    message.filter(has_text="could not be reached").wait_for()
    assert message.text_content() == \
        "The comment server could not be reached. Check your connection and try again."
    page.unroute(world.server.url + "/api/comments")
    form.locator("button[type=submit]").click()
    page.locator("#comments .bec-thread > li").wait_for()
    assert message.text_content() == ""
    assert world.thread("Errors")["count"] == 1

    # The server down when the page loads: the baked page and its plain form stay, with a note.
    page.route(world.server.url + "/api/comments?*", lambda route: route.abort("connectionrefused"))
    page.reload()
    status = page.locator("#comments .bec-status")
    status.filter(has_text="could not be loaded").wait_for()
    assert status.text_content() == "The latest comments could not be loaded. " \
        "The comment server could not be reached. Check your connection and try again."
    assert page.locator("#comments form").get_attribute("action") == world.server.url + "/comments/form"


def set_open(site: Site, title: str, is_open: bool) -> None:
    """Open or close a thread in the manifest the server reads (as a rebuild would)."""
    manifest = site.root / "public/threads.json"
    data = json.loads(manifest.read_text())
    for thread in data["threads"]:
        if thread["path"] == thread_of(title):
            thread["open"] = is_open
    manifest.write_text(json.dumps(data))


def test_a_thread_closed_after_the_build_says_so(world, page):
    en = world.sites["en"]
    world.comment("Closing", body="Before closing.")
    open_post(page, en, "Closing")
    form = main_form(page)
    write_comment(form, "Just in time?")
    try:
        set_open(en, "Closing", False)
        form.locator("button[type=submit]").click()
        form.locator(".bec-msg").filter(has_text="closed").wait_for()
        assert form.locator(".bec-msg").text_content() == "Comments on this post are closed."
        page.reload()
        page.wait_for_selector("#comments.bec-live")
        assert page.locator("#comments .bec-closed").text_content() == "Comments on this post are closed."
        assert page.locator("#comments form").count() == 0
        assert page.locator("#comments li.bec-comment").count() == 1
        assert page.locator("#comments a.bec-reply").count() == 0
    finally:
        set_open(en, "Closing", True)


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory,
          module_live_servers: LiveServers) -> Iterator[tuple[Site, LiveServer]]:
    """A site whose comment server holds every comment and allows two writes a minute."""
    tmp = tmp_path_factory.mktemp("limited")
    port = free_port()
    site = make_site(tmp / "site", "en", f"http://127.0.0.1:{port}")
    with serve_folder(site.root / "public") as site.url:
        server = start_comment_server(module_live_servers, tmp, port, site.root / "public/threads.json",
                                      [site.url], site.url + "/", MODERATION="all", RATE_LIMIT="2/minute")
        yield site, server
        server.stop()


def test_held_comments_and_the_rate_limit_are_explained(limited, page):
    site, server = limited
    open_post(page, site, "Limits")
    form = main_form(page)
    status = page.locator("#comments .bec-status")
    for n in (1, 2):
        write_comment(form, f"Held comment {n}.")
        form.locator("button[type=submit]").click()
        expect(form.locator("textarea")).to_have_value("")  # sent
        expect(status).to_have_text(
            "Thank you! Your comment is held for moderation and will appear once the author approves it.")
        assert page.locator("#comments li.bec-comment").count() == 0
    write_comment(form, "One too many.")
    form.locator("button[type=submit]").click()
    form.locator(".bec-msg").filter(has_text="too quickly").wait_for()
    assert form.locator(".bec-msg").text_content() == \
        "You are sending comments too quickly. Please wait a minute and try again."
    assert form.locator("textarea").input_value() == "One too many."  # nothing lost


@pytest.fixture(scope="module")
def timed(tmp_path_factory: pytest.TempPathFactory,
          module_live_servers: LiveServers) -> Iterator[tuple[Site, LiveServer]]:
    """A site whose comment server refuses comments sent within 2 seconds of the form's token."""
    tmp = tmp_path_factory.mktemp("timed")
    port = free_port()
    site = make_site(tmp / "site", "en", f"http://127.0.0.1:{port}")
    with serve_folder(site.root / "public") as site.url:
        server = start_comment_server(module_live_servers, tmp, port, site.root / "public/threads.json",
                                      [site.url], site.url + "/", MIN_SUBMIT_SECONDS="2")
        yield site, server
        server.stop()


def test_the_widget_posts_with_a_form_token_while_the_thread_comes_from_the_http_cache(timed, page):
    site, server = timed
    calls: list[tuple[str, int, str | None]] = []

    def record(response: Any) -> None:
        parts = urlsplit(response.url)
        if parts.path.startswith("/api/"):
            calls.append((parts.path, response.status, response.request.all_headers().get("if-none-match")))

    page.on("response", record)
    open_post(page, site, "Posting")
    form = main_form(page)
    page.locator("#comments.bec-live").wait_for()
    assert sorted(c[:2] for c in calls) == [("/api/comments", 200), ("/api/form-token", 200)]
    # Sent too soon after the form was shown: refused, explained, and the text kept.
    write_comment(form, "Sent at once.")
    form.locator("button[type=submit]").click()
    form.locator(".bec-msg").filter(has_text="quick").wait_for()
    assert form.locator(".bec-msg").text_content() == \
        "That was quick! Please wait a few seconds, then send your comment again."
    assert form.locator("textarea").input_value() == "Sent at once."
    page.wait_for_timeout(2500)
    # Wait for the answer itself: the "response" events can reach this process after the page
    # has drawn the comment (and after the widget fetched its next form token).
    with page.expect_response(lambda r: urlsplit(r.url).path == "/api/comments" and r.request.method == "POST"):
        form.locator("button[type=submit]").click()
    page.locator("#comments .bec-thread > li").wait_for()
    assert [c[1] for c in calls if c[0] == "/api/comments" and c[1] != 200] == [400, 201]

    # Back on the page, twice: the browser revalidates its copy of the thread (If-None-Match), the
    # first time getting the new comment, the second time a 304; each time a new token.
    page.reload()
    page.wait_for_selector("#comments.bec-live")
    calls.clear()
    page.reload()
    page.wait_for_selector("#comments.bec-live")
    assert sorted(c[0] for c in calls) == ["/api/comments", "/api/form-token"]
    reads = [c for c in calls if c[0] == "/api/comments"]
    _, headers, _ = server.request("GET", f"/api/comments?thread={thread_of('Posting')}")
    assert reads and reads[0][2] == headers["ETag"], calls  # the current ETag: the server answered 304
    assert page.locator("#comments li.bec-comment").count() == 1
    form = main_form(page)
    write_comment(form, "Second visit, after a pause.")
    page.wait_for_timeout(2500)
    form.locator("button[type=submit]").click()
    expect(page.locator("#comments li.bec-comment")).to_have_count(2)
    status, _, body = server.request("GET", f"/api/comments?thread={thread_of('Posting')}")
    assert [c["body_html"] for c in json.loads(body)["comments"]] == \
        ["<p>Sent at once.</p>", "<p>Second visit, after a pause.</p>"]


# --- without JavaScript, with the keyboard alone, in French ------------------------------------


def test_the_form_works_without_javascript(world, browser):
    en = world.sites["en"]
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(en.page_url("No script"))
    assert page.locator("#comments form").get_attribute("action") == world.server.url + "/comments/form"
    page.fill("#bec-body", "Posted without *JavaScript*.")
    page.fill("#bec-author_name", "Noah")
    page.click("#comments button[type=submit]")
    # The server's page after posting shows the comment and links back to it on the post.
    page.wait_for_url(lambda url: url.startswith(world.server.url + "/comments/posted?"))
    comment_id = int(page.locator(".bec-thread .bec-comment").get_attribute("id").removeprefix("comment-"))
    assert world.thread("No script")["comments"][0]["id"] == comment_id
    page.click("a.bec-back")
    page.wait_for_url(en.page_url("No script") + f"#comment-{comment_id}")

    en.rebuild()
    page.reload()
    baked = page.locator(f"#comment-{comment_id}")
    assert baked.locator(".bec-text").inner_html() == "<p>Posted without <em>JavaScript</em>.</p>"
    assert baked.locator(".bec-author").text_content() == "Noah"
    assert page.locator("#comments .bec-summary").text_content() == "1 comment"

    # Reply links lead to the server's own form, which knows the parent.
    baked.locator("a.bec-reply").click()
    page.wait_for_url(lambda url: url.startswith(world.server.url + "/comments/form?"))
    assert page.locator("input[name=parent_id]").input_value() == str(comment_id)
    page.fill("textarea[name=body]", "A reply, still without JavaScript.")
    page.fill("input[name=author_name]", "Noah")
    page.click("form.bec-form button[type=submit]")   # the page also has the header's search box
    page.wait_for_url(lambda url: url.startswith(world.server.url + "/comments/posted?"))
    reply_id = int(page.locator(".bec-thread .bec-comment").get_attribute("id").removeprefix("comment-"))
    assert world.thread("No script")["comments"][0]["replies"][0]["id"] == reply_id
    context.close()


def test_a_reader_can_post_and_reply_with_the_keyboard_alone(world, page):
    open_post(page, world.sites["en"], "Keyboard")
    for _ in range(80):
        page.keyboard.press("Tab")
        if focused(page) == "body":
            break
    assert focused(page) == "body"
    page.keyboard.type("Typed with the keyboard.")
    page.keyboard.press("Tab")  # the Markdown help
    page.keyboard.press("Tab")
    assert focused(page) == "author_name"
    page.keyboard.type("Kim")
    page.keyboard.press("Enter")
    page.locator("#comments .bec-thread > li").wait_for()
    comment_id = page.locator("#comments .bec-thread > li").get_attribute("id")
    assert focused(page) == comment_id

    page.keyboard.press("Tab")  # the permalink
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "Reply to Kim"
    page.keyboard.press("Enter")
    assert focused(page) == "body"
    page.keyboard.type("And a reply.")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert focused(page) == "author_name"  # already filled in: Kim
    page.keyboard.press("Enter")
    reply = page.locator(f"#{comment_id} > .bec-replies > li")
    reply.wait_for()
    assert focused(page) == reply.get_attribute("id")
    assert reply.locator(".bec-text").text_content() == "And a reply."


def test_text_follows_the_site_language(world, page):
    fr = world.sites["fr"]
    open_post(page, fr, "French")
    assert page.locator("#comments-title").text_content() == "Commentaires"
    assert page.locator("#comments .bec-summary").text_content() == "Aucun commentaire pour l’instant"
    form = main_form(page)
    assert form.locator("label[for$=author_name]").text_content() == "Nom"
    form.locator("textarea").fill("Bonjour !")
    form.locator("button[type=submit]").click()
    assert form.locator(".bec-msg").text_content() == "Veuillez remplir « Nom »."
    form.locator("input[name=author_name]").fill("Camille")
    assert form.locator("button[type=submit]").text_content() == "Publier le commentaire"
    form.locator("button[type=submit]").click()
    comment = page.locator("#comments .bec-thread > li")
    comment.wait_for()
    assert page.locator("#comments .bec-status").text_content() == "Votre commentaire a été publié."
    assert page.locator("#comments .bec-summary").text_content() == "1 commentaire"
    assert comment.locator("time").get_attribute("title").startswith("à l’instant · ")
    assert comment.locator("a.bec-reply").text_content() == "Répondre"
    assert comment.locator("button.bec-edit").get_attribute("aria-label") == "Modifier votre commentaire"
    page.goto(fr.url + "/")
    counter = page.locator(f".comment-count[data-thread='{thread_of('French')}']")
    counter.filter(has_text="1 commentaire").wait_for()


# --- counts, requests, size ------------------------------------------------------------------


def test_listings_fill_counts_with_one_request_and_nothing_leaves_the_two_origins(world, page):
    en = world.sites["en"]
    world.comment("Counted", body="Counted.")
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    expected = {thread_of(title): None for title in TITLES}
    status, _, body = world.server.request("GET", "/api/counts?" + "&".join(f"thread={t}" for t in expected))
    counts = json.loads(body)
    for path in ("/", "/tags/talk/"):
        requests.clear()
        page.goto(en.url + path)
        # Wait on the counter the request changes: another post's count may already be baked into the page.
        counted = page.locator(f".comment-count[data-thread='{thread_of('Counted')}']")
        counted.filter(has_text="1 comment").wait_for()
        count_requests = [u for u in requests if "/api/counts" in u]
        assert len(count_requests) == 1, count_requests
        assert sorted(urlsplit(count_requests[0]).query.split("&")) == \
            sorted(f"thread={t.replace('/', '%2F')}" for t in expected)
        texts = {a.get_attribute("data-thread"): a.text_content() for a in page.locator(".comment-count").all()}
        assert texts[thread_of("Counted")] == "1 comment" and counts[thread_of("Counted")] == 1
        assert texts[thread_of("Limits")] == "No comments yet" and counts[thread_of("Limits")] == 0

    open_post(page, en, "Counted")
    form = main_form(page)
    write_comment(form, "Checking **requests**.")
    form.locator(".bec-preview strong").wait_for()
    form.locator("button[type=submit]").click()
    page.locator("#comments .bec-status").filter(has_text="posted").wait_for()
    origins = {f"{urlsplit(u).scheme}://{urlsplit(u).netloc}" for u in requests}
    assert origins == {en.url, world.server.url}
    assert any(u.endswith("/embed.js") for u in requests) and any(u.endswith("/api/preview") for u in requests)


# --- accessibility and looks -------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_axe_violations_and_screenshots_light_and_dark(world, browser, scheme):
    en = world.sites["en"]
    title = scheme.title()
    question = world.comment(title, author_name="Tomás", author_url="https://tomas.example/",
                             body="Does the *widget* really fit in **12 KB**?")
    answer = world.comment(title, author=True, parent_id=question["id"],
                           body="It does, with room to spare. See `embed.js`.")
    world.comment(title, author_name="Rosa", parent_id=answer["id"],
                  body="> room to spare\n\nNice. Light *and* dark?")
    gone = world.comment(title, author_name="Sam", body="Never mind.")
    world.comment(title, author_name="Lee", parent_id=gone["id"], body="Too late, I read it.")
    status, _, _ = world.server.request("DELETE", f"/api/comments/{gone['id']}",
                                        headers={"X-Edit-Token": gone["edit_token"]})
    assert status == 204
    en.rebuild()

    context = browser.new_context(color_scheme=scheme, viewport={"width": 900, "height": 900})
    page = context.new_page()
    found = {}
    for path in ("/", "/tags/talk/"):
        page.goto(en.url + path)
        page.wait_for_function("document.querySelector('.comment-count').textContent !== 'Comments'")
        found[path] = axe_violations(page)
    open_post(page, en, title)
    write_comment(main_form(page), "My own comment, still editable.", name="Kim")
    main_form(page).locator("button[type=submit]").click()
    page.locator("#comments .bec-status").filter(has_text="posted").wait_for()
    first = page.locator("#comments .bec-thread > li").first
    first.locator("> .bec-item a.bec-reply").click()
    first.locator(".bec-form-reply textarea").fill("A reply with a *preview*.")
    first.locator(".bec-form-reply .bec-preview em").wait_for()
    found["post"] = axe_violations(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#comments").screenshot(path=str(ARTIFACTS / f"widget-conversation-{scheme}.png"))
    context.close()
    assert found == {"/": [], "/tags/talk/": [], "post": []}
