"""Blueprint "api" (/api): the JSON API for threads, comments and counts, and its OpenAPI document."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from comments_server.api.caching import thread_response
from comments_server.api.counts import counts_response
from comments_server.api.openapi import openapi_document
from comments_server.auth import bearer_identity, request_identity
from comments_server.errors import ApiError
from comments_server.ratelimit import spare_write_budget
from comments_server.service import IDEMPOTENCY_HEADER, PostResult
from comments_server.serialize import comment_json, rfc3339
from comments_server.services import services
from comments_server.web import json_body

bp = Blueprint("api", __name__, url_prefix="/api")


def _created(result: PostResult) -> Response:
    response = _answer(result)
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def _answer(result: PostResult) -> Response:
    if not result.published:
        response = jsonify({"status": "pending"})
        response.status_code = 202
        return response
    body: dict[str, Any] = comment_json(result.comment)
    body["edit_token"] = result.edit_token
    body["editable_until"] = rfc3339(services().comments.editable_until(result.comment))
    response = jsonify(body)
    response.status_code = 201
    response.headers["Location"] = f"/api/comments/{result.comment.id}"
    return response


@bp.get("/comments")
def list_thread() -> Response:
    """A thread's published comments as a tree; ETag and Last-Modified, 304 when unchanged."""
    app_services = services()
    return thread_response(app_services.comments, app_services.thread_cache, request.args.get("thread"),
                           app_services.conversations.reply_median)


@bp.get("/form-token")
def form_token() -> Response:
    """A fresh form token for a thread, sent back with a new comment (it records when the form loaded)."""
    svc = services().comments
    thread = svc.resolve_thread(request.args.get("thread"))
    response = jsonify({"thread": thread.path, "form_token": svc.form_token(thread.path)})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/comments")
def post_comment() -> Response:
    """A new comment: 201 published (with its edit token), 202 held for moderation; a retry with
    the same Idempotency-Key gets the first answer."""
    data = json_body()
    identity = bearer_identity()
    author = identity.author if identity else None
    try:
        result = services().comments.post(data, is_author=identity is not None, author=author, ip=request.remote_addr,
                                          idempotency_key=request.headers.get(IDEMPOTENCY_HEADER))
    except ApiError as error:
        spare_write_budget(error)
        raise
    return _created(result)


@bp.get("/comments/<int:comment_id>")
def get_comment(comment_id: int) -> Response:
    """One published comment, without replies."""
    return jsonify(comment_json(services().comments.published_comment(comment_id)))


@bp.patch("/comments/<int:comment_id>")
def edit_comment(comment_id: int) -> Response:
    """Change a comment's body with its edit token, within the edit window."""
    data = json_body()
    comment = services().comments.edit(comment_id, request.headers.get("X-Edit-Token"), data)
    return jsonify(comment_json(comment))


@bp.delete("/comments/<int:comment_id>")
def delete_comment(comment_id: int) -> Response:
    """Delete a comment with its edit token; with replies it stays as a placeholder."""
    services().comments.delete(comment_id, request.headers.get("X-Edit-Token"))
    return Response(status=204)


@bp.get("/counts")
def counts() -> Response:
    """Published comment counts for several threads (for index pages); ETag and Last-Modified, 304."""
    return counts_response(services().counts_cache, request.args.getlist("thread"))


@bp.post("/preview")
def preview() -> Response:
    """A draft body rendered as it would be stored (the widget's live preview); nothing is stored."""
    return jsonify({"body_html": services().comments.preview(json_body().get("body"))})


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
    app_services = services()
    queue = app_services.conversations.queue(identity.author, questions_first=sort == "questions")
    response = jsonify(queue_json(queue, app_services.notifier.url))
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/threads/reload")
def reload_threads() -> Response:
    """Re-read the thread manifest now instead of after its TTL (`blogengine deploy`); author token only."""
    from comments_server.fediverse.poller import start_polling
    from comments_server.manifest import ManifestError

    if bearer_identity() is None:
        raise ApiError(401, "unauthorized", "send 'Authorization: Bearer <author token>'")
    try:
        manifest = services().threads.reload()
    except (OSError, UnicodeDecodeError, ManifestError) as exc:
        raise ApiError(502, "manifest_unavailable", f"the thread manifest was not reloaded, the previous one stays: {exc}") from None
    start_polling(services())   # a post may have gained a fediverse announcement
    response = jsonify({"threads": len(manifest.threads)})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/openapi.json")
def openapi() -> Response:
    """This API, described in OpenAPI 3.1, with this server's limits."""
    svc = services().comments
    return jsonify(openapi_document(svc.limits, svc.policy))
