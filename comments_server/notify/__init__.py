"""Blueprint "notify" (/notify): the readers' pages that links in emails open (confirm an address
or publish a comment, one-click unsubscribe, subscribe again); and where those links point (the
notifier's server URL). Composing is in comments_server/compose.py (no Flask), sending in mail.py."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, has_request_context, render_template, request

from comments_server.compose import LinkError
from comments_server.config import origin_of
from comments_server.links import SiteLinks
from comments_server.services import services

bp = Blueprint("notify", __name__, url_prefix="/notify", template_folder="templates")


def server_url(public_url: str, links: SiteLinks) -> Callable[[], str]:
    """Where links in emails point: PUBLIC_URL, else the site's origin, else this request's host."""
    def url() -> str:
        configured = public_url or origin_of(links.site_url) or ""
        if configured:
            return configured.rstrip("/")
        return request.host_url.rstrip("/") if has_request_context() else ""
    return url


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
    try:
        email = services().notifier.read_unsubscribe_link(token)
    except LinkError as error:
        return _page("notify/unsubscribe.html", 404, error=str(error), done=False, email="", token=token)
    if request.method == "POST":
        services().comments.unsubscribe(email)
        return _page("notify/unsubscribe.html", 200, error="", done=True, email=email, token=token)
    return _page("notify/unsubscribe.html", 200, error="", done=False, email=email, token=token)


@bp.post("/resubscribe/<token>")
def resubscribe(token: str) -> Response:
    """Take an address off the suppression list: only its own unsubscribe link (sent to it) can."""
    try:
        email = services().notifier.read_unsubscribe_link(token)
    except LinkError as error:
        return _page("notify/unsubscribe.html", 404, error=str(error), done=False, email="", token=token)
    services().comments.resubscribe(email)
    return _page("notify/unsubscribe.html", 200, error="", done=False, resubscribed=True, email=email, token=token)


@bp.route("/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str) -> Response:
    """GET shows what the link does (and the comment it publishes); POST (the button) does it, once.

    A GET changes nothing: mail scanners open links, and a comment must not go out unseen."""
    confirmations = services().confirmations
    try:
        if request.method == "POST":
            done = confirmations.confirm(token)
            return _page("notify/confirm.html", 200, error="", draft=None, done=done, token=token,
                         post_url=_post_url(done.published.thread) if done.published else "")
        draft = confirmations.open(token)
    except LinkError as error:
        return _page("notify/confirm.html", 404, error=str(error), draft=None, done=None, token=token, post_url="")
    return _page("notify/confirm.html", 200, error="", draft=draft, done=None, token=token,
                 post_url=_post_url(draft.comment.thread) if draft.comment else "")


def _post_url(thread: str) -> str:
    return services().links.post_link(thread)
