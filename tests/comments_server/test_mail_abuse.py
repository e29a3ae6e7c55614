"""The mail holes of issue 13, each written as the attack, against a real SMTP server (aiosmtpd)
and on SQLite and PostgreSQL: reply notifications as a spam relay, re-subscribing an address
that unsubscribed, readers signing as the author, List-Unsubscribe that mail clients cannot
use, and `first-time` moderation that trusted any typed address and told who had commented."""

from __future__ import annotations

import re

import pytest

from comments_server.models import Status
from tests.support.authoring import ANN, add_author, desk, reader
from tests.support.mail import mail_config
from tests.support.server import POST, assert_error, new_comment

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")

VICTIM = "victim@example.net"
PHISH_NAME = "PayPal Security Team: action required"
PHISH_BODY = "Your account is locked. Verify at https://paypa1.example/login now."


@pytest.fixture
def mail_app(make_app, smtp, db_url):
    def make(**config):
        app = make_app(DATABASE_URL=db_url, **mail_config(smtp), **config)
        add_author(app)
        return app
    return make


def send(app):
    from comments_server.mail import MailSettings, send_pending
    from comments_server.services import services

    app_services = services(app)
    return send_pending(app_services.storage.outbox, MailSettings.from_config(app.config), app_services.clock)


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content() + message.get_body(("html",)).get_content()


def link(text: str, path: str) -> str:
    match = re.search(r"https://blog\.example\.com(" + re.escape(path) + r"[^\s\"<>]*)", text)
    assert match, f"no {path} link in:\n{text}"
    return match.group(1)


def test_a_typed_address_gets_one_confirmation_and_no_relayed_text(mail_app, smtp):
    """The attack: a comment with the victim's address and notify_replies, then a reply whose
    name and body are a phishing mail. The victim gets one confirmation with nothing of the
    attacker's in it; the reply never reaches them, nor does a second try the same day."""
    app = mail_app()
    client = app.test_client()
    for _ in range(2):
        bait = reader(client, author_name="Victim", author_email=VICTIM, notify_replies=True, body="Hi there")
        reader(client, author_name=PHISH_NAME, parent_id=bait["id"], body=PHISH_BODY)
    send(app)
    [confirmation] = smtp.inbox.to(VICTIM)
    assert confirmation["Subject"] == "Confirm reply emails on “A post”"
    for text in (confirmation["Subject"], text_of(confirmation)):
        assert "PayPal" not in text and "paypa1" not in text and "Hi there" not in text
    assert [m.kind for m in desk(app).storage.outbox.all()].count("reply") == 0
    assert len(smtp.inbox.to(ANN["email"])) == 4  # the author is told of every comment, as before


def test_a_confirmation_to_the_longest_address_is_queued(mail_app, smtp):
    """Its once-a-day key must fit the outbox's dedupe_key column on PostgreSQL too."""
    app = mail_app()
    longest = "r" * 64 + "@" + ".".join(["d" * 60, "d" * 60, "d" * 59, "example"])
    assert len(longest) == 254
    reader(app.test_client(), author_email=longest, notify_replies=True, body="Hi")
    send(app)
    assert [m["Subject"] for m in smtp.inbox.to(longest)] == ["Confirm reply emails on “A post”"]


