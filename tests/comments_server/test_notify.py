"""Notifications against a real SMTP server in this process (aiosmtpd): author emails, the digest,
reply and author-answered emails, unsubscribe, signed reply links, header injection, and the
outbox riding out an SMTP server that is down."""

from __future__ import annotations

import json
import re
import textwrap
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
from aiosmtpd.smtp import AuthResult
from click.testing import CliRunner

from comments_server.app import create_app
from comments_server.cli import comments
from comments_server.mail import MailSettings, send_pending
from comments_server.reply_links import LinkRefusal, ReplyLinkRefused
from comments_server.services import services
from comments_server.models import NewComment, Status
from comments_server.storage.tables import authors
from comments_server.transfer import import_document
from tests.support.authoring import (
    ANN,
    add_author,
    author_reply,
    csrf_token,
    desk,
    login,
    reader,
    thread_comments,
)
from tests.support.mail import SENDER, SmtpServer, mail_config
from tests.support.server import NO_LIMITS, POST, SECRET, write_manifest

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")


@pytest.fixture
def app(make_app, smtp):
    app = make_app(**mail_config(smtp))
    add_author(app)
    return app


def send(app):
    app_services = services(app)
    return send_pending(app_services.storage.outbox, MailSettings.from_config(app.config), app_services.clock)


def parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    return text, html


def link(text: str, path: str) -> str:
    match = re.search(r"https://blog\.example\.com(" + re.escape(path) + r"[^\s\"<>]*)", text)
    assert match, f"no {path} link in:\n{text}"
    return match.group(1)


# Authors ---------------------------------------------------------------------------------------


def test_author_gets_an_email_for_each_new_reader_comment(app, client, smtp):
    first = reader(client, author_name="Rita", body="Hello <script>alert(1)</script> & **welcome**")
    reader(client, author_name="Sam", parent_id=first["id"], body="Second")
    assert smtp.inbox.received == []  # the request only wrote to the outbox
    assert send(app).sent == 2
    messages = smtp.inbox.to(ANN["email"])
    assert [m["Subject"] for m in messages] == ["New comment on “A post” from Rita", "New comment on “A post” from Sam"]
    message = messages[0]
    assert message["From"] == SENDER and message["To"] == ANN["email"]
    assert message["Auto-Submitted"] == "auto-generated" and message.get_content_type() == "multipart/alternative"
    text, html = parts(message)
    assert "Hello <script>alert(1)</script> & **welcome**" in text
    assert "<script>" not in html and "Hello &lt;script&gt;alert(1)&lt;/script&gt; &amp; **welcome**" in html
    assert link(text, "/dashboard/reply/") == link(html, "/dashboard/reply/")
    assert link(text, "/dashboard/#comment-") == f"/dashboard/#comment-{first['id']}"
    second_text, _ = parts(messages[1])
    assert "In reply to Rita:" in second_text


def test_held_comments_email_with_a_moderation_link(make_app, smtp):
    app = make_app(**mail_config(smtp), MODERATION="all")
    add_author(app)
    client = app.test_client()
    client.post("/api/comments", json={"thread": POST, "author_name": "New", "body": "First time here"})
    send(app)
    [message] = smtp.inbox.to(ANN["email"])
    assert message["Subject"] == "Held for moderation on “A post” from New"
    text, _ = parts(message)
    held_id = desk(app).storage.all_comments()[0].id
    assert link(text, "/dashboard/moderation") == f"/dashboard/moderation#comment-{held_id}"
    assert "/dashboard/reply/" in text


@pytest.mark.slow
def test_no_author_email_for_author_comments_spam_or_when_switched_off(make_app, smtp, clock):
    app = make_app(**mail_config(smtp))
    add_author(app)
    client = app.test_client()
    login(client)
    question = reader(client, body="Q?")
    author_reply(client, question["id"])
    client.post("/api/comments", json={"thread": POST, "author_name": "Bot", "body": "spam", "website": "x"})
    send(app)
    assert len(smtp.inbox.received) == 1
    quiet = make_app(**mail_config(smtp), NOTIFY_AUTHORS=False)
    reader(quiet.test_client(), body="Nobody is told")
    send(quiet)
    assert len(smtp.inbox.received) == 1


