"""Blueprint "dashboard" (/dashboard): the author's pages. Login and logout, the unanswered queue,
replies, moderation, all comments, conversation health, and the one-click reply page.

Server-rendered, usable without JavaScript; CSRF tokens on every form (Flask-WTF); a strict CSP.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from comments_server.accounts import Identity
from comments_server.auth import log_in, log_out, session_identity
from comments_server.errors import ApiError
from comments_server.services import services

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard", template_folder="templates",
               static_folder="static", static_url_path="/static")
csrf = CSRFProtect()

# No inline script or style anywhere: everything comes from the dashboard's own static files.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
F = TypeVar("F", bound=Callable[..., Any])


def init_app(app: Flask) -> None:
    """Session cookie and CSRF settings for the dashboard (the API and reader forms use neither)."""
    app.config.update(
        SESSION_COOKIE_NAME="blogengine_dashboard",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(app.config["SECURE_COOKIES"]) and not app.debug,
        # Only dashboard forms are checked (in before_request below), not the API or the reader form.
        WTF_CSRF_CHECK_DEFAULT=False,
        # A reply typed slowly must not fail on an expired token; the session bounds its life.
        WTF_CSRF_TIME_LIMIT=None,
    )
    csrf.init_app(app)
    app.after_request(_dashboard_headers)


def security_headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Same-origin pages get the Referer (Flask-WTF checks it on HTTPS); the site never sees our URLs.
    response.headers["Referrer-Policy"] = "same-origin"
    if request.endpoint != "dashboard.static":
        response.headers["Cache-Control"] = "no-store"
    return response


def _dashboard_headers(response: Response) -> Response:
    """Every answer under /dashboard/, also those no dashboard view made (a 404, a 405)."""
    if request.path == bp.url_prefix or request.path.startswith(f"{bp.url_prefix}/"):
        return security_headers(response)
    return response


@bp.before_request
def _check_csrf() -> None:
    if request.method == "POST":
        csrf.protect()


def page(template: str, status: int = 200, **context: Any) -> Response:
    return Response(render_template(f"dashboard/{template}", **context), status=status, mimetype="text/html")


def message(title: str, text: str, status: int, link: str = "", link_text: str = "") -> Response:
    return page("message.html", status, title=title, text=text, link=link, link_text=link_text)


@bp.errorhandler(CSRFError)
def _csrf_error(error: CSRFError) -> Response:
    return message("The form has expired", "This form is out of date or did not come from the dashboard. "
                   "Go back, reload the page and try again.", 400, url_for("dashboard.home"), "Back to the dashboard")


@bp.errorhandler(ApiError)
def _api_error(error: ApiError) -> Response:
    return message("That did not work", error.message, error.status, url_for("dashboard.home"), "Back to the dashboard")


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    text = ("Too many attempts from your address; wait a minute and try again." if status == 429
            else error.description or error.name)
    return message(error.name, text, status, url_for("dashboard.home"), "Back to the dashboard")


def safe_next(target: str | None, default: str) -> str:
    """Only a path inside the dashboard: a redirect must never leave the site."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/dashboard/") or "\\" in target:
        return default
    return target


def current_identity() -> Identity:
    identity = session_identity()
    assert identity is not None
    return identity


def login_required(view: F) -> F:
    """Send anyone not logged in to the login page, coming back here afterwards."""
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if session_identity() is None:
            target = request.full_path if request.method == "GET" else request.referrer or ""
            path = urlsplit(target).path + (f"?{urlsplit(target).query}" if urlsplit(target).query else "")
            return redirect(url_for("dashboard.login", next=safe_next(path, "")))
        return view(*args, **kwargs)
    return cast(F, wrapper)


@bp.route("/login", methods=["GET", "POST"])
def login() -> BaseResponse:
    """Log in with an author account's name (or email) and password."""
    target = safe_next(request.values.get("next"), url_for("dashboard.home"))
    app_services = services()
    # Development only (site.development_app): a sample site's demo author, shown to whoever runs it.
    demo = app_services.demo_login
    if request.method == "GET":
        if session_identity() is not None:
            return redirect(target)
        return page("login.html", next=target, name=demo.email if demo else "", error="", demo=demo,
                    no_accounts=not app_services.accounts.all())
    name = request.form.get("name", "")
    author = app_services.accounts.authenticate(name, request.form.get("password", ""))
    if author is None:
        return page("login.html", 401, next=target, name=name, demo=demo,
                    no_accounts=not app_services.accounts.all(),
                    error="That name or email and password do not match an author account.")
    log_in(Identity(author))
    return redirect(target, code=303)


@bp.post("/logout")
def logout() -> BaseResponse:
    log_out()
    return redirect(url_for("dashboard.login"), code=303)


from comments_server.dashboard import views  # noqa: E402,F401  (registers the pages on bp)