def test_confirmation_links_are_signed_single_use_and_expire(mail_app, smtp, clock):
    app = mail_app()
    client = app.test_client()
    rita = reader(client, author_name="Rita", author_email="rita@example.org", notify_replies=True, body="Hi")
    send(app)
    path = link(text_of(smtp.inbox.to("rita@example.org")[0]), "/notify/confirm/")
    assert client.get(path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")).status_code == 404
    assert client.post(path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")).status_code == 404
    assert client.get(path).status_code == 200  # a mail scanner opening it changes nothing
    assert not desk(app).storage.addresses.state("rita@example.org").confirmed
    later = clock.now
    clock.advance(7 * 86400 + 1)
    expired = client.post(path)
    assert expired.status_code == 404 and "expired" in expired.get_data(as_text=True)
    clock.now = later
    assert 'id="subscribed"' in client.post(path).get_data(as_text=True)
    again = client.post(path)
    assert again.status_code == 404 and "used" in again.get_data(as_text=True)
    # Confirmed: replies now reach Rita, under a subject no reader wrote.
    reader(client, author_name=PHISH_NAME, parent_id=rita["id"], body="A reply")
    send(app)
    assert smtp.inbox.to("rita@example.org")[-1]["Subject"] == "New reply to your comment on “A post”"


def test_an_unsubscribed_address_stays_unsubscribed_whatever_a_comment_asks(mail_app, smtp):
    """The attack: after the victim unsubscribed, post a comment with their address asking for
    replies, and reply to it. Nothing goes out; only the victim's own link subscribes again."""
    app = mail_app()
    client = app.test_client()
    first = reader(client, author_name="Rita", author_email="rita@example.org", notify_replies=True, body="Hi")
    send(app)
    client.post(link(text_of(smtp.inbox.to("rita@example.org")[0]), "/notify/confirm/"))
    reader(client, author_name="Sam", parent_id=first["id"], body="Hello Rita")
    send(app)
    unsubscribe = link(text_of(smtp.inbox.to("rita@example.org")[-1]), "/notify/unsubscribe/")
    assert 'id="unsubscribed"' in client.post(unsubscribe).get_data(as_text=True)
    received = len(smtp.inbox.to("rita@example.org"))
    bait = reader(client, author_name="Rita", author_email="RITA@example.org", notify_replies=True, body="Again")
    reader(client, author_name=PHISH_NAME, parent_id=bait["id"], body=PHISH_BODY)
    reader(client, author_name="Sam", parent_id=first["id"], body="Still there?")
    send(app)
    assert len(smtp.inbox.to("rita@example.org")) == received
    assert desk(app).storage.addresses.state("rita@example.org").suppressed
    # The unsubscribe page's own button (its link was sent to Rita) lifts it.
    assert 'id="resubscribed"' in client.post(unsubscribe.replace("/unsubscribe/", "/resubscribe/")).get_data(
        as_text=True)
    reader(client, author_name="Sam", parent_id=bait["id"], body="Welcome back")
    send(app)
    assert len(smtp.inbox.to("rita@example.org")) == received + 1


@pytest.mark.parametrize("name", ["Ann Author", "ann author", "  ANN   AUTHOR ", "Ann\u200bAuthor",
                                  "\uff21\uff4e\uff4e \uff21\uff55\uff54\uff48\uff4f\uff52", "Bob"])
def test_readers_cannot_sign_with_an_authors_name(mail_app, name):
    """The attack: a reply signed with the author's name (the post's byline or any account's),
    which the reply email and the page show as the author's word."""
    app = mail_app()
    add_author(app, "Bob", "bob@example.com")
    client = app.test_client()
    assert_error(client.post("/api/comments", json=new_comment(author_name=name)), 400, "reserved", "author_name")
    form = client.post("/comments/form", data={"thread": POST, "author_name": name, "body": "Trust me"})
    assert form.status_code == 400
    assert desk(app).storage.all_comments() == []


def test_list_unsubscribe_goes_out_as_a_plain_url(mail_app, smtp, clock):
    """Encoded as RFC 2047 words, a long List-Unsubscribe is no URL to a mail client, which
    then offers no one-click unsubscribe (RFC 8058)."""
    app = mail_app()
    client = app.test_client()
    rita = reader(client, author_name="Rita", author_email="rita@example.org", notify_replies=True, body="Hi")
    desk(app).storage.addresses.confirm("rita@example.org", clock.now)
    reader(client, author_name="Sam", parent_id=rita["id"], body="Hello")
    send(app)
    for message in smtp.inbox.to("rita@example.org"):
        raw = dict(message.raw_items())
        assert "=?" not in raw["List-Unsubscribe"] and re.fullmatch(r"<https://\S+>", raw["List-Unsubscribe"])
        assert raw["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_first_time_moderation_trusts_no_typed_address(mail_app, smtp):
    """The attack: post with a returning commenter's address (or the author's, published in the
    feed) to publish at once, or read 201/202 to learn who has commented. Every reader comment is
    held alike; a returning commenter's is published only from a link mailed to the address, whose
    page shows the comment, and the author's address is no returning commenter at all."""
    app = mail_app(MODERATION="first-time")
    client = app.test_client()
    storage = desk(app).storage
    first = client.post("/api/comments", json=new_comment(author_email="rita@example.org", body="My first"))
    storage.set_status(first.get_json() and storage.all_comments()[0].id, Status.PUBLISHED)
    send(app)
    answers = [client.post("/api/comments", json=new_comment(author_email=address, body=PHISH_BODY))
               for address in ("rita@example.org", ANN["email"], "stranger@example.org")]
    assert {(a.status_code, a.get_data()) for a in answers} == {(202, answers[0].get_data())}
    assert [c.status for c in storage.all_comments()] == [Status.PUBLISHED] + [Status.PENDING] * 3
    send(app)
    [publish] = [m for m in smtp.inbox.to("rita@example.org") if m["Subject"].startswith("Publish your comment")]
    assert "paypa1" not in text_of(publish)
    assert [m["Subject"] for m in smtp.inbox.to(ANN["email"])
            if "Publish" in m["Subject"] or "Confirm" in m["Subject"]] == []
    path = link(text_of(publish), "/notify/confirm/")
    page = client.get(path)
    assert page.status_code == 200 and "paypa1.example" in page.get_data(as_text=True)  # seen before publishing
    assert storage.all_comments()[1].status == Status.PENDING
    assert 'id="published"' in client.post(path).get_data(as_text=True)
    assert [c.status for c in storage.all_comments()] == [Status.PUBLISHED, Status.PUBLISHED,
                                                            Status.PENDING, Status.PENDING]
    assert client.post(path).status_code == 404
