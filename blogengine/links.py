"""What a built HTML page links to and which ids it holds, read back from the page itself
(so theme links are seen as well as the post's own), for `blogengine check`.

A scanner of tags and attributes, not a full HTML parser: several times faster than
html.parser on a thousand pages, and the pages are blogengine's own output. Comments and the bodies of
script, style and template elements are skipped; code in pages is escaped, so never seen."""

from __future__ import annotations

import functools
import html
import re
import sys
from typing import NamedTuple

# The attributes that load or lead to a URL, by tag.
URL_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "a": ("href",), "area": ("href",), "link": ("href",), "img": ("src", "srcset"),
    "source": ("src", "srcset"), "script": ("src",), "iframe": ("src",), "embed": ("src",),
    "video": ("src", "poster"), "audio": ("src",), "track": ("src",), "object": ("data",),
}
_TEXT_LIMIT = 80
# Starts with a plain "<" so the regex engine can jump from one "<" to the next (five times
# faster than an alternation at every position); group 1 is the opening tag less its "<".
_SKIPPED = re.compile(r"<(?:!--.*?-->|((script|style|template)\b[^>]*>).*?</\2\s*>)",
                      re.DOTALL | re.IGNORECASE)
# An opening tag that may hold a URL or an id, or an </a>. The lookahead passes over the other
# tags (<p>, <em>, <code>, <span class=...>: most of a page) inside the regex engine.
_TAG = re.compile(r"<(?=(?:%s)[\s>/]|[a-zA-Z][^>]*?[\s\"'/]id\s*=)"
                  r"([a-zA-Z][a-zA-Z0-9-]*)(\s[^>]*)?>|</a\s*>"
                  % "|".join(URL_ATTRIBUTES), re.IGNORECASE)
_ATTR = re.compile(r"""([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?""")
_MARKUP = re.compile(r"<[^>]*>")


class Link(NamedTuple):
    """One URL in a page: the tag and attribute it sits in, and the text a reader sees.
    (A tuple: thousands are kept in the build cache between builds.)"""

    tag: str
    attr: str
    url: str
    text: str        # an <a>'s text, an <img>'s alt; "" for the rest

    @property
    def kind(self) -> str:
        if self.tag in ("img", "source", "video") or self.attr == "poster":
            return "image"
        if self.tag in ("a", "area"):
            return "link"
        return f"<{self.tag} {self.attr}>"


# A Link as a plain tuple (tag, attr, url, text): ten thousand pages' links are kept in the
# build cache, and plain tuples pickle six times faster than named ones.
RawLink = tuple[str, str, str, str]


class PageLinks(NamedTuple):
    """Every link of one page, in document order, and every fragment a link may aim at."""

    links: tuple[RawLink, ...]
    ids: frozenset[str]


def read_page_links(page: str) -> PageLinks:
    """The links and ids of an HTML page."""
    text = _SKIPPED.sub(lambda m: "<" + m.group(1) if m.group(1) else "", page)
    links: list[RawLink] = []
    ids: set[str] = set()
    anchor: tuple[int, int] | None = None        # open <a>: its link's index, where text starts
    for match in _TAG.finditer(text):
        name = match.group(1)
        if name is None:                         # </a>
            if anchor is not None and anchor[0] < len(links):
                tag, attr, url, _text = links[anchor[0]]
                inner = text[anchor[1]:match.start()]
                inner = _MARKUP.sub("", inner) if "<" in inner else inner
                words = " ".join((html.unescape(inner) if "&" in inner else inner).split())
                if len(words) > _TEXT_LIMIT:
                    words = words[:_TEXT_LIMIT - 1] + "…"
                links[anchor[0]] = (tag, attr, url, sys.intern(words))
            anchor = None
            continue
        body = match.group(2) or ""
        tag = name.lower()
        if tag not in URL_ATTRIBUTES:
            if "id" in body.lower():
                found = _attributes(body).get("id")
                if found is not None:
                    ids.add(found)
            continue
        tag_ids, tag_links = _tag_links(tag, body)
        ids.update(tag_ids)
        start = len(links)
        links.extend(tag_links)
        if tag == "a":
            anchor = (start, match.end()) if len(links) > start else None
    return PageLinks(links=tuple(links), ids=frozenset(ids))


@functools.lru_cache(maxsize=8192)
def _tag_links(tag: str, body: str) -> tuple[tuple[str, ...], tuple[RawLink, ...]]:
    """The ids and URLs one tag holds (cached: the theme's tags repeat on every page)."""
    values = _attributes(body)
    ids = tuple(values[name] for name in ("id", "name") if name in values
                and (name == "id" or tag == "a"))
    alt = values.get("alt", "") if tag == "img" else ""
    found: list[RawLink] = []
    for attr in URL_ATTRIBUTES[tag]:
        value = values.get(attr)
        if value is None:
            continue
        urls = srcset_urls(value) if attr == "srcset" else [value.strip()]
        # Interned: the theme's links repeat on every page, and the build cache pickles
        # each string once.
        found.extend((tag, attr, sys.intern(url), sys.intern(alt)) for url in urls)
    return ids, tuple(found)


@functools.lru_cache(maxsize=8192)
def _attributes(body: str) -> dict[str, str]:
    # Cached: the theme's tags (menus, feeds, scripts) are the same on every page. Callers
    # only read the dict.
    values: dict[str, str] = {}
    for name, double, single, bare in _ATTR.findall(body):
        raw = double or single or bare
        values.setdefault(name.lower(), html.unescape(raw) if "&" in raw else raw)
    return values


def srcset_urls(value: str) -> list[str]:
    """The URLs of a srcset attribute ("a.png 1x, b.png 2x")."""
    return [candidate.split()[0] for candidate in value.split(",") if candidate.split()]
