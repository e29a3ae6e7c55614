"""Blueprint "widget": serves the embeddable comment widget, /embed.js and /embed.css (also under /widget/)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, send_from_directory

STATIC = Path(__file__).parent / "static"
# An hour in caches, then a cheap revalidation (ETag / Last-Modified): upgrades reach readers the same day.
MAX_AGE = 3600
FILES = {"embed.js": "text/javascript", "embed.css": "text/css"}  # Flask adds "; charset=utf-8"

bp = Blueprint("widget", __name__)


def _send(name: str) -> Response:
    response = send_from_directory(STATIC, name, mimetype=FILES[name], max_age=MAX_AGE, conditional=True)
    response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
    response.headers["X-Content-Type-Options"] = "nosniff"
    # A page on the site's origin loads these from the comment server's origin.
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


@bp.get("/embed.js")
def embed_js() -> Response:
    """The widget script, a plain classic script configured by its tag's data- attributes."""
    return _send("embed.js")


@bp.get("/embed.css")
def embed_css() -> Response:
    """The widget's styles (classes prefixed bec-), light and dark."""
    return _send("embed.css")


@bp.get("/widget/<any('embed.js', 'embed.css'):name>")
def widget_file(name: str) -> Response:
    """The same files at their first URLs, /widget/embed.js and /widget/embed.css."""
    return _send(name)
