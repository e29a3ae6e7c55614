"""Link check of a built site: local images, files, pages and #anchors that no output answers,
each reported at the source line (or template line) that wrote it, with a likely fix."""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Final
from urllib.parse import unquote, urljoin, urlsplit

from blogengine import parallel
from blogengine.links import Link, PageLinks, RawLink, read_page_links
from blogengine.pagefacts import PageStamp, check_stamp
from blogengine.search import INDEX_FOLDER
from blogengine.locate import CheckInputs, LinkProblem, Locator
from blogengine.serverlink import is_comment_path
from blogengine.write import output_files

SKIPPED_SCHEMES = ("mailto", "tel", "javascript", "data", "blob", "about", "sms", "geo", "urn")
# Fragments every page answers without an element of that id.
ALWAYS_THERE = ("", "top")

# Output rel -> (mtime_ns, size, digest, ids) of every page; plain tuples, quick to pickle.
# The digest (of the page's bytes) lets a page written again with the same bytes, as after
# `build --clean`, keep its links unread. The links themselves are kept apart (linkstore.py):
# a check reads the kept links of a page only when it checks that page without reading it.
PageEntry = tuple[int, int, bytes, frozenset[str]]
PageIndex = dict[str, PageEntry]
PageLinkIndex = dict[str, tuple[RawLink, ...]]
LinksOf = Callable[[str], tuple[RawLink, ...]]   # the last check's links of a page
DIGEST: Final = 2   # where a PageEntry holds the digest
IDS: Final = 3      # and the ids
_SAME_EVERYWHERE = ("/", "http:", "https:")   # URLs that resolve alike on every page
_NEEDS_PARSING = re.compile(r"[?#%:\\]|/\.|^\.")   # queries, fragments, escapes, dot segments
_OTHER_SITE = re.compile(r"https?://([^/?#\s]+)(?=[/?#]|$)")   # the host, as urlsplit finds it
PARALLEL_PAGES = 300   # below this many pages to read, forking workers costs more than it saves


@dataclass(frozen=True)
class ExternalLink:
    """An outside URL and the pages showing it (for `check --external`, which finds the lines
    that wrote it with `locate_links`)."""

    url: str
    places: tuple[tuple[str, str, RawLink], ...]   # (output rel, the source it came from, link)


@dataclass(frozen=True)
class CheckMemory:
    """What the next check needs to check only the pages that changed: the site's files and
    every bad link found, with the page showing it."""

    files: frozenset[str]
    found: tuple[tuple[str, str, str, RawLink], ...]   # (url, what is wrong, page rel, link)
    settings: str = ""   # what of the config decides where a link leads (_settings)


@dataclass
class CheckResult:
    problems: list[LinkProblem]
    index: PageIndex                    # for the next check: pages unchanged since are not read
    links: PageLinkIndex = field(default_factory=dict)   # of the pages this check read
    external: list[ExternalLink] = field(default_factory=list)
    memory: CheckMemory | None = None   # for the next check: see CheckMemory


def check_site(inputs: CheckInputs, previous: PageIndex | None = None,
               jobs: int = 1, *, links_of: LinksOf | None = None, external_links: bool = True,
               memory: CheckMemory | None = None, files: set[str] | None = None,
               stats: dict[str, tuple[int, int]] | None = None,
               written: dict[str, PageStamp] | None = None) -> CheckResult:
    """Read every built page (those unchanged since `previous` from it, their links from
    `links_of`) and report every local link that leads nowhere; with `external_links`, list the
    links to other sites too (where each one is: a big site has tens of thousands, so a build
    asks only when it must). With the last check's `memory`, only the links of changed pages are
    checked again, when that is enough (see _pages_to_check). `files`: every file in the output
    folder, when the caller knows (else the folder is walked); `stats`: each page's (mtime_ns,
    size), when the caller knows them (else each page is stat-ed); `written`: the stamps of
    the pages the build wrote, taken by their writers (pagefacts.py) and trusted as they are:
    a page written with the bytes `previous` knew is then not read. A page whose links
    `links_of` cannot give raises LookupError."""
    if links_of is None:   # nothing to take unread pages' links from: every page is read
        previous = None
    listed = frozenset(output_files(inputs.out_dir) if files is None else files)
    index, fresh = _index_pages(inputs.out_dir, listed, previous or {}, jobs, stats, written)
    if memory is not None and memory.settings != _settings(inputs):
        memory = None
    again = None if external_links else _pages_to_check(listed, index, previous, memory)

    def links(rel: str) -> tuple[RawLink, ...]:
        found = fresh.get(rel)
        if found is None:
            assert links_of is not None   # a page not read was in `previous`
            found = links_of(rel)
        return found

    if again is None or memory is None:
        return _check_links(inputs, listed, index, sorted(index), links, fresh, external_links)
    # The other pages' findings still hold.
    kept = [finding for finding in memory.found if finding[2] not in again]
    return _check_links(inputs, listed, index, sorted(again), links, fresh, external_links, kept)


