"""Blueprint "comments" (/comments): the reader's path without JavaScript.

GET /comments/form shows the comment form (with the comment answered, `?parent_id=N`); POST
/comments/form takes the API's fields form-encoded, as the form baked into the post sends them,
and answers 303 to GET /comments/posted, a receipt page showing the comment as it will appear
(or the form again, with the error and what the reader typed). Every page is drawn in the site's
page shell, in the site's language (pages.py).
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from flask import Blueprint, Response, redirect, request, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from comments_server.comments.pages import comment_view, reader_page, strings
from comments_server.errors import ApiError
from comments_server.models import Comment, Status, Thread
from comments_server.ratelimit import spare_write_budget
from comments_server.services import services
from comments_server.strings import error_text, fill

bp = Blueprint("comments", __name__, url_prefix="/comments", template_folder="templates")
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
TEXT_FIELDS = ("thread", "author_name", "author_email", "author_url", "body", "form_token")
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# The form's fields and the catalogue key of each one's label, as error sentences name them.
LABELS = {"body": "body", "author_name": "author_name", "author_email": "author_email",
          "author_url": "author_url"}


def publish_expected_seconds() -> float | None:
    """In about how many seconds a comment just published will be on the static post; None when
    it waits for the next build of the site (nothing publishes on comment)."""
    return services().publisher.expected_seconds()


def _explain(error: ApiError) -> str:
    """The error as a reader's sentence in the site's language, fields named by their labels."""
    t = strings()
    if error.code == "token_required":
        return str(t["form_send_again"])
    return error_text(t, error.code, error.status, error.field, error.message,
                      lambda field: str(t[LABELS[field]]) if field in LABELS else field or "")


def _message_page(status: int, title_key: str, message: str = "", link: str = "") -> Response:
    title = str(strings()[title_key])
    return reader_page("comments/message.html", status, title, title=title, message=message, link=link)


def _parent(thread: Thread, parent_id: str) -> Comment | None:
    """The published comment of `thread` a reply answers; 404 for any other."""
    if not parent_id:
        return None
    comment = None
    if parent_id.isdigit() and len(parent_id) <= 18:
        try:
            comment = services().comments.published_comment(int(parent_id))
        except ApiError:
            comment = None
    if comment is None or comment.thread != thread.path:
        raise ApiError(404, "unknown_parent", f"comment {parent_id} does not exist", "parent_id")
    return comment


def _form_page(thread: Thread, values: dict[str, Any], error: ApiError | None, status: int) -> Response:
    app_services = services()
    svc = app_services.comments
    t = strings()
    # A fresh token each time: the reader's next submit starts a new "time since load". A fresh
    # key too: sending this page twice (a retry, a double click) posts one comment.
    values = {**values, "form_token": svc.form_token(thread.path), "idempotency_key": secrets.token_urlsafe(18)}
    try:
        parent = _parent(thread, values.get("parent_id", ""))
    except ApiError:
        parent = None   # gone since the reader opened the form: the error says so
    title = fill(str(t["form_title"]), title=thread.title)
    before, _, after = str(t["form_title"]).partition("{title}")
    return reader_page(
        "comments/form.html", status, title, thread=thread, values=values, before=before, after=after,
        message=_explain(error) if error else "", honeypot=svc.honeypot_field,
        post_url=app_services.links.post_link(thread.path),
        parent=comment_view(parent, t) if parent is not None else None,
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
    if error.code == "unknown_parent" and request.method == "GET":
        return _message_page(error.status, "form_no_parent", _explain(error))
    if error.code in ("receipt_invalid", "receipt_expired"):
        return _message_page(error.status, "form_link_gone", str(strings()["form_link_gone_text"]))
    return _message_page(error.status, "form_not_posted", _explain(error))


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    wrapped = ApiError(status, "http_error", error.description or error.name)
    return _message_page(status, "form_not_posted", _explain(wrapped))


@bp.get("/form")
def show_form() -> Response:
    """The comment form for one post (`?thread=PATH`, optional `&parent_id=N`: the comment answered)."""
    app_services = services()
    thread = app_services.comments.resolve_thread(request.args.get("thread"))
    if not thread.open:
        return _message_page(403, "form_closed", _explain(ApiError(403, "thread_closed", "")),
                             link=app_services.links.post_link(thread.path))
    parent = request.args.get("parent_id", "").strip()
    _parent(thread, parent)   # 404 for a comment that is not there to answer
    return _form_page(thread, {"thread": thread.path, "parent_id": parent}, None, 200)


@bp.post("/form")
def post_form() -> BaseResponse:
    """Post a comment from the HTML form (the server's own page, or the copy baked into the post)."""
    if request.mimetype not in FORM_TYPES:
        raise ApiError(415, "unsupported_media_type", "this endpoint takes an HTML form submission")
    app_services = services()
    svc = app_services.comments
    values = {name: _shown(request.form.get(name, "")) for name in (*TEXT_FIELDS, "parent_id")}
    values["notify_replies"] = request.form.get("notify_replies", "")
    try:
        result = svc.post(_form_data(), ip=request.remote_addr, from_form=True,
                          idempotency_key=request.form.get("idempotency_key") or None)
    except ApiError as error:
        spare_write_budget(error)   # refused for its token before anything was stored: the next try is free
        try:
            thread: Thread | None = svc.resolve_thread(values.get("thread"))
        except ApiError:
            thread = None
        if thread is None or not thread.open:
            raise
        return _form_page(thread, values, error, error.status)
    receipt: dict[str, Any] = app_services.receipts.issue(result.comment.id)
    return redirect(url_for("comments.posted", **receipt), code=303)


@bp.get("/posted")
def posted() -> Response:
    """The receipt after posting: the comment as it will appear, and when it will be on the post.
    Signed and expiring (receipts.py): a held comment is shown to whoever posted it alone."""
    app_services = services()
    comment = app_services.receipts.redeem(request.args.get("comment"), request.args.get("until"),
                                           request.args.get("sig"))
    t = strings()
    published = comment.status == Status.PUBLISHED
    post_link = app_services.links.post_link(comment.thread)
    if published:
        seconds = publish_expected_seconds()
        if seconds is None:
            when = [str(t["form_posted_rebuild"]), str(t["form_posted_script"])]
        elif seconds < 2.5:
            when = [str(t["form_posted_moment"])]
        else:
            when = [fill(str(t["form_posted_soon"]), n=round(seconds))]
        title, link = str(t["form_posted"]), f"{post_link}#comment-{comment.id}"
    else:
        when = [str(t["form_posted_held"])]
        title, link = str(t["form_held"]), f"{post_link}#comments"
    thread = app_services.threads.get(comment.thread)
    return reader_page("comments/posted.html", 200, title, title=title, when=when, link=link,
                       published=published, comment=comment_view(comment, t),
                       post_title=thread.title if thread is not None else comment.thread)
