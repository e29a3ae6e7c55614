"""Hostile comments, from a corpus: every payload in tests/data/hostile/payloads.json (OWASP's XSS
filter evasion list, HTML and mutation XSS, markup break-outs, Markdown links, images and autolinks
with dangerous or encoded schemes, template syntax, injection strings, control characters) is posted
as body, name and URL, through the API and through the no-JavaScript form, then read back everywhere
a comment is shown: the API (thread, single comment, 201 answers), the comments feed, the form page
that shows a refused comment again, the post page of a fixture site whose comments are baked at build
time from the comment database, the author's dashboard (queue, all comments, health, one-click reply
pages) and the notification emails. Each is parsed with html5lib as a browser would: no script-capable
element, event-handler attribute or dangerous URL scheme may appear that the page does not have
without hostile comments, comment bodies hold only the sanitiser's allow-list, names are text, and
template syntax stays text ({{7*7}} never becomes 49).

Then the other hostile inputs: header injection in the fields that reach emails, path traversal in
thread paths, NUL bytes, invalid UTF-8, 1 MiB bodies and deeply nested JSON (on a real server too).

The figures (payloads, posts, unsafe count) are printed and written to test-artifacts/hostile.json.
"""

from __future__ import annotations

import html
import json
import re
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterable
from typing import Any
from xml.etree import ElementTree

import pytest
from bs4 import BeautifulSoup, Tag

from comments_server.mail import MailSettings, send_pending
from comments_server.services import services
from tests.support.site import BASIC_CONFIG, post
from tests.support.authoring import PASSWORD, desk, login
from tests.support import REPO
from tests.support.mail import SmtpServer, mail_config
from tests.support.server import assert_error

CORPUS_FILE = REPO / "tests" / "data" / "hostile" / "payloads.json"
CORPUS: list[dict[str, str]] = json.loads(CORPUS_FILE.read_text(encoding="utf-8"))["payloads"]
ARTIFACT = REPO / "test-artifacts" / "hostile.json"
THREAD = "/2024/05/a-post/"
FIELDS = ("body", "author_name", "author_url")
CHANNELS = ("api", "form")
BENIGN = {"author_name": "Reader", "body": "A thoughtful comment with [a link](https://example.com/ \"t\").",
          "author_url": "https://reader.example/"}

