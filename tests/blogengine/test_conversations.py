"""Comments baked into pages at build time: from the site's database, over the API, or not at
all (with a warning) when the server is down."""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta

import pytest

from comments_server.storage import open_storage
from comments_server.transfer import FORMAT, import_document
from tests.support.live import free_port
from tests.support.site import BASIC_CONFIG, post, read_html

# A site template that shows what the build handed the theme, so these tests do not depend on
# how the default theme draws a conversation.
PROBE = """<!DOCTYPE html><title>p</title>
{% if page.conversation is none %}<p id="state">unavailable</p>
{% else %}<p id="state">{{ page.conversation.count }}</p>
{% for c in page.conversation.comments %}<div class="c" data-author="{{ c.is_author }}">{{ c.body_html | safe }}
{% for r in c.replies %}<div class="r">{{ r.author_name }}</div>{% endfor %}</div>{% endfor %}
{% endif %}"""

FILES = {
    "content/posts/open.md": post("Open post", "2024-01-05"),
    "content/posts/closed.md": post("Closed post", "2024-01-06", comments="false"),
    "templates/partials/comments.html": PROBE,
}


def export(*records: dict) -> str:
    return json.dumps({"format": FORMAT, "version": 1, "comments": list(records)})


CONVERSATION = export(
    {"uid": "q", "thread": "/2024/01/open-post/", "author_name": "Tomás",
     "body": "Why *this*?", "created_at": "2024-01-07T10:00:00Z"},
    {"uid": "a", "parent_uid": "q", "thread": "/2024/01/open-post/", "author_name": "Ann Author",
     "is_author": True, "body": "Because.", "created_at": "2024-01-07T12:00:00Z"},
    {"uid": "held", "thread": "/2024/01/open-post/", "author_name": "Spammer", "status": "pending",
     "body": "held back", "created_at": "2024-01-07T13:00:00Z"},
)


def test_build_bakes_the_conversation_from_the_sites_database(make_site, build_at):
    root = make_site(FILES)
    storage = open_storage(f"sqlite:///{root / 'comments.sqlite3'}")
    import_document(storage, CONVERSATION)
    storage.close()
    report = build_at(root)
    assert report.warnings == []
    soup = read_html(root / "public/2024/01/open-post/index.html")
    assert soup.find(id="state").get_text() == "2"  # the held comment is not counted
    [comment] = soup.select("div.c")
    assert comment.find("em").get_text() == "this"
    assert [r.get_text() for r in comment.select("div.r")] == ["Ann Author"]
    assert "held back" not in soup.get_text()
    assert read_html(root / "public/2024/01/closed-post/index.html").find(id="state") is None


def test_site_without_a_database_yet_builds_with_empty_conversations(make_site, build_at):
    root = make_site(FILES)
    report = build_at(root)
    assert report.warnings == []
    assert read_html(root / "public/2024/01/open-post/index.html").find(id="state").get_text() == "0"
    assert not (root / "comments.sqlite3").exists()  # building never creates the database


def test_before_the_database_exists_the_build_reads_no_store_then_reads_it(make_site, build_at,
                                                                          monkeypatch):
    """No database yet: every thread is quiet, told from the comments' stamp the build takes as
    it starts (without opening the store for each of a big site's empty threads). Once the
    database is made, the next build reads it."""
    from blogengine.comments import NO_DATABASE, comments_version
    from blogengine.config import load_config
    root = make_site(FILES)
    assert comments_version(load_config(root)) == NO_DATABASE

    def not_read(*args, **kwargs):
        raise AssertionError("the store was read")
    with monkeypatch.context() as patched:
        patched.setattr("blogengine.conversations.read_conversations", not_read)
        assert build_at(root).warnings == []
    assert read_html(root / "public/2024/01/open-post/index.html").find(id="state").get_text() == "0"

    storage = open_storage(f"sqlite:///{root / 'comments.sqlite3'}")
    import_document(storage, CONVERSATION)
    storage.close()
    build_at(root)
    assert read_html(root / "public/2024/01/open-post/index.html").find(id="state").get_text() == "2"


