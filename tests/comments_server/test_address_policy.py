"""One address policy for every way an email comes in (the API, the no-JS form, author accounts,
`comments import`, `blogengine import`) and the one check before mail is sent; and the field
checks that treat invisible characters as blank. Each test is the attack that got through."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from comments_server.accounts import AccountError
from comments_server.compose import safe_address
from comments_server.models import EMAIL_PATTERN, VISIBLE_CHAR, is_email
from comments_server.transfer import TransferError, parse_document
from tests.support.authoring import desk
from tests.support.server import POST, assert_error, new_comment

# Addresses that got through before: markup or RFC 5322 specials in the local part, IP literals,
# relay tricks (source routes, bang paths), a second recipient.
HOSTILE = [
    "<img src=x onerror=alert(1)>@example.com",
    "a<b>@example.com",
    '"Bcc: victim@example.net"@example.com',
    "a(comment)@example.com",
    "a,b@example.com",
    "a;b@example.com",
    "a:b@example.com",
    "a\\b@example.com",
    "root@[10.0.0.1]",
    "root@[IPv6:::1]",
    "root@10.0.0.1",
    "user%victim.example@blog.example.com",
    "host!user@example.com",
    "a&b@example.com",
    "a`b@example.com",
    "=?utf-8?q?eve=0D=0ABcc=3A_victim=40example.net?=@example.org",
    ".a@example.com",
    "a..b@example.com",
    "a@-example.com",
    "x" * 65 + "@example.com",
]
FINE = ["rita@example.org", "o'brien@example.ie", "first.last+tag@mail.example.co.uk", "a@xn--p1ai.xn--p1ai",
        "RITA@Example.ORG"]


@pytest.mark.parametrize("address", HOSTILE)
def test_api_refuses_hostile_addresses(client, address):
    response = client.post("/api/comments", json=new_comment(author_email=address, notify_replies=True))
    assert_error(response, 400, "invalid", "author_email")


@pytest.mark.parametrize("address", FINE)
def test_api_takes_ordinary_addresses(client, address):
    assert client.post("/api/comments", json=new_comment(author_email=address)).status_code == 201


def test_form_refuses_hostile_addresses(client, app):
    for address in HOSTILE:
        response = client.post("/comments/form", data={"thread": POST, "author_name": "Eve", "body": "Hello there",
                                                       "author_email": address, "notify_replies": "on"})
        assert response.status_code == 400, address
    assert desk(app).storage.all_comments() == []


def test_author_accounts_refuse_hostile_addresses(app):
    for address in HOSTILE:
        with pytest.raises(AccountError, match="not an email address"):
            desk(app).accounts.add("Other", address, "a long enough password")


def _export(address: str) -> str:
    return json.dumps({"format": "blogengine-comments", "version": 1, "comments": [
        {"uid": "eve", "thread": POST, "author_name": "Eve", "author_email": address, "notify_replies": True,
         "body": "Hi", "created_at": "2026-05-01T10:00:00Z"}]})


@pytest.mark.parametrize("address", HOSTILE)
def test_comments_import_refuses_hostile_addresses(address):
    with pytest.raises(TransferError, match="author_email must look like"):
        parse_document(_export(address))


def test_blogengine_import_leaves_hostile_addresses_out(tmp_path):
    from tests.blogengine.test_import_apply import comment, item, wxr
    from tests.support.importing import make_site, run, storage

    site = make_site(tmp_path / "site", f"sqlite:///{tmp_path / 'site' / 'comments.sqlite3'}")
    export = tmp_path / "export.xml"
    export.write_text(wxr(item(1, "First", "first", comments="".join(
        comment(10 + i, f"Reader {i}", email=address.replace("&", "&amp;").replace("<", "&lt;"))
        for i, address in enumerate(["root@[10.0.0.1]", "<b>x</b>@example.com", "ok@example.com"])))))
    result = run("import", "wordpress", str(export), "--site", str(site))
    assert result.exit_code == 0, result.output
    store = storage(f"sqlite:///{site / 'comments.sqlite3'}")
    emails = sorted((c.author_email or "") for c in store.all_comments())
    store.close()
    assert emails == ["", "", "ok@example.com"]
    assert result.output.count("author_email left out") == 2


@pytest.mark.parametrize("address", HOSTILE)
def test_nothing_is_sent_to_an_address_outside_the_policy(address):
    """Rows stored before the policy (or by hand) may hold anything: the sender checks again."""
    assert safe_address(address) is None


def test_the_address_pattern_reads_the_same_in_ecma_262():
    """EMAIL_PATTERN and VISIBLE_CHAR go into the OpenAPI document: a JavaScript client must get
    the same verdicts as the server."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("needs Node.js (apt-get install nodejs)")
    samples = HOSTILE + FINE + ["a@b", "a@b.c1", "\u200b", "\ufeff", "x", " ", "\u3164", "\u00a0"]
    script = ("const [email, visible, samples] = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
              "const e = new RegExp('^(?:' + email + ')$'), v = new RegExp(visible);"
              "console.log(JSON.stringify(samples.map(s => [e.test(s), v.test(s)])));")
    result = subprocess.run([node, "-e", script], input=json.dumps([EMAIL_PATTERN, VISIBLE_CHAR, samples]),
                            capture_output=True, text=True, check=True)
    import re
    python = [[is_email(s), re.search(VISIBLE_CHAR, s) is not None] for s in samples]
    assert json.loads(result.stdout) == python


# Invisible characters ----------------------------------------------------------------------------

@pytest.mark.parametrize("body", ["\u200b\u200b\u200b", "\ufeff\ufeff", "\u200b \u2060 \u200d", "\u3164\u3164",
                                  " \u00ad\u00ad ", "\u2800\u2800"])
def test_a_body_of_invisible_characters_is_empty(client, body):
    assert_error(client.post("/api/comments", json=new_comment(body=body)), 400, "empty", "body")


@pytest.mark.parametrize("name", ["\u200b", "\ufeff", "\u200e\u200f", "\u3164"])
def test_a_name_of_invisible_characters_is_empty(client, name):
    assert_error(client.post("/api/comments", json=new_comment(author_name=name)), 400, "empty", "author_name")


def test_invisible_characters_around_a_body_are_stripped_like_spaces(client):
    created = client.post("/api/comments", json=new_comment(body="\ufeff\u200bHello there\u200b")).get_json()
    assert created["body_html"] == "<p>Hello there</p>"


def test_min_body_length_counts_what_shows(make_app):
    client = make_app(MIN_BODY_LENGTH=3).test_client()
    assert_error(client.post("/api/comments", json=new_comment(body="\u200bab\u200b")), 400, "too_short", "body")


def test_a_stored_comment_keeps_nothing_invisible_around_its_name(app, client):
    client.post("/api/comments", json=new_comment(author_name="\u200bRita\u2060"))
    [comment] = desk(app).storage.all_comments()
    assert comment.author_name == "Rita"