def check_pages(inputs: CheckInputs, previous: PageIndex, rels: Iterable[str],
                files: set[str] | None = None, *, external_links: bool = False) -> CheckResult:
    """Check only the links on the pages `rels` (those a `serve` rebuild wrote), which are read
    again; every other page's ids come from `previous`. `files`: every file in the output
    folder, when the caller knows (else the folder is walked)."""
    files = output_files(inputs.out_dir) if files is None else files
    wanted = sorted(set(rels))
    index = {rel: known for rel, known in previous.items() if rel in files}
    fresh: PageLinkIndex = {}
    read = _read_pages(_Known(str(inputs.out_dir), {}),
                       [rel for rel in wanted if rel in files and rel.endswith((".html", ".htm"))])
    for rel, page in read.items():
        index[rel], links = _entry(page, {}, rel)
        fresh[rel] = links or ()   # (never None: nothing known, so every page is parsed)
    return _check_links(inputs, files, index, [rel for rel in wanted if rel in index],
                        fresh.__getitem__, fresh, external_links)


def _check_links(inputs: CheckInputs, files: AbstractSet[str], index: PageIndex,
                 rels: list[str], links_of: LinksOf, fresh: PageLinkIndex, external_links: bool,
                 kept: Iterable[tuple[str, str, str, RawLink]] = ()) -> CheckResult:
    """Resolve every link on the pages `rels`, and place each one that leads nowhere, with the
    `kept` findings of the pages not checked again (`fresh`: the links of the pages read, for
    the next check)."""
    resolver = _Resolver(inputs, files, index)
    seen: dict[str, tuple[str, str] | None] = {}
    found: dict[tuple[str, str], list[tuple[str, Link]]] = {}
    external: dict[str, list[tuple[str, Link]]] = {}
    for url, detail, rel, raw in kept:
        found.setdefault((url, detail), []).append((rel, Link(*raw)))
    for rel in rels:
        page = index[rel]
        for raw in links_of(rel):
            # Most links are the theme's, the same on every page: each URL is resolved once
            # (a relative one, or one to this page's anchors, once per page).
            url = raw[2]
            if url in seen:
                outcome = seen[url]
            elif url[:1] == "#" and url[1:] in page[IDS] and "%" not in url:
                continue            # a heading of this very page (a table of contents)
            elif url.startswith(_SAME_EVERYWHERE):
                outcome = seen[url] = resolver.check(rel, url)
            else:
                outcome = resolver.check(rel, url)
            if outcome is None:
                continue
            kind, detail = outcome
            if kind == "external":
                if external_links:
                    external.setdefault(detail, []).append((rel, Link(*raw)))
            else:
                found.setdefault((url, detail), []).append((rel, Link(*raw)))
    problems = Locator(inputs).place(found)
    outside = [ExternalLink(url, tuple((rel, inputs.origins.get(rel, ""), tuple(link))  # type: ignore[misc]
                                       for rel, link in places))
               for url, places in sorted(external.items())]
    memory = CheckMemory(files=_linkable(files), found=tuple(
        (url, detail, rel, tuple(link)) for (url, detail), places in found.items()  # type: ignore[misc]
        for rel, link in places), settings=_settings(inputs))
    return CheckResult(problems=problems, index=index, links=fresh, external=outside, memory=memory)


def _settings(inputs: CheckInputs) -> str:
    """The settings _Resolver reads: findings kept under other ones are not trusted."""
    config = inputs.config
    return repr((config.base_url, config.base_path, config.comments.enabled,
                 config.comments.url))


def _linkable(files: AbstractSet[str]) -> frozenset[str]:
    """The files pages may link to, less the search index: it is published after the check
    (and renamed by content at every index), so no check can count on it."""
    return frozenset(rel for rel in files if not rel.startswith(_INDEX_PREFIX))


_INDEX_PREFIX = INDEX_FOLDER + "/"


def _pages_to_check(files: frozenset[str], index: PageIndex, previous: PageIndex | None,
                    memory: CheckMemory | None) -> set[str] | None:
    """The pages whose links must be checked again, or None for all of them. Whether a link
    leads somewhere depends on the page it is on, the site's files and the ids of the page it
    aims at: while no file came or went and no page changed its ids, only the links of the
    pages that changed can have changed their answer."""
    if memory is None or previous is None or memory.files != _linkable(files):
        return None
    changed = set()
    for rel, page in index.items():
        before = previous.get(rel)
        if before is None or before[DIGEST] != page[DIGEST]:
            if before is None or before[IDS] != page[IDS]:
                return None
            changed.add(rel)
    return changed


