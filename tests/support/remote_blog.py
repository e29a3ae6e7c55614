"""A second, "remote" blog for Webmention tests: a small Flask app on 127.0.0.1 whose pages a
test sets (and changes, or makes 410 Gone), serving h-entry markup shaped like real IndieWeb
blogs'. It records every request, so a test can say none was made."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html import escape

import pytest
from flask import Flask, Response, request

from tests.support.live import serve_wsgi


@dataclass
class RemoteBlog:
    """The pages the remote blog serves: path -> (status, content type, body)."""

    url: str = ""
    pages: dict[str, tuple[int, str, str]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    received: list[dict[str, str]] = field(default_factory=list)   # Webmentions sent to its endpoint

    def page(self, path: str, body: str, *, status: int = 200, content_type: str = "text/html; charset=utf-8") -> str:
        """Serve `body` at `path`; its absolute URL."""
        self.pages[path] = (status, content_type, body)
        return self.url + path

    def gone(self, path: str) -> None:
        self.pages[path] = (410, "text/html", "<p>Gone</p>")

    def app(self) -> Flask:
        app = Flask("remote_blog")

        @app.post("/webmention")
        def webmention() -> Response:
            self.received.append(dict(request.form))
            return Response("Accepted", status=202)

        @app.route("/", defaults={"path": ""})
        @app.route("/<path:path>")
        def serve(path: str) -> Response:
            self.requests.append("/" + path)
            status, content_type, body = self.pages.get("/" + path, (404, "text/html", "<p>Not found</p>"))
            return Response(body, status=status, content_type=content_type)

        return app


@contextmanager
def running_remote_blog() -> Iterator[RemoteBlog]:
    blog = RemoteBlog()
    with serve_wsgi(blog.app()) as url:
        blog.url = url
        yield blog


@pytest.fixture
def remote_blog() -> Iterator[RemoteBlog]:
    with running_remote_blog() as blog:
        yield blog


def h_card(name: str, url: str, photo: str | None = None) -> str:
    img = f'<img class="u-photo" src="{escape(photo)}" alt="" width="40">' if photo else ""
    return (f'<span class="p-author h-card"><a class="u-url" href="{escape(url)}">{img}'
            f'<span class="p-name">{escape(name)}</span></a></span>')


def h_entry_page(*, title: str = "A reply", kind_property: str | None = "u-in-reply-to", about: str = "",
                 content_html: str = "<p>Great post!</p>", author: str = "", published: str = "2026-05-30T09:15:00+02:00",
                 extra_link: str = "") -> str:
    """A post page the way IndieWeb blogs mark one up (WordPress with the IndieWeb plugins, Known,
    micro.blog): an h-entry with its context link, the author's h-card, e-content, dt-published."""
    context = ""
    if kind_property is not None:
        verb = {"u-in-reply-to": "In reply to", "u-like-of": "Liked", "u-repost-of": "Reposted",
                "u-bookmark-of": "Bookmarked"}[kind_property]
        context = (f'<div class="{kind_property} h-cite response"><p>{verb} <a class="u-url p-name" '
                   f'href="{escape(about)}">a post</a></p></div>')
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)} | Remote blog</title>
<link rel="webmention" href="/webmention"></head>
<body>
<nav><a href="/">Home</a></nav>
<article class="h-entry post">
  <header>
    <h1 class="p-name">{escape(title)}</h1>
    {author}
    <a class="u-url" href="#"><time class="dt-published" datetime="{published}">30 May 2026</time></a>
  </header>
  {context}
  <div class="e-content entry-content">{content_html}{extra_link}</div>
</article>
<footer><p>Powered by a static site</p></footer>
</body></html>"""
