"""Publish on comment: a change readers can see runs the site's publish actions once, after a
quiet spell; held comments do not; failures are tried again; workers on one machine run once."""

from __future__ import annotations

import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from comments_server.errors import ConfigError
from comments_server.services import services
from tests.support.live import serve_in_thread
from tests.support.server import AUTHOR_TOKEN, POST, post_comment


def wait_until(predicate, timeout: float = 20.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def counting_command(tmp_path: Path, *, fail_first: int = 0) -> tuple[str, Path]:
    """A PUBLISH_COMMAND that appends the marker it was given to a file (failing its first
    `fail_first` runs), like a deploy would publish."""
    log = tmp_path / "published.txt"
    script = tmp_path / "publish.py"
    script.write_text(
        "import os, pathlib, sys\n"
        f"log = pathlib.Path({str(log)!r})\n"
        "runs = log.parent / 'runs.txt'\n"
        "runs.write_text(runs.read_text() + 'x' if runs.exists() else 'x')\n"
        f"if len(runs.read_text()) <= {fail_first}:\n"
        "    print('deploy failed: the host is down'); sys.exit(3)\n"
        "with log.open('a') as f: f.write(os.environ['BLOGENGINE_COMMENTS_MARKER'] + '\\n')\n",
        encoding="utf-8")
    return f"{sys.executable} {script}", log


def lines(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


def fast(**config):
    return {"PUBLISH_DEBOUNCE_SECONDS": 1, "PUBLISH_POLL_SECONDS": 1, **config}


def test_a_burst_of_comments_runs_the_command_once_after_the_quiet(make_app, tmp_path):
    command, log = counting_command(tmp_path)
    app = make_app(**fast(PUBLISH_COMMAND=command))
    client = app.test_client()
    for n in range(3):
        assert post_comment(client, body=f"Comment number {n}").status_code == 201
    publisher = services(app).publisher
    marker = services(app).storage.publish_marker()
    assert publisher.wait_published(marker, 20)
    time.sleep(1.5)  # a second run would come within a debounce
    assert lines(log) == [str(marker)]
    publisher.stop()


def test_a_held_comment_publishes_nothing_until_it_is_approved(make_app, tmp_path):
    command, log = counting_command(tmp_path)
    app = make_app(**fast(PUBLISH_COMMAND=command, MODERATION="all"))
    client = app.test_client()
    before = services(app).storage.publish_marker()
    response = post_comment(client, body="Please hold me")
    assert response.status_code == 202
    assert services(app).storage.publish_marker() == before
    time.sleep(2.5)
    assert lines(log) == []
    [held] = services(app).storage.all_comments()
    services(app).conversations.approve(held.id)
    client.post("/api/nothing")  # any write request wakes the publisher; the poll would too
    marker = services(app).storage.publish_marker()
    assert marker > before
    assert services(app).publisher.wait_published(marker, 20)
    assert lines(log) == [str(marker)]
    services(app).publisher.stop()


def test_a_failed_publish_is_tried_again_and_reported(make_app, tmp_path):
    command, log = counting_command(tmp_path, fail_first=1)
    app = make_app(**fast(PUBLISH_COMMAND=command))
    assert post_comment(app.test_client()).status_code == 201
    publisher = services(app).publisher
    wait_until(lambda: publisher.last_error is not None, what="the first, failing run")
    assert "exited with status 3" in publisher.last_error and "the host is down" in publisher.last_error
    marker = services(app).storage.publish_marker()
    assert publisher.wait_published(marker, 20)
    assert lines(log) == [str(marker)] and publisher.last_error is None
    publisher.stop()


def test_two_workers_on_one_database_run_the_command_once(make_app, tmp_path):
    command, log = counting_command(tmp_path)
    first = make_app(**fast(PUBLISH_COMMAND=command))
    second = make_app(**fast(PUBLISH_COMMAND=command))
    assert post_comment(first.test_client(), body="Seen by both workers").status_code == 201
    second.test_client().get("/healthz")  # starts the second worker's publisher
    marker = services(first).storage.publish_marker()
    for app in (first, second):
        services(app).publisher.wake()
    for app in (first, second):
        assert services(app).publisher.wait_published(marker, 20)
    assert lines(log) == [str(marker)]
    for app in (first, second):
        services(app).publisher.stop()


class Receiver(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], dict]] = []
    status = 204

    def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((dict(self.headers), json.loads(body)))
        self.send_response(type(self).status)
        if type(self).status in (301, 302, 307, 308):
            self.send_header("Location", "http://elsewhere.example/hook")
        self.end_headers()

    def log_message(self, format, *args):  # noqa: A002
        pass


@pytest.fixture
def receiver():
    handler = type("Handler", (Receiver,), {"received": []})
    with serve_in_thread(ThreadingHTTPServer(("127.0.0.1", 0), handler)) as url:
        yield url, handler


