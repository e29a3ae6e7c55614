"""The Mastodon client API, as much of it as replies need: statuses, their context, an account's
recent statuses, and posting a reply. Every request goes through netguard; nothing here stores."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from comments_server.netguard import FetchError, FetchPolicy, UnsafeURL, fetch

USER_AGENT = "blogengine-comments (fediverse replies)"
# The paths a status URL takes on Mastodon (/@user/ID, /users/user/statuses/ID), GoToSocial
# (/@user/statuses/ID) and Pleroma or Akkoma (/notice/ID, /objects/ID is not an id so not here).
_STATUS_PATH = re.compile(r"^/(?:@[^/]+(?:/statuses)?|users/[^/]+/statuses|notice)/(?P<id>[A-Za-z0-9]+)/?$")
_ACCOUNT_PATH = re.compile(r"^/@(?P<user>[^/@]+)/?$")


class FediverseError(Exception):
    """A request that did not work; `retry_at`, when the server said when to come back."""

    def __init__(self, message: str, *, retry_at: datetime | None = None, transient: bool = True) -> None:
        super().__init__(message)
        self.retry_at = retry_at
        self.transient = transient   # False: asking again will not help (404, 401, a refused URL)


@dataclass(frozen=True)
class StatusRef:
    """Where a status lives: its server's base URL and its id there."""

    base_url: str
    id: str


@dataclass(frozen=True)
class RateLimit:
    """What the server's X-RateLimit-* headers said (None where it said nothing)."""

    remaining: int | None = None
    reset_at: datetime | None = None


@dataclass(frozen=True)
class Answer:
    """A JSON answer and the rate limit that came with it."""

    data: Any
    rate: RateLimit


def parse_status_url(url: str) -> StatusRef | None:
    """The server and id of a status URL (`https://host/@user/123`), or None if it is not one."""
    parts = urlsplit(url)
    match = _STATUS_PATH.match(parts.path)
    if parts.scheme not in ("http", "https") or not parts.netloc or match is None:
        return None
    return StatusRef(f"{parts.scheme}://{parts.netloc}", match.group("id"))


def parse_account_url(url: str) -> tuple[str, str] | None:
    """(base URL, user name) of a profile URL (`https://host/@user`), or None."""
    parts = urlsplit(url)
    match = _ACCOUNT_PATH.match(parts.path)
    if parts.scheme not in ("http", "https") or not parts.netloc or match is None:
        return None
    return f"{parts.scheme}://{parts.netloc}", match.group("user")


def handle_of(profile_url: str | None) -> str | None:
    """`@user@host` from a profile URL (`https://host/@user`, `https://host/users/user`), or None."""
    if not profile_url:
        return None
    parts = urlsplit(profile_url)
    user = parts.path.rstrip("/").rsplit("/", 1)[-1].lstrip("@")
    if not re.fullmatch(r"[\w.-]{1,100}", user) or not parts.hostname:
        return None
    return f"@{user}@{parts.hostname}"


def parse_http_date_or_seconds(value: str | None, now: datetime) -> datetime | None:
    """Retry-After's two forms: seconds, or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return datetime.fromtimestamp(now.timestamp() + int(value), UTC)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def parse_rate_limit(headers: Message) -> RateLimit:
    """X-RateLimit-Remaining and X-RateLimit-Reset (an ISO 8601 time, as Mastodon sends it)."""
    remaining_text = headers.get("X-RateLimit-Remaining", "").strip()
    remaining = int(remaining_text) if remaining_text.isdigit() else None
    reset_at = None
    reset_text = headers.get("X-RateLimit-Reset", "").strip()
    if reset_text:
        try:
            reset_at = datetime.fromisoformat(reset_text.replace("Z", "+00:00"))
            if reset_at.tzinfo is None:
                reset_at = reset_at.replace(tzinfo=UTC)
        except ValueError:
            reset_at = None
    return RateLimit(remaining, reset_at)


class MastodonClient:
    """One server's client API; `token` (FEDIVERSE_ACCESS_TOKEN) only for the server it is for."""

    def __init__(self, base_url: str, *, allow_hosts: frozenset[str], timeout: float, token: str = "",
                 clock: Callable[[], datetime] | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.policy = FetchPolicy(allow_hosts=allow_hosts, max_bytes=2_000_000, timeout=timeout,
                                  user_agent=USER_AGENT)
        self.clock = clock or (lambda: datetime.now(UTC))

    def status(self, status_id: str) -> Answer:
        """`GET /api/v1/statuses/:id`: one status."""
        return self._get(f"/api/v1/statuses/{quote(status_id, safe='')}")

    def context(self, status_id: str) -> Answer:
        """`GET /api/v1/statuses/:id/context`: its ancestors and descendants (the replies)."""
        return self._get(f"/api/v1/statuses/{quote(status_id, safe='')}/context")

    def lookup_account(self, acct: str) -> Answer:
        """`GET /api/v1/accounts/lookup?acct=`: an account by its user name."""
        return self._get("/api/v1/accounts/lookup?" + urlencode({"acct": acct}))

    def account_statuses(self, account_id: str, limit: int = 40) -> Answer:
        """`GET /api/v1/accounts/:id/statuses`: its newest statuses (no replies, no boosts)."""
        query = urlencode({"limit": limit, "exclude_replies": "true", "exclude_reblogs": "true"})
        return self._get(f"/api/v1/accounts/{quote(account_id, safe='')}/statuses?{query}")

    def post_reply(self, text: str, in_reply_to_id: str, idempotency_key: str) -> Answer:
        """`POST /api/v1/statuses`: a public reply; the key makes a retry post nothing twice."""
        if not self.token:
            raise FediverseError("no FEDIVERSE_ACCESS_TOKEN to post with", transient=False)
        return self._request("POST", "/api/v1/statuses",
                             data={"status": text, "in_reply_to_id": in_reply_to_id, "visibility": "public"},
                             headers={"Idempotency-Key": idempotency_key})

    def _get(self, path: str) -> Answer:
        return self._request("GET", path)

    def _request(self, method: str, path: str, *, data: dict[str, str] | None = None,
                 headers: dict[str, str] | None = None) -> Answer:
        url = self.base_url + path
        send = {"Accept": "application/json", **(headers or {})}
        if self.token:
            send["Authorization"] = f"Bearer {self.token}"
        try:
            got = fetch(url, policy=self.policy, method=method, data=data, headers=send)
        except UnsafeURL as exc:
            raise FediverseError(f"{url}: refused ({exc})", transient=False) from None
        except FetchError as exc:
            raise FediverseError(str(exc)) from None
        rate = parse_rate_limit(got.headers)
        if got.status == 429:
            retry_at = parse_http_date_or_seconds(got.headers.get("Retry-After"), self.clock()) or rate.reset_at
            raise FediverseError(f"{url}: 429 too many requests", retry_at=retry_at)
        if got.status >= 500:
            raise FediverseError(f"{url}: the server answered {got.status}")
        if got.status >= 400:
            raise FediverseError(f"{url}: the server answered {got.status}", transient=False)
        try:
            return Answer(json.loads(got.body.decode("utf-8")), rate)
        except (UnicodeDecodeError, ValueError):
            raise FediverseError(f"{url}: the answer is not JSON") from None