def test_unreadable_database_warns_and_still_builds(make_site, build_at):
    root = make_site(FILES, config=BASIC_CONFIG + '\n[comments]\ndatabase_url = "postgresql+psycopg://nobody@127.0.0.1:1/none"\n')
    report = build_at(root)
    assert len(report.warnings) == 1 and "comments not included" in report.warnings[0]
    assert read_html(root / "public/2024/01/open-post/index.html").find(id="state").get_text() == "unavailable"


@pytest.fixture
def comment_server(tmp_path, live_servers):
    manifest = tmp_path / "threads.json"
    manifest.write_text(json.dumps({"version": 1, "site": {"title": "T", "base_url": "https://x/"},
                                    "threads": [{"path": "/2024/01/open-post/", "title": "Open post",
                                                 "author": "Ann", "open": True}]}))
    db = tmp_path / "server.sqlite3"
    storage = open_storage(f"sqlite:///{db}")
    import_document(storage, CONVERSATION)
    storage.close()
    return live_servers.comments(tmp_path, DATABASE_URL=f"sqlite:///{db}", THREADS_MANIFEST=str(manifest))


def test_build_reads_the_conversation_over_the_api(make_site, build_at, comment_server):
    config = BASIC_CONFIG + f'\n[comments]\nurl = "{comment_server.url}/"\n'
    root = make_site(FILES, config=config)
    report = build_at(root)
    assert report.warnings == []
    soup = read_html(root / "public/2024/01/open-post/index.html")
    assert soup.find(id="state").get_text() == "2"
    assert soup.select_one("div.c em").get_text() == "this"


def test_server_down_warns_once_and_pages_still_build(make_site, build_at):
    config = BASIC_CONFIG + f'\n[comments]\nurl = "http://127.0.0.1:{free_port()}/"\n'
    root = make_site(FILES, config=config)
    report = build_at(root)
    assert len(report.warnings) == 1 and "did not answer" in report.warnings[0]
    assert read_html(root / "public/2024/01/open-post/index.html").find(id="state").get_text() == "unavailable"


