"""Requests from the generator to the comment server (baking comments, reloading threads): only
to https, or to this machine; never following a redirect, so neither a token nor trust in the
answer passes to another address."""

from __future__ import annotations

import functools
import ipaddress
import urllib.error
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    import urllib.request
    from email.message import Message

LOOPBACK_NAMES = ("localhost",)
# Paths the comment server answers when it shares the site's origin (`serve`, and links the
# link check leaves to it).
COMMENT_PREFIXES = ("/api/", "/comments/", "/feeds/", "/widget/", "/dashboard/", "/healthz",
                    "/embed.js", "/embed.css")
# The comment server's Webmention endpoint, which every page advertises while comments are on.
# An exact path, not a prefix: a page at /webmentions/ stays the site's.
WEBMENTION_PATH = "/webmention"


def is_comment_path(path: str) -> bool:
    """Whether the comment server answers `path` when it shares the site's origin."""
    return path.startswith(COMMENT_PREFIXES) or path == WEBMENTION_PATH


def webmention_link_header(endpoint: str) -> str:
    """The HTTP Link header advertising a Webmention endpoint (W3C Webmention, discovery)."""
    return f'<{endpoint}>; rel="webmention"'


def url_problem(url: str) -> str | None:
    """Why the generator must not talk to `url`; None when it is https, or http on loopback."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"must be an absolute https URL, got {url!r}"
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        return (f"must use https (got {url!r}): over plain http anyone on the way can change the comments "
                "baked into the site, or read the author token; http is only for localhost")
    return None


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class RedirectRefused(urllib.error.HTTPError):
    """The server answered with a redirect, which is not followed."""

    def __init__(self, url: str, code: int, headers: Message, fp: IO[bytes] | None) -> None:
        super().__init__(url, code, f"redirect to {headers.get('Location', '?')} not followed", headers, fp)
        self.location = headers.get("Location", "")


@functools.cache
def _opener() -> urllib.request.OpenerDirector:
    # Made on first use: the config imports this module for url_problem, and urllib.request
    # (with http.client and email) is a tenth of what an up-to-date build imports.
    import urllib.request

    class NoRedirects(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, req: urllib.request.Request, fp: IO[bytes], code: int,
                             msg: str, headers: Message, newurl: str) -> None:
            raise RedirectRefused(req.full_url, code, headers, fp)

    return urllib.request.build_opener(NoRedirects)


def open_url(request: urllib.request.Request | str, *, timeout: float) -> Any:
    """urlopen, but a 3xx is an error (RedirectRefused) instead of a new request elsewhere."""
    return _opener().open(request, timeout=timeout)