def test_unmatched_post_author_notifies_every_account(make_app, smtp, manifest):
    write_manifest(manifest, [{"path": "/p/", "title": "P", "author": "Pen Name", "open": True}])
    app = make_app(**mail_config(smtp))
    add_author(app)
    add_author(app, "Bob", "bob@example.com")
    reader(app.test_client(), thread="/p/", body="Who wrote this?")
    send(app)
    assert sorted(r for rcpt, _ in smtp.inbox.received for r in rcpt) == ["ann@example.com", "bob@example.com"]


# Readers ---------------------------------------------------------------------------------------


def confirm_address(app, client, smtp, address: str) -> None:
    """What a reader does with the first email: open its link and press the button."""
    send(app)
    [message] = [m for m in smtp.inbox.to(address) if m["Subject"].startswith("Confirm reply emails")]
    path = link(parts(message)[0], "/notify/confirm/")
    assert client.get(path).status_code == 200
    assert 'id="subscribed"' in client.post(path).get_data(as_text=True)


@pytest.mark.slow
def test_reply_and_author_answered_emails_and_unsubscribe(app, client, smtp, clock):
    login(client)
    rita = reader(client, author_name="Rita", author_email="rita@example.org", notify_replies=True, body="Thoughts?")
    confirm_address(app, client, smtp, "rita@example.org")
    reader(client, author_name="Rita", author_email="RITA@example.org", parent_id=rita["id"], body="Me again")
    reader(client, author_name="Sam", author_email="sam@example.org", parent_id=rita["id"], body="I agree")
    author_reply(client, rita["id"], "Thanks, Rita!")
    send(app)
    to_rita = smtp.inbox.to("rita@example.org")[1:]
    assert [m["Subject"] for m in to_rita] == [
        "New reply to your comment on “A post”",
        "Ann Author, the author, answered your comment on “A post”",
    ]
    reply_text, reply_html = parts(to_rita[0])
    answered_text, answered_html = parts(to_rita[1])
    assert 'signed "Sam"' in reply_text and "I agree" in reply_text
    assert "The author answered you" in answered_html and "Thanks, Rita!" in answered_text
    assert smtp.inbox.to("sam@example.org") == []  # Sam did not ask
    unsubscribe = link(answered_text, "/notify/unsubscribe/")
    assert to_rita[1]["List-Unsubscribe"] == f"<https://blog.example.com{unsubscribe}>"
    assert to_rita[1]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    page = client.get(unsubscribe)  # opening the link changes nothing yet (mail scanners open links)
    assert page.status_code == 200 and "rita@example.org" in page.get_data(as_text=True)
    assert desk(app).storage.get_comment(rita["id"]).notify_replies is True
    done = client.post(unsubscribe)
    assert done.status_code == 200 and 'id="unsubscribed"' in done.get_data(as_text=True)
    assert desk(app).storage.get_comment(rita["id"]).notify_replies is False
    reader(client, author_name="Tom", parent_id=rita["id"], body="Late reply")
    send(app)
    assert len(smtp.inbox.to("rita@example.org")) == 3


