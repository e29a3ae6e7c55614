"""Comment plugins: the site's enabled plugins reach its comment server through the SiteLayer;
comment_about_to_be_stored may hold a comment (the reason shown in the dashboard), a failing
plugin never loses a comment, comment_published is told of published comments."""

from __future__ import annotations

import json
import logging

import pytest

from blogengine.comments import site_layer
from blogengine.config import load_config
from comments_server.app import create_app
from comments_server.errors import ConfigError
from comments_server.models import Status
from tests.support.authoring import add_author, dashboard_post, desk, login
from tests.support.server import NO_LIMITS, POST, SECRET
from tests.support.site import BASIC_CONFIG

BLOCKLIST = """
[plugins]
enabled = ["blocklist", "recorder"]
[plugins.blocklist]
words = ["casino"]
domains = ["spam.example"]
"""

RECORDER = '''
import json
from pathlib import Path
from blogengine.hookspecs import hookimpl

SETTINGS = {"log": "", "fail": False}

@hookimpl
def comment_about_to_be_stored(comment, settings):
    if settings["fail"]:
        raise RuntimeError("the spam service is down")
    if "as spam" in comment.body:
        return ("spam", "recorder: asked to")

@hookimpl
def comment_published(comment, settings):
    with open(settings["log"], "a") as log:
        log.write(json.dumps([comment.id, comment.body]) + "\\n")
'''


@pytest.fixture
def make_plugin_app(make_site, tmp_path, manifest, clock):
    def make(plugins: str = BLOCKLIST, fail: bool = False, **config):
        root = make_site({"plugins/recorder.py": RECORDER}, config=BASIC_CONFIG + plugins + (
            f'[plugins.recorder]\nlog = "{tmp_path / "published.log"}"\nfail = {str(fail).lower()}\n'
            if "recorder" in plugins else ""))
        base = {"SECRET_KEY": SECRET, "DATABASE_URL": f"sqlite:///{tmp_path / 'comments.sqlite3'}",
                "THREADS_MANIFEST": str(manifest), **NO_LIMITS, **config}
        return create_app(base, clock=clock, site=site_layer(load_config(root)))
    return make


def post(client, body, **fields):
    return client.post("/api/comments", json={"thread": POST, "author_name": "Reader", "body": body,
                                              **fields})


def published_log(tmp_path):
    path = tmp_path / "published.log"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_blocklist_holds_listed_words_and_domains_with_the_reason_in_the_dashboard(make_plugin_app):
    app = make_plugin_app()
    client = app.test_client()
    assert post(client, "Play at the Casino tonight!").status_code == 202
    assert post(client, "See [this](https://www.spam.example/offer)").status_code == 202
    assert post(client, "A casinos review is fine, a word is a word.").status_code == 201
    assert post(client, "Link to [a friend](https://example.org/)").status_code == 201
    held = [c for c in desk(app).storage.all_comments() if c.status == Status.PENDING]
    assert [c.held_reason for c in held] == ['blocklist: contains the word "casino"',
                                             "blocklist: links to spam.example"]
    add_author(app)
    login(client)
    page = client.get("/dashboard/moderation").get_data(as_text=True)
    assert "Held: blocklist: contains the word &#34;casino&#34;" in page
    assert "Held: blocklist: links to spam.example" in page


def test_published_comments_are_told_to_plugins_held_ones_once_approved(make_plugin_app,
                                                                         tmp_path):
    app = make_plugin_app()
    client = app.test_client()
    ok = post(client, "A fine comment.").get_json()
    assert post(client, "casino").status_code == 202
    held = {"id": max(c.id for c in desk(app).storage.all_comments())}
    assert published_log(tmp_path) == [[ok["id"], "A fine comment."]]
    add_author(app)
    login(client)
    dashboard_post(client, f"/dashboard/comments/{held['id']}/approve", next="/dashboard/moderation")
    assert published_log(tmp_path) == [[ok["id"], "A fine comment."], [held["id"], "casino"]]


def test_a_plugin_may_file_a_comment_as_spam(make_plugin_app):
    app = make_plugin_app()
    assert post(app.test_client(), "please file this as spam").status_code == 202
    [comment] = desk(app).storage.all_comments()
    assert (comment.status, comment.held_reason) == (Status.SPAM, "recorder: asked to")


def test_a_failing_plugin_holds_the_comment_and_logs_the_traceback(make_plugin_app, caplog,
                                                                   tmp_path):
    app = make_plugin_app(fail=True)
    with caplog.at_level(logging.ERROR, logger="comments_server.plugins"):
        response = post(app.test_client(), "A comment that must not be lost.")
    assert response.status_code == 202
    [comment] = desk(app).storage.all_comments()
    assert (comment.status, comment.body) == (Status.PENDING, "A comment that must not be lost.")
    assert comment.held_reason == 'plugin "recorder" failed'
    [record] = caplog.records
    assert 'plugin "recorder" failed in comment_about_to_be_stored' in record.getMessage()
    assert "RuntimeError: the spam service is down" in caplog.text   # the traceback
    assert published_log(tmp_path) == []


def test_author_comments_are_not_checked(make_plugin_app):
    from tests.support.server import AUTHOR_TOKEN
    app = make_plugin_app(AUTHOR_TOKENS=[AUTHOR_TOKEN])
    response = app.test_client().post("/api/comments", json={"thread": POST, "body": "casino"},
                                      headers={"Authorization": f"Bearer {AUTHOR_TOKEN}"})
    assert response.status_code == 201


def test_an_unknown_plugin_stops_the_server_at_start(make_plugin_app):
    with pytest.raises(ConfigError, match=r"no plugin named 'blocklst'.*did you mean 'blocklist'"):
        make_plugin_app(plugins='\n[plugins]\nenabled = ["blocklst"]\n')


def test_a_server_given_the_site_folder_runs_its_plugins(make_site, tmp_path, manifest, clock):
    root = make_site({"plugins/recorder.py": RECORDER}, config=BASIC_CONFIG + BLOCKLIST
                     + f'[plugins.recorder]\nlog = "{tmp_path / "published.log"}"\n')
    app = create_app({"SECRET_KEY": SECRET, "SITE": str(root), "THREADS_MANIFEST": str(manifest),
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'comments.sqlite3'}", **NO_LIMITS},
                     clock=clock)
    assert post(app.test_client(), "casino night").status_code == 202
    [comment] = desk(app).storage.all_comments()
    assert comment.held_reason == 'blocklist: contains the word "casino"'


def test_a_comment_published_from_its_confirmation_link_is_told_to_plugins(make_plugin_app, smtp,
                                                                           tmp_path):
    from tests.comments_server.test_mail_abuse import link, send, text_of
    from tests.support.mail import mail_config
    app = make_plugin_app(MODERATION="first-time", **mail_config(smtp))
    add_author(app)
    client = app.test_client()
    storage = desk(app).storage
    assert post(client, "My first comment.", author_email="rita@example.org").status_code == 202
    storage.set_status(storage.all_comments()[0].id, Status.PUBLISHED)   # approved long ago
    send(app)
    assert post(client, "Returning with more.", author_email="rita@example.org").status_code == 202
    send(app)
    [publish] = [m for m in smtp.inbox.to("rita@example.org") if m["Subject"].startswith("Publish")]
    assert published_log(tmp_path) == []
    assert client.post(link(text_of(publish), "/notify/confirm/")).status_code == 200
    assert [body for _id, body in published_log(tmp_path)] == ["Returning with more."]
