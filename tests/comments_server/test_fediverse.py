"""Fediverse replies against a fake Mastodon server on 127.0.0.1: polling an announcement's
context into the thread and the queue, author replies, edits and deletions, the schedule and its
backoff, answering from the dashboard, and matching announcements by link. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from email.utils import format_datetime

import pytest

from comments_server.fediverse.answer import ANSWER_KIND, status_text
from comments_server.fediverse.client import FediverseError, RateLimit, parse_status_url
from comments_server.fediverse.poller import (
    PLAN_KIND,
    POLL_KIND,
    backoff_at,
    next_poll_at,
    poll_interval,
    start_polling,
)
from comments_server.models import Status
from comments_server.services import services
from tests.support.authoring import add_author, author_reply, login, queue_ids
from tests.support.mastodon import fake_mastodon
from tests.support.server import AUTHOR_TOKEN, POST, write_manifest


@pytest.fixture
def mastodon():
    with fake_mastodon() as fake:
        fake.account("ann", "Ann Author")
        yield fake


def manifest_for(tmp_path, mastodon, *, announcement: str = "", account: bool = True):
    thread = {"path": POST, "title": "A post", "author": "Ann Author", "open": True}
    if announcement:
        thread["fediverse"] = announcement
    path = write_manifest(tmp_path / "public" / "threads.json", [thread])
    data = json.loads(path.read_text())
    if account:
        data["site"]["fediverse_account"] = f"{mastodon.url}/@ann"
    path.write_text(json.dumps(data))
    return path


@pytest.fixture
def announced(mastodon):
    return mastodon.status("ann", '<p>New post: <a href="https://blog.example.com/2024/05/a-post/">A post</a></p>')


@pytest.fixture
def make_fedi_app(make_app, tmp_path, mastodon, announced, db_url):
    def make(*, account: bool = True, announcement: str | None = None, **config):
        manifest = manifest_for(tmp_path, mastodon, account=account,
                                announcement=announced["url"] if announcement is None else announcement)
        app = make_app(**{"DATABASE_URL": db_url, "THREADS_MANIFEST": str(manifest),
                          "FEDIVERSE_ALLOW_HOSTS": [mastodon.host], "FEDIVERSE_TIMEOUT": 2, **config})
        add_author(app)
        return app
    return make


def run_jobs(app, clock) -> int:
    """Run what is due now, as the server's job thread would."""
    return services(app).jobs.run_due(services(app))


def poll_now(app, clock) -> None:
    """Start polling (as create_app does) and run the plan and poll jobs that are due."""
    start_polling(services(app))
    for job in services(app).storage.jobs.all(POLL_KIND):
        if job.done_at is None and job.failed_at is None:
            services(app).storage.jobs.enqueue(POLL_KIND, job.key, job.payload, clock(), clock())
    run_jobs(app, clock)


def thread(app):
    comments = services(app).storage.thread_snapshot(POST, None).comments or []
    return {c.origin_id: c for c in comments if c.status == Status.PUBLISHED}


def queue_origin_ids(app):
    return sorted(t.comment.origin_id or "" for t in services(app).storage.unanswered(services(app).clock()))


def a_conversation(mastodon, announced):
    """bob and carol reply; eve answers bob; ann (the author) answers carol; dan writes privately."""
    bob = mastodon.status("bob", "<p>Why this way?</p>", in_reply_to=announced["id"], remote_acct="bob@else.example")
    carol = mastodon.status("carol", "<p>Nice one</p>", in_reply_to=announced["id"])
    eve = mastodon.status("eve", "<p>@bob good question</p>", in_reply_to=bob["id"])
    ann = mastodon.status("ann", "<p>@carol thank you!</p>", in_reply_to=carol["id"])
    dan = mastodon.status("dan", "<p>just between us</p>", in_reply_to=announced["id"], visibility="direct")
    return bob, carol, eve, ann, dan


