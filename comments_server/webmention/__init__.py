"""Blueprint "webmention" (/webmention): the Webmention receiving endpoint. A request is checked
and answered 202 at once; the source is fetched and verified by a background job (receive.py)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, jsonify, request

from comments_server.errors import ApiError
from comments_server.services import services

bp = Blueprint("webmention", __name__, url_prefix="/webmention")
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


@bp.post("")
def receive() -> Response:
    """`source` and `target`, form-encoded: 202 and a verification job, or 400 naming the field."""
    if not current_app.config["WEBMENTION_RECEIVE"]:
        raise ApiError(404, "not_found", "this server does not receive Webmentions", None)
    if request.mimetype not in FORM_TYPES:
        raise ApiError(415, "unsupported_media_type",
                       "send source and target form-encoded (application/x-www-form-urlencoded)", None)
    received = services().webmentions.receive(request.form.get("source"), request.form.get("target"))
    response = jsonify({"status": "accepted", "source": received.source, "target": received.target,
                        "thread": received.thread.path})
    response.status_code = 202
    return response


def source_host() -> str:
    """The rate-limit key of a Webmention: the host of the site that says it links here."""
    source = request.form.get("source") or ""
    try:
        host = (urlsplit(source.strip()).hostname or "").lower()
    except ValueError:
        host = ""
    return f"webmention-source:{host}"
