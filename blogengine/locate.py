"""Where a link was written: the Markdown line of the page's source (raw HTML and front matter
included), else the template line, for the warnings of `blogengine check`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.token import Token

from blogengine.config import SiteConfig
from blogengine.links import Link, RawLink, read_page_links
from blogengine.markup import make_markdown
from blogengine.report import LinkProblem as LinkProblem
from blogengine.themes import template_dirs, theme_chain


@dataclass(frozen=True)
class CheckInputs:
    """What the check needs to know of the build besides the output folder."""

    config: SiteConfig
    out_dir: Path
    origins: dict[str, str]             # output rel -> the file it came from (a source or a copy)
    template_dirs: list[Path]


def locate_links(config: SiteConfig, out_dir: Path,
                 places: Iterable[tuple[str, str, RawLink]]) -> list[LinkProblem]:
    """Where a link shown in several places (output rel, the source it came from, the link)
    was written: one location per source or template line, the link's text as the message."""
    places = list(places)
    origins = {rel: origin for rel, origin, _link in places if origin}
    inputs = CheckInputs(config=config, out_dir=out_dir, origins=origins,
                         template_dirs=template_dirs(config, theme_chain(config)))
    locator = Locator(inputs)
    written_by = sorted(set(origins.values()))
    spots = {locator.where(rel, Link(*found), written_by) for rel, _origin, found in places}
    return sorted(spots, key=LinkProblem.sort_key)


def describe(link: Link) -> str:
    """How a warning names a link: its kind, its text, its URL."""
    text = f' "{link.text}"' if link.text else ""
    return f"{link.kind}{text} -> {link.url}"


class Locator:
    """Which file and line wrote a link: the page's Markdown source, else a template."""

    def __init__(self, inputs: CheckInputs) -> None:
        self.inputs = inputs
        self.root = inputs.config.root
        self._md: MarkdownIt | None = None
        self._sources: dict[str, tuple[list[tuple[str, str, int]], list[str]]] = {}
        self._templates: list[tuple[str, list[str]]] | None = None

    def place(self, found: dict[tuple[str, str], list[tuple[str, Link]]]) -> list[LinkProblem]:
        """One problem per place that wrote a bad link; a template's once, however many pages
        show it."""
        placed: dict[tuple[str, int | None, str], list[str]] = {}
        for (_url, detail), places in found.items():
            # A listing shows a post's summary: its links are that post's.
            written_by = sorted({self.inputs.origins.get(rel, "") for rel, _ in places})
            for rel, link in places:
                spot = self.where(rel, link, written_by)
                message = f"{describe(link)}: {detail}"
                placed.setdefault((spot.path, spot.line, message), []).append(rel)
        problems = []
        for (path, line, message), pages in placed.items():
            if len(pages) > 1:
                message += f" (on {len(pages)} pages)"
            problems.append(LinkProblem(path, line, message))
        return sorted(problems, key=LinkProblem.sort_key)

    def where(self, rel: str, link: Link, candidates: Iterable[str] = ()) -> LinkProblem:
        """The file and line that wrote `link` into output `rel`: the page's own source, else
        one of `candidates` (the sources of other pages showing the link), else a template."""
        origin = self.inputs.origins.get(rel, "")
        for source in (origin, *candidates):
            if source.endswith((".md", ".markdown")):
                line = self._in_source(source, link)
                if line is not None:
                    return LinkProblem(source, line, link.text)
        template = self._in_templates(link.url)
        if template is not None:
            return LinkProblem(template[0], template[1], link.text)
        return LinkProblem(self._display(self.inputs.out_dir / rel), None, link.text)

    def _display(self, path: Path) -> str:
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return str(path)

    def _in_source(self, origin: str, link: Link) -> int | None:
        if origin not in self._sources:
            self._sources[origin] = self._source_links(self.root / origin)
        links, lines = self._sources[origin]
        same = [line for url, text, line in links if url == link.url]
        best = [line for url, text, line in links if url == link.url and text == link.text]
        if best or same:
            return (best or same)[0]
        for number, text in enumerate(lines, start=1):   # front matter, or where the text is
            if link.url in text:
                return number
        return None

    def _source_links(self, path: Path) -> tuple[list[tuple[str, str, int]], list[str]]:
        """(URL, line) of every link the Markdown writes, and the file's lines (for links in
        raw HTML or front matter)."""
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return [], []
        if self._md is None:
            self._md = make_markdown(allow_html=not self.inputs.config.escape_html)
        return list(markdown_links(self._md.parse(text, {}))), text.splitlines()

    def _in_templates(self, url: str) -> tuple[str, int] | None:
        if self._templates is None:
            self._templates = []
            for folder in self.inputs.template_dirs:
                for file in sorted(folder.rglob("*")) if folder.is_dir() else []:
                    if file.is_file():
                        try:
                            lines = file.read_text(encoding="utf-8").splitlines()
                        except (OSError, UnicodeDecodeError):
                            continue
                        self._templates.append((self._display(file), lines))
        for name, lines in self._templates:
            for number, line in enumerate(lines, start=1):
                if url in line:
                    return name, number
        return None


def markdown_links(tokens: list[Token]) -> Iterable[tuple[str, str, int]]:
    """(URL, text, 1-based file line) of each link and image in parsed Markdown, raw HTML
    included. Inline tokens carry no position: the line is their block's first line plus the
    line breaks before them."""
    for token in tokens:
        if token.map is None:
            continue
        first = token.map[0] + 1
        if token.type == "html_block":
            yield from _html_links(token.content, first)
        elif token.type == "inline":
            yield from _inline_links(token.children or [], first)


def _inline_links(children: list[Token], first: int) -> Iterable[tuple[str, str, int]]:
    breaks = 0
    open_link: tuple[str, int, list[str]] | None = None
    for child in children:
        if child.type in ("softbreak", "hardbreak"):
            breaks += 1
        elif child.type == "link_open":
            open_link = (str(child.attrGet("href") or ""), first + breaks, [])
        elif child.type == "link_close" and open_link is not None:
            yield open_link[0], " ".join("".join(open_link[2]).split()), open_link[1]
            open_link = None
        elif child.type == "image":
            yield str(child.attrGet("src") or ""), child.content, first + breaks
        elif child.type == "html_inline":
            yield from _html_links(child.content, first + breaks)
            breaks += child.content.count("\n")
        elif child.type in ("text", "code_inline") and open_link is not None:
            open_link[2].append(child.content)


def _html_links(html: str, first: int) -> Iterable[tuple[str, str, int]]:
    """Links in raw HTML, each at the line its URL is written on."""
    position = 0
    for _tag, _attr, url, text in read_page_links(html).links:
        at = html.find(url, position)
        if at >= 0:
            position = at
        yield url, text, first + html.count("\n", 0, max(at, 0))
