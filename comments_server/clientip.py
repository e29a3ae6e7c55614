"""Who a request comes from, for rate limits and stored addresses: X-Forwarded-For only from a
trusted proxy's address, IPv6 clients counted by their /64, login attempts also by account."""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from flask import request
from werkzeug.middleware.proxy_fix import ProxyFix

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# An IPv6 client usually holds a whole /64 (and can use any address in it).
IPV6_PREFIX = 64


def parse_networks(values: Iterable[str]) -> list[Network]:
    """TRUSTED_PROXIES as networks; ValueError names the first bad one."""
    networks: list[Network] = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{value!r} is not an IP address or network") from None
    return networks


class TrustedProxyFix:
    """ProxyFix for requests whose peer is a trusted proxy; anyone else reaching the server
    directly is taken at their own address, whatever X-Forwarded-* headers they send."""

    def __init__(self, app: WSGIApplication, count: int, proxies: list[Network]) -> None:
        self.direct = app
        self.proxied = ProxyFix(app, x_for=count, x_proto=count, x_host=count)
        self.proxies = proxies

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if self._trusted(environ.get("REMOTE_ADDR")):
            return self.proxied(environ, start_response)
        return self.direct(environ, start_response)

    def _trusted(self, peer: Any) -> bool:
        try:
            address = ipaddress.ip_address(str(peer))
        except ValueError:
            return False
        return any(address in network for network in self.proxies)


def address_key(value: str | None) -> str:
    """The rate-limit key of an address: an IPv4 address as is, an IPv6 one by its /64."""
    try:
        address = ipaddress.ip_address(value or "")
    except ValueError:
        return value or ""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/{IPV6_PREFIX}", strict=False))
    return str(address)


def client_key() -> str:
    """Flask-Limiter's key for this request's client."""
    return address_key(request.remote_addr)


def account_key() -> str:
    """Flask-Limiter's key for the account a login attempt names: its id when the name or email
    is an account's (so both count together), else the name as typed, hashed."""
    from comments_server.services import services
    from comments_server.storage.accounts import name_key

    typed = request.form.get("name", "")
    author = services().accounts.find(typed) if typed.strip() else None
    if author is not None:
        return f"account:{author.id}"
    return "name:" + hashlib.sha256(name_key(typed).encode("utf-8")).hexdigest()[:32]