def test_a_real_status_from_mastodons_documentation_joins_the_thread(make_fedi_app, mastodon, announced, clock):
    """A status as Mastodon really serves it (tests/data/fediverse/SOURCE.md), made a reply to the
    announcement: its author, handle, text and link come through, and it waits for an answer."""
    real = json.loads((Path(__file__).parents[1] / "data/fediverse/mastodon-status.json").read_text(encoding="utf-8"))
    mastodon.statuses[real["id"]] = {**real, "in_reply_to_id": announced["id"]}
    app = make_fedi_app()
    poll_now(app, clock)
    comment = thread(app)[real["id"]]
    assert (comment.author_name, comment.author_url, comment.origin_url) == (
        "Eugen", "https://mastodon.social/@Gargron", "https://mastodon.social/@Gargron/103270115826048975")
    assert comment.author_photo == real["account"]["avatar"]
    assert comment.body.startswith('"I lost my inheritance with one wrong digit on my sort code"')
    assert 'href="https://www.theguardian.com/money/2019/dec/07/' in comment.body_html
    assert "target=" not in comment.body_html and "<script" not in comment.body_html
    assert queue_origin_ids(app) == [real["id"]]
    body = app.test_client().get("/api/comments", query_string={"thread": POST}).get_json()
    [shown] = [c for c in body["comments"] if c["origin_url"] == real["url"]]
    assert shown["author_handle"] == "@Gargron@mastodon.social"


# Into the thread and the queue -------------------------------------------------------------------


def test_replies_enter_the_thread_nested_and_the_queue_holds_exactly_the_waiting_ones(
        make_fedi_app, mastodon, announced, clock):
    app = make_fedi_app()
    bob, carol, eve, ann, dan = a_conversation(mastodon, announced)
    poll_now(app, clock)
    stored = thread(app)
    assert set(stored) == {bob["id"], carol["id"], eve["id"], ann["id"]}   # not the direct message
    assert stored[bob["id"]].parent_id is None and stored[carol["id"]].parent_id is None
    assert stored[eve["id"]].parent_id == stored[bob["id"]].id
    assert stored[ann["id"]].parent_id == stored[carol["id"]].id and stored[ann["id"]].is_author
    assert stored[bob["id"]].origin == "fediverse" and stored[bob["id"]].origin_url == bob["url"]
    assert stored[bob["id"]].author_name == "bob" and stored[bob["id"]].author_url == f"{mastodon.url}/@bob"
    assert stored[bob["id"]].author_photo == f"{mastodon.url}/avatars/bob.png"
    assert stored[bob["id"]].body == "Why this way?"
    # Carol is answered by the author's own reply; bob and eve still wait.
    assert queue_origin_ids(app) == sorted([bob["id"], eve["id"]])


def test_the_announcements_author_is_the_author_without_a_configured_account(
        make_fedi_app, mastodon, announced, clock):
    app = make_fedi_app(account=False)
    _, carol, _, ann, _ = a_conversation(mastodon, announced)
    poll_now(app, clock)
    assert thread(app)[ann["id"]].is_author and not thread(app)[carol["id"]].is_author
    assert carol["id"] not in queue_origin_ids(app)


def test_polling_twice_stores_nothing_twice(make_fedi_app, mastodon, announced, clock):
    app = make_fedi_app()
    a_conversation(mastodon, announced)
    poll_now(app, clock)
    first = {k: c.id for k, c in thread(app).items()}
    clock.advance(600)
    poll_now(app, clock)
    assert {k: c.id for k, c in thread(app).items()} == first


def test_edits_and_deletions_are_followed(make_fedi_app, mastodon, announced, clock):
    app = make_fedi_app()
    bob, _, eve, _, _ = a_conversation(mastodon, announced)
    poll_now(app, clock)
    mastodon.edit(bob["id"], "<p>Why this way, and not the other?</p>")
    mastodon.delete(eve["id"])
    clock.advance(600)
    poll_now(app, clock)
    stored = thread(app)
    assert stored[bob["id"]].body == "Why this way, and not the other?" and stored[bob["id"]].edited_at is not None
    assert eve["id"] not in stored
    assert eve["id"] not in queue_origin_ids(app)


def test_a_reply_the_author_deleted_here_stays_deleted(make_fedi_app, mastodon, announced, clock):
    app = make_fedi_app()
    bob, *_ = a_conversation(mastodon, announced)
    poll_now(app, clock)
    services(app).conversations.delete(thread(app)[bob["id"]].id)
    clock.advance(600)
    poll_now(app, clock)
    assert bob["id"] not in thread(app)


# The schedule ------------------------------------------------------------------------------------


def test_new_posts_are_polled_often_and_old_ones_rarely():
    assert poll_interval(timedelta(hours=2)) == timedelta(minutes=5)
    assert poll_interval(timedelta(days=3)) == timedelta(minutes=30)
    assert poll_interval(timedelta(days=20)) == timedelta(hours=3)
    assert poll_interval(timedelta(days=400)) == timedelta(hours=24)


