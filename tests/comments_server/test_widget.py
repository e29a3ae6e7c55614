"""The comment widget's files and routes, its preview endpoint, its strings, and the default theme's
comment section as built (baked conversation, no-JavaScript form, counts). Browser tests are in
tests/e2e/test_widget_browser.py."""

from __future__ import annotations

import gzip
import json
import re
import shutil
import subprocess

import pytest

from comments_server.sanitize import render_comment
from comments_server.storage import open_storage
from comments_server.strings import widget_catalogues
from comments_server.transfer import FORMAT, import_document
from comments_server.widget import STRINGS_MARKER, widget_script
from tests.support import REPO
from tests.support.live import free_port
from tests.support.server import POST, assert_error
from tests.support.site import BASIC_CONFIG, post, read_html

STATIC = REPO / "comments_server/widget/static"
# 13 KB since it draws replies, likes and mentions from other sites too (received Webmentions).
SIZE_LIMIT = 13 * 1024
CONFIG = BASIC_CONFIG.replace("posts_per_page = 2", "posts_per_page = 10")


# --- files and routes ------------------------------------------------------------------------------


def test_widget_and_styles_fit_in_12_kb_gzipped(client):
    """What readers download: the script as served (every language's strings in it) and the styles."""
    sizes = {path: len(gzip.compress(client.get(path).get_data(), 9)) for path in ("/embed.js", "/embed.css")}
    assert sum(sizes.values()) < SIZE_LIMIT, sizes


def served_script(client) -> str:
    return client.get("/embed.js").get_data(as_text=True)


def test_widget_is_served_with_every_catalogue_at_its_marker_and_without_comments(client):
    source = (STATIC / "embed.js").read_text()
    assert source.count(STRINGS_MARKER) == 1
    body = source[source.index("*/\n") + 3:].splitlines()  # after the opening comment
    code = [line for line in body if not line.strip().startswith("//")]
    # No template literal: a line that starts with // is a comment, which the server may leave out.
    assert not any("`" in line for line in code)
    served = served_script(client)
    assert STRINGS_MARKER not in served and "\n  // " not in served
    start = served.index("var STRINGS = ") + len("var STRINGS = ")
    inlined, _ = json.JSONDecoder().raw_decode(served, start)
    assert inlined == widget_catalogues() and {"en", "fr"} <= set(inlined)
    assert [line for line in served.splitlines()[1:] if STRINGS_MARKER not in line and "var STRINGS" not in line] \
        == [line for line in code if STRINGS_MARKER not in line]


