"""What a built HTML page links to and which ids it holds, read back from the page itself
(so theme links are seen as well as the post's own), for `blogengine check`."""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser

# The attributes that load or lead to a URL, by tag.
URL_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "a": ("href",), "area": ("href",), "link": ("href",), "img": ("src", "srcset"),
    "source": ("src", "srcset"), "script": ("src",), "iframe": ("src",), "embed": ("src",),
    "video": ("src", "poster"), "audio": ("src",), "track": ("src",), "object": ("data",),
}
_TEXT_LIMIT = 80


@dataclass(frozen=True)
class Link:
    """One URL in a page: the tag and attribute it sits in, and the text a reader sees."""

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


@dataclass(frozen=True)
class PageLinks:
    """Every link of one page, in document order, and every fragment a link may aim at."""

    links: tuple[Link, ...]
    ids: frozenset[str]


def read_page_links(html: str) -> PageLinks:
    """The links and ids of an HTML page."""
    parser = _LinkParser()
    parser.feed(html)
    parser.close()
    return PageLinks(links=tuple(parser.links), ids=frozenset(parser.ids))


def srcset_urls(value: str) -> list[str]:
    """The URLs of a srcset attribute ("a.png 1x, b.png 2x")."""
    return [candidate.split()[0] for candidate in value.split(",") if candidate.split()]


class _LinkParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[Link] = []
        self.ids: set[str] = set()
        self._anchor: tuple[int, list[str]] | None = None   # open <a>: its links, its text

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value for name, value in attrs if value is not None}
        if "id" in values:
            self.ids.add(values["id"])
        if tag == "a" and "name" in values:
            self.ids.add(values["name"])
        text = values.get("alt", "") if tag == "img" else ""
        start = len(self.links)
        for attr in URL_ATTRIBUTES.get(tag, ()):
            value = values.get(attr)
            if value is None:
                continue
            urls = srcset_urls(value) if attr == "srcset" else [value.strip()]
            self.links.extend(Link(tag=tag, attr=attr, url=url, text=text) for url in urls)
        if tag == "a":
            self._anchor = (start, [])

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._anchor is not None:
            start, parts = self._anchor
            self._anchor = None
            text = " ".join("".join(parts).split())
            if len(text) > _TEXT_LIMIT:
                text = text[:_TEXT_LIMIT - 1] + "…"
            if start < len(self.links) and self.links[start].tag == "a":
                link = self.links[start]
                self.links[start] = Link(link.tag, link.attr, link.url, text)

    def handle_data(self, data: str) -> None:
        if self._anchor is not None:
            self._anchor[1].append(data)
