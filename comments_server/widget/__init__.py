"""Blueprint "widget": serves the embeddable comment widget, /embed.js and /embed.css (also under /widget/).

embed.js goes out as one classic script with every language's reader strings
(comments_server/strings/) put in at its marker and its comments left out (they stay in the
source; readers download the code), assembled once per process."""

from __future__ import annotations

import functools
import hashlib
import json
import re
from pathlib import Path

from flask import Blueprint, Response, request, send_from_directory

from comments_server.strings import FOLDER as STRINGS_FOLDER
from comments_server.strings import widget_catalogues

STATIC = Path(__file__).parent / "static"
# An hour in caches, then a cheap revalidation (ETag / Last-Modified): upgrades reach readers the same day.
MAX_AGE = 3600
FILES = {"embed.js": "text/javascript", "embed.css": "text/css"}  # Flask adds "; charset=utf-8"
STRINGS_MARKER = "{/* @strings */}"
# The opening block comment, and lines that hold only a comment (the script has no template
# literals, so no string spans lines: such a line is always a comment; tests/test_widget.py checks).
_HEADER = re.compile(r"\A/\*.*?\*/\n", re.S)
_COMMENT_LINE = re.compile(r"^[ \t]*//.*\n", re.M)
SERVED_HEADER = "/* blogengine comment widget; source with comments: comments_server/widget/static/embed.js */\n"

bp = Blueprint("widget", __name__)


@functools.cache
def widget_script() -> tuple[bytes, str, float]:
    """embed.js as served: its bytes, their ETag, and when its newest part changed (a timestamp).
    Assembled once per process, like the catalogues it holds."""
    source = (STATIC / "embed.js").read_text(encoding="utf-8")
    if source.count(STRINGS_MARKER) != 1:
        raise RuntimeError(f"{STATIC / 'embed.js'}: expected the marker {STRINGS_MARKER} once")
    strings = json.dumps(widget_catalogues(), ensure_ascii=False, separators=(",", ":"))
    code = _COMMENT_LINE.sub("", _HEADER.sub(SERVED_HEADER, source))
    body = code.replace(STRINGS_MARKER, strings).encode("utf-8")
    parts = [STATIC / "embed.js", *STRINGS_FOLDER.glob("*.json")]
    return body, hashlib.sha256(body).hexdigest()[:32], max(path.stat().st_mtime for path in parts)


def _headers(response: Response) -> Response:
    response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
    response.headers["X-Content-Type-Options"] = "nosniff"
    # A page on the site's origin loads these from the comment server's origin.
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


def _send(name: str) -> Response:
    if name != "embed.js":
        return _headers(send_from_directory(STATIC, name, mimetype=FILES[name], max_age=MAX_AGE, conditional=True))
    body, etag, modified = widget_script()
    response = Response(body, mimetype=FILES[name])
    response.set_etag(etag)
    response.last_modified = modified  # type: ignore[assignment]
    response.make_conditional(request)
    return _headers(response)


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
