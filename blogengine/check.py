"""Link check of a built site: local images, files, pages and #anchors that no output answers,
each reported at the source line (or template line) that wrote it, with a likely fix."""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urljoin, urlsplit

from markdown_it import MarkdownIt
from markdown_it.token import Token

from blogengine.config import SiteConfig
from blogengine.links import Link, PageLinks, read_page_links
from blogengine.markup import make_markdown
from blogengine.serverlink import COMMENT_PREFIXES
from blogengine.themes import template_dirs, theme_chain
from blogengine.write import JOURNAL, MARKER

SKIPPED_SCHEMES = ("mailto", "tel", "javascript", "data", "blob", "about", "sms", "geo", "urn")
# Fragments every page answers without an element of that id.
ALWAYS_THERE = ("", "top")

PageIndex = dict[str, tuple[int, int, PageLinks]]   # output rel -> (mtime_ns, size, links)
_SAME_EVERYWHERE = ("/", "http:", "https:")   # URLs that resolve alike on every page


@dataclass(frozen=True)
class LinkProblem:
    """A link that leads nowhere, at the file and line that wrote it."""

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"

    def sort_key(self) -> tuple[str, int, str]:
        return (self.path, self.line or 0, self.message)


@dataclass(frozen=True)
class ExternalLink:
    """An outside URL and the pages showing it (for `check --external`, which finds the lines
    that wrote it with `locate_links`)."""

    url: str
    places: tuple[tuple[str, str, Link], ...]   # (output rel, the source it came from, link)


@dataclass
class CheckResult:
    problems: list[LinkProblem]
    index: PageIndex                    # for the next check: pages unchanged since are not read
    external: list[ExternalLink] = field(default_factory=list)


@dataclass(frozen=True)
class CheckInputs:
    """What the check needs to know of the build besides the output folder."""

    config: SiteConfig
    out_dir: Path
    origins: dict[str, str]             # output rel -> the file it came from (a source or a copy)
    template_dirs: list[Path]


def check_site(inputs: CheckInputs, previous: PageIndex | None = None) -> CheckResult:
    """Read every built page (those unchanged since `previous` from it) and report every local
    link that leads nowhere."""
    files = _output_files(inputs.out_dir)
    index = _index_pages(inputs.out_dir, files, previous or {})
    resolver = _Resolver(inputs, files, index)
    seen: dict[str, tuple[str, str] | None] = {}
    found: dict[tuple[str, str], list[tuple[str, Link]]] = {}
    external: dict[str, list[tuple[str, Link]]] = {}
    for rel in sorted(index):
        for raw in index[rel][2].links:
            # Most links are the theme's, the same on every page: each URL is resolved once
            # (a relative one, or one to this page's anchors, once per page).
            url = raw[2]
            if url.startswith(_SAME_EVERYWHERE):
                if url not in seen:
                    seen[url] = resolver.check(rel, url)
                outcome = seen[url]
            else:
                outcome = resolver.check(rel, url)
            if outcome is None:
                continue
            kind, detail = outcome
            link = Link(*raw)
            if kind == "external":
                external.setdefault(detail, []).append((rel, link))
            else:
                found.setdefault((link.url, detail), []).append((rel, link))
    problems = _Locator(inputs).place(found)
    outside = [ExternalLink(url, tuple((rel, inputs.origins.get(rel, ""), link)
                                       for rel, link in places))
               for url, places in sorted(external.items())]
    return CheckResult(problems=problems, index=index, external=outside)


def locate_links(config: SiteConfig, out_dir: Path, link: ExternalLink) -> list[LinkProblem]:
    """Where each place of an outside link was written: one location per source line, the
    link's text as the message."""
    origins = {rel: origin for rel, origin, _link in link.places if origin}
    inputs = CheckInputs(config=config, out_dir=out_dir, origins=origins,
                         template_dirs=template_dirs(config, theme_chain(config)))
    locator = _Locator(inputs)
    written_by = sorted(set(origins.values()))
    spots = {locator.where(rel, found, written_by) for rel, _origin, found in link.places}
    return sorted(spots, key=LinkProblem.sort_key)


def _output_files(out_dir: Path) -> set[str]:
    files: set[str] = set()
    top = str(out_dir)
    for folder, _dirs, names in os.walk(top):
        base = os.path.relpath(folder, top).replace(os.sep, "/")
        prefix = "" if base == "." else base + "/"
        files.update(prefix + name for name in names if name not in (MARKER, JOURNAL))
    return files


def _index_pages(out_dir: Path, files: Iterable[str], previous: PageIndex) -> PageIndex:
    index: PageIndex = {}
    folder = str(out_dir)
    for rel in files:
        if not rel.endswith((".html", ".htm")):
            continue
        path = os.path.join(folder, rel)
        try:
            stat = os.stat(path)
            known = previous.get(rel)
            if known is not None and known[0] == stat.st_mtime_ns and known[1] == stat.st_size:
                index[rel] = known
                continue
            with open(path, encoding="utf-8", errors="replace") as handle:
                text = handle.read()
        except OSError:
            continue
        index[rel] = (stat.st_mtime_ns, stat.st_size, read_page_links(text))
    return index


