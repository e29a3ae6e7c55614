"""Atom feeds of comments, site-wide and per post, built with feedgen."""

from __future__ import annotations

import feedparser

from comments_server.models import Status
from comments_server.services import services
from tests.support.server import OTHER, POST, assert_error, post_comment


def test_site_feed_lists_newest_published_first(client, clock, app):
    post_comment(client, author_name="Ann", body="first **bold**", author_url="https://ann.example/")
    clock.advance(60)
    post_comment(client, author_name="Bob", body="second", thread=OTHER)
    clock.advance(60)
    held = post_comment(client, author_name="Held", body="held").get_json()
    services(app).storage.set_status(held["id"], Status.PENDING)
    response = client.get("/feeds/comments.atom")
    assert response.status_code == 200 and response.mimetype == "application/atom+xml"
    feed = feedparser.parse(response.data)
    assert feed.bozo == 0
    assert feed.feed.title == "Test Blog: comments"
    assert [e.title for e in feed.entries] == ["Bob on Another post", "Ann on A post"]
    ann = feed.entries[1]
    assert ann.link == "https://blog.example.com/2024/05/a-post/#comment-1"
    assert ann.author_detail.name == "Ann" and ann.author_detail.href == "https://ann.example/"
    assert ann.content[0].value == "<p>first <strong>bold</strong></p>"


def test_thread_feed_only_has_that_post(client):
    post_comment(client, body="on the post")
    post_comment(client, body="elsewhere", thread=OTHER)
    feed = feedparser.parse(client.get("/feeds/comments.atom", query_string={"thread": POST}).data)
    assert feed.feed.title == "Comments on A post"
    assert [e.content[0].value for e in feed.entries] == ["<p>on the post</p>"]


def test_empty_feed_is_valid(client):
    feed = feedparser.parse(client.get("/feeds/comments.atom").data)
    assert feed.bozo == 0 and feed.entries == []


def test_feed_length_is_configurable(make_app):
    client = make_app(FEED_ITEMS=2).test_client()
    for n in range(4):
        post_comment(client, body=f"n{n}")
    assert len(feedparser.parse(client.get("/feeds/comments.atom").data).entries) == 2


def test_feed_for_unknown_or_malformed_thread(client):
    assert_error(client.get("/feeds/comments.atom", query_string={"thread": "/nope/"}), 404, "unknown_thread", "thread")
    assert_error(client.get("/feeds/comments.atom", query_string={"thread": "nope"}), 400, "invalid", "thread")
