"""Cross-origin rules: the site's origins may call the API from a browser; nobody else may write.

Hand-rolled rather than Flask-Cors because the write rule is a refusal, not just a missing header.
"""

from __future__ import annotations

from flask import Flask, Response, request

from comments_server.config import origin_of
from comments_server.errors import ApiError

WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
ALLOWED_HEADERS = "Content-Type, Authorization, X-Edit-Token, Idempotency-Key"
ALLOWED_METHODS = "GET, POST, PATCH, DELETE, OPTIONS"
# Paths a browser script on the site may call across origins.
CORS_PREFIXES = ("/api/",)
# Paths that refuse writes from origins other than the site's and the server's own.
GUARDED_PREFIXES = ("/api/", "/comments/")


def allowed_origins(origins: list[str], public_url: str = "") -> frozenset[str]:
    """The origins whose pages may call the API: CORS_ORIGINS and the server's public one."""
    allowed = {o.rstrip("/").lower() for o in origins}
    if public_url and origin_of(public_url):
        allowed.add(str(origin_of(public_url)))
    return frozenset(allowed)


def cors_headers(origin: str | None, allowed: frozenset[str]) -> list[tuple[str, str]]:
    """The headers that let a page from `origin` read an API answer: none for other origins."""
    if not origin or origin.lower() not in allowed:
        return []
    return [("Access-Control-Allow-Origin", origin), ("Access-Control-Allow-Methods", ALLOWED_METHODS),
            ("Access-Control-Allow-Headers", ALLOWED_HEADERS), ("Access-Control-Max-Age", "600")]


def init_cors(app: Flask, origins: list[str], public_url: str = "") -> None:
    """Answer preflights and tag responses for `origins`; refuse foreign writes with 403."""
    allowed = allowed_origins(origins, public_url)

    def own_origin() -> str:
        return f"{request.scheme}://{request.host}".lower()

    def permitted(origin: str) -> bool:
        return origin.lower() in allowed or origin.lower() == own_origin()

    @app.before_request
    def _refuse_foreign_writes() -> Response | None:
        origin = request.headers.get("Origin")
        if not origin or not request.path.startswith(GUARDED_PREFIXES):
            return None
        preflight = request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers
        wants = request.headers.get("Access-Control-Request-Method", "").upper() if preflight else request.method
        if wants in WRITE_METHODS and not permitted(origin):
            raise ApiError(403, "cross_origin_forbidden", f"{origin} may not write to this server", None)
        if preflight and request.path.startswith(CORS_PREFIXES):
            response = app.make_default_options_response()
            response.status_code = 204
            return response
        return None

    @app.after_request
    def _cors_headers(response: Response) -> Response:
        if request.path.startswith(CORS_PREFIXES):
            for name, value in cors_headers(request.headers.get("Origin"), allowed):
                response.headers[name] = value
        response.vary.add("Origin")
        return response
