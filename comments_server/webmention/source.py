"""Reading a Webmention's source page: does it link to the target, and what does it say (its
h-entry: a reply, like, repost, bookmark or plain mention; its author's h-card; its content and
dates). Pure: HTML in, a `SourceReading` out; no fetching, no storage."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import lxml.html
import mf2py
from lxml.etree import ParserError

# h-entry properties that name what an entry is about, and the kind each makes it.
KIND_PROPERTIES = (("in-reply-to", "reply"), ("like-of", "like"), ("repost-of", "repost"),
                   ("bookmark-of", "bookmark"))
# Elements whose URL attributes count as a link to the target (the spec's "href, src, ...").
LINK_ATTRIBUTES = (("a", "href"), ("link", "href"), ("area", "href"), ("img", "src"), ("video", "src"),
                   ("audio", "src"), ("source", "src"), ("blockquote", "cite"), ("q", "cite"))
MAX_TITLE = 300


@dataclass(frozen=True)
class SourceReading:
    """What a source page says about a target. `kind`: reply, like, repost, bookmark or mention;
    `about`: the URL the h-entry names for the target (it may carry #comment-N)."""

    links_to_target: bool
    kind: str = "mention"
    about: str | None = None
    author_name: str | None = None
    author_url: str | None = None
    author_photo: str | None = None
    content_html: str = ""
    title: str = ""
    published_at: datetime | None = None
    updated_at: datetime | None = None


def normalise_url(url: str) -> str:
    """A URL as compared with a target: scheme and host in lower case, default port and fragment
    dropped, an empty path as "/"."""
    parts = urlsplit(url.strip())
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    port = parts.port if parts.port not in (None, {"http": 80, "https": 443}.get(scheme)) else None
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def read_source(html: str, source_url: str, matches_target: Callable[[str], bool]) -> SourceReading:
    """Read a source page. `matches_target(url)` says whether a URL names the target (its post,
    whatever the fragment); the page links to the target if any of its links does."""
    try:
        root = lxml.html.document_fromstring(html)
    except (ParserError, ValueError):
        return SourceReading(links_to_target=False)
    links = [urljoin(source_url, value.strip()) for tag, attribute in LINK_ATTRIBUTES
             for element in root.iter(tag) if (value := element.get(attribute))]
    if not any(matches_target(link) for link in links):
        return SourceReading(links_to_target=False)
    parsed = mf2py.parse(doc=html, url=source_url, metaformats=False)
    entry = _pick_entry(list(_entries(parsed.get("items", []))), matches_target)
    if entry is None:
        return SourceReading(links_to_target=True, title=_line(root.findtext(".//title") or ""))
    props: dict[str, list[Any]] = entry.get("properties", {})
    kind, about = "mention", None
    for name, entry_kind in KIND_PROPERTIES:
        found = next((url for url in _urls(props.get(name, [])) if matches_target(url)), None)
        if found is not None:
            kind, about = entry_kind, found
            break
    author = _author(props.get("author", []))
    return SourceReading(
        links_to_target=True, kind=kind, about=about, author_name=author[0], author_url=author[1],
        author_photo=author[2], content_html=_content(props), title=_line(_first_text(props.get("name", []))),
        published_at=parse_time(_first_text(props.get("published", []))),
        updated_at=parse_time(_first_text(props.get("updated", []))),
    )


def _entries(items: list[Any]) -> Iterator[dict[str, Any]]:
    """Every h-entry on the page, top-level ones first, then those inside other items (an h-feed)."""
    nested: list[Any] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        if "h-entry" in item.get("type", []):
            yield item
        nested.extend(item.get("children", []))
    if nested:
        yield from _entries(nested)


def _pick_entry(entries: list[dict[str, Any]], matches_target: Callable[[str], bool]) -> dict[str, Any] | None:
    """The entry that is about the target (names it in a kind property), else the first one."""
    for entry in entries:
        props = entry.get("properties", {})
        if any(matches_target(url) for name, _kind in KIND_PROPERTIES for url in _urls(props.get(name, []))):
            return entry
    return entries[0] if entries else None


def _urls(values: list[Any]) -> list[str]:
    """URLs of a property: plain strings, or the url (and value) of an embedded h-cite."""
    found: list[str] = []
    for value in values:
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            found.extend(u for u in value.get("properties", {}).get("url", []) if isinstance(u, str))
            if isinstance(value.get("value"), str):
                found.append(value["value"])
    return found


def _first_text(values: list[Any]) -> str:
    for value in values:
        if isinstance(value, str):
            return value
        if isinstance(value, dict) and isinstance(value.get("value"), str):
            return str(value["value"])
    return ""


def _line(text: str) -> str:
    return " ".join(text.split())[:MAX_TITLE]


def _photo(values: list[Any]) -> str | None:
    value = values[0] if values else None
    if isinstance(value, dict):
        value = value.get("value")
    return value if isinstance(value, str) and value else None


def _author(values: list[Any]) -> tuple[str | None, str | None, str | None]:
    """(name, url, photo) of an entry's author: an h-card, a URL or a name."""
    if not values:
        return None, None, None
    author = values[0]
    if isinstance(author, dict):
        props = author.get("properties", {})
        urls = _urls(props.get("url", []))
        value = author.get("value")
        name = _first_text(props.get("name", [])) or (value if isinstance(value, str) else "")
        return _line(name) or None, urls[0] if urls else None, _photo(props.get("photo", []))
    if isinstance(author, str):
        if urlsplit(author).scheme in ("http", "https"):
            return None, author, None
        return _line(author) or None, None, None
    return None, None, None


def _content(props: dict[str, list[Any]]) -> str:
    """The entry's content as HTML (not yet sanitised): e-content's html, else its text, else the summary."""
    for name in ("content", "summary"):
        for value in props.get(name, []):
            if isinstance(value, dict):
                html = value.get("html")
                if isinstance(html, str) and html.strip():
                    return html
                text = value.get("value")
                if isinstance(text, str) and text.strip():
                    return f"<p>{escape(text)}</p>"
            elif isinstance(value, str) and value.strip():
                return f"<p>{escape(value)}</p>"
    return ""


def parse_time(value: str) -> datetime | None:
    """An mf2 date (ISO 8601, "+0200" offsets, a space for the T); a time without an offset is UTC."""
    text = value.strip()
    if not text:
        return None
    for candidate in (text, text.replace(" ", "T", 1)):
        try:
            parsed = datetime.fromisoformat(candidate)
        except ValueError:
            continue
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    return None
