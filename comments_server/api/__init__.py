"""Blueprint "api" (/api): the JSON API for threads, comments and counts, and its OpenAPI document."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from comments_server.api.caching import counts_response, thread_response
from comments_server.api.openapi import openapi_document
from comments_server.auth import bearer_identity, conversations, request_identity
from comments_server.errors import ApiError
from comments_server.sanitize import render_comment
from comments_server.service import PostResult
from comments_server.serialize import comment_json, rfc3339
from comments_server.web import json_body, service

bp = Blueprint("api", __name__, url_prefix="/api")


def _created(result: PostResult) -> Response:
    if not result.published:
        response = jsonify({"status": "pending"})
        response.status_code = 202
        return response
    body: dict[str, Any] = comment_json(result.comment)
    body["edit_token"] = result.edit_token
    body["editable_until"] = rfc3339(service().editable_until(result.comment))
    response = jsonify(body)
    response.status_code = 201
    response.headers["Location"] = f"/api/comments/{result.comment.id}"
    return response


@bp.get("/comments")
def list_thread() -> Response:
    """A thread's published comments as a tree; ETag and Last-Modified, 304 when unchanged."""
    return thread_response(service(), request.args.get("thread"), conversations().reply_median)


@bp.get("/form-token")
def form_token() -> Response:
    """A fresh form token for a thread, sent back with a new comment (it records when the form loaded)."""
    svc = service()
    thread = svc.resolve_thread(request.args.get("thread"))
    response = jsonify({"thread": thread.path, "form_token": svc.form_token(thread.path)})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/comments")
def post_comment() -> Response:
    """A new comment: 201 published (with its edit token), 202 held for moderation."""
    data = json_body()
    identity = bearer_identity()
    author = identity.author if identity else None
    return _created(service().post(data, is_author=identity is not None, author=author, ip=request.remote_addr))


@bp.get("/comments/<int:comment_id>")
def get_comment(comment_id: int) -> Response:
    """One published comment, without replies."""
    comment = service().storage.get_comment(comment_id)
    if comment is None or comment.status.value != "published":
        raise ApiError(404, "not_found", f"comment {comment_id} does not exist")
    return jsonify(comment_json(comment))


@bp.patch("/comments/<int:comment_id>")
def edit_comment(comment_id: int) -> Response:
    """Change a comment's body with its edit token, within the edit window."""
    data = json_body()
    comment = service().edit(comment_id, request.headers.get("X-Edit-Token"), data)
    return jsonify(comment_json(comment))


@bp.delete("/comments/<int:comment_id>")
def delete_comment(comment_id: int) -> Response:
    """Delete a comment with its edit token; with replies it stays as a placeholder."""
    service().delete(comment_id, request.headers.get("X-Edit-Token"))
    return Response(status=204)


@bp.get("/counts")
def counts() -> Response:
    """Published comment counts for several threads (for index pages); ETag and Last-Modified, 304."""
    return counts_response(service(), request.args.getlist("thread"))


@bp.post("/preview")
def preview() -> Response:
    """A draft body rendered as it would be stored (the widget's live preview); nothing is stored."""
    body = json_body().get("body")
    if not isinstance(body, str):
        raise ApiError(400, "missing" if body is None else "wrong_type", "body must be a string", "body")
    limit = service().limits.max_body_length
    if limit is not None and len(body) > limit:
        raise ApiError(413, "too_long", f"body must be at most {limit} characters (got {len(body)})", "body")
    return jsonify({"body_html": render_comment(body)})


@bp.get("/unanswered")
def unanswered() -> Response:
    """The author's queue: reader comments waiting for an answer (dashboard session or author token)."""
    from comments_server.api.queue import queue_json

    identity = request_identity()
    if identity is None:
        raise ApiError(401, "unauthorized", "log in to the dashboard or send 'Authorization: Bearer <author token>'")
    sort = request.args.get("sort", "oldest")
    if sort not in ("oldest", "questions"):
        raise ApiError(400, "invalid", f"sort must be oldest or questions (got {sort!r})", "sort")
    desk = conversations()
    queue = desk.queue(identity.author, questions_first=sort == "questions")
    response = jsonify(queue_json(queue, desk.notifier.url))
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/threads/reload")
def reload_threads() -> Response:
    """Re-read the thread manifest now instead of after its TTL (`blogengine deploy`); author token only."""
    from comments_server.manifest import ManifestError

    if bearer_identity() is None:
        raise ApiError(401, "unauthorized", "send 'Authorization: Bearer <author token>'")
    try:
        manifest = service().threads.reload()
    except (OSError, UnicodeDecodeError, ManifestError) as exc:
        raise ApiError(502, "manifest_unavailable", f"the thread manifest was not reloaded, the previous one stays: {exc}") from None
    response = jsonify({"threads": len(manifest.threads)})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/openapi.json")
def openapi() -> Response:
    """This API, described in OpenAPI 3.1, with this server's limits."""
    svc = service()
    return jsonify(openapi_document(svc.limits, svc.policy))
