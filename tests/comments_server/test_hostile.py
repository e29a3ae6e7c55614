"""Hostile bodies, names and URLs through the API: parse what comes back, nothing script-capable survives."""

from __future__ import annotations

import html
import re

import pytest
from bs4 import BeautifulSoup

from comments_server.models import INVISIBLE
from tests.support.server import POST, assert_error, post_comment

ALLOWED_TAGS = {"p", "br", "a", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li"}
ALLOWED_ATTRS = {"a": {"href", "title", "rel"}}
SAFE_SCHEMES = ("http://", "https://", "mailto:")

HOSTILE_BODIES = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    '<img src=x onerror="alert(1)">',
    "<svg onload=alert(1)><circle/></svg>",
    '<a href="javascript:alert(1)">click</a>',
    "<iframe src=\"javascript:alert('x')\"></iframe>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<body onload=alert(1)>",
    "<math><mi xlink:href=\"javascript:alert(1)\">x</mi></math>",
    "<object data=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\"></object>",
    '<form action="javascript:alert(1)"><button>go</button></form>',
    "<meta http-equiv=refresh content='0;url=javascript:alert(1)'>",
    "<<script>script>alert(1)<</script>/script>",
    "<!--<script>-->alert(1)",
    "<style>@import 'javascript:alert(1)';</style>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click]( javascript:alert(1) )",
    "[click](java\tscript:alert(1))",
    "[click](jav&#x61;script:alert(1))",
    "[click](jav&#97;script&#58;alert(1))",
    "[click](javascript&colon;alert(1))",
    "[click](%6A%61%76%61%73%63%72%69%70%74:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](vbscript:msgbox(1))",
    "[click](\\javascript:alert(1))",
    "![img](javascript:alert(1))",
    "![img](https://example.com/x.png\" onerror=\"alert(1))",
    "[x](https://example.com\" onmouseover=\"alert(1))",
    '[x](https://example.com "title\\" onmouseover=\\"alert(1)")',
    "<javascript:alert(1)>",
    "<data:text/html,<script>alert(1)</script>>",
    "javascript:alert(1)",
    "`<script>` and ```\n<script>alert(1)</script>\n```",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&#60;script&#62;alert(1)&#60;/script&#62;",
    "<a href=https://ok.example onclick=alert(1)>x</a>",
    "[a](<javascript:alert(1)>)",
    "[ref]\n\n[ref]: javascript:alert(1)",
    "<details open ontoggle=alert(1)>",
    "http://example.com/<script>alert(1)</script>",
    "www.example.com/\"onmouseover=\"alert(1)",
]

HOSTILE_NAMES = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "javascript:alert(1)",
                 "&lt;b&gt;", "{{ 7*7 }}", "\u202egnp.exe"]


def assert_inert(fragment: str) -> None:
    """No element, attribute or URL that could run script, in what a browser would parse."""
    soup = BeautifulSoup(f"<div id=root>{fragment}</div>", "html5lib")
    root = soup.find(id="root")
    for element in root.find_all(True):
        assert element.name in ALLOWED_TAGS, f"tag <{element.name}> in {fragment!r}"
        for attr, value in element.attrs.items():
            assert attr in ALLOWED_ATTRS.get(element.name, set()), f"attribute {attr} in {fragment!r}"
            assert not attr.lower().startswith("on")
            if attr == "href":
                # Browsers ignore whitespace and control characters in a scheme; do the same here.
                url = re.sub(r"[\x00-\x20]", "", html.unescape(value)).lower()
                assert url.startswith(SAFE_SCHEMES), f"href {value!r} from {fragment!r}"
            if attr == "rel":
                assert value == ["nofollow", "ugc", "noopener"]
    # Text may mention "onerror=" harmlessly; markup may not open a dangerous tag.
    lowered = fragment.lower()
    for bad in ("<script", "<iframe", "<svg", "<img", "<object", "<style", "<math", "<form", "<meta"):
        assert bad not in lowered


@pytest.mark.parametrize("body", HOSTILE_BODIES)
def test_hostile_bodies_come_back_inert(client, body):
    response = post_comment(client, body=body)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert_inert(response.get_json()["body_html"])
    listed = client.get("/api/comments", query_string={"thread": POST}).get_json()["comments"][-1]
    assert_inert(listed["body_html"])


@pytest.mark.slow
def test_hostile_bodies_in_feed_are_inert(client):
    for body in HOSTILE_BODIES:
        post_comment(client, body=body)
    import feedparser

    feed = feedparser.parse(client.get("/feeds/comments.atom").data)
    assert len(feed.entries) == len(HOSTILE_BODIES)
    for entry in feed.entries:
        assert_inert(entry.content[0].value)


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_names_stay_plain_text(client, name):
    response = post_comment(client, author_name=name)
    assert response.status_code == 201
    # The API returns the name as data; it is never HTML (the widget sets it with textContent).
    # Invisible characters at its ends (a right-to-left override) are stripped like spaces.
    assert response.get_json()["author_name"] == re.sub(f"^[{INVISIBLE}]+|[{INVISIBLE}]+$", "", name)
    feed = client.get("/feeds/comments.atom").get_data(as_text=True)
    assert "<script" not in feed and "<img" not in feed


def test_hostile_names_escaped_in_html_form(client):
    for name in HOSTILE_NAMES:
        page = client.post("/comments/form", data={"thread": POST, "author_name": name, "body": ""})
        soup = BeautifulSoup(page.get_data(as_text=True), "html5lib")
        assert soup.find("script") is None and soup.find("img") is None
        assert soup.find("input", {"name": "author_name"})["value"] == name


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", " javascript:alert(1)", "JAVASCRIPT:alert(1)", "java\tscript:alert(1)",
     "data:text/html,<script>alert(1)</script>", "vbscript:msgbox(1)", "javascript://example.com/%0aalert(1)",
     "https://example.com/\"onmouseover=\"alert(1)", "http://example.com/<script>", "//evil.example",
     "&#106;avascript:alert(1)", "%6A%61vascript:alert(1)", "file:///etc/passwd"],
)
def test_dangerous_author_urls_are_refused(client, url):
    response = post_comment(client, author_url=url)
    # " javascript:" is stripped to "javascript:" first; tabs and "\t" inside are control characters.
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "author_url"


def test_accepted_author_urls_are_http(client):
    for url in ("https://example.com/", "http://example.com/~me?a=1&b=2#x", "HTTPS://EXAMPLE.COM"):
        data = post_comment(client, author_url=url).get_json()
        assert data["author_url"] == url
    assert_error(post_comment(client, author_url="mailto:a@example.com"), 400, "invalid", "author_url")