def test_served_widget_is_valid_javascript(client, tmp_path):
    node = shutil.which("node")
    if node is None:
        pytest.skip("needs Node.js (apt-get install nodejs)")
    script = tmp_path / "embed.js"
    script.write_text(served_script(client))
    result = subprocess.run([node, "--check", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_widget_javascript_unit_tests_pass():
    """tests/js/ under Node's own test runner (the README's test command runs pytest alone)."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("needs Node.js 18 or later for tests/js/ (apt-get install nodejs)")
    result = subprocess.run([node, "--test", "tests/js/"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert re.search(r"^# pass [1-9]", result.stdout, re.M) and re.search(r"^# fail 0$", result.stdout, re.M)


@pytest.mark.parametrize(("path", "mimetype"), [
    ("/embed.js", "text/javascript"), ("/embed.css", "text/css"),
    ("/widget/embed.js", "text/javascript"), ("/widget/embed.css", "text/css"),
])
def test_widget_files_are_served_typed_and_cacheable(client, path, mimetype):
    response = client.get(path)
    assert response.status_code == 200
    assert response.content_type == f"{mimetype}; charset=utf-8"
    assert response.headers["Cache-Control"] == "public, max-age=3600"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    name = path.rsplit("/", 1)[1]
    assert response.get_data() == (widget_script()[0] if name == "embed.js" else (STATIC / name).read_bytes())
    assert response.headers["ETag"] and response.headers["Last-Modified"]
    again = client.get(path, headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""
    since = client.get(path, headers={"If-Modified-Since": response.headers["Last-Modified"]})
    assert since.status_code == 304


def test_only_the_widget_files_are_served(client):
    assert client.get("/widget/other.js").status_code == 404
    assert client.get("/embed.map").status_code == 404


def test_widget_sets_html_only_from_the_servers_sanitised_bodies(client):
    source = served_script(client)
    assignments = re.findall(r"innerHTML\s*=\s*([^;]+);", source)
    assert assignments and all(value.strip().endswith("body_html") for value in assignments), assignments
    assert "insertAdjacentHTML" not in source and "outerHTML" not in source and "document.write" not in source
    assert "eval(" not in source and "new Function" not in source


def test_widget_calls_no_other_origin(client):
    source = served_script(client) + (STATIC / "embed.css").read_text()
    urls = set(re.findall(r"https?://\w[^\s\"')]*", source))
    assert urls <= {"https://comments.example.com/embed.js", "https://example.com"}, urls
    assert "@import" not in source and "url(" not in source


# --- the live preview ---------------------------------------------------------------------------


def test_preview_renders_a_body_as_it_would_be_stored(client):
    body = "Hi *there* <script>alert(1)</script> [x](javascript:alert(1)) https://example.com"
    response = client.post("/api/preview", json={"body": body})
    assert response.status_code == 200
    assert response.get_json() == {"body_html": render_comment(body)}
    assert "<script" not in response.get_json()["body_html"]
    assert client.get("/api/comments", query_string={"thread": POST}).get_json()["count"] == 0


def test_preview_refuses_bad_input(make_app):
    client = make_app(MAX_BODY_LENGTH=5).test_client()
    assert_error(client.post("/api/preview", json={}), 400, "missing", "body")
    assert_error(client.post("/api/preview", json={"body": 3}), 400, "wrong_type", "body")
    assert_error(client.post("/api/preview", json={"body": "123456"}), 413, "too_long", "body")
    assert_error(client.post("/api/preview", data={"body": "x"}), 415, "unsupported_media_type")
    assert client.post("/api/preview", json={"body": ""}).get_json() == {"body_html": ""}


def test_previews_have_a_budget_of_their_own_and_cannot_use_up_the_reads(make_app):
    """Issue 13 item 3: previews counted against the read budget (300/minute), so a few clients
    rendering `*a`x5000 slowed every thread read. They now have a small budget of their own."""
    client = make_app(READ_RATE_LIMIT="3/minute", PREVIEW_RATE_LIMIT="2/minute").test_client()
    attack = {"body": "*a" * 2500}
    assert [client.post("/api/preview", json=attack).status_code for _ in range(4)] == [200, 200, 429, 429]
    reads = [client.get("/api/comments", query_string={"thread": POST}).status_code for _ in range(3)]
    assert reads == [200, 200, 200]  # the read budget is whole
    posted = client.post("/api/comments", json={"thread": POST, "author_name": "R", "body": "Still fine."})
    assert posted.status_code == 201  # writes have their own budget


def test_preview_renders_at_most_max_preview_length(make_app):
    client = make_app(MAX_PREVIEW_LENGTH=5000).test_client()
    assert client.post("/api/preview", json={"body": "*a" * 2500}).status_code == 200
    assert_error(client.post("/api/preview", json={"body": "*a" * 5000}), 413, "too_long", "body")
    # The cap is the smaller of MAX_PREVIEW_LENGTH and MAX_BODY_LENGTH, and the API says so.
    small = make_app(MAX_PREVIEW_LENGTH=100, MAX_BODY_LENGTH=50).test_client()
    assert_error(small.post("/api/preview", json={"body": "x" * 51}), 413, "too_long", "body")
    schema = small.get("/api/openapi.json").get_json()["components"]["schemas"]["Preview"]
    assert schema["properties"]["body"]["maxLength"] == 50


def test_preview_refuses_other_origins(client):
    response = client.post("/api/preview", json={"body": "x"}, headers={"Origin": "https://evil.example"})
    assert_error(response, 403, "cross_origin_forbidden")


# --- the theme's comment section, built ----------------------------------------------------------

THREAD = "/2024/01/open-post/"
FILES = {
    "content/posts/open.md": post("Open post", "2024-01-05", tags="[talk]"),
    "content/posts/other.md": post("Other post", "2024-01-06", tags="[talk]"),
    "content/posts/closed.md": post("Closed post", "2024-01-07", tags="[talk]", comments="false"),
}
HOSTILE = '<img src=x onerror="alert(1)">'
CONVERSATION = json.dumps({"format": FORMAT, "version": 1, "comments": [
    {"uid": "q", "thread": THREAD, "author_name": HOSTILE, "author_url": "https://reader.example/",
     "body": "Why *this*? <script>alert(2)</script>", "created_at": "2024-01-07T10:00:00Z"},
    {"uid": "a", "parent_uid": "q", "thread": THREAD, "author_name": "Ann Author", "is_author": True,
     "body": "Because.", "created_at": "2024-01-07T12:00:00Z"},
    {"uid": "d", "thread": THREAD, "author_name": "Gone", "status": "deleted", "body": "secret",
     "created_at": "2024-01-08T09:00:00Z"},
    {"uid": "r", "parent_uid": "d", "thread": THREAD, "author_name": "Lee", "body": "Too late.",
     "created_at": "2024-01-08T10:00:00Z"},
]})


def built_site(make_site, build_at, config=CONFIG, name="site"):
    root = make_site(FILES, config=config, name=name)
    storage = open_storage(f"sqlite:///{root / 'comments.sqlite3'}")
    import_document(storage, CONVERSATION)
    storage.close()
    report = build_at(root)
    assert report.warnings == []
    return root / "public"


def test_theme_bakes_the_conversation_in_the_widgets_markup(make_site, build_at):
    out = built_site(make_site, build_at)
    soup = read_html(out / "2024/01/open-post/index.html")
    section = soup.find(id="comments")
    assert section["data-thread"] == THREAD and "bec" in section["class"]
    assert section.select_one(".bec-summary").get_text() == "3 comments"
    top = section.select(".bec-thread > li.bec-comment")
    assert [li["id"] for li in top] == ["comment-1", "comment-3"]
    question, gone = top
    author = question.select_one(":scope > .bec-item .bec-author")
    assert author.get_text() == HOSTILE and author["href"] == "https://reader.example/"
    assert author["rel"] == ["nofollow", "ugc", "noopener"]
    assert section.find("img") is None and section.find("script", src=False) is None
    assert question.select_one(".bec-text").decode_contents().startswith("<p>Why <em>this</em>?")
    time = question.select_one("time")
    assert time["datetime"] == "2024-01-07T10:00:00Z" and time.get_text() == "January 7, 2024"
    assert time["title"] == "January 7, 2024 at 10:00 (UTC)"
    assert question.select_one(".bec-permalink")["href"] == "#comment-1"
    answer = question.select_one(":scope > .bec-replies > li#comment-2")
    assert "bec-by-author" in answer["class"] and answer.select_one(".bec-badge").get_text() == "Author"
    assert answer.select_one("a.bec-reply")["href"] == f"/comments/form?thread={THREAD}&parent_id=2"
    assert "bec-deleted" in gone["class"]
    assert gone.select_one(".bec-author").get_text() == "[deleted]"
    assert "secret" not in section.get_text() and gone.select_one(":scope > .bec-item a.bec-reply") is None
    assert gone.select_one(":scope > .bec-replies > li#comment-4 .bec-text").get_text() == "Too late."


def test_theme_form_posts_without_javascript(make_site, build_at):
    out = built_site(make_site, build_at)
    section = read_html(out / "2024/01/open-post/index.html").find(id="comments")
    form = section.find("form")
    assert form["method"] == "post" and form["action"] == "/comments/form"
    fields = {i["name"]: i for i in form.find_all(["input", "textarea"])}
    assert set(fields) == {"thread", "parent_id", "body", "author_name", "author_email", "author_url",
                           "notify_replies", "website"}
    assert fields["thread"]["value"] == THREAD and fields["parent_id"]["value"] == ""
    assert fields["website"]["tabindex"] == "-1" and fields["website"].find_parent(class_="bec-hp")
    for name in ("body", "author_name", "author_email", "author_url", "notify_replies"):
        assert section.find("label", attrs={"for": fields[name]["id"]}), name
    assert section.find("link", rel="stylesheet")["href"] == "/embed.css"
    offline, script = section.find_all("script")   # the theme's note for a missing server goes first
    assert offline["src"] == "/theme/comments_offline.js" and offline.has_attr("defer")
    assert script["src"] == "/embed.js" and script.has_attr("defer") and script["data-lang"] == "en"


def test_listings_show_baked_counts_and_load_the_widget_once(make_site, build_at):
    out = built_site(make_site, build_at)
    for page in ("index.html", "tags/talk/index.html"):
        soup = read_html(out / page)
        counts = {a["data-thread"]: a.get_text() for a in soup.select("a.comment-count")}
        assert counts == {THREAD: "3 comments", "/2024/01/other-post/": "No comments yet"}, page
        assert [s["src"] for s in soup.find_all("script")] == ["/embed.js"]


def test_theme_speaks_the_site_language(make_site, build_at):
    config = CONFIG.replace('title = "Test Blog"', 'title = "Test Blog"\nlanguage = "fr-CA"')
    out = built_site(make_site, build_at, config=config.replace('"UTC"', '"America/St_Johns"'))
    section = read_html(out / "2024/01/open-post/index.html").find(id="comments")
    assert section.find("h2").get_text() == "Commentaires"
    assert section.select_one(".bec-summary").get_text() == "3 commentaires"
    assert section.select_one(".bec-badge").get_text() == "Auteur"
    assert section.select_one(".bec-deleted .bec-author").get_text() == "[supprimé]"
    assert section.find("button").get_text() == "Publier le commentaire"
    time = section.select_one("#comment-1 time")  # 10:00 UTC, 3 1/2 hours behind in St. John's
    assert time.get_text() == "7 janvier 2024" and time["title"] == "7 janvier 2024 à 06:30 (UTC-3:30)"
    assert section.select_one("#comment-2 .bec-reply")["aria-label"] == "Répondre à Ann Author"
    assert section.find("script", attrs={"data-lang": True})["data-lang"] == "fr-CA"
    counts = [a.get_text() for a in read_html(out / "index.html").select("a.comment-count")]
    assert sorted(counts) == ["3 commentaires", "Aucun commentaire pour l’instant"]


def test_server_down_at_build_time_still_gives_the_form(make_site, build_at):
    server = f"http://127.0.0.1:{free_port()}"
    config = CONFIG + f'\n[comments]\nurl = "{server}/"\n\n[comments.server]\nhoneypot_field = "homepage"\n' \
        'display_depth = 3\n'
    root = make_site(FILES, config=config)
    report = build_at(root)
    assert len(report.warnings) == 1
    section = read_html(root / "public/2024/01/open-post/index.html").find(id="comments")
    assert section.select(".bec-thread, .bec-summary, .bec-comment") == []
    assert section.find("form")["action"] == f"{server}/comments/form"
    assert section.select_one(".bec-hp input")["name"] == "homepage"
    script = section.find("script", attrs={"data-lang": True})
    assert script["src"] == f"{server}/embed.js" and script["data-max-depth"] == "3"
    assert section.find("link", rel="stylesheet")["href"] == f"{server}/embed.css"
    counts = [a.get_text() for a in read_html(root / "public/index.html").select("a.comment-count")]
    assert counts == ["Comments", "Comments"]