# What the sanitiser lets through in a comment body (comments_server/sanitize.py), checked here
# independently of it.
BODY_TAGS = {"p", "br", "a", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li"}
BODY_ATTRS = {"a": {"href", "title", "rel"}}
# Elements that can run script, load a document or resource, restyle the page or hijack a form.
RISKY_TAGS = {
    "script", "iframe", "frame", "frameset", "object", "embed", "applet", "base", "link", "meta", "style",
    "svg", "math", "form", "template", "portal", "img", "image", "video", "audio", "source", "track", "input",
    "button", "textarea", "select", "isindex", "keygen", "marquee", "bgsound", "xml", "param", "animate",
    "set", "use", "foreignobject", "noscript", "body", "html", "head", "title",
}
URL_ATTRS = {"href", "src", "action", "formaction", "data", "poster", "background", "xlink:href", "cite",
             "codebase", "srcset", "dynsrc", "lowsrc", "ping", "manifest", "longdesc", "usemap", "classid",
             "archive", "to", "from", "values", "by", "content"}
RISKY_ATTRS = {"style", "srcdoc", "formaction"}
BAD_SCHEMES = ("javascript:", "vbscript:", "livescript:", "mocha:", "data:")
# A template expression evaluated anywhere would print this.
EVALUATED = "49"


def url_scheme(value: str) -> str:
    """The scheme a browser would see: entities decoded, whitespace and controls dropped."""
    cleaned = re.sub(r"[\x00-\x20\x7f-\x9f\u200b\ufeff\u2028\u2029]", "", html.unescape(value)).lower()
    if cleaned.startswith(BAD_SCHEMES):
        return cleaned.split(":", 1)[0]
    match = re.match(r"^([a-z][a-z0-9+.-]*):", cleaned)
    return match.group(1) if match else "relative"


def risky_signatures(root: Tag) -> set[str]:
    """One line per kind of risky element or attribute in a parsed page (ids and values left out
    where they vary from comment to comment)."""
    found = set()
    for element in root.find_all(True):
        if synthesized(element):
            continue
        attrs = {str(k).lower(): (" ".join(v) if isinstance(v, list) else str(v)) for k, v in element.attrs.items()}
        schemes = {k: url_scheme(v) for k, v in attrs.items() if k in URL_ATTRS}
        risky = (element.name.lower() in RISKY_TAGS or any(k.startswith("on") for k in attrs)
                 or RISKY_ATTRS & attrs.keys() or any(s.split(":")[0] in {b[:-1] for b in BAD_SCHEMES}
                                                       for s in schemes.values()))
        if not risky:
            continue
        described = sorted(
            f"{k}={attrs[k]}" if k in ("type", "name", "rel", "http-equiv", "charset") else
            f"{k}:{schemes[k]}" if k in schemes else k
            for k in attrs
        )
        found.add(f"<{element.name.lower()} {' '.join(described)}>")
    return found


def synthesized(element: Tag) -> bool:
    """The html, head and body elements html5lib adds around any fragment (attributes would be the fragment's)."""
    return element.name in ("html", "head", "body") and not element.attrs


def body_problems(fragment: Tag, where: str) -> list[str]:
    """A comment body holds only the sanitiser's allow-list, with http(s)/mailto links."""
    problems = []
    for element in fragment.find_all(True):
        if synthesized(element):
            continue
        if element.name not in BODY_TAGS:
            problems.append(f"{where}: <{element.name}> in a comment body")
        for attr, value in element.attrs.items():
            value = " ".join(value) if isinstance(value, list) else value
            if attr not in BODY_ATTRS.get(element.name, set()):
                problems.append(f"{where}: attribute {attr}={value!r} on <{element.name}>")
            elif attr == "href" and url_scheme(value) not in ("http", "https", "mailto"):
                problems.append(f"{where}: href {value!r}")
    return problems


def parse(markup: str | bytes) -> BeautifulSoup:
    return BeautifulSoup(markup, "html5lib")


def fragment(markup: str) -> BeautifulSoup:
    """HTML meant for inside an element, parsed as a browser would (whatever breaks out, is kept)."""
    return parse(markup)


def text_of(node: Tag) -> str:
    return " ".join(node.get_text(" ").split())


class Audit:
    """Every surface checked, and every unsafe thing found (the figure that must stay 0)."""

    def __init__(self) -> None:
        self.unsafe: list[str] = []
        self.surfaces: Counter[str] = Counter()

    def page(self, surface: str, markup: str | bytes, baseline: set[str]) -> BeautifulSoup:
        """A whole page: nothing risky that the same page without hostile comments lacks."""
        self.surfaces[surface] += 1
        soup = parse(markup)
        self.unsafe += [f"{surface}: {s}" for s in sorted(risky_signatures(soup) - baseline)]
        return soup

    def body(self, surface: str, markup_or_node: str | Tag) -> Tag:
        self.surfaces[surface] += 1
        node = fragment(markup_or_node) if isinstance(markup_or_node, str) else markup_or_node
        self.unsafe += body_problems(node, surface)
        self.unsafe += [f"{surface}: {s}" for s in sorted(risky_signatures(node))]
        return node

    def check(self, ok: bool, problem: str) -> None:
        if not ok:
            self.unsafe.append(problem)


def templated(payload: str) -> bool:
    return any(marker in payload for marker in ("{{", "{%", "${", "#{", "<%", "[[", "@(", "*{"))


# --- the corpus ------------------------------------------------------------------------------------


def test_corpus_is_large_and_varied():
    sources = Counter(p["source"] for p in CORPUS)
    assert len(CORPUS) >= 150 and len({p["payload"] for p in CORPUS}) == len(CORPUS)
    assert {"owasp-filter-evasion", "markdown", "template", "break-out", "html"} <= sources.keys()
    payloads = "\n".join(p["payload"] for p in CORPUS).lower()
    for needle in ("javascript:", "&#x", "%6a", "<svg", "onerror", "<!--", "{{7*7}}", "{% raw %}", "](javascript:",
                   "![", "<javascript:", "vbscript:", "data:text/html"):
        assert needle in payloads, needle


@pytest.fixture
def hostile_site(make_site, build_at):
    """A fixture site with one post at THREAD; built once so its threads.json exists."""
    root = make_site({"content/posts/a-post.md": post("A post", "2024-05-01", "A post that takes comments.")},
                     config=BASIC_CONFIG)
    build_at(root)
    assert (root / "public" / "threads.json").exists()
    return root


def post_everything(client, audit: Audit, form_baseline: set[str]) -> dict[str, Any]:
    """Each payload as each field through each channel; what happened to it, per payload."""
    outcomes: dict[str, Any] = {}
    for item in CORPUS:
        payload = item["payload"]
        results = outcomes.setdefault(payload, {"source": item["source"]})
        for field in FIELDS:
            data = {"thread": THREAD, **BENIGN, field: payload}
            response = client.post("/api/comments", json=data)
            if response.status_code == 201:
                created = response.get_json()
                audit.body("api 201 body_html", created["body_html"])
                audit.check(created["author_url"] is None or url_scheme(created["author_url"]) in ("http", "https"),
                            f"api 201: author_url {created['author_url']!r}")
                results[f"api {field}"] = f"stored #{created['id']}"
            else:
                assert response.status_code < 500, (payload, field, response.get_data(as_text=True))
                results[f"api {field}"] = f"refused {response.status_code} {response.get_json()['error']['code']}"
            response = client.post("/comments/form", data=data)
            if response.status_code == 303:
                location = response.headers["Location"]
                audit.check(location.startswith("/comments/posted?"), f"form redirect to {location!r}")
                back = parse(client.get(location).data).select_one("a.bec-back")["href"]
                audit.check(back.startswith("https://blog.example.com/2024/05/a-post/#comment"),
                            f"posted page links to {back!r}")
                results[f"form {field}"] = "stored " + back.rsplit("-", 1)[-1]
            else:
                assert response.status_code < 500, (payload, field)
                # The form comes back with what was typed, and the error.
                audit.page("form page with a refused comment", response.get_data(), form_baseline)
                results[f"form {field}"] = f"refused {response.status_code}"
    return outcomes


def flatten(comments: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    stack = list(comments)
    while stack:
        item = stack.pop()
        out.append(item)
        stack.extend(item["replies"])
    return sorted(out, key=lambda c: c["id"])


def test_hostile_corpus_is_inert_everywhere(make_app, hostile_site, build_at, capsys):
    root = hostile_site
    app = make_app(DATABASE_URL=f"sqlite:///{root / 'comments.sqlite3'}",
                   THREADS_MANIFEST=str(root / "public" / "threads.json"),
                   MAX_LINKS=None, MAX_NAME_LENGTH=None, FEED_ITEMS=100000,
                   MAIL_HOST="127.0.0.1", MAIL_FROM="Blog <comments@blog.example.com>", MAIL_SEND_IN_BACKGROUND=False)
    # The author account, made by the accounts module as `blogengine comments add-author` does.
    desk(app).accounts.add("Ann Author", "ann@example.com", PASSWORD)
    client = app.test_client()
    author = app.test_client()
    assert login(author).status_code == 303
    audit = Audit()

    # Baselines: each page with one benign comment, so the theme's and dashboard's own scripts,
    # forms and links are known.
    form_baseline = risky_signatures(parse(client.post("/comments/form", data={"thread": THREAD, **BENIGN, "body": ""})
                                           .get_data()))
    benign = client.post("/api/comments", json={"thread": THREAD, **BENIGN}).get_json()
    build_at(root)
    page_path = root / "public" / "2024" / "05" / "a-post" / "index.html"
    page_baseline = risky_signatures(parse(page_path.read_bytes()))
    assert any("embed.js" in s or "script" in s for s in page_baseline)  # the widget's own script is known
    dashboard_pages = ["/dashboard/", "/dashboard/comments", "/dashboard/moderation", "/dashboard/health"]
    dashboard_baseline = set().union(*(risky_signatures(parse(author.get(p).get_data())) for p in dashboard_pages))
    notifier = desk(app).notifier
    reply_path = notifier.reply_link(benign["id"], desk(app).accounts.all()[0]).split("blog.example.com", 1)[1]
    reply_baseline = risky_signatures(parse(client.get(reply_path).get_data()))
    [benign_mail] = desk(app).storage.outbox.all()
    mail_baseline = risky_signatures(parse(benign_mail.body_html))

    outcomes = post_everything(client, audit, form_baseline)

    # 1. The API: the thread, each comment alone, the feed.
    thread = client.get("/api/comments", query_string={"thread": THREAD}).get_json()
    comments = flatten(thread["comments"])
    stored = [c for c in comments if c["id"] != benign["id"]]
    for c in comments:
        audit.body("api thread body_html", c["body_html"])
        audit.check(c["author_url"] is None or url_scheme(c["author_url"]) in ("http", "https"),
                    f"api: author_url {c['author_url']!r}")
    for c in stored[::7]:
        audit.body("api single comment body_html", client.get(f"/api/comments/{c['id']}").get_json()["body_html"])
    feed = ElementTree.fromstring(client.get("/feeds/comments.atom").get_data())
    ns = {"a": "http://www.w3.org/2005/Atom"}
    entries = feed.findall("a:entry", ns)
    assert len(entries) == len(comments)
    for entry in entries:
        audit.body("feed entry content", entry.findtext("a:content", "", ns))
        uri = entry.findtext("a:author/a:uri", None, ns)
        audit.check(uri is None or url_scheme(uri) in ("http", "https"), f"feed: author uri {uri!r}")

    # 2. The static page, its comments baked at build time from the comment database.
    build_at(root)
    soup = audit.page("baked post page", page_path.read_bytes(), page_baseline)
    api_by_id = {c["id"]: c for c in comments}
    baked = [li for li in soup.select("li.bec-comment") if int(li["id"].removeprefix("comment-")) in api_by_id]
    # A comment that broke out of its markup would take the ones after it along.
    audit.check(len(baked) == len(comments), f"baked page: {len(baked)} of {len(comments)} comments in place")
    for item in baked:
        c = api_by_id[int(item["id"].removeprefix("comment-"))]
        body_node, name = item.select_one(".bec-text"), item.select_one(".bec-author")
        if body_node is None or name is None:
            audit.check(False, f"baked page: comment #{c['id']} lost its markup")
            continue
        body = audit.body("baked comment body", body_node)
        audit.check(not name.find(True) and text_of(name) == " ".join(c["author_name"].split()),
                    f"baked page: name {c['author_name']!r} shown as {name!r}")
        audit.check(text_of(body) == text_of(fragment(c["body_html"])), f"baked page: body of #{c['id']} changed")
        if name.name == "a":
            audit.check(url_scheme(name["href"]) in ("http", "https"), f"baked page: author link {name['href']!r}")

    # 3. The dashboard, logged in as the author: the queue, every page of all comments, moderation,
    # health, and the one-click reply page of each comment.
    shown: dict[int, list[Tag]] = {}
    pages = [author.get("/dashboard/"), author.get("/dashboard/moderation"), author.get("/dashboard/health")]
    number = 1
    while True:
        response = author.get("/dashboard/comments", query_string={"page": number})
        pages.append(response)
        if 'rel="next"' not in response.get_data(as_text=True) and f"page={number + 1}" not in response.get_data(as_text=True):
            break
        number += 1
    assert number > 1, "all comments spans several pages"
    for response in pages:
        assert response.status_code == 200
        soup = audit.page(f"dashboard {response.request.path}", response.get_data(), dashboard_baseline)
        for node in soup.select('[id^="comment-"]'):
            match = re.fullmatch(r"comment-(\d+)", node["id"])
            if match:
                shown.setdefault(int(match.group(1)), []).append(node)
    account = desk(app).accounts.all()[0]
    for c in stored:
        audit.check(c["id"] in shown, f"dashboard: comment #{c['id']} not in place")
        for node in shown.get(c["id"], []):
            for body in node.select(".comment-body"):
                audit.body("dashboard comment body", body)
            for name in node.select(".author-name"):
                audit.check(not name.find(True), f"dashboard: markup in the name of #{c['id']}")
    for c in stored[::3]:
        path = notifier.reply_link(c["id"], account).split("blog.example.com", 1)[1]
        soup = audit.page("dashboard reply page", client.get(path).get_data(), reply_baseline)
        for body in soup.select(".comment-body"):
            audit.body("dashboard reply page body", body)

    # 4. The notification emails the author was sent for each comment (HTML part, subject).
    mails = desk(app).storage.outbox.all()
    assert len(mails) == len(comments)
    for mail in mails:
        audit.page("notification email html", mail.body_html, mail_baseline)
        audit.check("\n" not in mail.subject and "\r" not in mail.subject, f"mail subject {mail.subject!r}")

    # 5. Template syntax stays text: on the baked page and the dashboard, as the API gives it.
    baked_text = {int(li["id"].removeprefix("comment-")): text_of(li) for li in baked}
    templates = 0
    for c in stored:
        dashboard_text = " ".join(text_of(n) for n in shown.get(c["id"], []))
        for shown_text, where in ((baked_text.get(c["id"], ""), "baked page"), (dashboard_text, "dashboard")):
            name = " ".join(c["author_name"].split())
            if templated(name):
                templates += 1
                audit.check(name in shown_text, f"{where}: template name {name!r} not shown as text")
            source = text_of(fragment(c["body_html"]))
            if templated(source):
                templates += 1
                audit.check(source in shown_text, f"{where}: template body {source!r} not shown as text")
            if "7*7" in name + source and EVALUATED not in name + source:
                audit.check(EVALUATED not in shown_text.replace(str(c["id"]), ""), f"{where}: 7*7 evaluated")
    assert templates > 0

    posts = len(CORPUS) * len(FIELDS) * len(CHANNELS)
    stored_count = sum(1 for o in outcomes.values() for k, v in o.items() if k != "source" and v.startswith("stored"))
    report = {
        "payloads": len(CORPUS), "sources": dict(Counter(p["source"] for p in CORPUS)), "posts": posts,
        "stored": stored_count, "refused": posts - stored_count, "surfaces_checked": dict(audit.surfaces),
        "template_checks": templates, "unsafe": len(audit.unsafe), "unsafe_findings": audit.unsafe[:200],
        "outcomes": outcomes,
    }
    ARTIFACT.parent.mkdir(exist_ok=True)
    ARTIFACT.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    with capsys.disabled():
        print(f"\nhostile corpus: {len(CORPUS)} payloads ({', '.join(f'{k} {v}' for k, v in report['sources'].items())})"
              f" tried as body, name and URL through the API and the form: {posts} posts, {stored_count} stored, "
              f"{posts - stored_count} refused; {sum(audit.surfaces.values())} renderings checked "
              f"(API, feed, form page, baked page, dashboard, reply pages, emails); unsafe: {len(audit.unsafe)}")
    assert not audit.unsafe, "\n".join(audit.unsafe[:50])


def test_the_audit_catches_what_it_looks_for():
    """The checks above are only worth their zero if they see unsafe markup; here they must."""
    audit = Audit()
    for markup in ['<script>alert(1)</script>', '<img src=x onerror=alert(1)>', '<a href=" jav&#x09;ascript:x">x</a>',
                   '<a href="data:text/html,x">x</a>', '<p onclick="x">x</p>', '<svg><a xlink:href="javascript:x">x</a></svg>',
                   '<p style="x">x</p>', '<input type=hidden name=csrf_token value=x>', '<body onload=x>',
                   '</div><form action=javascript:x>']:
        before = len(audit.unsafe)
        audit.body("sample", markup)
        assert len(audit.unsafe) > before, markup
    page = "<!DOCTYPE html><title>t</title><script src=/embed.js></script><form action=/comments/form></form>"
    baseline = risky_signatures(parse(page))
    before = len(audit.unsafe)
    audit.page("page", page.replace("</form>", "</form><p>fine</p>"), baseline)
    assert len(audit.unsafe) == before
    for added in ("<script>x</script>", "<form action='javascript:x'></form>", "<a href=vbscript:x>x</a>",
                  "<div onmouseover=x>", "<iframe src=/x></iframe>", "<input name=csrf_token type=hidden>"):
        audit.page("page", page.replace("</form>", "</form>" + added), baseline)
        assert len(audit.unsafe) > before, added
        before = len(audit.unsafe)


# --- header injection: nothing a commenter types reaches an email header ----------------------------

HEADER_INJECTIONS = [
    "Eve\r\nBcc: victim@example.net", "Eve\nBcc: victim@example.net", "Eve\rBcc: victim@example.net",
    "Eve\u2028Bcc: victim@example.net", "Eve\u2029Bcc: victim@example.net", "Eve\x85Bcc: victim@example.net",
    "Eve\x0bBcc: victim@example.net", "Eve\x0cBcc: victim@example.net", "Eve\x1cBcc: victim@example.net",
    "Eve\r\n\r\n<html>a forged body</html>", "Eve%0d%0aBcc: victim@example.net",
    "=?utf-8?q?Eve=0D=0ABcc=3A_victim=40example.net?=", "=?utf-8?b?RXZlDQpCY2M6IHZpY3RpbUBleGFtcGxlLm5ldA==?=",
    "Eve <victim@example.net>", "victim@example.net, Eve", "Eve\tBcc: victim@example.net", "Eve\u0000Bcc: victim",
]
EMAIL_INJECTIONS = [
    "eve@example.org\r\nBcc: victim@example.net", "eve@example.org\nBcc: victim@example.net",
    "eve@example.org\u2028Bcc: victim@example.net", "eve@example.org%0aBcc:victim@example.net",
    "victim@example.net,eve@example.org", "eve@example.org>\r\nBcc: victim@example.net",
    "\"Eve\" <victim@example.net>", "eve@example.org;victim@example.net", "eve@example.org\x00",
    "eve@example.org\r\n", "eve@example.org\u0085", "eve@example.org\tbcc@example.net",
]
ALLOWED_HEADERS = {"from", "to", "subject", "date", "message-id", "auto-submitted", "list-unsubscribe",
                   "list-unsubscribe-post", "mime-version", "content-type", "content-transfer-encoding"}


def test_header_injection_never_reaches_an_email(make_app, clock):
    smtp = SmtpServer()
    smtp.start()
    try:
        app = make_app(**mail_config(smtp))
        desk(app).accounts.add("Ann Author", "ann@example.com", PASSWORD)
        client = app.test_client()
        rita = client.post("/api/comments", json={"thread": "/2024/05/a-post/", "author_name": "Rita", "body": "Hi",
                                                  "author_email": "rita@example.org", "notify_replies": True}).get_json()
        desk(app).storage.addresses.confirm("rita@example.org", clock.now)  # replies reach her (opt-in twice)
        results = Counter()
        for name in HEADER_INJECTIONS:
            for channel in ("api", "form"):
                data = {"thread": "/2024/05/a-post/", "author_name": name, "body": "A reply.", "parent_id": rita["id"]}
                response = (client.post("/api/comments", json=data) if channel == "api"
                            else client.post("/comments/form", data=data))
                assert response.status_code < 500
                results["stored" if response.status_code in (201, 303) else "refused"] += 1
        for email in EMAIL_INJECTIONS:
            data = {"thread": "/2024/05/a-post/", "author_name": "Eve", "body": "Tell me.", "author_email": email,
                    "notify_replies": True}
            response = client.post("/api/comments", json=data)
            # An address with a line break, a second address or a display name is not an address.
            assert_error(response, 400, "invalid_characters" if re.search(r"[\x00-\x1f\x7f-\x9f]", email) else "invalid",
                         "author_email")
        assert results["stored"] > 0 and results["refused"] > 0
        # Blanks around an address are trimmed (a separator is one); the address is what is kept.
        kept = client.post("/api/comments", json={"thread": "/2024/05/a-post/", "author_name": "Eve", "body": "Hi",
                                                  "author_email": " eve@example.org\u2029", "notify_replies": True})
        assert desk(app).storage.get_comment(kept.get_json()["id"]).author_email == "eve@example.org"
        send_pending(desk(app).storage.outbox, MailSettings.from_config(app.config), services(app).clock)
        assert smtp.inbox.received, "the replies caused emails"
        for recipients, message in smtp.inbox.received:
            # Eve gets one confirmation email, nothing more.
            assert set(recipients) <= {"ann@example.com", "rita@example.org", "eve@example.org"}, recipients
            names = [k.lower() for k in message.keys()]
            assert set(names) <= ALLOWED_HEADERS and len(names) == len(set(names)), names
            for key, value in message.items():
                assert "\r" not in str(value) and "\n" not in str(value), (key, value)
            assert "victim" not in str(message["To"]) and "victim" not in str(message.get("Cc", ""))
            for part in message.walk():
                assert not part.is_multipart() or part.get_content_type() == "multipart/alternative"
    finally:
        smtp.stop()


ENCODED_WORD_ADDRESS = "=?utf-8?q?eve=0D=0ABcc=3A_victim=40example.net?=@example.org"


def test_an_encoded_word_address_cannot_poison_the_outbox(make_app, clock):
    """An address whose local part is an RFC 2047 encoded word (a legal addr-spec) decodes to a line
    break in the email library: it must neither reach a header nor stop the other mails."""
    smtp = SmtpServer()
    smtp.start()
    try:
        app = make_app(**mail_config(smtp))
        desk(app).accounts.add("Ann Author", "ann@example.com", PASSWORD)
        client = app.test_client()
        eve = client.post("/api/comments", json={"thread": "/2024/05/a-post/", "author_name": "Eve", "body": "Hi",
                                                 "author_email": ENCODED_WORD_ADDRESS, "notify_replies": True})
        # Refused at the door now (the address policy takes no "?": no encoded word)... and a row
        # stored before the policy must stay harmless.
        assert_error(eve, 400, "invalid", "author_email")
        from comments_server.models import NewComment, Status
        stored = desk(app).storage.add_comment(NewComment(
            thread="/2024/05/a-post/", parent_id=None, status=Status.PUBLISHED, author_name="Eve",
            author_email=ENCODED_WORD_ADDRESS, author_url=None, is_author=False, notify_replies=True, body="Hi",
            body_html="<p>Hi</p>", created_at=clock.now, ip=None, edit_token_hash=None))
        desk(app).storage.addresses.confirm(ENCODED_WORD_ADDRESS, clock.now)
        for body in ("Hello", "Hello again"):
            client.post("/api/comments", json={"thread": "/2024/05/a-post/", "author_name": "Sam", "body": body,
                                               "parent_id": stored.id})
        report = send_pending(desk(app).storage.outbox, MailSettings.from_config(app.config), services(app).clock)
        assert report.retrying == 0
        assert sorted(r for rcpt, _ in smtp.inbox.received for r in rcpt) == ["ann@example.com", "ann@example.com"]
        for _, message in smtp.inbox.received:
            assert "Bcc" not in message
        assert [m for m in desk(app).storage.outbox.all() if m.sent_at is None and m.failed_at is None] == []
    finally:
        smtp.stop()


# --- path traversal in thread paths ----------------------------------------------------------------

TRAVERSALS = [
    "/../../etc/passwd", "/2024/05/a-post/../../../../etc/passwd", "/..%2f..%2fetc%2fpasswd", "/%2e%2e/%2e%2e/etc/passwd",
    "\\..\\..\\windows\\win.ini", "/..\\..\\etc\\passwd", "../etc/passwd", "//evil.example/", "/\\evil.example",
    "/2024/05/a-post/%00", "/2024/05/a-post/\x00", "/%c0%ae%c0%ae/etc/passwd", "/....//....//etc/passwd",
    "file:///etc/passwd", "/2024/05/a-post/?x=1", "/2024/05/a-post/#top",
]


@pytest.mark.parametrize("allow_unknown", [False, True])
def test_thread_path_traversal_goes_nowhere(make_app, allow_unknown):
    client = make_app(ALLOW_UNKNOWN_THREADS=allow_unknown).test_client()
    for path in TRAVERSALS:
        responses = [
            client.get("/api/comments", query_string={"thread": path}),
            client.get("/api/form-token", query_string={"thread": path}),
            client.get("/api/counts", query_string={"thread": path}),
            client.post("/api/comments", json={"thread": path, "author_name": "Eve", "body": "Hello"}),
            client.get("/comments/form", query_string={"thread": path}),
            client.post("/comments/form", data={"thread": path, "author_name": "Eve", "body": "Hello"}),
            client.get("/feeds/comments.atom", query_string={"thread": path}),
        ]
        for response in responses:
            assert response.status_code < 500, (path, response.request.path)
            assert b"root:" not in response.data and b"[fonts]" not in response.data
            if response.status_code == 303:
                # A comment on an unknown (allowed) path: its page links back to that path on the
                # site, never elsewhere.
                assert response.headers["Location"].startswith("/comments/posted?"), response.headers["Location"]
                back = parse(client.get(response.headers["Location"]).data).select_one("a.bec-back")["href"]
                assert back.startswith("https://blog.example.com/"), back
        created = responses[3]
        if created.status_code == 201:
            assert allow_unknown and created.get_json()["id"]
            stored = desk(client.application).storage.get_comment(created.get_json()["id"])
            assert stored.thread == path and path.startswith("/") and not path.startswith("//")
        else:
            assert created.get_json()["error"]["code"] in ("invalid", "invalid_characters", "unknown_thread")
    # Static files resolve inside their folders only.
    for url in ("/embed.js/../../comments_server/__init__.py", "/dashboard/static/../__init__.py",
                "/dashboard/static/..%2f__init__.py", "/dashboard/static/%2e%2e/views.py", "/widget/..%2f..%2fsettings.py"):
        response = client.get(url)
        assert response.status_code in (400, 404), url
        assert b"create_app" not in response.data and b"import" not in response.data


# --- NUL bytes, invalid UTF-8 --------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["thread", "author_name", "author_email", "author_url", "body"])
def test_nul_bytes_are_refused_in_every_field(client, field):
    values = {"thread": "/2024/05/a-post/\x00", "author_name": "Eve\x00", "author_email": "eve@example.org\x00",
              "author_url": "https://example.com/\x00", "body": "Hello\x00world"}
    data = {"thread": "/2024/05/a-post/", "author_name": "Eve", "body": "Hello", field: values[field]}
    assert_error(client.post("/api/comments", json=data), 400, "invalid_characters", field)
    # The form shows what was typed again, but never a NUL byte in the page.
    page = client.post("/comments/form", data=data)
    assert page.status_code == 400 and "\x00" not in page.get_data(as_text=True)
    assert client.post("/api/preview", json={"body": "a\x00b"}).get_json()["body_html"] == "<p>a\ufffdb</p>"


def test_nul_bytes_in_the_url_and_query(client):
    assert_error(client.get("/api/comments", query_string={"thread": "/a\x00"}), 400, "invalid_characters", "thread")
    assert client.get("/api/comments/1%00").status_code == 404
    assert client.get("/comments/form?thread=%00").status_code == 400


# Python's JSON decoder lets an encoded surrogate (CESU-8) through as a lone surrogate; the
# character check refuses that instead.
INVALID_UTF8 = [(b"\xff\xfe", "invalid_json"), (b"\xc0\xbc", "invalid_json"), (b"\xe2\x82", "invalid_json"),
                (b"\xf8\x88\x80\x80\x80", "invalid_json"), (b"abc\x80", "invalid_json"),
                (b"\xed\xa0\x80", "invalid_characters")]


@pytest.mark.parametrize(("raw", "code"), INVALID_UTF8)
def test_invalid_utf8_bodies_are_400(client, raw, code):
    body = b'{"thread": "/2024/05/a-post/", "author_name": "Eve", "body": "' + raw + b'"}'
    assert_error(client.post("/api/comments", data=body, content_type="application/json"), 400, code,
                 "body" if code == "invalid_characters" else None)
    preview = client.post("/api/preview", data=b'{"body": "' + raw + b'"}', content_type="application/json")
    if code == "invalid_json":
        assert_error(preview, 400, "invalid_json")
    else:  # a preview stores nothing: the renderer shows the replacement character
        assert preview.status_code == 200
    # The form decodes what it can (a browser never sends this): stored or refused, never a 500.
    form = b"thread=%2F2024%2F05%2Fa-post%2F&author_name=Eve" + b"&body=hi" + raw.replace(b"\x00", b"")
    response = client.post("/comments/form", data=form, content_type="application/x-www-form-urlencoded")
    assert response.status_code in (303, 400)
    assert client.get("/api/comments?thread=/%FF%FE").status_code in (400, 404)


def test_escaped_lone_surrogates_are_refused(client):
    body = b'{"thread": "/2024/05/a-post/", "author_name": "Eve", "body": "a\\ud800b"}'
    assert_error(client.post("/api/comments", data=body, content_type="application/json"), 400,
                 "invalid_characters", "body")


# --- 1 MiB bodies and deeply nested JSON ------------------------------------------------------------

MIB = 1024 * 1024


def big_json() -> bytes:
    return json.dumps({"thread": "/2024/05/a-post/", "author_name": "Eve", "body": "x" * MIB}).encode()


def nested(depth: int, kind: str = "array") -> bytes:
    if kind == "array":
        return b"[" * depth + b"]" * depth
    return b'{"a":' * depth + b"1" + b"}" * depth


def test_one_mib_bodies_are_413(client, make_app):
    big = big_json()
    assert_error(client.post("/api/comments", data=big, content_type="application/json"), 413, "too_large")
    assert_error(client.post("/api/preview", data=big, content_type="application/json"), 413, "too_large")
    assert_error(client.patch("/api/comments/1", data=big, content_type="application/json",
                              headers={"X-Edit-Token": "t"}), 413, "too_large")
    page = client.post("/comments/form", data={"thread": "/2024/05/a-post/", "author_name": "Eve", "body": "x" * MIB})
    assert page.status_code == 413 and "is too long" in page.get_data(as_text=True)
    assert client.post("/dashboard/login", data={"name": "x" * MIB, "password": "y"}).status_code == 413
    # Within the request limit but over the comment's: 413 too_long, naming the field.
    roomy = make_app(MAX_CONTENT_LENGTH=None).test_client()
    assert_error(roomy.post("/api/comments", data=big, content_type="application/json"), 413, "too_long", "body")


@pytest.mark.parametrize(("depth", "kind"), [(100_000, "array"), (40_000, "object"), (5_000, "array")])
def test_deeply_nested_json_is_400(client, depth, kind):
    body = nested(depth, kind)
    assert_error(client.post("/api/comments", data=body, content_type="application/json"), 400, "invalid_json")
    assert_error(client.post("/api/preview", data=body, content_type="application/json"), 400, "invalid_json")
    assert_error(client.patch("/api/comments/1", data=body, content_type="application/json",
                              headers={"X-Edit-Token": "t"}), 400, "invalid_json")
    inside = b'{"thread": "/2024/05/a-post/", "author_name": "Eve", "body": ' + body + b"}"
    assert_error(client.post("/api/comments", data=inside, content_type="application/json"), 400, "invalid_json")


def test_moderately_nested_json_is_a_type_error(client):
    inside = b'{"thread": "/2024/05/a-post/", "author_name": "Eve", "body": ' + nested(200) + b"}"
    assert_error(client.post("/api/comments", data=inside, content_type="application/json"), 400, "wrong_type", "body")


def test_big_and_deep_bodies_on_a_real_server(live_server):
    """Through a real HTTP server: 413 and 400 with the error shape, and the server still answers."""
    status, _, body = live_server.request("POST", "/api/comments", raw=big_json(),
                                          headers={"Content-Type": "application/json"})
    assert status == 413 and json.loads(body)["error"]["code"] == "too_large"
    status, _, body = live_server.request("POST", "/api/comments", raw=nested(100_000),
                                          headers={"Content-Type": "application/json"})
    assert status == 400 and json.loads(body)["error"]["code"] == "invalid_json"
    status, _, body = live_server.request("POST", "/api/comments", raw=b'{"body": "\xff"}',
                                          headers={"Content-Type": "application/json"})
    assert status == 400 and json.loads(body)["error"]["code"] == "invalid_json"
    # A chunked body without a length: the server cannot bound it, so it reads none of it (4xx, not 5xx).
    request = urllib.request.Request(live_server.url + "/api/comments", data=iter([big_json()]), method="POST",
                                     headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
    try:
        urllib.request.urlopen(request, timeout=30)
        raise AssertionError("a chunked 1 MiB body was accepted")
    except urllib.error.HTTPError as error:
        assert 400 <= error.code < 500 and json.loads(error.read())["error"]["code"] in ("invalid_json", "too_large")
    assert live_server.request("GET", "/healthz")[0] == 200
    assert "Traceback" not in live_server.output()
