"""Blueprint "feeds" (/feeds): Atom feeds of the newest comments, site-wide or for one post."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request, url_for
from feedgen.feed import FeedGenerator

from comments_server.service import utcnow
from comments_server.services import services

bp = Blueprint("feeds", __name__, url_prefix="/feeds")


@bp.get("/comments.atom")
def comments_feed() -> Response:
    """The newest published comments; `?thread=PATH` for one post."""
    app_services = services()
    links = app_services.links
    path = request.args.get("thread")
    thread = app_services.comments.resolve_thread(path) if path is not None else None
    items = app_services.comments.recent(current_app.config["FEED_ITEMS"], thread)
    site_title = links.site_title or "Comments"
    self_url = url_for("feeds.comments_feed", thread=path, _external=True)

    feed = FeedGenerator()
    feed.id(self_url)
    feed.title(f"Comments on {thread.title}" if thread else f"{site_title}: comments")
    feed.link(href=self_url, rel="self")
    alternate = links.post_url(thread.path) if thread else links.site_url
    if alternate:
        feed.link(href=alternate, rel="alternate")
    feed.updated((items[0].edited_at or items[0].created_at) if items else utcnow())
    titles = {} if thread is None else {thread.path: thread.title}
    for comment in reversed(items):  # feedgen prepends; feed newest first
        post = titles.get(comment.thread)
        if post is None:
            known = app_services.threads.get(comment.thread)
            post = titles[comment.thread] = known.title if known else comment.thread
        link = links.post_url(comment.thread)
        entry = feed.add_entry()
        entry.id(f"{link or comment.thread}#comment-{comment.id}")
        entry.title(f"{comment.author_name} on {post}")
        if link:
            entry.link(href=f"{link}#comment-{comment.id}")
        entry.author({"name": comment.author_name, **({"uri": comment.author_url} if comment.author_url else {})})
        entry.content(comment.body_html, type="html")
        entry.published(comment.created_at)
        entry.updated(comment.edited_at or comment.created_at)
    return Response(feed.atom_str(pretty=True), mimetype="application/atom+xml")