def page_url(base_path: str, rel: str) -> str:
    """The URL path an output file is served at (folders for index.html)."""
    if rel == "index.html" or rel.endswith("/index.html"):
        rel = rel[: -len("index.html")]
    return base_path + rel


class _Resolver:
    """Where a link leads, and what is wrong with that."""

    def __init__(self, inputs: CheckInputs, files: set[str], index: PageIndex) -> None:
        self.config = inputs.config
        self.base_path = inputs.config.base_path
        self.site = urlsplit(inputs.config.base_url)
        self.files = files
        self.index = index
        self.origins = inputs.origins
        comments = inputs.config.comments
        self.comment_paths = comments.enabled and (
            not comments.url or urlsplit(comments.url).netloc == self.site.netloc)
        self._names: dict[str, list[str]] | None = None
        self._pages: list[str] | None = None

    def check(self, rel: str, url: str) -> tuple[str, str] | None:
        """None when a link to `url` on page `rel` is fine or not ours to check; ("external",
        url) for an outside link; ("problem", what is wrong) otherwise."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme in SKIPPED_SCHEMES or (scheme and scheme not in ("http", "https")):
            return None
        here = page_url(self.base_path, rel)
        if parts.netloc:
            if parts.netloc.lower() != self.site.netloc.lower():
                return ("external", url) if scheme in ("http", "https", "") and url[:2] != "//" \
                    else ("external", f"{self.site.scheme}:{url}")
            path = parts.path or "/"
        elif parts.path:
            path = urljoin(here, parts.path)
        else:
            path = here
        if self.comment_paths and path.startswith(COMMENT_PREFIXES):
            return None
        if not path.startswith(self.base_path) and path + "/" != self.base_path:
            return None          # elsewhere on this host: not the site's to answer
        wanted = unquote(path[len(self.base_path):])
        target = self._find(wanted)
        if target is None:
            return ("problem", self._missing(url, parts.path, path, wanted))
        fragment = unquote(parts.fragment)
        if fragment in ALWAYS_THERE or target not in self.index:
            return None
        ids = self.index[target][2].ids
        if fragment in ids:
            return None
        where = "this page" if not parts.path and not parts.netloc \
            else page_url(self.base_path, target)
        hint = difflib.get_close_matches(fragment, sorted(ids), n=1)
        suggestion = f" (did you mean #{hint[0]}?)" if hint else ""
        return ("problem", f"no element with id \"{fragment}\" on {where}{suggestion}")

    def _find(self, wanted: str) -> str | None:
        if wanted in ("", ".") or wanted.endswith("/"):
            candidate = wanted.lstrip("./") + "index.html" if wanted not in ("", ".") \
                else "index.html"
            return candidate if candidate in self.files else None
        if wanted in self.files:
            return wanted
        if wanted + "/index.html" in self.files:   # servers redirect a folder to its slash
            return wanted + "/index.html"
        return None

    def _missing(self, url: str, written: str, path: str, wanted: str) -> str:
        relative = bool(written) and not written.startswith("/") and not urlsplit(url).netloc
        if relative:
            what = f"resolves to {path}, which the built site does not have"
        else:
            what = "the built site has no such file" if PurePosixPath(wanted).suffix \
                else "the built site has no such page"
        found = self._suggest(wanted)
        if found is None:
            return what
        origin = self.origins.get(found)
        source = f", from {origin}" if origin and not found.endswith(".html") else ""
        return f"{what} (did you mean {self.base_path}{_url_of(found)}{source}?)"

    def _suggest(self, wanted: str) -> str | None:
        name = PurePosixPath(wanted).name
        if PurePosixPath(wanted).suffix and not wanted.endswith((".html", ".htm")):
            names = self._by_name()
            if name in names:
                return names[name][0]
            close = difflib.get_close_matches(name, sorted(names), n=1, cutoff=0.75)
            return names[close[0]][0] if close else None
        pages = self._page_urls()
        close = difflib.get_close_matches(wanted.strip("/"), pages, n=1, cutoff=0.75)
        if not close:
            return None
        return close[0] + "/index.html" if close[0] else "index.html"

    def _by_name(self) -> dict[str, list[str]]:
        if self._names is None:
            names: dict[str, list[str]] = {}
            for rel in sorted(self.files):
                if not rel.endswith((".html", ".htm")):
                    names.setdefault(PurePosixPath(rel).name, []).append(rel)
            self._names = names
        return self._names

    def _page_urls(self) -> list[str]:
        if self._pages is None:
            self._pages = sorted(rel[: -len("/index.html")] if rel.endswith("/index.html")
                                 else "" for rel in self.files
                                 if rel == "index.html" or rel.endswith("/index.html"))
        return self._pages


def _url_of(rel: str) -> str:
    return rel[: -len("index.html")] if rel == "index.html" or rel.endswith("/index.html") \
        else rel


def describe(link: Link) -> str:
    """How a warning names a link: its kind, its text, its URL."""
    text = f' "{link.text}"' if link.text else ""
    return f"{link.kind}{text} -> {link.url}"


class _Locator:
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
