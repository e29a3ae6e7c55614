"""Comment bodies: Markdown -> HTML -> allow-list sanitising. The only module that imports bleach."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import escape as html_escape
from html import unescape as html_unescape
from typing import Any

import bleach
from bleach.html5lib_shim import Filter
from markdown_it import MarkdownIt

ALLOWED_TAGS = frozenset({"p", "br", "a", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li"})
ALLOWED_ATTRIBUTES = {"a": ["href", "title"]}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow ugc noopener"
_ABSOLUTE_SAFE_URL = re.compile(r"^(https?://|mailto:)", re.IGNORECASE)


def _markdown() -> MarkdownIt:
    # Raw HTML off: a reader's "<script>" is text. Block rules whose tags the allow-list would
    # strip anyway (headings, images, rules, tables) are off, so their text reads as written.
    md = MarkdownIt("commonmark", {"html": False, "linkify": True, "breaks": True})
    md.enable("linkify")
    md.disable(["heading", "lheading", "image", "hr", "html_block", "html_inline"])
    # Only absolute http(s) and mailto links; anything else (relative, unknown or encoded schemes)
    # stays as the text the reader typed. bleach checks the protocols again afterwards.
    md.validateLink = lambda url: bool(_ABSOLUTE_SAFE_URL.match(url))  # type: ignore[method-assign]
    return md


class _LinkRelFilter(Filter):  # type: ignore[misc]
    """Give every link the same rel, whatever the input said; keep only absolute http(s) and mailto
    targets (HTML from elsewhere may hold relative ones, which would point into this site)."""

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for token in super().__iter__():
            if token["type"] == "StartTag" and token["name"] == "a":
                attrs = dict(token.get("data") or {})
                href = attrs.get((None, "href"))
                if href is not None and not _ABSOLUTE_SAFE_URL.match(href.strip()):
                    del attrs[(None, "href")]
                attrs[(None, "rel")] = LINK_REL
                token["data"] = attrs
            yield token


_MD = _markdown()
_CLEANER = bleach.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    strip_comments=True,
    filters=[_LinkRelFilter],
)


def render_comment(text: str) -> str:
    """Markdown source -> safe HTML, ready to store and serve as is."""
    return str(_CLEANER.clean(_MD.render(text))).strip()


def clean_html(html: str) -> str:
    """HTML from elsewhere (another server's API) through the same allow-list as a rendered body."""
    return str(_CLEANER.clean(html)).strip()


def plain_html(text: str) -> str:
    """Text as HTML without Markdown (for bodies that are never published: spam)."""
    return "<p>" + html_escape(text).replace("\n", "<br>\n") + "</p>"


def count_links(html: str) -> int:
    """Links in HTML made by render_comment (whose output is normalised, so counting tags is exact)."""
    return html.count("<a ")


_TEXT_ONLY = bleach.Cleaner(tags=frozenset(), attributes={}, strip=True, strip_comments=True)


def html_text(html: str) -> str:
    """The text of HTML from elsewhere (a received reply), tags dropped and whitespace collapsed:
    what search and the plain-text views of a remote reply use."""
    return " ".join(html_unescape(str(_TEXT_ONLY.clean(html))).split())