def test_few_requests_left_waits_for_the_rate_limit_reset():
    now = datetime(2026, 6, 1, 12, tzinfo=UTC)
    reset = now + timedelta(hours=1)
    assert next_poll_at(now, now, RateLimit(remaining=2, reset_at=reset)) == reset
    assert next_poll_at(now, now, RateLimit(remaining=200, reset_at=reset)) == now + timedelta(minutes=5)


def test_failures_back_off_exponentially_up_to_six_hours():
    now = datetime(2026, 6, 1, 12, tzinfo=UTC)
    error = FediverseError("500")
    assert [backoff_at(now, n, error) - now for n in (1, 2, 3)] == \
        [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    assert backoff_at(now, 30, error) - now == timedelta(hours=6)


def poll_job(app):
    return services(app).storage.jobs.find(POLL_KIND, POST)


def test_the_next_poll_honours_the_rate_limit_headers(make_fedi_app, mastodon, clock):
    app = make_fedi_app()
    reset = clock() + timedelta(minutes=47)
    mastodon.rate_headers = {"X-RateLimit-Remaining": "1", "X-RateLimit-Reset": reset.isoformat()}
    poll_now(app, clock)
    job = poll_job(app)
    assert job.done_at is None and job.due_at == reset


def test_a_429_waits_for_retry_after(make_fedi_app, mastodon, clock):
    app = make_fedi_app()
    start_polling(services(app))
    run_jobs(app, clock)     # the plan makes the poll job, which polls
    clock.advance(600)
    mastodon.failures = [(429, {"Retry-After": "120"})]
    run_jobs(app, clock)
    assert poll_job(app).due_at == clock() + timedelta(seconds=120)
    assert poll_job(app).payload["failures"] == 1


def test_a_429_with_an_http_date_waits_until_then(make_fedi_app, mastodon, clock):
    app = make_fedi_app()
    start_polling(services(app))
    run_jobs(app, clock)
    clock.advance(600)
    later = (clock() + timedelta(minutes=30)).replace(microsecond=0)
    mastodon.failures = [(429, {"Retry-After": format_datetime(later, usegmt=True)})]
    run_jobs(app, clock)
    assert poll_job(app).due_at == later


def test_server_errors_and_timeouts_back_off_then_recover(make_fedi_app, mastodon, announced, clock):
    app = make_fedi_app(FEDIVERSE_TIMEOUT=1)
    start_polling(services(app))
    run_jobs(app, clock)
    clock.advance(600)
    mastodon.failures = [(500, {}), (502, {})]
    run_jobs(app, clock)
    assert poll_job(app).due_at == clock() + timedelta(minutes=1)
    clock.advance(60)
    run_jobs(app, clock)
    assert poll_job(app).due_at == clock() + timedelta(minutes=2)
    clock.advance(120)
    mastodon.delays = [1.5]      # longer than FEDIVERSE_TIMEOUT
    run_jobs(app, clock)
    assert poll_job(app).due_at == clock() + timedelta(minutes=4) and poll_job(app).payload["failures"] == 3
    clock.advance(240)
    bob = mastodon.status("bob", "<p>finally</p>", in_reply_to=announced["id"])
    run_jobs(app, clock)
    assert bob["id"] in thread(app) and poll_job(app).payload["failures"] == 0


def test_a_deleted_announcement_stops_polling(make_fedi_app, mastodon, announced, clock):
    app = make_fedi_app()
    poll_now(app, clock)
    mastodon.delete(announced["id"])
    clock.advance(600)
    run_jobs(app, clock)
    assert poll_job(app).failed_at is not None and "404" in poll_job(app).last_error


# Answering -----------------------------------------------------------------------------------------


def test_a_dashboard_reply_is_posted_back_and_leaves_the_queue(make_fedi_app, mastodon, announced, clock):
    app = make_fedi_app(FEDIVERSE_ACCESS_TOKEN=mastodon.token)
    bob, *_ = a_conversation(mastodon, announced)
    poll_now(app, clock)
    client = app.test_client()
    assert login(client).status_code == 303
    assert "your reply here is also posted there" in client.get("/dashboard/").get_data(as_text=True)
    author_reply(client, thread(app)[bob["id"]].id, "Because it is *simpler*.", clock=clock, advance=60)
    assert bob["id"] not in queue_origin_ids(app)
    run_jobs(app, clock)
    assert len(mastodon.posted) == 1
    posted = mastodon.posted[0]
    assert posted.in_reply_to_id == bob["id"] and posted.authorization == f"Bearer {mastodon.token}"
    assert posted.status == "@bob@127.0.0.1 Because it is *simpler*." and posted.idempotency_key
    # The answer comes back in the context: it is the dashboard's comment, not a second one.
    clock.advance(600)
    poll_now(app, clock)
    answers = [c for c in services(app).storage.list_thread(POST) if c.is_author and c.parent_id == thread(app)[bob["id"]].id]
    assert len(answers) == 1 and answers[0].origin == "comment" and answers[0].origin_id == posted.id
    assert bob["id"] not in queue_origin_ids(app)
    run_jobs(app, clock)
    assert len(mastodon.posted) == 1


def test_an_answer_through_the_api_with_an_author_token_is_posted_back_too(
        make_fedi_app, mastodon, announced, clock):
    app = make_fedi_app(FEDIVERSE_ACCESS_TOKEN=mastodon.token)
    bob, *_ = a_conversation(mastodon, announced)
    poll_now(app, clock)
    parent = thread(app)[bob["id"]].id
    response = app.test_client().post(
        "/api/comments", json={"thread": POST, "parent_id": parent, "body": "From my script."},
        headers={"Authorization": f"Bearer {AUTHOR_TOKEN}"})
    assert response.status_code == 201, response.get_data(as_text=True)
    assert bob["id"] not in queue_origin_ids(app)
    run_jobs(app, clock)
    assert [(p.in_reply_to_id, p.status) for p in mastodon.posted] == [(bob["id"], "@bob@127.0.0.1 From my script.")]


def test_a_long_answer_is_cut_with_a_link_to_the_whole_reply():
    text = status_text("word " * 200, mention="@bob@else.example", full_url="https://blog.example.com/p/#comment-9")
    assert len(text) == 500 and text.startswith("@bob@else.example word")
    assert text.endswith("… https://blog.example.com/p/#comment-9")
    assert status_text("short", mention="@bob@x", full_url="https://b/") == "@bob@x short"


def test_without_a_token_the_dashboard_links_to_the_status_and_posts_nothing(
        make_fedi_app, mastodon, announced, clock):
    app = make_fedi_app()
    bob, *_ = a_conversation(mastodon, announced)
    poll_now(app, clock)
    client = app.test_client()
    assert login(client).status_code == 303
    page = client.get("/dashboard/").get_data(as_text=True)
    assert f'<a href="{bob["url"]}" rel="noopener noreferrer">Answer on 127.0.0.1</a>' in page
    author_reply(client, thread(app)[bob["id"]].id, "Here is why.", clock=clock, advance=60)
    assert services(app).storage.jobs.all(ANSWER_KIND) == []
    run_jobs(app, clock)
    assert mastodon.posted == []


def test_a_reply_to_a_reader_comment_posts_nothing(make_fedi_app, mastodon, clock):
    app = make_fedi_app(FEDIVERSE_ACCESS_TOKEN=mastodon.token)
    client = app.test_client()
    comment = client.post("/api/comments", json={"thread": POST, "author_name": "R", "body": "Hello there"}).get_json()
    assert login(client).status_code == 303
    author_reply(client, comment["id"], "Hi!", clock=clock, advance=60)
    assert services(app).storage.jobs.all(ANSWER_KIND) == []


# Matching announcements by link --------------------------------------------------------------------


def test_the_accounts_status_that_links_to_a_post_is_its_announcement(make_fedi_app, mastodon, announced, clock):
    mastodon.status("ann", '<p>Unrelated <a href="https://blog.example.com/2024/06/another/">post</a></p>')
    app = make_fedi_app(announcement="")
    bob = mastodon.status("bob", "<p>Found it</p>", in_reply_to=announced["id"])
    poll_now(app, clock)
    assert poll_job(app).payload["status_url"] == announced["url"]
    assert bob["id"] in thread(app)


def test_without_an_account_or_announcement_nothing_is_polled(make_fedi_app, mastodon, clock):
    app = make_fedi_app(account=False, announcement="")
    poll_now(app, clock)
    assert services(app).storage.jobs.all(PLAN_KIND) == [] and mastodon.requests == []


def test_status_urls_of_each_server_kind_are_understood():
    assert parse_status_url("https://m.example/@ann/123").id == "123"
    assert parse_status_url("https://m.example/users/ann/statuses/123").id == "123"
    assert parse_status_url("https://gts.example/@ann/statuses/01HXYZ").id == "01HXYZ"
    assert parse_status_url("https://pl.example/notice/AbC9").base_url == "https://pl.example"
    assert parse_status_url("https://m.example/about") is None
    assert parse_status_url("javascript:alert(1)//@a/1") is None


# Hostile content -----------------------------------------------------------------------------------


def hostile_conversation(mastodon, announced):
    """The hostile corpus as statuses: every body as content (raw, as a server would relay it),
    every name as a display name, and script URLs as profile, avatar and status links."""
    from tests.comments_server.test_hostile import HOSTILE_BODIES, HOSTILE_NAMES

    statuses = []
    for index, body in enumerate(HOSTILE_BODIES):
        user = f"h{index}"
        mastodon.account(user, HOSTILE_NAMES[index % len(HOSTILE_NAMES)])
        statuses.append(mastodon.status(user, body, in_reply_to=announced["id"]))
    evil = mastodon.account("evil", "<img src=x onerror=alert(1)>")
    evil["url"], evil["avatar"] = "javascript:alert(1)", "javascript:alert(2)"
    statuses.append(mastodon.status("evil", "<p>hi</p>", in_reply_to=announced["id"]))
    hidden = mastodon.status("evil2", "<p>no link</p>", in_reply_to=announced["id"])
    hidden["url"] = hidden["uri"] = "javascript:alert(3)"
    return statuses


def test_hostile_statuses_are_sanitised_in_the_api(make_fedi_app, mastodon, announced, clock):
    from tests.comments_server.test_hostile import assert_inert

    app = make_fedi_app()
    statuses = hostile_conversation(mastodon, announced)
    poll_now(app, clock)
    data = app.test_client().get(f"/api/comments?thread={POST}").get_json()
    flat, stack = [], list(data["comments"])
    while stack:
        item = stack.pop()
        flat.append(item)
        stack.extend(item["replies"])
    assert len(flat) == len(statuses)      # the one without an http(s) URL is not stored
    for item in flat:
        assert_inert(item["body_html"])
        assert item["origin"] == "fediverse" and item["origin_url"].startswith("http://127.0.0.1")
        for key in ("author_url", "author_photo"):
            assert item[key] is None or item[key].startswith("http://127.0.0.1"), item
        assert item["author_handle"] is None or item["author_handle"].startswith("@h")
    evil = next(item for item in flat if item["author_name"] == "<img src=x onerror=alert(1)>")
    assert evil["author_url"] is None and evil["author_photo"] is None and evil["author_handle"] is None


def test_a_post_naming_another_announcement_is_polled_there(make_fedi_app, mastodon, announced, clock, tmp_path):
    app = make_fedi_app()
    poll_now(app, clock)
    again = mastodon.status("ann", "<p>Announcing it again</p>")
    reply = mastodon.status("bob", "<p>On the second one</p>", in_reply_to=again["id"])
    manifest_for(tmp_path, mastodon, announcement=again["url"])
    services(app).threads.reload()
    clock.advance(600)
    poll_now(app, clock)
    assert poll_job(app).payload["status_url"] == again["url"]
    assert reply["id"] in thread(app)


def test_the_reload_endpoint_plans_the_polls(make_fedi_app, mastodon, announced, clock):
    from tests.support.server import AUTHOR_TOKEN

    app = make_fedi_app(announcement="", account=False)
    assert services(app).storage.jobs.all(PLAN_KIND) == []
    manifest_for(Path(services(app).threads.source).parent.parent, mastodon, announcement=announced["url"])
    response = app.test_client().post("/api/threads/reload", headers={"Authorization": f"Bearer {AUTHOR_TOKEN}"})
    assert response.status_code == 200
    [planned] = services(app).storage.jobs.all(PLAN_KIND)
    assert planned.due_at == clock()


def test_polling_off_plans_nothing(make_fedi_app, mastodon, clock):
    app = make_fedi_app(FEDIVERSE_POLL=False)
    assert start_polling(services(app)) is False
    assert services(app).storage.jobs.all(PLAN_KIND) == [] and mastodon.requests == []


def test_the_token_goes_only_to_the_accounts_own_server():
    from comments_server.fediverse.config import FediverseSettings

    settings = FediverseSettings(access_token="t0ken")
    now = lambda: datetime(2026, 6, 1, tzinfo=UTC)  # noqa: E731
    assert settings.client("https://m.example", account="https://M.example/@ann", clock=now).token == "t0ken"
    assert settings.client("https://other.example", account="https://m.example/@ann", clock=now).token == ""
    assert settings.client("http://m.example", account="https://m.example/@ann", clock=now).token == ""
    # Without an account, the announcements' server is the author's own.
    assert settings.client("https://m.example", account="", clock=now).token == "t0ken"

