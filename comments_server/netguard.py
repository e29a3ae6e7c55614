"""Safe outbound HTTP for URLs that came from outside (Webmention sources and endpoints, fediverse
servers): http(s) only, no private, loopback or link-local addresses, a size cap, time caps.

The host is resolved once, every address it resolves to is checked, and the connection is made to a
checked address: a DNS answer that changes between the check and the connect (DNS rebinding) cannot
move the request inside. Redirects are followed here, one hop at a time, each hop checked again.
TLS keeps the name (SNI and certificate check), and so does the Host header.

Pure: no Flask, no SQLAlchemy; the generator (`blogengine webmention send`) imports it too.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import Message
from typing import Any
from urllib.parse import quote, urlencode, urljoin, urlsplit

SCHEMES = {"http": 80, "https": 443}
REDIRECTS = {301, 302, 303, 307, 308}
CHUNK = 64 * 1024
CREDENTIAL_HEADERS = {"authorization", "cookie", "proxy-authorization"}
# Characters a request path keeps as they are; anything else (spaces, non-ASCII) is %-encoded.
PATH_SAFE = "/%:@!$&'()*+,;=-._~"
QUERY_SAFE = PATH_SAFE + "?"


class UnsafeURL(ValueError):
    """The URL is refused before any request is made: wrong scheme, or a host that is (or resolves
    to) an address the policy does not allow."""


class FetchError(Exception):
    """The request was allowed but did not give a usable answer: no connection, a timeout, too
    many redirects, a body past the size cap, a broken response."""


@dataclass(frozen=True)
class FetchPolicy:
    """What a fetch may do. `allow_hosts` holds names ("host" or "host:port", IPv6 in brackets)
    exempt from the address check: tests use 127.0.0.1, private networks their intranet."""

    allow_hosts: frozenset[str] = frozenset()
    max_bytes: int = 1_000_000
    timeout: float = 10.0
    max_redirects: int = 5
    user_agent: str = "blogengine (+webmention)"


@dataclass
class Fetched:
    """A response: `url` is the final URL after redirects; `headers` is case-insensitive and keeps
    repeated headers (`headers.get_all("Link")`)."""

    url: str
    status: int
    headers: Message
    body: bytes = field(repr=False)

    @property
    def text(self) -> str:
        charset = self.headers.get_content_charset() or "utf-8"
        try:
            return self.body.decode(charset, errors="replace")
        except LookupError:   # a charset Python does not know
            return self.body.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class Target:
    """One checked request target: the name to send as Host/SNI and the addresses to connect to."""

    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[tuple[int, Any], ...]   # (family, sockaddr) from getaddrinfo


def fetch(url: str, *, policy: FetchPolicy, method: str = "GET", data: Mapping[str, str] | None = None,
          headers: Mapping[str, str] | None = None) -> Fetched:
    """Request `url` under `policy`, following redirects (each hop checked). Raises UnsafeURL when a
    URL (the first or a redirect's) is refused, FetchError when the request fails. Any HTTP status
    is returned, not raised."""
    body = urlencode(data).encode("ascii") if data is not None else None
    send_headers = {"User-Agent": policy.user_agent, "Accept-Encoding": "identity", **(headers or {})}
    if body is not None:
        send_headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    current = url
    for _hop in range(policy.max_redirects + 1):
        target = check_url(current, policy)
        # `timeout` caps each hop as a whole, not only each socket operation: a server trickling
        # one byte at a time must not hold the sender.
        deadline = time.monotonic() + policy.timeout
        status, response_headers, content = request(target, method, body, send_headers, policy, deadline)
        location = response_headers.get("Location")
        if status not in REDIRECTS or not location:
            return Fetched(url=current, status=status, headers=response_headers, body=content)
        previous, current = current, urljoin(current, location.strip())
        if origin(current) != origin(previous):
            # Credentials meant for one server (an API token) never follow a redirect elsewhere.
            for name in [name for name in send_headers if name.lower() in CREDENTIAL_HEADERS]:
                del send_headers[name]
        if status == 303 or (status in (301, 302) and method == "POST"):
            method, body = "GET", None   # what browsers do: the redirect is fetched, not re-posted
            send_headers.pop("Content-Type", None)
    raise FetchError(f"{url}: more than {policy.max_redirects} redirects")


def origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    return parts.scheme.lower(), (parts.hostname or "").lower(), port or SCHEMES.get(parts.scheme.lower())


def check_url(url: str, policy: FetchPolicy) -> Target:
    """Parse and resolve `url`, refusing it (UnsafeURL) unless it is http(s) and every address its
    host resolves to is public, or the host is in `policy.allow_hosts`."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise UnsafeURL(f"{url!r} is not a valid URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise UnsafeURL(f"{url!r}: only http and https URLs are fetched (got {scheme or 'no'} scheme)")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnsafeURL(f"{url!r} has no host")
    if parts.username is not None or parts.password is not None:
        raise UnsafeURL(f"{url!r}: URLs with a user name or password are not fetched")
    try:
        ascii_host = host if host.isascii() else host.encode("idna").decode("ascii")
    except UnicodeError:
        raise UnsafeURL(f"{url!r}: {host!r} is not a valid host name") from None
    port = port or SCHEMES[scheme]
    try:
        infos = socket.getaddrinfo(ascii_host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise FetchError(f"{url}: cannot resolve {host!r} ({exc})") from None
    addresses = tuple((info[0], info[4]) for info in infos)
    if not allowed_host(ascii_host, port, policy.allow_hosts):
        for _family, sockaddr in addresses:
            reason = blocked_reason(str(sockaddr[0]))
            if reason:
                raise UnsafeURL(f"{url!r}: {host} resolves to {sockaddr[0]}, {reason}")
    path = quote(parts.path or "/", safe=PATH_SAFE)
    if parts.query:
        path += "?" + quote(parts.query, safe=QUERY_SAFE)
    return Target(scheme=scheme, host=ascii_host, port=port, path=path, addresses=addresses)


def allowed_host(host: str, port: int, allow_hosts: frozenset[str]) -> bool:
    """Whether `host` (any port) or `host:port` is in the allow list; names compare case-blind."""
    host = host.lower()
    for entry in allow_hosts:
        try:
            parts = urlsplit("//" + entry.strip())
            entry_host, entry_port = (parts.hostname or "").rstrip("."), parts.port
        except ValueError:
            continue
        if entry_host == host and entry_port in (None, port):
            return True
    return False


def blocked_reason(address: str) -> str | None:
    """Why an address may not be fetched from (None if it may): anything that is not a public
    unicast address, including IPv4 addresses wrapped in IPv6 (mapped, 6to4, Teredo, NAT64)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])   # drop an IPv6 zone id
    if isinstance(ip, ipaddress.IPv6Address):
        for inner in embedded_ipv4(ip):
            reason = blocked_reason(str(inner))
            if reason:
                return f"{reason} (inside the IPv6 address)"
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_private:
        return "a private address"
    if ip.is_reserved or not ip.is_global:   # CGNAT 100.64/10 and the other special ranges
        return "not a public address"
    return None


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries: mapped (::ffff:a.b.c.d), 6to4, Teredo, NAT64."""
    found = []
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)
    if ip in ipaddress.IPv6Network("64:ff9b::/96"):
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


class PinnedHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection to one checked address; the Host header keeps the name."""

    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self.target = target
        self.limit = timeout

    def connect(self) -> None:
        self.sock = connect_checked(self.target, self.limit)


class PinnedHTTPSConnection(http.client.HTTPSConnection):
    """An HTTPS connection to one checked address; SNI, the certificate check and Host keep the name."""

    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout, context=ssl.create_default_context())
        self.target = target
        self.limit = timeout

    def connect(self) -> None:
        raw = connect_checked(self.target, self.limit)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.target.host)  # type: ignore[attr-defined]


def connect_checked(target: Target, timeout: float) -> socket.socket:
    """Connect to the first of the target's (already checked) addresses that answers."""
    last: OSError | None = None
    for family, sockaddr in target.addresses:
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            sock.close()
            last = exc
    raise last or OSError(f"no address for {target.host}")


def request(target: Target, method: str, body: bytes | None, headers: Mapping[str, str],
            policy: FetchPolicy, deadline: float) -> tuple[int, Message, bytes]:
    """One request to one checked target; reads at most policy.max_bytes of the body."""
    where = f"{target.scheme}://{target.host}:{target.port}{target.path}"
    connection_type = PinnedHTTPSConnection if target.scheme == "https" else PinnedHTTPConnection
    connection = connection_type(target, policy.timeout)
    try:
        connection.request(method, target.path, body=body, headers=dict(headers))
        response = connection.getresponse()
        length = response.getheader("Content-Length")
        if length and length.isdigit() and int(length) > policy.max_bytes:
            raise FetchError(f"{where}: the response is {length} bytes, more than the "
                             f"{policy.max_bytes} allowed")
        content = read_capped(response, policy.max_bytes, deadline, where)
        return response.status, response.msg, content
    except socket.timeout:
        raise FetchError(f"{where}: no answer within {policy.timeout:g} seconds") from None
    except (OSError, http.client.HTTPException, ssl.SSLError) as exc:
        raise FetchError(f"{where}: {exc.__class__.__name__}: {exc}") from None
    finally:
        connection.close()


def read_capped(response: http.client.HTTPResponse, max_bytes: int, deadline: float, where: str) -> bytes:
    """Read the body in chunks, stopping past max_bytes or past the deadline (a server that trickles
    bytes forever must not keep us)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        if time.monotonic() > deadline:
            raise FetchError(f"{where}: the response took too long")
        chunk = response.read1(CHUNK)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > max_bytes:
            raise FetchError(f"{where}: the response is more than the {max_bytes} bytes allowed")
        chunks.append(chunk)
