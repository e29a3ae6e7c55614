"""Blueprint "comments" (/comments): the no-JavaScript fallback, a plain HTML form that posts comments.

POST /comments/form takes the API's fields form-encoded and answers 303 to the post at the new
comment's anchor, or shows the form again with the error and what the reader typed.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, redirect, render_template, request
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from comments_server.errors import ApiError
from comments_server.models import Thread
from comments_server.services import services

bp = Blueprint("comments", __name__, url_prefix="/comments", template_folder="templates")
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
TEXT_FIELDS = ("thread", "author_name", "author_email", "author_url", "body", "form_token")
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _page(template: str, status: int, **context: Any) -> Response:
    response = Response(render_template(template, **context), status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


def _form_page(thread: Thread | None, values: dict[str, Any], error: ApiError | None, status: int) -> Response:
    app_services = services()
    svc = app_services.comments
    if thread is not None:
        # A fresh token each time: the reader's next submit starts a new "time since load".
        values = {**values, "form_token": svc.form_token(thread.path)}
    return _page(
        "comments/form.html", status, thread=thread, values=values, error=error,
        honeypot=svc.honeypot_field, post_url=app_services.links.post_url(thread.path) if thread else "",
    )


def _shown(value: str) -> str:
    """A typed value to show in the form again: control characters (a NUL byte) as U+FFFD, as a
    browser would read them; tabs and line breaks kept."""
    return _CONTROLS.sub("\ufffd", value)


def _form_data() -> dict[str, Any]:
    """The form's fields in the shapes the API takes."""
    form = request.form
    data: dict[str, Any] = {name: form.get(name) for name in TEXT_FIELDS if name in form}
    parent = (form.get("parent_id") or "").strip()
    if parent:
        if not parent.isdigit():
            raise ApiError(400, "wrong_type", "parent_id must be a comment number", "parent_id")
        data["parent_id"] = int(parent)
    data["notify_replies"] = form.get("notify_replies", "").lower() in ("1", "on", "true", "yes")
    honeypot = services().comments.honeypot_field
    if honeypot and honeypot in form:
        data[honeypot] = form.get(honeypot)
    return data


@bp.errorhandler(ApiError)
def _api_error(error: ApiError) -> Response:
    return _page("comments/message.html", error.status, title="Comment not posted", error=error, link="")


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    message = "Too many comments from your address; try again later." if status == 429 else (
        "The comment is too large." if status == 413 else (error.description or error.name))
    wrapped = ApiError(status, "http_error", message)
    return _page("comments/message.html", status, title="Comment not posted", error=wrapped, link="")


@bp.get("/form")
def show_form() -> Response:
    """The comment form for one post (`?thread=PATH`, optional `&parent_id=N`)."""
    app_services = services()
    thread = app_services.comments.resolve_thread(request.args.get("thread"))
    if not thread.open:
        return _page("comments/message.html", 403, title="Comments are closed",
                     link=app_services.links.post_url(thread.path),
                     error=ApiError(403, "thread_closed", f"Comments on “{thread.title}” are closed."))
    parent = request.args.get("parent_id", "")
    values = {"thread": thread.path, "parent_id": parent if parent.isdigit() else ""}
    return _form_page(thread, values, None, 200)


@bp.post("/form")
def post_form() -> BaseResponse:
    """Post a comment from the HTML form."""
    if request.mimetype not in FORM_TYPES:
        raise ApiError(415, "unsupported_media_type", "this endpoint takes an HTML form submission")
    app_services = services()
    svc = app_services.comments
    values = {name: _shown(request.form.get(name, "")) for name in (*TEXT_FIELDS, "parent_id")}
    values["notify_replies"] = request.form.get("notify_replies", "")
    try:
        result = svc.post(_form_data(), ip=request.remote_addr)
    except ApiError as error:
        try:
            thread: Thread | None = svc.resolve_thread(values.get("thread"))
        except ApiError:
            thread = None
        if thread is None or not thread.open:
            raise
        return _form_page(thread, values, error, error.status)
    thread_path = result.comment.thread
    post_url = app_services.links.post_link(thread_path)
    if result.published:
        return redirect(f"{post_url}#comment-{result.comment.id}", code=303)
    return _page(
        "comments/message.html", 202, title="Thanks! Your comment is awaiting moderation.",
        error=None, link=post_url,
    )
