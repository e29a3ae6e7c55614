"""The unanswered rule on real threads, SQLite and PostgreSQL: the queue, the counts, the reply rate
and the response times, asserted exactly for each kind of thread."""

from __future__ import annotations

import json

import pytest

from comments_server.models import State
from comments_server.storage import ConversationQuery
from comments_server.transfer import import_document
from tests.support.authoring import (
    ANN,
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
from tests.support.server import AUTHOR_TOKEN, OTHER, POST, new_comment

MINUTE = 60
HOUR = 3600


@pytest.fixture
def app(make_app, db_url):
    app = make_app(DATABASE_URL=db_url)
    add_author(app)
    return app


@pytest.fixture
def client(app):
    client = app.test_client()
    assert login(client).status_code == 303
    return client


def health(app):
    return desk(app).health(None, None)


def assert_numbers(client, app, *, queue, reader_comments, answered, median, p90):
    """The queue in order, the home count, and the health numbers (page and exact values)."""
    assert queue_ids(client) == queue
    home = client.get("/dashboard/")
    assert page_text(home, "unanswered-count") == str(len(queue))
    report = health(app)
    assert (report.reader_comments, report.answered, report.unanswered) == (reader_comments, answered, len(queue))
    assert report.median_response == median
    assert report.p90_response == p90
    page = client.get("/dashboard/health?period=all")
    rate = "–" if not reader_comments else f"{round(100 * answered / reader_comments)}%"
    assert page_text(page, "reply-rate") == rate
    assert page_text(page, "waiting-now") == str(len(queue))


@pytest.mark.slow
def test_reader_then_author_reply_is_answered(client, app, clock):
    question = reader(client, body="Does this work on SQLite?")
    author_reply(client, question["id"], clock=clock, advance=10 * MINUTE)
    assert_numbers(client, app, queue=[], reader_comments=1, answered=1, median=600.0, p90=600.0)
    assert page_text(client.get("/dashboard/health?period=all"), "median-response") == "10 minutes"
    reply = [c for c in thread_comments(client) if c["parent_id"] == question["id"]][0]
    assert reply["is_author"] is True and reply["author_name"] == ANN["name"]


@pytest.mark.slow
def test_reader_then_reader_leaves_both_unanswered(client, app, clock):
    first = reader(client, body="First thought.")
    second = reader(client, clock, 5 * MINUTE, parent_id=first["id"], author_name="Bea", body="Agreed.")
    assert_numbers(client, app, queue=[first["id"], second["id"]], reader_comments=2, answered=0,
                   median=None, p90=None)
    assert page_text(client.get("/dashboard/health?period=all"), "median-response") == "–"


@pytest.mark.slow
def test_follow_up_to_an_author_reply_is_unanswered_again(client, app, clock):
    first = reader(client, body="Why Flask?")
    author_reply(client, first["id"], "Because it is small.", clock=clock, advance=HOUR)
    reply_id = thread_comments(client)[-1]["id"]
    follow_up = reader(client, clock, HOUR, parent_id=reply_id, body="And why not Django?")
    assert_numbers(client, app, queue=[follow_up["id"]], reader_comments=2, answered=1,
                   median=3600.0, p90=3600.0)
    # The conversation goes on: answering the follow-up answers it too.
    author_reply(client, follow_up["id"], clock=clock, advance=2 * HOUR)
    assert_numbers(client, app, queue=[], reader_comments=2, answered=2, median=5400.0, p90=7200.0)


@pytest.mark.slow
def test_reader_using_the_authors_name_is_unanswered_and_has_no_badge(client, app, clock):
    question = reader(client, body="A question?")
    # The author's name is refused to readers outright (test_notify has the attack)...
    refused = client.post("/api/comments", json=new_comment(parent_id=question["id"], author_name=ANN["name"],
                                                             body="As the author, I say yes."))
    assert refused.status_code == 400 and refused.get_json()["error"]["field"] == "author_name"
    # ...and the author's email under another name makes a reader's comment, which answers nothing.
    impostor = reader(client, clock, MINUTE, parent_id=question["id"], author_name="The Author",
                      author_email=ANN["email"], body="As the author, I say yes.")
    assert impostor["is_author"] is False
    assert_numbers(client, app, queue=[question["id"], impostor["id"]], reader_comments=2, answered=0,
                   median=None, p90=None)
    assert all(c["is_author"] is False for c in thread_comments(client))


@pytest.mark.slow
def test_dismissed_leaves_the_queue_and_undo_brings_it_back(client, app, clock):
    thanks = reader(client, body="Thanks, great post!")
    question = reader(client, clock, MINUTE, body="How do I install it?")
    response = dashboard_post(client, f"/dashboard/comments/{thanks['id']}/dismiss", next="/dashboard/")
    assert response.status_code == 303
    # The page after it offers to undo.
    home = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Marked “no reply needed”" in home and f"/dashboard/comments/{thanks['id']}/undismiss" in home
    # Dismissed counts as a reader comment, not as answered.
    assert_numbers(client, app, queue=[question["id"]], reader_comments=2, answered=0, median=None, p90=None)
    states = {t.comment.id: t.state for t in desk(app).storage.conversation()}
    assert states[thanks["id"]] == State.DISMISSED
    dashboard_post(client, f"/dashboard/comments/{thanks['id']}/undismiss", next="/dashboard/")
    assert queue_ids(client) == [thanks["id"], question["id"]]


@pytest.mark.slow
def test_held_comments_are_not_in_the_queue_until_approved(make_app, db_url, clock):
    app = make_app(DATABASE_URL=db_url, MODERATION="all")
    add_author(app)
    client = app.test_client()
    login(client)
    held = client.post("/api/comments", json={"thread": POST, "author_name": "New", "body": "Hello?"})
    assert held.status_code == 202
    assert_numbers(client, app, queue=[], reader_comments=0, answered=0, median=None, p90=None)
    held_id = desk(app).storage.conversation(ConversationQuery(states=(State.HELD,)))[0].comment.id
    assert f'id="comment-{held_id}"' in client.get("/dashboard/moderation").get_data(as_text=True)
    dashboard_post(client, f"/dashboard/comments/{held_id}/approve", next="/dashboard/moderation")
    assert_numbers(client, app, queue=[held_id], reader_comments=1, answered=0, median=None, p90=None)


@pytest.mark.slow
def test_deleted_comments_leave_the_queue_and_a_deleted_author_reply_answers_nothing(client, app, clock):
    gone = reader(client, body="Never mind.")
    kept = reader(client, clock, MINUTE, body="Is there an RSS feed?")
    assert client.delete(f"/api/comments/{gone['id']}", headers={"X-Edit-Token": gone["edit_token"]}).status_code == 204
    clock.advance(MINUTE)
    answer = client.post("/api/comments", json={"thread": POST, "parent_id": kept["id"], "body": "Yes."},
                         headers={"Authorization": f"Bearer {AUTHOR_TOKEN}"}).get_json()
    assert answer["is_author"] is True
    assert_numbers(client, app, queue=[], reader_comments=1, answered=1, median=60.0, p90=60.0)
    client.delete(f"/api/comments/{answer['id']}", headers={"X-Edit-Token": answer["edit_token"]})
    assert_numbers(client, app, queue=[kept["id"]], reader_comments=1, answered=0, median=None, p90=None)


@pytest.mark.slow
def test_a_reply_answers_every_reader_comment_above_it_on_its_branch_only(client, app, clock):
    top = reader(client, body="Top.")
    middle = reader(client, clock, 10 * MINUTE, parent_id=top["id"], body="Middle.")
    low = reader(client, clock, 10 * MINUTE, parent_id=middle["id"], body="Low.")
    sibling = reader(client, clock, 10 * MINUTE, parent_id=top["id"], body="A side branch.")
    author_reply(client, low["id"], clock=clock, advance=30 * MINUTE)
    # top waited 60 min, middle 50, low 40; the sibling has no author reply beneath it.
    assert_numbers(client, app, queue=[sibling["id"]], reader_comments=4, answered=3,
                   median=3000.0, p90=3600.0)
    tracked = {t.comment.id: t for t in desk(app).storage.conversation()}
    assert tracked[top["id"]].first_reply_at == tracked[low["id"]].first_reply_at


@pytest.mark.slow
def test_median_and_90th_percentile_of_several_answers(client, app, clock):
    waits = [10 * MINUTE, 20 * MINUTE, 30 * MINUTE, 2 * HOUR]
    for wait in waits:
        question = reader(client, body="Why?")
        author_reply(client, question["id"], clock=clock, advance=wait)
    # Median of 4 is the mean of the middle two; the 90th percentile is the 4th (nearest rank).
    assert_numbers(client, app, queue=[], reader_comments=4, answered=4, median=1500.0, p90=7200.0)
    assert page_text(client.get("/dashboard/health?period=all"), "p90-response") == "2 hours"


@pytest.mark.slow
def test_imported_comments_follow_the_same_rule(client, app):
    def record(uid, parent, author, minute):
        return {"uid": uid, "parent_uid": parent, "thread": OTHER, "status": "published", "author_name": "X",
                "is_author": author, "body": f"comment {uid}", "created_at": f"2026-05-01T10:{minute:02d}:00Z"}
    document = {"format": "blogengine-comments", "version": 1, "comments": [
        record("q", None, False, 0), record("a", "q", True, 30), record("f", "a", False, 45),
        record("lone", None, False, 50)]}
    import_document(desk(app).storage, json.dumps(document))
    ids = {c.uid: c.id for c in desk(app).storage.all_comments()}
    assert queue_ids(client) == [ids["f"], ids["lone"]]
    report = health(app)
    assert (report.reader_comments, report.answered, report.median_response) == (3, 1, 1800.0)


@pytest.mark.slow
def test_queue_groups_by_post_oldest_first_with_questions_first_on_request(client, app, clock):
    remark = reader(client, body="Nice remark.")
    other = reader(client, clock, MINUTE, thread=OTHER, body="Could you add a dark mode")
    question = reader(client, clock, MINUTE, body="What about Windows?")
    body = client.get("/api/unanswered").get_json()
    assert [c["id"] for c in body["comments"]] == [remark["id"], question["id"], other["id"]]
    assert [c["is_question"] for c in body["comments"]] == [False, True, True]
    assert body["oldest_waiting_seconds"] == 2 * MINUTE and body["count"] == 3
    questions_first = client.get("/api/unanswered?sort=questions").get_json()
    assert [c["id"] for c in questions_first["comments"]] == [question["id"], remark["id"], other["id"]]