def test_the_webhook_gets_a_dispatch_with_the_token(make_app, receiver):
    url, handler = receiver
    app = make_app(**fast(PUBLISH_WEBHOOK_URL=url + "/repos/ann/blog/dispatches",
                          PUBLISH_WEBHOOK_TOKEN="ghp_not_a_real_token"))
    client = app.test_client()
    assert post_comment(client).status_code == 201
    wait_until(lambda: handler.received, what="the webhook")
    headers, body = handler.received[0]
    assert headers["Authorization"] == "Bearer ghp_not_a_real_token"
    assert body == {"event_type": "blogengine-comments",
                    "client_payload": {"marker": services(app).storage.publish_marker()}}
    assert post_comment(client, body="And one more").status_code == 201
    wait_until(lambda: len(handler.received) == 2, what="the second webhook")
    services(app).publisher.stop()


def test_a_webhook_that_refuses_is_an_error_tried_again(make_app, receiver):
    url, handler = receiver
    handler.status = 401
    app = make_app(**fast(PUBLISH_WEBHOOK_URL=url + "/hook"))
    assert post_comment(app.test_client()).status_code == 201
    publisher = services(app).publisher
    wait_until(lambda: publisher.last_error is not None, what="the refused webhook")
    assert "answered 401" in publisher.last_error
    handler.status = 204
    assert publisher.wait_published(services(app).storage.publish_marker(), 30)
    publisher.stop()


def test_a_webhook_that_redirects_keeps_its_token(make_app, receiver):
    url, handler = receiver
    handler.status = 307
    app = make_app(**fast(PUBLISH_WEBHOOK_URL=url + "/moved"))
    assert post_comment(app.test_client()).status_code == 201
    publisher = services(app).publisher
    wait_until(lambda: publisher.last_error is not None, what="the refused redirect")
    assert "redirect to http://elsewhere.example/hook, not followed" in publisher.last_error
    assert len(handler.received) == 1    # one request, none sent on to the new address
    publisher.stop()


def test_without_publish_settings_no_thread_runs_and_no_delay_is_promised(make_app):
    app = make_app()
    assert post_comment(app.test_client()).status_code == 201
    publisher = services(app).publisher
    assert not publisher.enabled and publisher.expected_seconds() is None
    assert publisher._thread is None


def test_an_author_reply_and_a_deletion_each_move_the_marker(make_app):
    app = make_app()
    client = app.test_client()
    storage = services(app).storage
    first = storage.publish_marker()
    created = post_comment(client).get_json()
    after_post = storage.publish_marker()
    reply = client.post(
        "/api/comments", json={"thread": POST, "parent_id": created["id"], "author_name": "Ann",
                               "body": "Thanks for asking."}, headers={"Authorization": f"Bearer {AUTHOR_TOKEN}"})
    assert reply.status_code == 201
    after_reply = storage.publish_marker()
    deleted = client.delete(f"/api/comments/{created['id']}", headers={"X-Edit-Token": created["edit_token"]})
    assert deleted.status_code in (200, 204)
    assert first < after_post < after_reply < storage.publish_marker()


@pytest.mark.parametrize(("setting", "value", "message"), [
    ("PUBLISH_WEBHOOK_URL", "ftp://example.org/hook", "is not an http(s) URL"),
    ("PUBLISH_COMMAND", "blogengine deploy 'unclosed", "cannot be split into a command"),
    ("PUBLISH_DEBOUNCE_SECONDS", 0, "out of range"),
])
def test_bad_publish_settings_are_named(make_app, setting, value, message):
    with pytest.raises(ConfigError) as caught:
        make_app(**{setting: value})
    assert any(setting in problem and message in problem for problem in caught.value.problems)



def test_a_comment_written_as_the_thread_first_looks_is_still_published(tmp_path):
    """The request that starts the publisher writes a comment; the thread, slow to be scheduled,
    first reads the store after that write. The comment must still be published."""
    import threading

    from comments_server.publish import PublishAction, Publisher, PublishState

    store = {"marker": 1}
    written = threading.Event()

    def marker() -> int:
        if threading.current_thread().name == "comments-publish":
            written.wait(10)   # the thread is scheduled only once the comment is stored
        return store["marker"]

    published: list[int] = []
    publisher = Publisher(marker, PublishState(tmp_path / "state"), debounce_seconds=0.05,
                          poll_seconds=0.1, actions=[PublishAction("test", published.append)])
    publisher.ensure_started()          # as the first request does, before its view runs
    store["marker"] = 2                 # ... which then stores the comment
    written.set()
    publisher.wake()
    assert publisher.wait_published(2, 10), "the comment was taken as already published"
    assert published == [2]
    publisher.stop()
