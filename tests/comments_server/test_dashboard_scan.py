"""A dashboard an author can scan (issue 14): reply boxes closed until asked for, human
durations, times in the site's time zone, the blog's name and link in the header, and health
figures that cannot contradict each other."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from bs4 import BeautifulSoup

from comments_server.manifest import ManifestError, parse_manifest
from tests.support.authoring import (
    add_author,
    author_reply,
    dashboard_post,
    desk,
    login,
    page_text,
    queue_ids,
    reader,
    thread_comments,
)
from tests.support.server import THREADS

DAY = 86400


def write_site_manifest(path, **site):
    data = {"version": 1, "site": {"title": "The Coffee Table", "base_url": "https://coffee.example.org/", **site},
            "threads": THREADS}
    path.write_text(json.dumps(data), encoding="utf-8")


@pytest.fixture
def london(make_app, manifest):
    write_site_manifest(manifest, timezone="Europe/London")
    app = make_app()
    add_author(app)
    return app


@pytest.fixture
def logged_in(london):
    client = london.test_client()
    assert login(client).status_code == 303
    return client


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


# The queue ---------------------------------------------------------------------------------------


def test_reply_boxes_are_closed_details_that_open_in_place(logged_in, clock):
    ids = [reader(logged_in, clock, 60, body=f"Question {n}?")["id"] for n in range(3)]
    page = soup(logged_in.get("/dashboard/"))
    for comment_id in ids:
        item = page.find(id=f"comment-{comment_id}")
        box = item.find("details", class_="reply-box")
        assert box is not None and not box.has_attr("open")
        assert box.find("summary").get_text(" ", strip=True) == "Reply to Reader"
        form = box.find("form")
        assert form["action"] == f"/dashboard/comments/{comment_id}/reply"
        assert form.find("textarea", id=f"reply-{comment_id}") is not None
        assert form.find("label", attrs={"for": f"reply-{comment_id}"}).get_text(strip=True) == "Reply to Reader"


def test_a_refused_reply_opens_its_box_again_with_the_reason(logged_in):
    question = reader(logged_in, body="Why?")
    response = dashboard_post(logged_in, f"/dashboard/comments/{question['id']}/reply", body=" ", next="/dashboard/")
    assert response.status_code == 303
    page = soup(logged_in.get(response.headers["Location"]))
    box = page.find(id=f"comment-{question['id']}").find("details", class_="reply-box")
    assert box.has_attr("open")
    error = box.find(id=f"reply-{question['id']}-error")
    assert error is not None and "Reply not published" in error.get_text()
    assert box.find("textarea")["aria-describedby"] == f"reply-{question['id']}-error"


def test_waits_are_human_durations(logged_in, clock):
    clock.advance(-1031 * DAY)
    reader(logged_in, body="An old question?")
    clock.advance(1031 * DAY)
    home = logged_in.get("/dashboard/")
    assert page_text(home, "oldest-waiting") == "The oldest has waited about 3 years."
    assert "1031 days" not in home.get_data(as_text=True)


def test_times_are_shown_in_the_sites_time_zone_and_kept_in_utc(logged_in, clock):
    summer = clock.now   # 1 June 2026, 12:00 UTC: 13:00 in London (BST, UTC+1)
    clock.now = summer.replace(year=2025, month=12)
    winter = reader(logged_in, body="Winter time?")
    clock.now = summer
    comment = reader(logged_in, body="Summer time?")
    page = soup(logged_in.get("/dashboard/"))
    stamp = page.find(id=f"comment-{comment['id']}").find("time")
    assert stamp["datetime"] == "2026-06-01T12:00:00Z"
    assert stamp.get_text() == "1 Jun 2026, 13:00 BST"
    stamp = page.find(id=f"comment-{winter['id']}").find("time")
    assert stamp["datetime"] == "2025-12-01T12:00:00Z" and stamp.get_text() == "1 Dec 2025, 12:00 GMT"


def test_snooze_days_are_the_sites_days(logged_in, london, clock):
    comment = reader(logged_in, body="Later?")
    dashboard_post(logged_in, f"/dashboard/comments/{comment['id']}/snooze", until="2026-06-10", next="/dashboard/")
    [tracked] = [t for t in desk(london).storage.unanswered(clock.now, include_snoozed=True)]
    assert tracked.snoozed_until.isoformat() == "2026-06-09T23:00:00+00:00"   # midnight in London (BST)


def test_header_names_the_blog_and_links_back_to_it(logged_in):
    header = soup(logged_in.get("/dashboard/")).find("header")
    link = header.find("a", class_="site-title")
    assert link["href"] == "https://coffee.example.org/"
    assert link.get_text(" ", strip=True).startswith("The Coffee Table")
    assert header.find(class_="brand-kind").get_text() == "Comments dashboard"
    assert soup(logged_in.get("/dashboard/")).title.get_text() == "Unanswered · The Coffee Table"


def test_manifest_carries_the_sites_time_zone():
    text = '{"version": 1, "site": {"title": "T", "timezone": "Europe/London"}, "threads": []}'
    parsed = parse_manifest(text, "m")
    assert parsed.site_timezone == "Europe/London" and parsed.zone.key == "Europe/London"
    older = parse_manifest('{"version": 1, "site": {"title": "T"}, "threads": []}', "m")
    assert older.site_timezone == "" and older.zone.key == "UTC"
    with pytest.raises(ManifestError, match=r"m: site: timezone: 'Mars/Olympus' is not a known time zone"):
        parse_manifest(text.replace("Europe/London", "Mars/Olympus"), "m")
    with pytest.raises(ManifestError, match=r"m: site: timezone: expected a time zone name \(got 3\)"):
        parse_manifest(text.replace('"Europe/London"', "3"), "m")


# Health ------------------------------------------------------------------------------------------


def test_health_figures_agree_reply_rate_100_means_nobody_in_the_period_is_waiting(logged_in, london, clock):
    clock.now -= timedelta(days=200)
    old = reader(logged_in, body="An old question nobody answered?")
    clock.now += timedelta(days=195)
    recent = reader(logged_in, body="A recent question?")
    author_reply(logged_in, recent["id"], clock=clock, advance=3 * 3600)
    report = desk(london).health(None, 90)
    assert (report.reader_comments, report.answered, report.unanswered, report.dismissed) == (1, 1, 0, 0)
    assert report.older_unanswered == 1 and report.reply_rate == 1.0
    page = logged_in.get("/dashboard/health")
    assert page_text(page, "reply-rate") == "100%" and page_text(page, "waiting-now") == "0"
    assert page_text(page, "answered-count") == "1 of 1 got an author’s reply"
    assert page_text(page, "older-waiting").startswith("1 older comment, written before the last 90 days, is waiting too")
    assert page_text(page, "median-response") == "3 hours"
    everything = logged_in.get("/dashboard/health?period=all")
    assert page_text(everything, "reply-rate") == "50%" and page_text(everything, "waiting-now") == "1"
    assert "older-waiting" not in everything.get_data(as_text=True)
    assert old["id"] != recent["id"]


@pytest.mark.parametrize("days", [30, 90, 365, None])
def test_answered_waiting_and_no_reply_needed_add_up_to_the_reader_comments(logged_in, london, clock, days):
    ids = []
    clock.advance(-240 * DAY)
    for n in range(6):
        clock.advance(40 * DAY)
        ids.append(reader(logged_in, body=f"Comment {n}?")["id"])
    author_reply(logged_in, ids[1], clock=clock, advance=60)
    author_reply(logged_in, ids[5], clock=clock, advance=60)
    dashboard_post(logged_in, f"/dashboard/comments/{ids[3]}/dismiss", next="/dashboard/")
    report = desk(london).health(None, days)
    assert report.answered + report.unanswered + report.dismissed == report.reader_comments
    waiting_now = len(desk(london).storage.unanswered(clock.now, include_snoozed=True))
    assert report.unanswered + report.older_unanswered == waiting_now
    if report.reply_rate == 1.0:
        assert report.unanswered == 0


# "Also answered" -----------------------------------------------------------------------------------


def also_answered_notice(client, response):
    page = soup(client.get(response.headers["Location"]))
    return page.find(class_="also-answered")


def test_a_reply_below_a_reply_says_which_question_it_also_answered_and_undo_puts_it_back(logged_in, clock):
    question = reader(logged_in, author_name="Ann", body="How long did the export take?")
    answer = reader(logged_in, clock, 60, author_name="Bob", parent_id=question["id"], body="A day, for me.")
    response = author_reply(logged_in, answer["id"], body="Thanks, Bob!", clock=clock, advance=60)
    notice = also_answered_notice(logged_in, response)
    assert notice is not None
    assert notice.get_text(" ", strip=True).startswith("This reply also answered Ann’s comment on “A post”. Undo")
    form = notice.find("form")
    assert form["action"] == f"/dashboard/comments/{question['id']}/reopen"
    assert form.find("input", attrs={"name": "csrf_token"})["value"]
    assert queue_ids(logged_in) == []
    undo = dashboard_post(logged_in, form["action"], reply=form.find("input", attrs={"name": "reply"})["value"],
                          next="/dashboard/")
    assert undo.status_code == 303 and undo.headers["Location"] == f"/dashboard/#comment-{question['id']}"
    assert queue_ids(logged_in) == [question["id"]]          # Ann waits again; Bob stays answered
    assert "Ann’s comment is back in the queue." in logged_in.get("/dashboard/").get_data(as_text=True)
    # ...until another author reply beneath her comment, anywhere on its branch.
    author_reply(logged_in, answer["id"], body="And Ann: about a day.", clock=clock, advance=60)
    assert queue_ids(logged_in) == []


def test_a_direct_reply_tells_of_nothing_else(logged_in, clock):
    question = reader(logged_in, author_name="Ann", body="Why?")
    reader(logged_in, clock, 60, author_name="Bob", body="Unrelated.")
    response = author_reply(logged_in, question["id"], clock=clock, advance=60)
    assert also_answered_notice(logged_in, response) is None


def test_undo_without_the_csrf_token_is_refused(logged_in, clock):
    question = reader(logged_in, author_name="Ann", body="Why?")
    answer = reader(logged_in, clock, 60, author_name="Bob", parent_id=question["id"], body="Because.")
    author_reply(logged_in, answer["id"], clock=clock, advance=60)
    reply_id = max(c["id"] for c in thread_comments(logged_in))
    response = logged_in.post(f"/dashboard/comments/{question['id']}/reopen", data={"reply": str(reply_id)})
    assert response.status_code == 400 and "The form has expired" in response.get_data(as_text=True)
    assert queue_ids(logged_in) == []


@pytest.mark.parametrize("reply", ["", "x", "own"])
def test_undo_refuses_anything_but_an_author_reply(logged_in, clock, reply):
    question = reader(logged_in, author_name="Ann", body="Why?")
    other = reader(logged_in, clock, 60, author_name="Bob", parent_id=question["id"], body="Because.")
    value = str(other["id"]) if reply == "own" else reply
    response = dashboard_post(logged_in, f"/dashboard/comments/{question['id']}/reopen", reply=value)
    assert response.status_code == 400
    assert "Traceback" not in response.get_data(as_text=True)


def test_reopened_comment_counts_only_later_author_replies_in_storage(db_url):
    """The rule in the one query, on SQLite and PostgreSQL."""
    from datetime import UTC, datetime

    from comments_server.models import NewComment, State, Status
    from comments_server.storage import ConversationQuery, open_storage

    start = datetime(2026, 1, 1, tzinfo=UTC)

    def row(minute, parent=None, author=False):
        return NewComment(thread="/a/", parent_id=parent, status=Status.PUBLISHED, author_name="A" if author else "R",
                          author_email=None, author_url=None, is_author=author, notify_replies=False, body="b",
                          body_html="<p>b</p>", created_at=start + timedelta(minutes=minute), ip=None,
                          edit_token_hash=None)

    store = open_storage(db_url)
    try:
        question = store.add_comment(row(0))
        answer = store.add_comment(row(1, question.id))
        reply = store.add_comment(row(2, answer.id, author=True))
        store.set_marks(question.id, reopened_at=reply.created_at)
        states = {t.comment.id: t for t in store.conversation(ConversationQuery())}
        assert states[question.id].state == State.UNANSWERED and states[answer.id].state == State.ANSWERED
        later = store.add_comment(row(5, answer.id, author=True))
        tracked = {t.comment.id: t for t in store.conversation(ConversationQuery())}[question.id]
        assert tracked.state == State.ANSWERED and tracked.first_reply_at == later.created_at
    finally:
        store.close()


# Mentions ----------------------------------------------------------------------------------------


def add_mentions(app, *mentions):
    from comments_server.models import Mention

    records = [Mention(thread=m.get("thread", "/2024/05/a-post/"), kind=m.get("kind", "pingback"),
                       source_url=m["url"], title=m.get("title", ""), excerpt=m.get("excerpt", ""),
                       created_at=m["at"], uid=m["url"]) for m in mentions]
    desk(app).storage.import_conversations([], records)


def test_mentions_are_shown_beside_comments_escaped_with_source_and_date(logged_in, london, clock):
    reader(logged_in, body="A comment.")
    add_mentions(london,
                 {"url": "https://elsewhere.example/post", "title": "A <b>friend</b> writes", "kind": "webmention",
                  "excerpt": "<script>alert(1)</script> linking here", "at": clock.now - timedelta(days=1)},
                 {"url": "javascript:alert(1)", "title": "Sneaky", "at": clock.now - timedelta(days=2)},
                 {"url": "https://other.example/", "thread": "/2024/06/another/", "at": clock.now - timedelta(days=3)})
    response = logged_in.get("/dashboard/comments")
    html = response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "<b>friend</b>" not in html
    section = soup(response).find("section", class_="mentions")
    items = section.find_all("li", class_="mention")
    assert len(items) == 3
    first = items[0]
    assert first.find(class_="badge").get_text() == "webmention"
    link = first.find("a", rel=True)
    assert link["href"] == "https://elsewhere.example/post" and link.get_text() == "A <b>friend</b> writes"
    assert first.find("time")["datetime"] == "2026-05-31T12:00:00Z"
    assert first.find("time").get_text() == "31 May 2026, 13:00 BST"
    assert "&lt;script&gt;alert(1)&lt;/script&gt; linking here" in str(first)
    assert first.find("a", string="A post")["href"] == "https://coffee.example.org/2024/05/a-post/"
    # A source that is not a web address is shown, never linked.
    assert items[1].find("a", rel=True) is None and "Sneaky" in items[1].get_text()
    # The post's view (All comments of one post) shows that post's mentions only.
    one_post = soup(logged_in.get("/dashboard/comments?thread=/2024/06/another/"))
    assert [li.find("a", rel=True)["href"] for li in one_post.find_all("li", class_="mention")] == [
        "https://other.example/"]
    # A state filter is about comments: no mentions then.
    assert soup(logged_in.get("/dashboard/comments?state=unanswered")).find("section", class_="mentions") is None