def _index_pages(out_dir: Path, files: Iterable[str], previous: PageIndex, jobs: int,
                 stats: dict[str, tuple[int, int]] | None = None,
                 written: dict[str, PageStamp] | None = None) -> tuple[PageIndex, PageLinkIndex]:
    """Every page's entry: from `previous` for a page whose stat or bytes have not changed
    (as read, or for a page this build wrote, as its writer stamped it: `written`), else read
    (in workers when there are many, as after a first build); and the links of the pages
    parsed (the others' are as the last check kept them)."""
    index: PageIndex = {}
    fresh: PageLinkIndex = {}
    folder = str(out_dir)
    unread: list[str] = []
    for rel in files:
        if not rel.endswith((".html", ".htm")):
            continue
        known = previous.get(rel)
        taken = written.get(rel) if written is not None else None
        stamp = taken[:2] if taken is not None else stats.get(rel) if stats is not None else None
        if stamp is None:
            try:
                stat = os.stat(os.path.join(folder, rel))
            except OSError:
                continue
            stamp = (stat.st_mtime_ns, stat.st_size)
        if known is not None and known[0] == stamp[0] and known[1] == stamp[1]:
            index[rel] = known
        elif known is not None and taken is not None and taken[2] == known[DIGEST]:
            index[rel] = (*taken, known[IDS])   # written again with the same bytes
        else:
            unread.append(rel)
    # The theme's links are the same on every page: one tuple each, however many workers read
    # them, so the index takes less memory and the build cache pickles each once.
    shared: dict[RawLink, RawLink] = {}
    for _count, part in parallel.run_chunks(_read_pages, sorted(unread), jobs=jobs,
                                            minimum=PARALLEL_PAGES,
                                            context=_Known(folder, previous)):
        for rel, read in part.items():
            index[rel], links = _entry(read, previous, rel, shared)
            if links is not None:
                fresh[rel] = links
    return index, fresh


def _entry(read: _ReadPage, previous: PageIndex, rel: str,
           shared: dict[RawLink, RawLink] | None = None
           ) -> tuple[PageEntry, tuple[RawLink, ...] | None]:
    """A page's entry, as read, with the ids `previous` holds when its bytes are the same; and
    its links, None when it was not parsed (`shared`: one tuple per distinct link)."""
    mtime, size, digest, page = read
    if page is None:
        return (mtime, size, digest, previous[rel][IDS]), None
    links = page.links if shared is None else \
        tuple([shared.setdefault(link, link) for link in page.links])
    return (mtime, size, digest, page.ids), links


@dataclass(frozen=True)
class _Known:
    """Where the pages are, and what the last check read of them (workers inherit it by fork)."""

    folder: str
    previous: PageIndex


# A page as read: (mtime_ns, size, digest, its links and ids, or None when `previous` has
# them: a page written again with the same bytes; they need not travel back from a worker).
_ReadPage = tuple[int, int, bytes, PageLinks | None]


def _read_pages(known: _Known, rels: Sequence[str]) -> dict[str, _ReadPage]:
    """Read pages (in a build worker or the main process); a page with the bytes `previous`
    knew is not parsed again."""
    found: dict[str, _ReadPage] = {}
    for rel in rels:
        path = os.path.join(known.folder, rel)
        try:
            with open(path, "rb") as handle:
                stat = os.fstat(handle.fileno())
                data = handle.read()
        except OSError:
            continue
        mtime, size, digest = check_stamp(stat, data)
        before = known.previous.get(rel)
        page = None if before is not None and before[DIGEST] == digest \
            else read_page_links(data.decode("utf-8", errors="replace"))
        found[rel] = (mtime, size, digest, page)
    return found


def page_url(base_path: str, rel: str) -> str:
    """The URL path an output file is served at (folders for index.html)."""
    if rel == "index.html" or rel.endswith("/index.html"):
        rel = rel[: -len("index.html")]
    return base_path + rel


class _Resolver:
    """Where a link leads, and what is wrong with that."""

    def __init__(self, inputs: CheckInputs, files: AbstractSet[str], index: PageIndex) -> None:
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
        base = inputs.config.base_url
        self.plain_prefixes = (self.base_path, base if base.endswith("/") else base + "/")

    def check(self, rel: str, url: str) -> tuple[str, str] | None:
        """None when a link to `url` on page `rel` is fine or not ours to check; ("external",
        url) for an outside link; ("problem", what is wrong) otherwise."""
        # The usual case, a plain link to an existing page or file, without parsing the URL.
        for prefix in self.plain_prefixes:
            if url.startswith(prefix):
                rest = url[len(prefix):]
                if not _NEEDS_PARSING.search(rest) and self._find(rest) is not None:
                    return None
        # The next most usual: a link to another site, told apart without parsing the URL.
        other = _OTHER_SITE.match(url)
        if other is not None and other.group(1).lower() != self.site.netloc.lower():
            return ("external", url)
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
        if self.comment_paths and is_comment_path(path):
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
        ids = self.index[target][IDS]
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
