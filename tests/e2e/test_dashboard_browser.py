"""The author's dashboard in a real Chromium: a built site with the widget, a real comment server in a
subprocess, an author account. Log in, see the queue, reply, watch the comment leave the queue and
appear with the author badge on the post; CSRF-less posts and wrong passwords refused; logout; axe."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from blogengine.build import BuildOptions, build
from blogengine.config import load_config
from comments_server.accounts import Accounts
from comments_server.service import utcnow
from comments_server.storage import open_storage
from comments_server.transfer import import_document
from tests.support import REPO
from tests.support.browser import axe_violations
from tests.support.live import LiveServer, LiveServers, free_port, serve_folder
from tests.support.site import NOW, post, write_files

ARTIFACTS = REPO / "test-artifacts"
PASSWORD = "correct horse battery"
SITE_CONFIG = """
title = "Dashboard Blog"
base_url = "https://blog.example.com/"
timezone = "UTC"

[author]
name = "Ann Author"

[comments]
url = "{server}"
"""
POSTS = ["Static sites that talk back", "Why SQLite is enough", "Dark mode in one evening", "Notes on Markdown"]


def thread_of(title: str) -> str:
    return "/2024/01/" + title.lower().replace(" ", "-") + "/"


@dataclass
class World:
    server: LiveServer
    site_url: str
    db_url: str

    def comment(self, title: str, **fields: Any) -> dict[str, Any]:
        data = {"thread": thread_of(title), "author_name": "Reader", "body": "A comment.", **fields}
        status, _, body = self.server.request("POST", "/api/comments", data)
        assert status == 201, body
        return json.loads(body)

    def thread(self, title: str) -> list[dict[str, Any]]:
        status, _, body = self.server.request("GET", f"/api/comments?thread={thread_of(title)}")
        assert status == 200
        out, stack = [], json.loads(body)["comments"]
        while stack:
            item = stack.pop(0)
            out.append(item)
            stack.extend(item["replies"])
        return out


def history(now: datetime) -> dict[str, Any]:
    """A month of conversations, imported with their real times: answered quickly, slowly, never."""
    records: list[dict[str, Any]] = []

    def add(uid: str, title: str, days_ago: float, name: str, body: str, parent: str | None = None,
            author: bool = False) -> None:
        records.append({"uid": uid, "parent_uid": parent, "thread": thread_of(title), "status": "published",
                        "author_name": "Ann Author" if author else name, "is_author": author, "body": body,
                        "created_at": (now - timedelta(days=days_ago)).isoformat().replace("+00:00", "Z")})

    add("h1", POSTS[1], 26, "Marta", "Does this hold up with many writers at once?")
    add("h1a", POSTS[1], 25.8, "", "WAL mode and a busy timeout: yes, for a blog.", "h1", True)
    add("h2", POSTS[1], 21, "Joe", "Nice write-up, thanks.")
    add("h3", POSTS[0], 18, "Priya", "How do you keep the widget small?")
    add("h3a", POSTS[0], 16, "", "No framework, one file, and a budget test.", "h3", True)
    add("h3b", POSTS[0], 15, "Priya", "A budget test? How big is the budget?", "h3a")
    add("h4", POSTS[2], 12, "Lee", "Could you share the colour palette?")
    add("h5", POSTS[2], 9, "Sam", "The contrast in dark mode is great.")
    add("h5a", POSTS[2], 8.9, "", "Thank you, Sam!", "h5", True)
    add("h6", POSTS[3], 5, "Noor", "Which Markdown parser did you choose, and why?")
    add("h7", POSTS[3], 2, "Ines", "Footnotes would be lovely.")
    add("h8", POSTS[0], 1, "Tomás", "Is there an RSS feed for comments?")
    return {"format": "blogengine-comments", "version": 1, "comments": records}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, module_live_servers: LiveServers) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("dashboard")
    port = free_port()
    server_url = f"http://127.0.0.1:{port}"
    root = tmp / "site"
    root.mkdir()
    (root / "blogengine.toml").write_text(SITE_CONFIG.format(server=server_url), encoding="utf-8")
    write_files(root, {f"content/posts/{i}.md": post(title, f"2024-01-{i + 1:02d}", body=f"About {title}.")
                       for i, title in enumerate(POSTS)})
    build(load_config(root), BuildOptions(now=NOW))
    db_url = f"sqlite:///{tmp / 'comments.sqlite3'}"
    storage = open_storage(db_url)
    Accounts(storage, utcnow).add("Ann Author", "ann@example.com", PASSWORD)
    import_document(storage, json.dumps(history(datetime.now(UTC))))
    storage.close()
    with serve_folder(root / "public") as site_url:
        server = module_live_servers.comments(
            tmp, port=port, DATABASE_URL=db_url, THREADS_MANIFEST=str(root / "public/threads.json"),
            CORS_ORIGINS=site_url, SITE_URL=site_url + "/", AUTHOR_TOKENS=None,
            LOGIN_RATE_LIMIT="100/minute")  # these tests log in often
        yield World(server, site_url, db_url)
        server.stop()   # before the site it serves goes


@pytest.fixture
def context(browser):
    context = browser.new_context()
    yield context
    context.close()


def watch_console(page: Any) -> list[str]:
    """Console errors but HTTP statuses (a 401 for a wrong password is meant); CSP refusals show here."""
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" and not message.text.startswith("Failed to load resource") else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def log_in(page: Any, world: World, password: str = PASSWORD) -> None:
    page.goto(world.server.url + "/dashboard/")
    assert "/dashboard/login" in page.url
    page.get_by_label("Name or email").fill("ann@example.com")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_wrong_password_is_refused_then_login_shows_the_queue(world, context):
    page = context.new_page()
    errors = watch_console(page)
    log_in(page, world, password="not my password")
    assert page.get_by_role("alert").inner_text().startswith("That name or email and password do not match")
    assert "/dashboard/login" in page.url
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(world.server.url + "/dashboard/")
    cookie = next(c for c in context.cookies() if c["name"] == "blogengine_dashboard")
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Lax"
    assert page.locator("h1").inner_text() == "Unanswered"
    count = int(page.locator("#unanswered-count").inner_text())
    assert count >= 6
    assert page.locator("#oldest-waiting").inner_text().startswith("The oldest has waited 3 weeks")
    assert page.get_by_role("link", name=POSTS[0]).first.get_attribute("href") == world.site_url + thread_of(POSTS[0])
    assert errors == []


def test_reply_from_the_dashboard_leaves_the_queue_and_shows_the_badge_on_the_post(world, context):
    question = world.comment(POSTS[3], author_name="Rosa", body="Will you write about tables next?")
    page = context.new_page()
    errors = watch_console(page)
    log_in(page, world)
    item = page.locator(f"#comment-{question['id']}")
    assert "Question" in item.inner_text() and "Will you write about tables next?" in item.inner_text()
    # The reply box is closed until asked for; opening it puts the cursor in it.
    box = item.get_by_label("Reply to Rosa")
    assert not box.is_visible()
    item.locator("summary", has_text="Reply").click()
    assert box.is_visible() and box.evaluate("el => el === document.activeElement")
    box.fill("Yes, **next week**.")
    item.get_by_role("button", name="Publish reply").click()
    page.wait_for_load_state()
    assert page.get_by_role("status").first.inner_text().startswith("Reply published")
    assert page.locator(f"#comment-{question['id']}").count() == 0
    reply = next(c for c in world.thread(POSTS[3]) if c["parent_id"] == question["id"])
    assert reply["is_author"] and reply["author_name"] == "Ann Author"

    # The post on the site: the widget shows the reply under the question, with the author badge.
    post_page = context.new_page()
    post_page.goto(world.site_url + thread_of(POSTS[3]) + f"#comment-{reply['id']}")
    post_page.wait_for_selector("#comments.bec-live")
    badge = post_page.locator(f"#comment-{question['id']} #comment-{reply['id']} .bec-badge")
    assert badge.text_content() == "Author"
    assert post_page.locator(f"#comment-{reply['id']} .bec-text strong").text_content() == "next week"
    assert errors == []


def test_reply_below_a_reply_says_it_also_answered_the_question_and_undo_puts_it_back(world, context):
    question = world.comment(POSTS[0], author_name="Ewa", body="How long did the export take?")
    answer = world.comment(POSTS[0], author_name="Sam", parent_id=question["id"], body="Minutes, for me.")
    page = context.new_page()
    errors = watch_console(page)
    log_in(page, world)
    item = page.locator(f"#comment-{answer['id']}")
    item.locator("summary", has_text="Reply").click()
    item.get_by_label("Reply to Sam").fill("Thanks, Sam!")
    item.get_by_role("button", name="Publish reply").click()
    page.wait_for_load_state()
    notice = page.locator(".also-answered")
    assert notice.inner_text().startswith(f"This reply also answered Ewa’s comment on “{POSTS[0]}”.")
    assert page.locator(f"#comment-{question['id']}").count() == 0
    notice.get_by_role("button", name="Undo").click()
    page.wait_for_selector(f"#comment-{question['id']}")
    assert "Ewa’s comment is back in the queue." in page.get_by_role("status").first.inner_text()
    assert page.locator(f"#comment-{answer['id']}").count() == 0   # Sam's stays answered
    assert errors == []


def test_ctrl_enter_publishes_a_reply(world, context):
    question = world.comment(POSTS[2], author_name="Kim", body="Quick one: which font?")
    page = context.new_page()
    log_in(page, world)
    item = page.locator(f"#comment-{question['id']}")
    item.locator("summary", has_text="Reply").focus()
    page.keyboard.press("Enter")   # a keyboard opens the box too
    box = item.get_by_label("Reply to Kim")
    box.fill("The system font.")
    box.press("Control+Enter")
    page.wait_for_selector("text=Reply published")
    assert page.locator(f"#comment-{question['id']}").count() == 0


def test_a_post_without_the_csrf_token_is_refused(world, context):
    question = world.comment(POSTS[1], author_name="Vic", body="Forged?")
    page = context.new_page()
    log_in(page, world)
    # A page on the site (another origin, same site) submits a form to the dashboard without a token.
    page.goto(world.site_url + thread_of(POSTS[1]))
    page.evaluate("""([url]) => {
        const form = document.createElement('form');
        form.method = 'post'; form.action = url;
        const body = document.createElement('textarea'); body.name = 'body'; body.value = 'forged reply';
        form.appendChild(body); document.body.appendChild(form); form.submit();
    }""", [f"{world.server.url}/dashboard/comments/{question['id']}/reply"])
    page.wait_for_selector("h1")
    assert page.locator("h1").inner_text() == "The form has expired"
    assert all(c["body_html"] != "<p>forged reply</p>" for c in world.thread(POSTS[1]))
    page.goto(world.server.url + "/dashboard/")
    assert page.locator(f"#comment-{question['id']}").count() == 1


def test_logout_ends_the_session(world, context, browser):
    page = context.new_page()
    log_in(page, world)
    page.wait_for_url(world.server.url + "/dashboard/")
    saved = [c for c in context.cookies() if c["name"] == "blogengine_dashboard"]
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/dashboard/login")
    page.goto(world.server.url + "/dashboard/health")
    assert "/dashboard/login" in page.url
    # The cookie from before the logout opens nothing either: the session ended on the server.
    other = browser.new_context()
    other.add_cookies(saved)
    replay = other.new_page()
    replay.goto(world.server.url + "/dashboard/")
    assert "/dashboard/login" in replay.url
    other.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_dashboard_pages_have_no_axe_violations_and_screenshots(world, browser, scheme):
    # axe is injected as an inline script, which the dashboard's CSP rightly refuses: let it in here.
    context = browser.new_context(color_scheme=scheme, viewport={"width": 1100, "height": 900}, bypass_csp=True)
    page = context.new_page()
    errors = watch_console(page)
    page.goto(world.server.url + "/dashboard/login")
    found = {"/dashboard/login": axe_violations(page)}
    log_in(page, world)
    page.wait_for_url(world.server.url + "/dashboard/")
    for path in ("/dashboard/", "/dashboard/moderation", "/dashboard/comments", "/dashboard/health",
                 "/dashboard/health?period=all"):
        page.goto(world.server.url + path)
        found[path] = axe_violations(page)
        if scheme == "light" and path in ("/dashboard/", "/dashboard/health"):
            ARTIFACTS.mkdir(exist_ok=True)
            name = "home" if path == "/dashboard/" else "health"
            page.screenshot(path=str(ARTIFACTS / f"dashboard-{name}.png"), full_page=True)
    assert {path: v for path, v in found.items() if v} == {}
    assert errors == []
    context.close()