def test_one_click_unsubscribe_post_and_forged_links(app, client, smtp):
    rita = reader(client, author_email="rita@example.org", notify_replies=True, body="Hi")
    confirm_address(app, client, smtp, "rita@example.org")
    reader(client, author_name="Sam", parent_id=rita["id"], body="Hello")
    send(app)
    text, _ = parts(smtp.inbox.to("rita@example.org")[-1])
    unsubscribe = link(text, "/notify/unsubscribe/")
    response = client.post(unsubscribe, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert desk(app).storage.get_comment(rita["id"]).notify_replies is False
    forged = unsubscribe[:-3] + ("AAA" if not unsubscribe.endswith("AAA") else "BBB")
    assert client.post(forged).status_code == 404
    assert client.get("/notify/unsubscribe/not-a-token").status_code == 404


def test_header_injection_in_a_name_is_harmless(app, client, smtp, clock):
    evil = "Eve\r\nBcc: victim@example.net\r\nSubject: pwned"
    # Through the API, line breaks in a name are refused (and imports refuse them too: test_transfer)...
    assert client.post("/api/comments", json={"thread": POST, "author_name": evil, "body": "x"}).status_code == 400
    # ...but a database from before those checks may hold anything: an address with a header in it,
    # asking for replies, beside Rita's confirmed one.
    storage = desk(app).storage
    old = dict(thread=POST, parent_id=None, status=Status.PUBLISHED, author_url=None, is_author=False,
               notify_replies=True, body="Hi", body_html="<p>Hi</p>", created_at=clock.now, ip=None,
               edit_token_hash=None)
    rita = storage.add_comment(NewComment(author_name="Rita", author_email="rita@example.org", **old))
    mallory = storage.add_comment(NewComment(author_name=evil, author_email="m@example.org\r\nBcc: v@example.net",
                                             **old))
    storage.addresses.confirm("rita@example.org", clock.now)
    # A Unicode line separator is not a control character, so the API takes it as part of a name.
    reader(client, author_name="Eve\u2028Bcc: victim@example.net\u2028Subject: pwned", parent_id=rita.id, body="Hi")
    reader(client, author_name="Sam", parent_id=mallory.id, body="Hello")
    # And the composer itself, given a raw CRLF name (as a future import path might hand it one).
    raw = replace(rita, id=999, parent_id=None, author_name=evil, notify_replies=False)
    storage.outbox.add(desk(app).notifier.for_new_comment(
        desk(app).thread_of(POST), None, desk(app).accounts.all())(raw), clock.now)
    send(app)
    assert sorted(rcpt for rcpt, _ in smtp.inbox.received) == [["ann@example.com"]] * 3 + [["rita@example.org"]]
    for _, message in smtp.inbox.received:
        assert "Bcc" not in message and len(message.get_all("Subject")) == 1 and "\n" not in message["Subject"]
        assert message["To"] in ("ann@example.com", "rita@example.org")
    subjects = sorted(m["Subject"] for _, m in smtp.inbox.received)
    assert "New reply to your comment on “A post”" in subjects
    assert "New comment on “A post” from Eve Bcc: victim@example.net Subject: pwned" in subjects
    # Mallory's address was not an address: that mail is simply not made.
    assert [m.kind for m in storage.outbox.all()].count("reply") == 1


# Signed reply links -------------------------------------------------------------------------------


def test_reply_link_opens_a_reply_page_that_works_once_without_login(app, client, smtp, clock):
    question = reader(client, author_name="Rita", body="Can I reply from email?")
    send(app)
    text, _ = parts(smtp.inbox.to(ANN["email"])[0])
    path = link(text, "/dashboard/reply/")
    visitor = app.test_client()  # not logged in
    page = visitor.get(path)
    assert page.status_code == 200 and "Can I reply from email?" in page.get_data(as_text=True)
    assert visitor.post(path, data={"body": "No token"}).status_code == 400  # CSRF still applies
    token = csrf_token(visitor, path)
    empty = visitor.post(path, data={"body": " ", "csrf_token": token})
    assert empty.status_code == 422
    done = visitor.post(path, data={"body": "Yes, like this.", "csrf_token": token})
    assert done.status_code == 201 and "Reply published" in done.get_data(as_text=True)
    reply = thread_comments(client)[-1]
    assert reply["parent_id"] == question["id"] and reply["is_author"] and reply["author_name"] == ANN["name"]
    again = visitor.post(path, data={"body": "Twice?", "csrf_token": token})
    assert again.status_code == 410 and visitor.get(path).status_code == 410
    assert len(thread_comments(client)) == 2
    assert visitor.get("/dashboard/").status_code == 302  # the link gave no login


def test_reply_links_expire_and_cannot_be_forged(app, client, smtp, clock):
    reader(client, body="Old question")
    send(app)
    text, _ = parts(smtp.inbox.to(ANN["email"])[0])
    path = link(text, "/dashboard/reply/")
    assert client.get(path[:-2] + "xx").status_code == 403
    clock.advance(7 * 86400 + 1)
    expired = client.get(path)
    assert expired.status_code == 403 and "expired" in expired.get_data(as_text=True)


def test_reply_by_link_without_http_answers_once_as_the_links_author(app, client):
    question = reader(client, author_name="Rita", body="Can I reply from email?")
    ann = desk(app).accounts.all()[0]
    token = desk(app).notifier.reply_link(question["id"], ann).rsplit("/", 1)[1]
    draft = desk(app).open_reply_link(token)
    assert (draft.comment.id, draft.author, draft.thread.path) == (question["id"], ann, POST)
    assert draft.post_link == "https://blog.example.com" + POST
    refused_body = desk(app).reply_by_link(token, " ")
    assert refused_body.problem and refused_body.reply is None
    sent = desk(app).reply_by_link(token, "Yes, like this.")   # the refused body left the link unused
    assert sent.reply is not None and sent.reply.is_author and sent.reply.author_id == ann.id
    assert sent.reply_url == f"{draft.post_link}#comment-{sent.reply.id}"
    for body in ("Twice?", " "):
        with pytest.raises(ReplyLinkRefused) as used:
            desk(app).reply_by_link(token, body)
        assert used.value.refusal is LinkRefusal.USED
    with pytest.raises(ReplyLinkRefused) as forged:
        desk(app).open_reply_link(token[:-2] + "xx")
    assert forged.value.refusal is LinkRefusal.INVALID


def test_a_reply_link_of_a_removed_author_is_refused(app, client):
    question = reader(client, body="Anyone?")
    ann = desk(app).accounts.all()[0]
    path = desk(app).notifier.reply_link(question["id"], ann).split("blog.example.com", 1)[1]
    desk(app).accounts.remove(ann)
    with pytest.raises(ReplyLinkRefused) as gone:
        desk(app).open_reply_link(path.rsplit("/", 1)[1])
    assert gone.value.refusal is LinkRefusal.AUTHOR_GONE
    page = client.get(path)
    assert page.status_code == 403 and "no longer exists" in page.get_data(as_text=True)


def _reply_path(app, comment_id, author):
    return desk(app).notifier.reply_link(comment_id, author).split("blog.example.com", 1)[1]


def test_a_removed_authors_reply_link_does_not_publish_as_the_next_new_author(make_app, smtp, db_url, clock):
    """Issue 13 item 6: SQLite handed a removed author's id to the next account, so the removed
    author's emailed links published as the newcomer, with the badge."""
    app = make_app(DATABASE_URL=db_url, **mail_config(smtp))
    client = app.test_client()
    add_author(app)
    bob = add_author(app, "Bob Builder", "bob@example.com")
    question = reader(client, body="Anyone?")
    path = _reply_path(app, question["id"], bob)
    desk(app).accounts.remove(bob)
    clock.advance(60)
    eve = add_author(app, "Eve Newcomer", "eve@example.com")
    assert eve.id != bob.id  # ids are never handed out twice (migration 0007)
    visitor = app.test_client()
    page = visitor.get(path)
    assert page.status_code == 403 and "no longer exists" in page.get_data(as_text=True)
    token = csrf_token(visitor, "/dashboard/login")
    assert visitor.post(path, data={"body": "Published as Eve?", "csrf_token": token}).status_code == 403
    assert [c["author_name"] for c in thread_comments(client)] == ["Reader"]


def test_a_reply_link_answers_only_as_the_account_it_was_made_for(make_app, smtp, db_url, clock):
    """A database that reused an id before migration 0007: the link names its account, not just the id."""
    app = make_app(DATABASE_URL=db_url, **mail_config(smtp))
    client = app.test_client()
    bob = add_author(app, "Bob Builder", "bob@example.com")
    question = reader(client, body="Anyone?")
    path = _reply_path(app, question["id"], bob)
    desk(app).accounts.remove(bob)
    clock.advance(60)
    with desk(app).accounts.store.engine.begin() as conn:  # what SQLite's max(id)+1 did
        conn.execute(authors.insert().values(id=bob.id, name="Eve", name_key="eve", email="eve@example.com",
                                             password_hash="x", created_at=clock()))
    with pytest.raises(ReplyLinkRefused) as refused:
        desk(app).open_reply_link(path.rsplit("/", 1)[1])
    assert refused.value.refusal is LinkRefusal.AUTHOR_GONE
    assert client.get(path).status_code == 403


# The digest --------------------------------------------------------------------------------------


@pytest.fixture
def site(tmp_path, smtp, monkeypatch):
    root = tmp_path / "site"
    root.mkdir()
    (root / "blogengine.toml").write_text(textwrap.dedent(f"""
        title = "Test Blog"
        base_url = "https://blog.example.com/"
        [comments.server]
        secret_key = "test-secret-key-0123456789-abcdefghij"
        mail_host = "127.0.0.1"
        mail_port = {smtp.port}
        mail_tls = "off"
        mail_from = "{SENDER}"
        rate_limit = false
        read_rate_limit = false
        min_submit_seconds = false
    """), encoding="utf-8")
    write_manifest(root / "public" / "threads.json")
    for name in [n for n in __import__("os").environ if n.startswith("COMMENTS_") and "TEST" not in n]:
        monkeypatch.delenv(name)
    return root


@pytest.mark.slow
def test_digest_lists_the_waiting_comments_once_a_day(make_app, site, smtp, clock):
    clock.now = datetime.now(UTC) - timedelta(days=2)
    app = make_app(SITE=str(site), DATABASE_URL=f"sqlite:///{site / 'comments.sqlite3'}", NOTIFY_AUTHORS=False)
    add_author(app)
    client = app.test_client()
    login(client)
    reader(client, author_name="Rita", body="Oldest question?")
    answered = reader(client, clock, 3600, body="Answered one")
    author_reply(client, answered["id"])
    reader(client, clock, 3600, author_name="Sam", body="Newer remark")
    runner = CliRunner()
    result = runner.invoke(comments, ["digest", "--site", str(site)])
    assert result.exit_code == 0, result.output
    assert "Queued 1 digest." in result.output and "Sent 1 email." in result.output
    [message] = smtp.inbox.to(ANN["email"])
    assert message["Subject"] == "2 readers waiting for an answer on Test Blog"
    text, html = parts(message)
    assert text.index("Rita") < text.index("Sam") and "Answered one" not in text
    assert "waiting 2 days" in text and text.count("/dashboard/reply/") == 2
    reply_path = link(text, "/dashboard/reply/")
    assert app.test_client().get(reply_path).status_code == 200
    assert "Oldest question?" in html and "Newer remark" in html
    again = runner.invoke(comments, ["digest", "--site", str(site)])
    assert again.exit_code == 0 and "Queued 0 digests." in again.output
    assert len(smtp.inbox.received) == 1


def test_unanswered_command_prints_the_queue(make_app, site, clock):
    app = make_app(SITE=str(site), DATABASE_URL=f"sqlite:///{site / 'comments.sqlite3'}", NOTIFY_AUTHORS=False)
    client = app.test_client()
    question = reader(client, author_name="Rita", body="Is there a CLI?")
    result = CliRunner().invoke(comments, ["unanswered", "--site", str(site)])
    assert result.exit_code == 0, result.output
    assert "1 reader waiting for an answer" in result.output
    assert f"#{question['id']}  Rita, waiting" in result.output and "[question]" in result.output
    as_json = CliRunner().invoke(comments, ["unanswered", "--json", "--site", str(site)])
    assert json.loads(as_json.output)["comments"][0]["id"] == question["id"]


# The outbox: the SMTP server down, then up ------------------------------------------------------------


def test_smtp_down_then_up_delivers_the_queued_mail(app, client, smtp, clock):
    smtp.stop()
    started = time.monotonic()
    question = reader(client, body="Posted while mail is down")
    assert time.monotonic() - started < 2  # the request never waited for SMTP
    report = send(app)
    assert (report.sent, report.retrying) == (0, 1)
    [queued] = desk(app).storage.outbox.all()
    assert queued.attempts == 1 and "cannot reach" in queued.last_error and queued.sent_at is None
    smtp.start()
    assert send(app).sent == 0  # not due before the backoff
    clock.advance(60)
    assert send(app).sent == 1
    [message] = smtp.inbox.to(ANN["email"])
    assert f"/dashboard/#comment-{question['id']}" in parts(message)[0]
    assert desk(app).storage.outbox.all()[0].sent_at == clock.now


@pytest.mark.slow
def test_background_sender_retries_until_the_server_is_back(tmp_path, manifest, smtp):
    smtp.stop()
    # The real clock: the sender thread has to wait for real.
    app = create_app({"SECRET_KEY": SECRET, "DATABASE_URL": f"sqlite:///{tmp_path / 'bg.sqlite3'}",
                      "THREADS_MANIFEST": str(manifest), **NO_LIMITS,
                      **mail_config(smtp, MAIL_SEND_IN_BACKGROUND=True, MAIL_RETRY_SECONDS=1)})
    add_author(app)
    client = app.test_client()
    reader(client, body="Posted while mail is down")
    sender = services(app).sender
    try:
        deadline = time.monotonic() + 5
        while not desk(app).storage.outbox.all()[0].attempts and time.monotonic() < deadline:
            time.sleep(0.05)
        assert desk(app).storage.outbox.all()[0].attempts >= 1
        smtp.start()
        smtp.inbox.wait_for(1)
        assert smtp.inbox.to(ANN["email"])[0]["Subject"].startswith("New comment on “A post”")
    finally:
        sender.stop()


@pytest.mark.slow
def test_a_refused_recipient_is_given_up_not_retried(app, client, smtp, clock):
    smtp.inbox.refuse.add(ANN["email"])
    reader(client, body="Hi")
    report = send(app)
    assert (report.sent, report.failed) == (0, 1)
    [mail] = desk(app).storage.outbox.all()
    assert mail.failed_at is not None and "550" in mail.last_error
    clock.advance(86400)
    assert send(app).sent == 0
    assert "refused by the mail server" in _health_html(app)


def _health_html(app):
    client = app.test_client()
    login(client)
    return client.get("/dashboard/health").get_data(as_text=True)


def test_smtp_login_is_used(make_app):
    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == b"mailer" and auth_data.password == b"s3cret-password"
        return AuthResult(success=ok)

    server = SmtpServer(authenticator=authenticate, auth_require_tls=False, auth_required=True)
    server.start()
    try:
        app = make_app(**mail_config(server, MAIL_USERNAME="mailer", MAIL_PASSWORD="s3cret-password"))
        add_author(app)
        reader(app.test_client(), body="Hi")
        assert send(app).sent == 1
        # Without the login this server refuses the mail: so the login above was what got it through.
        anonymous = make_app(**mail_config(server))
        reader(anonymous.test_client(), body="Again")
        assert send(anonymous).retrying == 1 and len(server.inbox.received) == 1
        assert "530" in desk(anonymous).storage.outbox.all()[-1].last_error
    finally:
        server.stop()
