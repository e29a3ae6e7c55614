"""Who is asking, on the web: a dashboard login (session cookie) or an author API token (bearer).

Author status comes from these two only, never from a name or an email a commenter types.
"""

from __future__ import annotations

import hmac

from flask import current_app, g, request, session

from comments_server.accounts import Identity
from comments_server.errors import ApiError
from comments_server.services import services
from comments_server.web import bearer_token

SESSION_KEY = "author_session"


def _legacy_token(token: str) -> bool:
    tokens: list[str] = current_app.config["AUTHOR_TOKENS"]
    return any(hmac.compare_digest(token.encode(), known.encode()) for known in tokens)


def bearer_identity() -> Identity | None:
    """The author behind `Authorization: Bearer <token>`; 401 for a wrong token, None for none."""
    token = bearer_token()
    if token is None:
        if request.headers.get("Authorization"):
            raise ApiError(401, "invalid_author_token", "Authorization must be 'Bearer <author token>'", None)
        return None
    author = services().accounts.author_for_token(token)
    if author is not None:
        return Identity(author)
    if _legacy_token(token):
        return Identity(None)
    raise ApiError(401, "invalid_author_token", "the author token is not valid", None)


def has_valid_author_token() -> bool:
    """Like bearer_identity, but never raises (used to exempt authors from rate limits)."""
    token = bearer_token()
    if token is None:
        return False
    return _legacy_token(token) or services().accounts.author_for_token(token) is not None


def session_identity() -> Identity | None:
    """The logged-in author of this request's dashboard session, if the session is still open."""
    if "identity" in g:
        cached: Identity | None = g.identity
        return cached
    session_id = session.get(SESSION_KEY)
    author = services().accounts.session_author(session_id) if isinstance(session_id, str) else None
    g.identity = Identity(author) if author is not None else None
    return g.identity  # type: ignore[no-any-return]


def log_in(identity: Identity) -> None:
    """Start a server-side session; a fresh cookie, so a session id planted before login is useless."""
    assert identity.author is not None
    session.clear()
    session[SESSION_KEY] = services().accounts.start_session(identity.author)
    session.permanent = True
    g.identity = identity


def log_out() -> None:
    session_id = session.get(SESSION_KEY)
    if isinstance(session_id, str):
        services().accounts.end_session(session_id)
    session.clear()
    g.identity = None


def request_identity() -> Identity | None:
    """A bearer token if the request has one, else the dashboard session (for read-only API calls)."""
    return bearer_identity() or session_identity()
