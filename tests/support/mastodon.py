"""A fake Mastodon server for the fediverse tests: the client API's statuses, contexts, account
lookup and posting, on a real werkzeug server on 127.0.0.1. Tests shape its thread (replies,
edits, deletions) and its misbehaviour (rate-limit headers, 429, 500, a slow answer) between polls."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, jsonify, request

from tests.support.live import serve_wsgi


@dataclass
class Posted:
    """One POST /api/v1/statuses as the server received it."""

    status: str
    in_reply_to_id: str
    authorization: str
    idempotency_key: str
    id: str


@dataclass
class FakeMastodon:
    """The state behind the fake server; `url` is set once it listens."""

    url: str = ""
    statuses: dict[str, dict[str, Any]] = field(default_factory=dict)   # id -> status, in creation order
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)   # user name -> account
    posted: list[Posted] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)                   # "GET /path" in order
    token: str = "secret-token"
    # Misbehaviour, each used up by the next API request: (status, headers) or a delay in seconds.
    failures: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    delays: list[float] = field(default_factory=list)
    rate_headers: dict[str, str] = field(default_factory=dict)          # sent with every answer
    lock: threading.Lock = field(default_factory=threading.Lock)
    _next_id: int = 100

    @property
    def host(self) -> str:
        return self.url.split("://", 1)[1]

    def account(self, user: str, display_name: str = "", avatar: str = "") -> dict[str, Any]:
        """Add (or return) an account of this server."""
        if user not in self.accounts:
            self.accounts[user] = {
                "id": str(len(self.accounts) + 1), "username": user, "acct": user,
                "display_name": display_name or user, "url": f"{self.url}/@{user}",
                "avatar": avatar or f"{self.url}/avatars/{user}.png",
            }
        return self.accounts[user]

    def status(self, user: str, content: str, *, in_reply_to: str | None = None,
               visibility: str = "public", remote_acct: str = "") -> dict[str, Any]:
        """A new status by `user` (remote_acct: shown as `user@other.example`, as a remote account is)."""
        with self.lock:
            self._next_id += 1
            status_id = str(self._next_id)
        account = dict(self.account(user))
        if remote_acct:
            account["acct"] = remote_acct
        status = {"id": status_id, "uri": f"{self.url}/users/{user}/statuses/{status_id}",
                  "url": f"{self.url}/@{user}/{status_id}", "content": content, "account": account,
                  "in_reply_to_id": in_reply_to, "created_at": f"2026-12-01T10:{len(self.statuses) % 60:02d}:00.000Z",
                  "edited_at": None, "visibility": visibility}
        self.statuses[status_id] = status
        return status

    def edit(self, status_id: str, content: str) -> None:
        self.statuses[status_id]["content"] = content
        self.statuses[status_id]["edited_at"] = "2026-12-02T09:00:00.000Z"

    def delete(self, status_id: str) -> None:
        del self.statuses[status_id]

    def descendants(self, root: str) -> list[dict[str, Any]]:
        """The reply tree below `root`, depth first in creation order, as Mastodon lists it."""
        found: list[dict[str, Any]] = []

        def walk(parent: str) -> None:
            for status in self.statuses.values():
                if status["in_reply_to_id"] == parent:
                    found.append(status)
                    walk(status["id"])
        walk(root)
        return found

    def app(self) -> Flask:
        app = Flask("fake_mastodon")

        @app.before_request
        def misbehave() -> Response | None:
            self.requests.append(f"{request.method} {request.full_path.rstrip('?')}")
            if self.delays:
                time.sleep(self.delays.pop(0))
            if self.failures:
                code, headers = self.failures.pop(0)
                response = jsonify(error="failure")
                response.status_code = code
                response.headers.update(headers)
                return response
            return None

        @app.after_request
        def rate(response: Response) -> Response:
            response.headers.update(self.rate_headers)
            return response

        @app.get("/api/v1/statuses/<status_id>")
        def get_status(status_id: str) -> Any:
            if status_id not in self.statuses:
                return jsonify(error="Record not found"), 404
            return jsonify(self.statuses[status_id])

        @app.get("/api/v1/statuses/<status_id>/context")
        def context(status_id: str) -> Any:
            if status_id not in self.statuses:
                return jsonify(error="Record not found"), 404
            return jsonify(ancestors=[], descendants=self.descendants(status_id))

        @app.get("/api/v1/accounts/lookup")
        def lookup() -> Any:
            account = self.accounts.get(request.args.get("acct", ""))
            return jsonify(account) if account else (jsonify(error="Record not found"), 404)

        @app.get("/api/v1/accounts/<account_id>/statuses")
        def account_statuses(account_id: str) -> Any:
            mine = [s for s in self.statuses.values()
                    if s["account"]["id"] == account_id and s["in_reply_to_id"] is None]
            return jsonify(list(reversed(mine))[: int(request.args.get("limit", "20"))])

        @app.post("/api/v1/statuses")
        def post_status() -> Any:
            authorization = request.headers.get("Authorization", "")
            if authorization != f"Bearer {self.token}":
                return jsonify(error="The access token is invalid"), 401
            key = request.headers.get("Idempotency-Key", "")
            for earlier in self.posted:
                if key and earlier.idempotency_key == key:
                    return jsonify(self.statuses[earlier.id])
            owner = next(iter(self.accounts))
            status = self.status(owner, request.form.get("status", ""), in_reply_to=request.form.get("in_reply_to_id"))
            self.posted.append(Posted(request.form.get("status", ""), request.form.get("in_reply_to_id", ""),
                                      authorization, key, status["id"]))
            return jsonify(status)

        return app


@contextmanager
def fake_mastodon() -> Iterator[FakeMastodon]:
    """A FakeMastodon listening on 127.0.0.1 (its first account is the site author's)."""
    fake = FakeMastodon()
    with serve_wsgi(fake.app()) as url:
        fake.url = url
        yield fake