@pytest.mark.slow
def test_cli_prints_the_warning(make_site):
    config = BASIC_CONFIG + f'\n[comments]\nurl = "http://127.0.0.1:{free_port()}/"\n'
    root = make_site(FILES, config=config)
    result = subprocess.run([sys.executable, "-m", "blogengine", "build"], cwd=root,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert "warning: comments not included" in result.stderr


# --- a server the build does not control (issue 13 item 7) -------------------------------------


class _Hostile(http.server.BaseHTTPRequestHandler):
    """Whatever answers [comments] url at build time: script in every field it can reach."""

    answer: bytes = b""
    redirect_to: str = ""

    def do_GET(self):
        if self.redirect_to:
            self.send_response(302)
            self.send_header("Location", self.redirect_to)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(self.answer)

    def log_message(self, *args):
        pass


@pytest.fixture
def hostile_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


HOSTILE_COMMENT = {
    "id": 1, "parent_id": None, "author_name": "<img src=x onerror=alert(1)>", "is_author": True,
    "author_url": "javascript:alert(1)//https://",
    "body_html": '<p>hi</p><script>alert(1)</script><img src=x onerror=alert(2)>'
                 '<a href="javascript:alert(3)">x</a><iframe src="https://evil.example"></iframe>',
    "created_at": "2024-01-07T10:00:00Z", "edited_at": None, "deleted": False,
    "replies": [{"id": 2, "parent_id": 1, "author_name": "R", "author_url": "https://ok.example/",
                 "is_author": False, "body_html": '<p onclick="alert(4)">reply</p>',
                 "created_at": "2024-01-07T11:00:00Z", "edited_at": None, "deleted": False, "replies": []}],
}


def test_comments_baked_over_the_api_are_sanitised_again(make_site, build_at, hostile_server):
    """Whoever answered the comment server's URL at build time wrote script into the site: the
    build put the API's body_html into the page as it came."""
    _Hostile.answer, _Hostile.redirect_to = json.dumps({"count": 2, "comments": [HOSTILE_COMMENT]}).encode(), ""
    url = f"http://127.0.0.1:{hostile_server.server_port}"
    root = make_site({"content/posts/open.md": post("Open post", "2024-01-05")},
                     config=BASIC_CONFIG + f'\n[comments]\nurl = "{url}/"\n')
    report = build_at(root)
    assert report.warnings == []
    html = (root / "public/2024/01/open-post/index.html").read_text()
    soup = read_html(root / "public/2024/01/open-post/index.html")
    section = soup.select_one(".bec-comment")
    assert section is not None and "hi" in section.get_text() and "reply" in soup.get_text()
    assert not section.find_all(["script", "img", "iframe"])
    assert not [a for tag in section.find_all(True) for a in tag.attrs if a.lower().startswith("on")]
    assert not [tag for tag in section.find_all(href=True) if "javascript" in tag["href"].lower()]
    assert "javascript:" not in html and "alert(1)&gt;" in html  # the name is text
    assert soup.select_one('a.bec-author[href="https://ok.example/"]') is not None


def test_a_comment_server_url_that_redirects_is_not_followed(make_site, build_at, hostile_server):
    _Hostile.answer, _Hostile.redirect_to = b"", "http://evil.example/api/comments"
    url = f"http://127.0.0.1:{hostile_server.server_port}"
    root = make_site(FILES, config=BASIC_CONFIG + f'\n[comments]\nurl = "{url}/"\n')
    report = build_at(root)
    assert len(report.warnings) == 1 and "not followed" in report.warnings[0]


@pytest.mark.parametrize("answer", [[], {"count": "2", "comments": []}, {"count": 1, "comments": [{"id": 1}]},
                                    {"count": 1, "comments": [{**HOSTILE_COMMENT, "created_at": "{{7*7}}"}]}])
def test_an_api_answer_that_is_not_a_conversation_is_left_out(make_site, build_at, hostile_server, answer):
    _Hostile.answer, _Hostile.redirect_to = json.dumps(answer).encode(), ""
    url = f"http://127.0.0.1:{hostile_server.server_port}"
    root = make_site(FILES, config=BASIC_CONFIG + f'\n[comments]\nurl = "{url}/"\n')
    report = build_at(root)
    assert len(report.warnings) == 1 and "not a conversation" in report.warnings[0]
    assert read_html(root / "public/2024/01/open-post/index.html").find(id="state").get_text() == "unavailable"


def answered_questions(count: int, *, reply_after: timedelta) -> str:
    """`count` recent reader questions on the open post, each answered by the author after `reply_after`."""
    now = datetime.now(UTC).replace(microsecond=0)
    records = []
    for n in range(count):
        asked = now - reply_after - timedelta(days=2 + n)
        records.append({"uid": f"q{n}", "thread": "/2024/01/open-post/", "author_name": f"Reader {n}",
                        "body": f"Question {n}?", "created_at": asked.isoformat().replace("+00:00", "Z")})
        records.append({"uid": f"a{n}", "parent_uid": f"q{n}", "thread": "/2024/01/open-post/",
                        "author_name": "Ann Author", "is_author": True, "body": "An answer.",
                        "created_at": (asked + reply_after).isoformat().replace("+00:00", "Z")})
    return export(*records)


@pytest.mark.parametrize(("answers", "reply_after", "shown"), [
    (3, timedelta(hours=2), "The author usually replies within a few hours."),
    (4, timedelta(minutes=20), "The author usually replies within an hour."),
    (3, timedelta(days=3), "The author usually replies within a few days."),
    (2, timedelta(hours=2), None),          # too few answers to say
    (3, timedelta(days=45), None),          # slower than the last phrase: nothing boasted
])
def test_the_post_says_how_soon_its_author_usually_replies(make_site, build_at, answers, reply_after, shown):
    root = make_site({"content/posts/open.md": post("Open post", "2024-01-05")})
    storage = open_storage(f"sqlite:///{root / 'comments.sqlite3'}")
    import_document(storage, answered_questions(answers, reply_after=reply_after))
    storage.close()
    assert build_at(root).warnings == []
    soup = read_html(root / "public/2024/01/open-post/index.html")
    found = soup.select_one("#comments .bec-reply-time")
    assert (found.get_text() if found else None) == shown
