"""Blueprint "comments" (/comments): the no-JavaScript fallback, a plain HTML form that posts comments.

POST /comments/form takes the API's fields form-encoded and answers 303 to the post at the new
comment's anchor, or shows the form again with the error and what the reader typed. Every page
speaks the site's language (the thread manifest says which) from the reader strings catalogue.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from flask import Blueprint, Response, redirect, render_template, request
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from comments_server.errors import ApiError
from comments_server.models import Thread
from comments_server.services import services
from comments_server.strings import catalogue, error_text, page_language

bp = Blueprint("comments", __name__, url_prefix="/comments", template_folder="templates")
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
TEXT_FIELDS = ("thread", "author_name", "author_email", "author_url", "body", "form_token")
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# The form's fields and the catalogue key of each one's label, as error sentences name them.
LABELS = {"body": "form_body", "author_name": "author_name", "author_email": "author_email",
          "author_url": "author_url"}


def _strings() -> dict[str, Any]:
    """The reader strings in the site's language."""
    return catalogue(services().links.site_language)


def _page(template: str, status: int, **context: Any) -> Response:
    context.update(t=_strings(), lang=page_language(services().links.site_language))
    response = Response(render_template(template, **context), status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


def _explain(error: ApiError) -> str:
    """The error as a reader's sentence in the site's language, fields named by their labels."""
    strings = _strings()
    return error_text(strings, error.code, error.status, error.field, error.message,
                      lambda field: str(strings[LABELS[field]]) if field in LABELS else field or "")


def _message_page(status: int, title_key: str, message: str = "", link: str = "") -> Response:
    return _page("comments/message.html", status, title=_strings()[title_key], message=message, link=link)


def _form_page(thread: Thread | None, values: dict[str, Any], error: ApiError | None, status: int) -> Response:
    app_services = services()
    svc = app_services.comments
    if thread is not None:
        # A fresh token each time: the reader's next submit starts a new "time since load". A
        # fresh key too: sending this page twice (a retry, a double click) posts one comment.
        values = {**values, "form_token": svc.form_token(thread.path), "idempotency_key": secrets.token_urlsafe(18)}
    return _page(
        "comments/form.html", status, thread=thread, values=values, message=_explain(error) if error else "",
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
    return _message_page(error.status, "form_not_posted", _explain(error))


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    wrapped = ApiError(status, "http_error", error.description or error.name)
    return _message_page(status, "form_not_posted", _explain(wrapped))


@bp.get("/form")
def show_form() -> Response:
    """The comment form for one post (`?thread=PATH`, optional `&parent_id=N`)."""
    app_services = services()
    thread = app_services.comments.resolve_thread(request.args.get("thread"))
    if not thread.open:
        return _message_page(403, "form_closed", _explain(ApiError(403, "thread_closed", "")),
                             link=app_services.links.post_url(thread.path))
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
        result = svc.post(_form_data(), ip=request.remote_addr, idempotency_key=request.form.get("idempotency_key") or None)
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
    return _message_page(202, "form_held", link=post_url)
