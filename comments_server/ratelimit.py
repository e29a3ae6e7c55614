"""Per-client-IP rate limits with Flask-Limiter: one shared budget for writes, one for reads, one for previews."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask, Response, g, request
from flask_limiter import Limiter

from comments_server.auth import has_valid_author_token
from comments_server.clientip import account_key, client_key
from comments_server.errors import ApiError
from comments_server.webmention import source_host

WRITE_ENDPOINTS = ("api.post_comment", "api.edit_comment", "api.delete_comment", "comments.post_form")
LOGIN_ENDPOINT = "dashboard.login"
READ_ENDPOINTS = ("api.list_thread", "api.form_token", "api.counts", "feeds.comments_feed", "comments.show_form",
                  "comments.posted")
# Each preview renders Markdown: a small budget of its own, so previews cannot use up the reads.
PREVIEW_ENDPOINTS = ("api.preview",)
# Webmentions count per source host: one site cannot flood the verification queue, whatever
# addresses it sends from.
WEBMENTION_ENDPOINT = "webmention.receive"
_SPARED = "comments_write_spared"
# Form-token refusals a reader's browser meets through no fault of the reader's: sent too soon,
# expired, already used, or none where the server wants one (FORM_WITHOUT_TOKEN = refuse). A
# forged token, or none sent to the API, is a script's doing and counts.
SPARED_TOKEN_ERRORS = ("too_fast", "expired", "used", "token_required")


def spare_write_budget(error: ApiError) -> None:
    """A write refused for its form token before anything was stored: when the reader's next
    try mends it (SPARED_TOKEN_ERRORS), this one does not count against the write budget."""
    if error.field == "form_token" and error.code in SPARED_TOKEN_ERRORS:
        setattr(g, _SPARED, True)


def _spends_write(response: Response) -> bool:
    return not g.get(_SPARED, False)


def init_rate_limits(app: Flask, config: Mapping[str, Any]) -> Limiter:
    """A Limiter for this app only (so several apps can live in one process, as in tests)."""
    limiter = Limiter(
        key_func=client_key,  # an IPv6 client by its /64
        storage_uri=config["RATE_LIMIT_STORAGE_URL"],
        key_prefix=config["RATE_LIMIT_KEY_PREFIX"],
        strategy="moving-window",
        headers_enabled=True,
        # If Redis is down, let comments through rather than fail every request.
        swallow_errors=True,
    )
    limiter.init_app(app)
    limited: set[str] = set()
    budgets = ((config["RATE_LIMIT"], WRITE_ENDPOINTS, "write"), (config["READ_RATE_LIMIT"], READ_ENDPOINTS, "read"),
               (config["PREVIEW_RATE_LIMIT"], PREVIEW_ENDPOINTS, "preview"))
    for limit, endpoints, scope in budgets:
        if limit is None:
            continue
        decorate = limiter.shared_limit(limit, scope=scope, exempt_when=has_valid_author_token,
                                        deduct_when=_spends_write if scope == "write" else None)
        for endpoint in endpoints:
            _guard(app, endpoint, decorate, limited)
    if config["WEBMENTION_RATE_LIMIT"] is not None:
        _guard(app, WEBMENTION_ENDPOINT, limiter.limit(config["WEBMENTION_RATE_LIMIT"], key_func=source_host,
                                                       scope="webmention"), limited)
    # Password guessing: failed or not, each login attempt counts (showing the form does not).
    if config["LOGIN_RATE_LIMIT"] is not None:
        _guard(app, LOGIN_ENDPOINT, limiter.limit(config["LOGIN_RATE_LIMIT"], methods=["POST"], scope="login"),
               limited)
    # ...and per account, whatever addresses the guesses come from: only failures count, so the
    # author who knows the password is held up only while someone is guessing it.
    if config["LOGIN_ACCOUNT_RATE_LIMIT"] is not None:
        _guard(app, LOGIN_ENDPOINT, limiter.limit(
            config["LOGIN_ACCOUNT_RATE_LIMIT"], key_func=account_key, methods=["POST"], scope="login-account",
            deduct_when=lambda response: response.status_code == 401), limited)
    # Every limit is on a view: a request to any other view (or to one whose limit is off) skips
    # Flask-Limiter's per-request resolving, a tenth of a posted comment's time.
    limiter.request_filter(lambda: request.endpoint not in limited)
    return limiter


def _guard(app: Flask, endpoint: str, decorate: Callable[[Any], Any], limited: set[str]) -> None:
    """Wrap a view in a limit, and note that its endpoint has one."""
    if endpoint in app.view_functions:
        app.view_functions[endpoint] = decorate(app.view_functions[endpoint])
        limited.add(endpoint)
