"""Request helpers shared by the blueprints: JSON bodies, tokens, error pages, the health check.
(Comments become JSON in serialize.py, which the static build shares; the services the views
call come from services.py.)"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, request
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from comments_server.errors import ApiError
from comments_server.services import services

log = logging.getLogger(__name__)

# One code per HTTP error Flask or Werkzeug can raise before a view runs.
HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type", 429: "rate_limited",
}


def json_body() -> dict[str, Any]:
    """The request's JSON object; 415 for another content type, 400 for anything but an object."""
    if request.mimetype != "application/json":
        raise ApiError(415, "unsupported_media_type", "send the comment as application/json", None)
    raw = request.get_data(cache=True)
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # "[[[[...": the decoder recurses once per level
        raise ApiError(400, "invalid_json", "the request body is nested too deeply", None) from None
    if data is None and raw.strip() != b"null":
        raise ApiError(400, "invalid_json", "the request body is not valid JSON", None)
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "the request body must be a JSON object", None)
    return data


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def error_response(error: ApiError) -> Response:
    response = jsonify(error.to_dict())
    response.status_code = error.status
    return response


def register_error_handlers(app: Flask) -> None:
    """Every error leaves as {"error": {...}}; 5xx never shows a traceback to the client."""

    @app.errorhandler(ApiError)
    def _api_error(error: ApiError) -> Response:
        return error_response(error)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        status = error.code or 500
        if status >= 500:
            return error_response(ApiError(status, "server_error", "the server could not answer; try again later"))
        message = error.description or error.name
        if status == 413:
            message = "the request body is too large"
        elif status == 429:
            message = f"too many requests ({error.description}); try again later"
        response = error_response(ApiError(status, HTTP_CODES.get(status, "http_error"), message))
        valid_methods = getattr(error, "valid_methods", None)
        if status == 405 and valid_methods:
            response.headers["Allow"] = ", ".join(valid_methods)
        return response

    @app.errorhandler(OperationalError)
    def _store_unavailable(error: OperationalError) -> Response:
        # A full disk, a read-only or locked database, a lost connection: the request was
        # fine, the store cannot take it now. Nothing was half-written (one transaction).
        log.error("comment store unavailable on %s %s: %s", request.method, request.path,
                  error.orig if error.orig is not None else error)
        response = error_response(ApiError(
            503, "unavailable", "the comment store cannot take this right now (for instance a "
            "full disk or a read-only database); nothing was saved, try again later"))
        response.headers["Retry-After"] = "60"
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(ApiError(500, "server_error", "the server could not answer; try again later"))


def register_health_check(app: Flask) -> None:
    """GET /healthz: 200 while the database answers, 503 when it does not."""

    @app.get("/healthz")
    def healthz() -> Response:
        try:
            services().storage.ping()
        except Exception:  # the database, not the request, is at fault: say so with 503
            log.exception("health check: database unreachable")
            return error_response(ApiError(503, "unavailable", "the database is unreachable"))
        return jsonify({"status": "ok"})
