"""Receiving Webmentions, end to end with real parts: the comment server (SQLite and PostgreSQL)
takes POST /webmention, and its verification job fetches the source from a second, "remote" blog
served on 127.0.0.1, reads its h-entry with mf2py and stores a reply as a comment (in the thread
and the unanswered queue) or a like, repost, bookmark or mention as a mention."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import text

from comments_server.models import Status
from comments_server.services import services
from tests.support.authoring import add_author, author_reply, login, queue_ids
from tests.support.remote_blog import h_card, h_entry_page, remote_blog  # noqa: F401  (fixture)
from tests.support.server import AUTHOR_TOKEN, CLOSED, POST, assert_error

SITE = "https://blog.example.com"
TARGET = f"{SITE}{POST}"


@pytest.fixture
def app(make_app, db_url):
    app = make_app(DATABASE_URL=db_url, WEBMENTION_ALLOW_HOSTS=["127.0.0.1"])
    add_author(app)
    return app


@pytest.fixture
def client(app):
    return app.test_client()


def send(client, source, target=TARGET):
    return client.post("/webmention", data={"source": source, "target": target})


def run_jobs(app) -> int:
    svc = services(app)
    return svc.jobs.run_due(svc)


def deliver(app, client, source, target=TARGET):
    """Send a Webmention and run its verification, as the background runner would."""
    response = send(client, source, target)
    assert response.status_code == 202, response.get_data(as_text=True)
    assert run_jobs(app) == 1
    return response


def thread(client):
    return client.get("/api/comments", query_string={"thread": POST}).get_json()


def reply_page(remote_blog, path="/2026/05/re-a-post", *, about=TARGET, **fields):
    author = h_card("Rita Remote", remote_blog.url + "/", remote_blog.url + "/rita.jpg")
    return remote_blog.page(path, h_entry_page(about=about, author=author, **fields))


# --- the endpoint --------------------------------------------------------------------------------


@pytest.mark.parametrize("data, field, code", [
    ({"target": TARGET}, "source", "missing"),
    ({"source": "https://remote.example/a"}, "target", "missing"),
    ({"source": "", "target": TARGET}, "source", "missing"),
    ({"source": "ftp://remote.example/a", "target": TARGET}, "source", "invalid"),
    ({"source": "javascript:alert(1)", "target": TARGET}, "source", "invalid"),
    ({"source": "/relative/page", "target": TARGET}, "source", "invalid"),
    ({"source": "https://remote.example/" + "a" * 2100, "target": TARGET}, "source", "too_long"),
    ({"source": "https://remote.example/a", "target": "file:///etc/passwd"}, "target", "invalid"),
    ({"source": TARGET, "target": TARGET}, "source", "same_as_target"),
    ({"source": "https://remote.example/a", "target": f"{SITE}/no/such/post/"}, "target", "unknown_target"),
    ({"source": "https://remote.example/a", "target": f"https://elsewhere.example{POST}"}, "target", "unknown_target"),
    ({"source": "https://remote.example/a", "target": f"{SITE}{CLOSED}"}, "target", "thread_closed"),
])
def test_webmention_endpoint_refuses_bad_fields_naming_them(client, app, data, field, code):
    assert_error(client.post("/webmention", data=data), 400, code, field)
    assert services(app).storage.jobs.all() == []


# webmention.rocks's receiver tests (github.com/aaronpk/webmention.rocks, commit 7b97198f,
# lib/Rocks/ReceiverTestData.php and views/receiver/test-2.php): the requests they send.
ROCKS_INVALID_SOURCE = "jwoijgoisdjlskjegisvjowuehjtkx"
ROCKS_INVALID_TARGET = "owiejduvyeiwljjjcjmvbpsouehgd"


def test_webmention_rocks_receiver_test_1_a_valid_request_is_accepted_without_a_location(client):
    response = send(client, "https://webmention.rocks/receive/1/abcdef", TARGET)
    assert response.status_code == 202 and "Location" not in response.headers


@pytest.mark.parametrize(("source", "target", "field"), [
    (ROCKS_INVALID_SOURCE, TARGET, "source"),
    ("https://webmention.rocks/receive/2/abcdef", ROCKS_INVALID_TARGET, "target"),
    (ROCKS_INVALID_SOURCE, ROCKS_INVALID_TARGET, "source"),
])
def test_webmention_rocks_receiver_test_2_invalid_urls_are_refused(client, app, source, target, field):
    response = send(client, source, target)
    assert response.status_code == 400 and response.get_json()["error"]["field"] == field
    assert services(app).storage.jobs.all("webmention-verify") == []


def test_webmention_endpoint_wants_a_form(client):
    response = client.post("/webmention", json={"source": "https://remote.example/a", "target": TARGET})
    assert_error(response, 415, "unsupported_media_type")


def test_webmention_is_accepted_at_once_with_one_verification_job(client, app):
    response = send(client, "https://remote.example/a")
    assert response.status_code == 202
    assert response.get_json() == {"status": "accepted", "source": "https://remote.example/a", "target": TARGET,
                                   "thread": POST}
    # Sent again before it was verified: the same job, updated, not a second one.
    assert send(client, "https://remote.example/a").status_code == 202
    [job] = services(app).storage.jobs.all()
    assert (job.kind, job.key, job.payload) == (
        "webmention-verify", f"https://remote.example/a {TARGET}",
        {"source": "https://remote.example/a", "target": TARGET})
    assert job.done_at is None and job.revision == 1
    # Nothing is stored before verification.
    assert thread(client)["comments"] == [] and thread(client)["mentions"] == []


def test_target_may_carry_a_comment_fragment_or_lack_the_trailing_slash(client):
    assert send(client, "https://remote.example/a", TARGET + "#comment-3").status_code == 202
    assert send(client, "https://remote.example/b", TARGET.rstrip("/")).status_code == 202
    assert send(client, "https://remote.example/c", TARGET.replace("https://", "http://")).status_code == 202


def test_webmentions_are_rate_limited_per_source_host(make_app):
    app = make_app(WEBMENTION_RATE_LIMIT="2/minute")
    client = app.test_client()
    assert send(client, "https://spammy.example/1").status_code == 202
    assert send(client, "https://spammy.example/2").status_code == 202
    assert send(client, "https://spammy.example/3").status_code == 429
    # Another site has its own budget.
    assert send(client, "https://friendly.example/1").status_code == 202


# --- verification --------------------------------------------------------------------------------


def test_reply_from_another_blog_joins_the_thread(client, app, remote_blog):
    source = reply_page(remote_blog, content_html="<p>I <em>disagree</em>, see <a href=\"/why\">why</a>.</p>")
    deliver(app, client, source)
    body = thread(client)
    [reply] = body["comments"]
    assert body["count"] == 1
    assert reply["origin"] == "webmention"
    assert reply["origin_url"] == source
    assert reply["origin_site"] == "127.0.0.1"
    assert reply["author_name"] == "Rita Remote"
    assert reply["author_url"] == remote_blog.url + "/"
    assert reply["author_photo"] == remote_blog.url + "/rita.jpg"
    assert reply["is_author"] is False
    # Relative links made absolute against the source, rel added, as for a reader's comment.
    assert reply["body_html"] == (f'<p>I <em>disagree</em>, see <a href="{remote_blog.url}/why" '
                                  'rel="nofollow ugc noopener">why</a>.</p>')
    # Dated as the remote page says (2026-05-30T09:15:00+02:00), before the test clock's "now".
    assert reply["created_at"] == "2026-05-30T07:15:00Z"
    assert services(app).storage.jobs.all()[0].done_at is not None


@pytest.mark.parametrize("kind_property, kind", [
    ("u-like-of", "like"), ("u-repost-of", "repost"), ("u-bookmark-of", "bookmark"),
])
def test_likes_reposts_and_bookmarks_are_mentions_not_comments(client, app, remote_blog, kind_property, kind):
    source = remote_blog.page("/likes/1", h_entry_page(
        kind_property=kind_property, about=TARGET, content_html="",
        author=h_card("Liz Liker", remote_blog.url + "/", remote_blog.url + "/liz.png")))
    deliver(app, client, source)
    body = thread(client)
    assert body["comments"] == [] and body["count"] == 0
    [mention] = body["mentions"]
    assert mention["kind"] == kind
    assert (mention["source_url"], mention["author_name"], mention["author_photo"]) == (
        source, "Liz Liker", remote_blog.url + "/liz.png")
    assert queue_ids(logged_in(client)) == []


def test_the_author_takes_a_like_off_the_post_and_a_resend_keeps_it_off(client, app, remote_blog, clock):
    from tests.support.authoring import dashboard_post
    source = remote_blog.page("/likes/spam", h_entry_page(
        kind_property="u-like-of", about=TARGET, content_html="",
        author=h_card("Cheap Pills", remote_blog.url + "/")))
    deliver(app, client, source)
    [mention] = thread(client)["mentions"]
    login(client)
    assert "Cheap Pills" in client.get("/dashboard/comments").get_data(as_text=True)
    response = dashboard_post(client, f"/dashboard/mentions/{mention['id']}/delete", next="/dashboard/comments")
    assert response.status_code == 303, response.get_data(as_text=True)
    assert thread(client)["mentions"] == []
    clock.advance(60)
    deliver(app, client, source)                     # the same source sends it again
    assert thread(client)["mentions"] == []
    assert "no longer shown under the post" in client.get("/dashboard/comments").get_data(as_text=True)
    assert dashboard_post(client, f"/dashboard/mentions/{mention['id']}/delete").status_code == 404


def logged_in(client):
    login(client)
    return client


def test_page_that_only_links_is_a_plain_mention_with_its_title(client, app, remote_blog):
    source = remote_blog.page("/notes/links", f"""<!doctype html><html><head><title>Links of the week</title></head>
        <body><ul><li><a href="{TARGET}">A post worth reading</a></li></ul></body></html>""")
    deliver(app, client, source)
    [mention] = thread(client)["mentions"]
    assert (mention["kind"], mention["title"], mention["author_name"]) == ("mention", "Links of the week", None)


def test_h_entry_that_links_without_replying_is_a_mention(client, app, remote_blog):
    source = remote_blog.page("/posts/roundup", h_entry_page(
        title="Roundup", kind_property=None, content_html=f'<p>Read <a href="{TARGET}">this</a>.</p>'))
    deliver(app, client, source)
    body = thread(client)
    assert body["comments"] == []
    assert [(m["kind"], m["title"]) for m in body["mentions"]] == [("mention", "Roundup")]


def test_source_that_does_not_link_to_the_target_stores_nothing(client, app, remote_blog):
    source = remote_blog.page("/unrelated", h_entry_page(about="https://other.example/post/"))
    deliver(app, client, source)
    body = thread(client)
    assert body["comments"] == [] and body["mentions"] == []
    [job] = services(app).storage.jobs.all()
    assert job.done_at is not None


def test_reply_to_a_comment_permalink_nests_under_that_comment(client, app, remote_blog):
    parent = client.post("/api/comments", json={"thread": POST, "author_name": "Reader",
                                                "body": "First!"}).get_json()
    source = reply_page(remote_blog, about=f"{TARGET}#comment-{parent['id']}")
    deliver(app, client, source)
    [top] = thread(client)["comments"]
    assert top["id"] == parent["id"]
    [nested] = top["replies"]
    assert nested["origin_url"] == source


def test_a_later_webmention_updates_the_reply(client, app, remote_blog, clock):
    source = reply_page(remote_blog, content_html="<p>First version</p>")
    deliver(app, client, source)
    [before] = thread(client)["comments"]
    clock.advance(600)
    reply_page(remote_blog, content_html="<p>Second version</p>")
    deliver(app, client, source)
    [after] = thread(client)["comments"]
    assert after["id"] == before["id"]
    assert after["body_html"] == "<p>Second version</p>"
    assert after["edited_at"] is not None


def test_a_like_that_becomes_a_reply_moves_to_the_thread(client, app, remote_blog):
    path = "/2026/05/changing"
    remote_blog.page(path, h_entry_page(kind_property="u-like-of", about=TARGET, content_html=""))
    deliver(app, client, remote_blog.url + path)
    assert [m["kind"] for m in thread(client)["mentions"]] == ["like"]
    source = reply_page(remote_blog, path)
    deliver(app, client, source)
    body = thread(client)
    assert body["mentions"] == [] and [c["origin_url"] for c in body["comments"]] == [source]


def test_410_gone_removes_the_reply(client, app, remote_blog):
    source = reply_page(remote_blog)
    deliver(app, client, source)
    assert thread(client)["count"] == 1
    remote_blog.gone("/2026/05/re-a-post")
    deliver(app, client, source)
    body = thread(client)
    assert body["comments"] == [] and body["count"] == 0
    [stored] = services(app).storage.all_comments()
    assert stored.status == Status.DELETED and stored.body == "" and stored.author_name == ""


def test_removed_reply_with_answers_below_stays_as_a_placeholder(client, app, remote_blog):
    source = reply_page(remote_blog)
    deliver(app, client, source)
    [reply] = thread(client)["comments"]
    client.post("/api/comments", json={"thread": POST, "parent_id": reply["id"], "author_name": "Reader",
                                       "body": "Agreed with Rita"})
    remote_blog.gone("/2026/05/re-a-post")
    deliver(app, client, source)
    [placeholder] = thread(client)["comments"]
    assert placeholder["deleted"] is True and placeholder["origin_url"] is None
    assert placeholder["author_name"] == "[deleted]"
    assert [r["body_html"] for r in placeholder["replies"]] == ["<p>Agreed with Rita</p>"]


def test_link_removed_from_the_source_removes_the_reply_and_the_like(client, app, remote_blog):
    source = reply_page(remote_blog)
    like = remote_blog.page("/likes/2", h_entry_page(kind_property="u-like-of", about=TARGET, content_html=""))
    deliver(app, client, source)
    deliver(app, client, like)
    assert thread(client)["count"] == 1 and len(thread(client)["mentions"]) == 1
    reply_page(remote_blog, about="https://other.example/")
    remote_blog.page("/likes/2", "<html><body><p>I changed my mind.</p></body></html>")
    deliver(app, client, source)
    deliver(app, client, like)
    body = thread(client)
    assert body["comments"] == [] and body["mentions"] == []


def test_source_on_a_private_address_is_refused_without_a_request(make_app, remote_blog):
    app = make_app()   # no WEBMENTION_ALLOW_HOSTS: 127.0.0.1 is loopback
    client = app.test_client()
    source = reply_page(remote_blog)
    deliver(app, client, source)
    assert remote_blog.requests == []
    [job] = services(app).storage.jobs.all()
    assert job.failed_at is not None and "source refused" in (job.last_error or "")
    assert thread(client)["comments"] == []


def test_source_that_fails_is_retried_later(client, app, remote_blog, clock):
    remote_blog.page("/flaky", "<p>oops</p>", status=503)
    deliver(app, client, remote_blog.url + "/flaky")
    [job] = services(app).storage.jobs.all()
    assert job.done_at is None and job.failed_at is None and job.attempts == 1 and job.due_at > clock()
    assert run_jobs(app) == 0   # not due yet
    clock.advance(3600)
    reply_page(remote_blog, "/flaky")
    assert run_jobs(app) == 1
    assert thread(client)["count"] == 1


# --- the queue -----------------------------------------------------------------------------------


def test_reply_waits_in_the_queue_until_the_author_answers_beneath_it(client, app, remote_blog, clock):
    source = reply_page(remote_blog)
    deliver(app, client, source)
    [reply] = thread(client)["comments"]
    login(client)
    assert queue_ids(client) == [reply["id"]]
    [queued] = client.get("/api/unanswered").get_json()["comments"]
    assert (queued["origin"], queued["origin_url"]) == ("webmention", source)
    # The dashboard's queue says where it was written and links the original.
    home = BeautifulSoup(client.get("/dashboard/").get_data(as_text=True), "html.parser")
    [origin] = home.select("a.badge-origin")
    assert origin["href"] == source and origin.get_text(" ", strip=True) == "via webmention · 127.0.0.1"
    author_reply(client, reply["id"], "Thanks Rita!", clock=clock, advance=60)
    assert queue_ids(client) == []
    [answered] = thread(client)["comments"]
    [answer] = answered["replies"]
    assert answer["is_author"] is True and answer["in_reply_to_url"] == source


# --- moderation ----------------------------------------------------------------------------------


def test_moderation_holds_a_remote_reply_like_a_readers(make_app, db_url, remote_blog):
    app = make_app(DATABASE_URL=db_url, WEBMENTION_ALLOW_HOSTS=["127.0.0.1"], MODERATION="all")
    client = app.test_client()
    deliver(app, client, reply_page(remote_blog))
    assert thread(client)["comments"] == []
    [held] = services(app).storage.all_comments()
    assert held.status == Status.PENDING and held.origin == "webmention"


def test_remote_reply_signed_with_the_authors_name_is_held(client, app, remote_blog):
    author = h_card("Ann Author", remote_blog.url + "/")
    deliver(app, client, remote_blog.page("/impostor", h_entry_page(about=TARGET, author=author)))
    [held] = services(app).storage.all_comments()
    assert held.status == Status.PENDING and held.is_author is False
    assert held.held_reason == "signed with the name of this blog's author"


# --- storage -------------------------------------------------------------------------------------


def test_only_one_reply_row_per_origin_url(app):
    """The unique index on (origin, origin_url): the database itself refuses a second row."""
    engine = services(app).storage.engine
    insert = text("INSERT INTO comments (thread, status, author_name, is_author, notify_replies, body, body_html,"
                  " created_at, uid, origin, origin_url) VALUES ('/a/', 'published', 'R', false, false, 'b', 'b',"
                  " '2026-01-01 00:00:00', :uid, 'webmention', 'https://r.example/1')")
    with engine.begin() as conn:
        conn.execute(insert, {"uid": "one"})
    with pytest.raises(Exception, match="(?i)unique"):
        with engine.begin() as conn:
            conn.execute(insert, {"uid": "two"})


def test_answering_a_remote_reply_sends_a_webmention_back(client, app, remote_blog, clock):
    """The author answers from the dashboard; once the site had time to publish the answer, a
    Webmention goes from the answer's permalink to the replier's page, whose endpoint (advertised
    with <link rel="webmention">) receives it."""
    source = reply_page(remote_blog)
    deliver(app, client, source)
    [reply] = thread(client)["comments"]
    login(client)
    author_reply(client, reply["id"], "Thanks Rita!")
    [answer] = thread(client)["comments"][0]["replies"]
    [job] = services(app).storage.jobs.all("webmention-send")
    assert job.payload == {"source": f"{TARGET}#comment-{answer['id']}", "target": source}
    assert run_jobs(app) == 0 and remote_blog.received == []    # not before WEBMENTION_SEND_DELAY
    clock.advance(300)
    assert run_jobs(app) == 1
    assert remote_blog.received == [{"source": f"{TARGET}#comment-{answer['id']}", "target": source}]
    assert services(app).storage.jobs.all("webmention-send")[0].done_at is not None


def test_an_answer_through_the_api_with_an_author_token_sends_a_webmention_back(client, app, remote_blog, clock):
    source = reply_page(remote_blog)
    deliver(app, client, source)
    [reply] = thread(client)["comments"]
    response = client.post("/api/comments", json={"thread": POST, "parent_id": reply["id"], "body": "Thanks!"},
                           headers={"Authorization": f"Bearer {AUTHOR_TOKEN}"})
    assert response.status_code == 201, response.get_data(as_text=True)
    answer = response.get_json()
    clock.advance(300)
    assert run_jobs(app) == 1
    assert remote_blog.received == [{"source": f"{TARGET}#comment-{answer['id']}", "target": source}]


def test_the_author_is_mailed_about_a_new_remote_reply_once(make_app, db_url, remote_blog, smtp, clock):
    from comments_server.mail import MailSettings, send_pending
    from tests.support.authoring import ANN
    from tests.support.mail import mail_config
    app = make_app(DATABASE_URL=db_url, WEBMENTION_ALLOW_HOSTS=["127.0.0.1"], **mail_config(smtp))
    add_author(app)
    client = app.test_client()
    source = reply_page(remote_blog, content_html="<p>I tried it on my own blog.</p>")
    deliver(app, client, source)
    clock.advance(60)
    deliver(app, client, reply_page(remote_blog, content_html="<p>I tried it on my own blog, twice.</p>"))
    svc = services(app)
    send_pending(svc.storage.outbox, MailSettings.from_config(app.config), svc.clock)
    [message] = smtp.inbox.to(ANN["email"])            # the update sends nothing more
    assert message["Subject"] == "New comment on “A post” from Rita Remote"
    text = message.get_body(("plain",)).get_content()
    assert f"(written on {source})" in text and "I tried it on my own blog." in text


def test_answering_a_readers_comment_sends_nothing(client, app):
    comment = client.post("/api/comments", json={"thread": POST, "author_name": "Reader",
                                                 "body": "A question?"}).get_json()
    login(client)
    author_reply(client, comment["id"])
    assert services(app).storage.jobs.all() == []


# --- export and import ---------------------------------------------------------------------------


def test_export_and_import_carry_remote_replies_and_received_mentions(client, app, remote_blog, make_app, tmp_path):
    from comments_server.storage import open_storage
    from comments_server.transfer import export_document, import_document
    import json

    source = reply_page(remote_blog, content_html="<p>Replying with <em>style</em></p>")
    like = remote_blog.page("/likes/9", h_entry_page(kind_property="u-like-of", about=TARGET, content_html="",
                                                     author=h_card("Liz", remote_blog.url + "/", remote_blog.url + "/l.png")))
    deliver(app, client, source)
    deliver(app, client, like)
    document = export_document(services(app).storage)
    [reply] = document["comments"]
    assert (reply["origin"], reply["origin_url"], reply["body_html"]) == (
        "webmention", source, "<p>Replying with <em>style</em></p>")
    [mention] = document["mentions"]
    assert (mention["kind"], mention["author_name"], mention["author_photo"]) == ("like", "Liz", remote_blog.url + "/l.png")

    restored = open_storage(f"sqlite:///{tmp_path / 'restored.sqlite3'}")
    try:
        import_document(restored, json.dumps(document))
        [comment] = restored.all_comments()
        assert (comment.origin, comment.origin_url, comment.body_html, comment.is_author) == (
            "webmention", source, "<p>Replying with <em>style</em></p>", False)
        [back] = restored.mentions.list_thread(POST)
        assert (back.kind, back.author_name, back.author_photo) == ("like", "Liz", remote_blog.url + "/l.png")
        # Imported twice, or the same reply under another uid: stored once.
        document["comments"][0]["uid"] = "another-uid"
        import_document(restored, json.dumps(document))
        assert len(restored.all_comments()) == 1
    finally:
        restored.close()


def test_imported_remote_html_goes_through_the_allow_list_again(app):
    import json

    from comments_server.transfer import import_document
    document = {"format": "blogengine-comments", "version": 1, "comments": [{
        "uid": "r1", "thread": POST, "author_name": "Rita", "body": "hi", "created_at": "2026-05-01T00:00:00Z",
        "origin": "webmention", "origin_url": "https://remote.example/r1", "is_author": True,
        "body_html": '<p onclick="x()">hi<script>alert(1)</script><img src=x onerror=y></p>',
        "author_photo": "javascript:alert(1)"}],
        "mentions": [{"uid": "m1", "thread": POST, "kind": "like", "source_url": "https://remote.example/l",
                      "title": "t", "excerpt": "", "created_at": "2026-05-01T00:00:00Z",
                      "content_html": "<script>alert(1)</script><b>x</b>", "author_url": "javascript:alert(1)"}]}
    storage = services(app).storage
    import_document(storage, json.dumps(document))
    [comment] = storage.all_comments()
    assert comment.body_html == "<p>hialert(1)</p>"
    assert comment.is_author is False and comment.author_photo is None
    [mention] = storage.mentions.list_thread(POST)
    assert mention.content_html == "alert(1)x" and mention.author_url is None


def test_a_reply_the_author_deleted_stays_deleted_when_its_source_sends_again(client, app, remote_blog):
    source = reply_page(remote_blog)
    deliver(app, client, source)
    [reply] = thread(client)["comments"]
    services(app).storage.delete_comment(reply["id"])
    deliver(app, client, source)
    assert thread(client)["comments"] == []
    [stored] = services(app).storage.all_comments()
    assert stored.status == Status.DELETED and stored.author_photo is None and stored.body == ""
