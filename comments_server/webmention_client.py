"""Sending a Webmention (https://www.w3.org/TR/webmention/#sending-webmentions): discover the
target's endpoint, then POST source and target to it. Every request goes through netguard, so a
target or an advertised endpoint on a private address is refused before it is contacted.

Pure: no Flask, no SQLAlchemy; `blogengine webmention send` and the comment server both use it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin

from comments_server.netguard import Fetched, FetchPolicy, fetch

# One link-value of an HTTP Link header (RFC 8288): <uri> then ;-separated parameters.
LINK_VALUE = re.compile(r'<([^>]*)>((?:\s*;\s*[^;,="]+(?:=\s*(?:"(?:[^"\\]|\\.)*"|[^;,]*))?)*)')
LINK_PARAM = re.compile(r';\s*([^;,="\s]+)\s*(?:=\s*("(?:[^"\\]|\\.)*"|[^;,]*))?')


@dataclass(frozen=True)
class SendResult:
    """What sending one Webmention gave: `status` is the endpoint's HTTP status (None when no
    endpoint was found, and nothing was sent); `location` the receiver's status URL, if any."""

    status: int | None
    endpoint: str | None
    location: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def discover_endpoint(target: str, *, policy: FetchPolicy) -> str | None:
    """The target's Webmention endpoint (absolute URL) or None if it advertises none or cannot be
    read (4xx/5xx). Raises UnsafeURL for a refused target, FetchError when it cannot be fetched."""
    page = fetch(target, policy=policy, headers={"Accept": "text/html, */*;q=0.5"})
    if page.status >= 400:
        return None
    return endpoint_in(page)


def endpoint_in(page: Fetched) -> str | None:
    """The spec's discovery order: the first Link header with rel=webmention, else the first
    <link> or <a> element with rel=webmention and an href, in document order. Relative URLs are
    resolved against the page's final URL (after redirects); an empty href is the page itself."""
    for value in page.headers.get_all("Link") or []:
        href = webmention_link(value)
        if href is not None:
            return urljoin(page.url, href)
    content_type = page.headers.get_content_type()
    if page.headers.get("Content-Type") and "html" not in content_type:
        return None
    finder = EndpointFinder()
    finder.feed(page.text)
    finder.close()
    return urljoin(page.url, finder.href) if finder.href is not None else None


def webmention_link(header: str) -> str | None:
    """The URI of the first link-value in one Link header whose rel (space-separated, quoted or
    not) includes "webmention"."""
    for match in LINK_VALUE.finditer(header):
        for name, value in LINK_PARAM.findall(match.group(2)):
            if name.lower() != "rel":
                continue
            rels = value.strip().strip('"').lower().split()
            if "webmention" in rels:
                return match.group(1).strip()
    return None


class EndpointFinder(HTMLParser):
    """Finds the first <link> or <a> with rel=webmention and an href. A real HTML parser, so markup
    in comments or escaped as text never counts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.href is not None or tag not in ("link", "a"):
            return
        values = dict(attrs)
        href = values.get("href")
        if href is None:   # no href: not an endpoint, keep looking
            return
        if "webmention" in (values.get("rel") or "").lower().split():
            self.href = href.strip()

    handle_startendtag = handle_starttag


def send_webmention(source: str, target: str, *, policy: FetchPolicy) -> SendResult:
    """Discover the target's endpoint and send it a form-encoded source/target POST. An endpoint
    that answers 4xx/5xx is reported in the result; UnsafeURL and FetchError are raised."""
    endpoint = discover_endpoint(target, policy=policy)
    if endpoint is None:
        return SendResult(status=None, endpoint=None)
    response = fetch(endpoint, policy=policy, method="POST", data={"source": source, "target": target})
    location = response.headers.get("Location")
    return SendResult(status=response.status, endpoint=endpoint,
                      location=urljoin(response.url, location) if location else None)
