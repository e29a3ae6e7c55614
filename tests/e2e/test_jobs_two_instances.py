"""Issue 16, "several instances": two comment-server instances under gunicorn (two workers each,
so four processes with a job runner and a mail sender apiece) on one PostgreSQL run every
background job exactly once: Webmentions received through both are each verified with one fetch
of their source and stored once; reader comments posted through both are each mailed to the
author once (the outbox); the fediverse announcement is polled once; and each answer the author
posts goes back once, as a Webmention or as a status."""

from __future__ import annotations

import json
import time
import urllib.parse

from sqlalchemy import create_engine, text

from comments_server.app import create_app
from comments_server.services import services
from tests.e2e.test_two_instances import gunicorn
from tests.support.authoring import ANN, add_author
from tests.support.live import server_env
from tests.support.mail import SmtpServer
from tests.support.mastodon import fake_mastodon
from tests.support.remote_blog import h_card, h_entry_page, running_remote_blog
from tests.support.server import AUTHOR_TOKEN, NO_LIMITS, POST, SECRET, new_comment, postgres_schema

REPLIES = 24
TARGET = f"https://blog.example.com{POST}"


def wait_until(predicate, timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_four_job_runners_verify_each_webmention_and_mail_each_notice_once(
        tmp_path, manifest, postgres_url, live_servers):
    smtp = SmtpServer()
    smtp.start()
    try:
        with running_remote_blog() as blog, postgres_schema(postgres_url) as url:
            # The schema and the author who is notified, made as the servers will see them.
            setup = create_app({"SECRET_KEY": SECRET, "DATABASE_URL": url, "THREADS_MANIFEST": str(manifest),
                                "JOBS_IN_BACKGROUND": False})
            add_author(setup)
            services(setup).storage.close()
            host = urllib.parse.urlsplit(blog.url).hostname or "127.0.0.1"
            env = server_env(SECRET_KEY=SECRET, DATABASE_URL=url, THREADS_MANIFEST=str(manifest),
                             **{k: "off" for k, v in NO_LIMITS.items() if v is None},
                             WEBMENTION_ALLOW_HOSTS=host,
                             JOBS_IN_BACKGROUND="true", MAIL_HOST="127.0.0.1", MAIL_PORT=str(smtp.port),
                             MAIL_TLS="off", MAIL_FROM="Test Blog <comments@blog.example.com>",
                             MAIL_SEND_IN_BACKGROUND="true")
            servers = [gunicorn(live_servers, tmp_path, "one", env), gunicorn(live_servers, tmp_path, "two", env)]
            try:
                sources = [blog.page(f"/replies/{n}/", h_entry_page(
                    about=TARGET, content_html=f"<p>Reply number {n}.</p>",
                    author=h_card(f"Remote Reader {n}", f"{blog.url}/about/{n}")))
                    for n in range(REPLIES)]
                for n, source in enumerate(sources):
                    status, _headers, body = servers[n % 2].request(
                        "POST", "/webmention", raw=urllib.parse.urlencode({"source": source, "target": TARGET}).encode(),
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
                    assert status == 202, body
                for n in range(REPLIES):
                    status, _headers, body = servers[n % 2].request(
                        "POST", "/api/comments", new_comment(body=f"Comment {n}", author_name=f"Reader {n}"))
                    assert status == 201, body
                engine = create_engine(url)
                try:
                    def stored() -> int:
                        with engine.connect() as conn:
                            return int(conn.execute(text(
                                "SELECT count(*) FROM comments WHERE origin = 'webmention'")).scalar_one())
                    wait_until(lambda: stored() == REPLIES, what=f"{REPLIES} verified replies")
                    smtp.inbox.wait_for(REPLIES, timeout=60)
                    time.sleep(3)   # a runner or sender that would take a job twice has had its chance
                    with engine.connect() as conn:
                        outbox = conn.execute(text("SELECT count(*), count(sent_at) FROM outbox")).one()
                    with engine.connect() as conn:
                        jobs = conn.execute(text(
                            "SELECT key, attempts, done_at IS NOT NULL FROM jobs WHERE kind = 'webmention-verify'")).all()
                        urls = [row[0] for row in conn.execute(text(
                            "SELECT origin_url FROM comments WHERE origin = 'webmention'"))]
                finally:
                    engine.dispose()
            finally:
                for server in servers:   # before their schema goes
                    server.stop()
    finally:
        smtp.stop()
    fetched = [path for path in blog.requests if path.startswith("/replies/")]
    assert sorted(fetched) == sorted(f"/replies/{n}/" for n in range(REPLIES))   # each source once
    assert sorted(urls) == sorted(sources)                                         # each reply once
    assert len(jobs) == REPLIES and all(done and attempts == 1 for _key, attempts, done in jobs)
    assert outbox[0] == outbox[1] >= REPLIES                                       # all sent
    assert len(smtp.inbox.received) == outbox[0]                                   # each mail once
    subjects = [message["Message-ID"] for _rcpt, message in smtp.inbox.received]
    assert len(set(subjects)) == len(subjects)
    assert len(smtp.inbox.to(ANN["email"])) >= REPLIES


def test_four_job_runners_poll_each_announcement_and_send_each_answer_once(
        tmp_path, manifest, postgres_url, live_servers):
    """The other background jobs: the fediverse poll (one context fetch for the announcement), and
    an author's answers going back, as Webmentions to another blog and as statuses on the fediverse."""
    with fake_mastodon() as mastodon, running_remote_blog() as blog, postgres_schema(postgres_url) as url:
        mastodon.account("ann", "Ann Author")
        announced = mastodon.status("ann", f'<p>New post: <a href="{TARGET}">A post</a></p>')
        toots = [mastodon.status(f"reader{n}", f"<p>Question {n} from the fediverse?</p>",
                                 in_reply_to=announced["id"]) for n in range(3)]
        data = json.loads(manifest.read_text(encoding="utf-8"))
        data["threads"][0]["fediverse"] = announced["url"]
        data["site"]["fediverse_account"] = f"{mastodon.url}/@ann"
        manifest.write_text(json.dumps(data), encoding="utf-8")
        env = server_env(SECRET_KEY=SECRET, DATABASE_URL=url, THREADS_MANIFEST=str(manifest),
                         **{k: "off" for k, v in NO_LIMITS.items() if v is None},
                         AUTHOR_TOKENS=AUTHOR_TOKEN, JOBS_IN_BACKGROUND="true", WEBMENTION_SEND_DELAY="0",
                         WEBMENTION_ALLOW_HOSTS="127.0.0.1", FEDIVERSE_ALLOW_HOSTS="127.0.0.1",
                         FEDIVERSE_ACCESS_TOKEN=mastodon.token)
        servers = [gunicorn(live_servers, tmp_path, "one", env), gunicorn(live_servers, tmp_path, "two", env)]
        engine = create_engine(url)
        try:
            def remote_replies(origin: str) -> list[tuple[int, str]]:
                with engine.connect() as conn:
                    return [(row[0], row[1]) for row in conn.execute(text(
                        "SELECT id, origin_url FROM comments WHERE origin = :origin ORDER BY id"), {"origin": origin})]
            sources = [blog.page(f"/replies/{n}/", h_entry_page(about=TARGET, content_html=f"<p>Reply {n}.</p>",
                                                                author=h_card(f"Blogger {n}", f"{blog.url}/{n}")))
                       for n in range(6)]
            for n, source in enumerate(sources):
                status, _headers, body = servers[n % 2].request(
                    "POST", "/webmention", raw=urllib.parse.urlencode({"source": source, "target": TARGET}).encode(),
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
                assert status == 202, body
            wait_until(lambda: len(remote_replies("webmention")) == 6 and len(remote_replies("fediverse")) == 3,
                       what="six replies from blogs and three from the fediverse")
            for n, (comment_id, _origin_url) in enumerate(remote_replies("webmention") + remote_replies("fediverse")):
                status, _headers, body = servers[n % 2].request(
                    "POST", "/api/comments", {"thread": POST, "parent_id": comment_id, "body": f"Answer {n}."},
                    {"Authorization": f"Bearer {AUTHOR_TOKEN}"})
                assert status == 201, body
            wait_until(lambda: len(blog.received) >= 6 and len(mastodon.posted) >= 3, what="the answers sent back")
            time.sleep(3)   # a runner that would take a job twice has had its chance
        finally:
            engine.dispose()
            for server in servers:   # before their schema goes
                server.stop()
    contexts = [r for r in mastodon.requests if r == f"GET /api/v1/statuses/{announced['id']}/context"]
    assert len(contexts) == 1                                               # one poll, not one per runner
    assert sorted(m["target"] for m in blog.received) == sorted(sources)   # each answer sent once
    assert sorted(p.in_reply_to_id for p in mastodon.posted) == sorted(t["id"] for t in toots)
