"""Blueprint "notify" (/notify): the readers' one-click unsubscribe page; and the app's mail wiring
(the notifier's server URL, the background sender thread). Composing is in compose.py, sending in
mail.py."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime

from flask import Blueprint, Flask, Response, has_request_context, render_template, request

from comments_server.config import origin_of
from comments_server.mail import MailSettings, OutboxSender
from comments_server.notify.compose import LinkError, Notifier
from comments_server.service import CommentService
from comments_server.storage import Storage

bp = Blueprint("notify", __name__, url_prefix="/notify", template_folder="templates")
SENDER = "comments_server.sender"


def server_url(public_url: str, service: CommentService) -> Callable[[], str]:
    """Where links in emails point: PUBLIC_URL, else the site's origin, else this request's host."""
    def url() -> str:
        configured = public_url or origin_of(service.site_url) or ""
        if configured:
            return configured.rstrip("/")
        return request.host_url.rstrip("/") if has_request_context() else ""
    return url


def init_sender(app: Flask, storage: Storage, settings: MailSettings, notifier: Notifier,
                clock: Callable[[], datetime]) -> None:
    """One sender thread per process, started on the first request (so forked workers get their own)."""
    state: dict[str, OutboxSender | int | None] = {"sender": None, "pid": None}

    @app.before_request
    def _ensure_sender() -> None:
        if state["pid"] == os.getpid():
            return
        sender = OutboxSender(storage.outbox, settings, clock)
        state.update(sender=sender, pid=os.getpid())
        notifier.wake = sender.wake
        app.extensions[SENDER] = sender
        sender.start()


def _page(template: str, status: int, **context: object) -> Response:
    response = Response(render_template(template, **context), status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = ("default-src 'none'; style-src 'self'; form-action 'self'; "
                                                   "frame-ancestors 'none'; base-uri 'none'")
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str) -> Response:
    """GET shows one button; POST (the button, or a mail client's RFC 8058 one-click) unsubscribes.

    A GET never unsubscribes: mail scanners open links, and readers must not lose replies to them."""
    from comments_server.auth import conversations

    desk = conversations()
    try:
        email = desk.notifier.read_unsubscribe_link(token)
    except LinkError as error:
        return _page("notify/unsubscribe.html", 404, error=str(error), done=False, email="", token=token)
    if request.method == "POST":
        desk.storage.unsubscribe(email)
        return _page("notify/unsubscribe.html", 200, error="", done=True, email=email, token=token)
    return _page("notify/unsubscribe.html", 200, error="", done=False, email=email, token=token)
