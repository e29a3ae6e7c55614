"""The fediverse settings, read once from the server config; makes a client for a server."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from comments_server.fediverse.client import MastodonClient, parse_account_url


@dataclass(frozen=True)
class FediverseSettings:
    """FEDIVERSE_* settings: whether to poll, the access token, hosts allowed though private."""

    poll: bool = True
    access_token: str = ""
    allow_hosts: frozenset[str] = frozenset()
    timeout: float = 10.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> FediverseSettings:
        return cls(poll=config["FEDIVERSE_POLL"], access_token=config["FEDIVERSE_ACCESS_TOKEN"],
                   allow_hosts=frozenset(config["FEDIVERSE_ALLOW_HOSTS"]), timeout=float(config["FEDIVERSE_TIMEOUT"]))

    def client(self, base_url: str, *, account: str, clock: Callable[[], datetime]) -> MastodonClient:
        """A client of the server at `base_url`. It carries the token only to the account's own
        server (`account`: the site's profile URL); with no account named, the announcements'
        server is taken for the author's own."""
        token = self.access_token if not account or same_server(base_url, account) else ""
        return MastodonClient(base_url, allow_hosts=self.allow_hosts, timeout=self.timeout, token=token, clock=clock)


def same_server(base_url: str, account_url: str) -> bool:
    """Whether a profile URL is on the server at `base_url`."""
    parsed = parse_account_url(account_url)
    if parsed is None:
        return False
    a, b = urlsplit(base_url), urlsplit(parsed[0])
    return (a.scheme, (a.netloc or "").lower()) == (b.scheme, (b.netloc or "").lower())
