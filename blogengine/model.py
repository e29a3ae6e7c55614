"""Site model stage: documents -> Site (posts, pages, taxonomies, archives, URLs)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import PurePosixPath
from datetime import datetime
from typing import Any

from markupsafe import Markup
from slugify import slugify

from blogengine.config import SiteConfig
from blogengine.conversations import Conversation
from blogengine.errors import BlogError, BuildFailed, ContentError
from blogengine.parse import Document, TocEntry
from blogengine.shortcodes import with_shortcodes


@dataclass(eq=False, repr=False)
class Term:
    """A tag or a category, with the posts that carry it (newest first)."""

    def __repr__(self) -> str:  # short: the model is a graph, a full repr never ends
        return f"<{self.kind} {self.url}>"

    kind: str            # "tag" or "category"
    name: str
    slug: str
    url: str
    posts: list[Entry] = field(default_factory=list)

    @property
    def feed_url(self) -> str:
        return self.url + "atom.xml"


@dataclass(eq=False, repr=False)
class Entry:
    """A post or a page: one document placed on the site."""

    def __repr__(self) -> str:
        return f"<{self.kind} {self.url}>"

    doc: Document
    kind: str            # "post" or "page"
    url: str
    slug: str
    author: str
    comments: bool
    date: datetime | None        # in the site's time zone (None only for undated pages)
    updated: datetime | None
    tags: list[Term] = field(default_factory=list)
    category: Term | None = None
    previous: Entry | None = None   # older post
    next: Entry | None = None       # newer post
    related: list[Entry] = field(default_factory=list)
    # The published comments, baked in at build time (None: they could not be read).
    conversation: Conversation | None = None

    title = property(lambda self: self.doc.meta.title)
    draft = property(lambda self: self.doc.meta.draft)
    image = property(lambda self: self.doc.meta.image)
    fediverse = property(lambda self: self.doc.meta.fediverse)   # the announcement's URL, if any
    toc = property(lambda self: self.doc.toc)
    word_count = property(lambda self: self.doc.word_count)
    reading_time = property(lambda self: self.doc.reading_time)
    summary_text = property(lambda self: self.doc.summary_text)
    meta = property(lambda self: self.doc.meta.extra)
    source = property(lambda self: self.doc.source.display_path)

    @property
    def published(self) -> datetime:
        """A post's date; every post has one (front matter requires it)."""
        assert self.date is not None, f"{self.source} has no date"
        return self.date

    @property
    def content(self) -> Markup:
        return with_shortcodes(self.doc.html, self)

    @property
    def summary(self) -> Markup:
        return with_shortcodes(self.doc.summary_html, self)

    @property
    def thread(self) -> str:
        """The comment thread this entry opens: its path on the site."""
        return self.url

    @property
    def toc_entries(self) -> tuple[TocEntry, ...]:
        return self.doc.toc

    # Pickled without its neighbours and related posts (the Site that holds it puts them back):
    # as they stand, ten thousand posts chained by `previous` are too deep to pickle.
    # Nor with its conversation: every build bakes the conversations afresh (10,000 objects
    # less to unpickle from a kept model).
    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "previous": None, "next": None, "related": [],
                "conversation": None}


@dataclass(frozen=True)
class Pagination:
    number: int
    count: int
    urls: tuple[str, ...]

    @property
    def prev_url(self) -> str | None:
        return self.urls[self.number - 2] if self.number > 1 else None

    @property
    def next_url(self) -> str | None:
        return self.urls[self.number] if self.number < self.count else None

    @property
    def nearby(self) -> list[tuple[int, str] | None]:
        """(number, url) of the first and last pages and those around this one; None where
        pages are left out. A thousand-page blog must not list a thousand links on each page."""
        shown = sorted({1, self.count, *range(max(1, self.number - 2),
                                               min(self.count, self.number + 2) + 1)})
        window: list[tuple[int, str] | None] = []
        for number in shown:
            if window and window[-1] is not None and number - window[-1][0] > 1:
                window.append(None)
            window.append((number, self.urls[number - 1]))
        return window


@dataclass(eq=False, repr=False)
class Listing:
    """A generated page that lists posts: index, tag, category, archive, tag overview, 404; and
    the comment server's page shell (COMMENT_PAGE_URL)."""

    def __repr__(self) -> str:
        return f"<{self.kind} listing {self.url}>"

    kind: str            # "index", "tag", "category", "archive", "tags", "404", "comment-page",
                         # "search"
    title: str
    url: str
    posts: list[Entry] = field(default_factory=list)
    pagination: Pagination | None = None
    term: Term | None = None
    year: int | None = None
    month: int | None = None

    @property
    def groups(self) -> list[tuple[int, list[Entry]]]:
        """This listing's posts by year, newest year first (for archive pages)."""
        years: dict[int, list[Entry]] = defaultdict(list)
        for post in self.posts:
            years[post.published.year].append(post)
        return sorted(years.items(), reverse=True)


@dataclass(eq=False, repr=False)
class Site:
    config: SiteConfig
    posts: list[Entry]
    pages: list[Entry]
    tags: list[Term]
    categories: list[Term]
    listings: list[Listing]
    archive_years: list[Listing]

    def __repr__(self) -> str:  # short: the model is a graph, a full repr never ends
        return f"<site {self.config.title!r}: {len(self.posts)} posts>"

    @property
    def entries(self) -> list[Entry]:
        return self.posts + self.pages

    def __getstate__(self) -> dict[str, Any]:
        """With each entry's neighbours and related posts as positions (see Entry)."""
        entries = self.entries
        at = {id(entry): n for n, entry in enumerate(entries)}
        def where(entry: Entry | None) -> int | None:
            return None if entry is None else at[id(entry)]
        return {**self.__dict__, "_links": [
            (where(entry.previous), where(entry.next), [at[id(other)] for other in entry.related])
            for entry in entries]}

    def __setstate__(self, state: dict[str, Any]) -> None:
        links = state.pop("_links")
        self.__dict__.update(state)
        entries = self.entries
        for entry, (previous, newer, related) in zip(entries, links):
            entry.previous = None if previous is None else entries[previous]
            entry.next = None if newer is None else entries[newer]
            entry.related = [entries[n] for n in related]

    @property
    def updated(self) -> datetime | None:
        """The newest date on the site, used for feeds (never the clock: builds are repeatable)."""
        dates = [p.updated or p.published for p in self.posts]
        return max(dates) if dates else None


# Files every build writes besides pages; feeds.py and sitefiles.py write them.
ATOM_URL = "/atom.xml"
RSS_URL = "/rss.xml"
SITEMAP_URL = "/sitemap.xml"
ROBOTS_URL = "/robots.txt"
THREADS_URL = "/threads.json"
# The comment server's reader pages are drawn in this page (comments_server/shell.py reads it).
COMMENT_PAGE_URL = "/comment-page.html"
SEARCH_URL = "/search/"   # the search page (search.html), when [search] is enabled
COMMENT_PAGE_TITLE = "[[bec:title]]"
THEME_PREFIX = "/theme/"
GENERATED_URLS = (ATOM_URL, RSS_URL, SITEMAP_URL, ROBOTS_URL, THREADS_URL, THEME_PREFIX)


def output_path(url: str) -> str:
    """The file a URL is written to, relative to the output folder."""
    path = url.lstrip("/")
    return path + "index.html" if url.endswith("/") else path


def build_site(documents: list[Document], config: SiteConfig, *, drafts: bool = False,
               future: bool = False, now: datetime | None = None) -> Site:
    """Place every document on the site; raise BuildFailed listing every conflict."""
    errors: list[BlogError] = []
    now = now or datetime.now(config.tz)
    posts: list[Entry] = []
    pages: list[Entry] = []
    for doc in documents:
        if doc.meta.draft and not drafts:
            continue
        if doc.kind == "post" and doc.meta.date and doc.meta.date > now and not future:
            continue
        try:
            entry = _place(doc, config)
        except ContentError as exc:
            errors.append(exc)
            continue
        (posts if doc.kind == "post" else pages).append(entry)

    posts.sort(key=lambda p: (p.date, p.title, p.source), reverse=True)
    pages.sort(key=lambda p: (p.title, p.source))
    tags = _terms(posts, "tag", "/tags/", lambda p: list(p.doc.meta.tags), errors)
    categories = _terms(posts, "category", "/categories/",
                        lambda p: [p.doc.meta.category] if p.doc.meta.category else [], errors)
    for post in posts:
        post.tags = list({_slug(t): tags[_slug(t)] for t in post.doc.meta.tags
                          if _slug(t) in tags}.values())
        if post.doc.meta.category and _slug(post.doc.meta.category) in categories:
            post.category = categories[_slug(post.doc.meta.category)]
    for newer, older in zip(posts, posts[1:]):
        newer.previous, older.next = older, newer
    _relate(posts, config.related_posts)

    tag_list = sorted(tags.values(), key=lambda t: t.slug)
    category_list = sorted(categories.values(), key=lambda t: t.slug)
    listings, years = _listings(posts, tag_list, category_list, config)
    _check_urls(posts + pages, listings, tag_list, errors)
    if errors:
        raise BuildFailed(errors)
    return Site(config=config, posts=posts, pages=pages, tags=tag_list,
                categories=category_list, listings=listings, archive_years=years)


@lru_cache(maxsize=65536)
def _slug(text: str) -> str:
    # Cached: the same tags and categories come back on thousands of posts.
    return slugify(text, max_length=80, word_boundary=True)


def _place(doc: Document, config: SiteConfig) -> Entry:
    meta = doc.meta
    slug = meta.slug or _slug(meta.title) or _slug(PurePosixPath(doc.source.rel).stem)
    if not slug:
        raise ContentError("cannot make a URL slug from the title; add `slug: ...`",
                           path=doc.source.display_path, line=1)
    if doc.kind == "post":
        date = meta.date
        assert date is not None  # required for posts by read_front_matter
        local = date.astimezone(config.tz)
        category = _slug(meta.category) if meta.category else "uncategorized"
        url = config.permalink.format(year=f"{local.year:04d}", month=f"{local.month:02d}",
                                      day=f"{local.day:02d}", slug=slug, category=category)
        comments = meta.comments if meta.comments is not None else config.comments.enabled
    else:
        parts = doc.source.parts
        folders = parts[1:-1] if parts[0] == "pages" else parts[:-1]
        url = config.page_permalink.format(slug="/".join([*(_slug(f) for f in folders), slug]))
        comments = bool(meta.comments) and config.comments.enabled
    url = _safe_url(url, doc)
    return Entry(doc=doc, kind=doc.kind, url=url, slug=slug,
                 author=meta.author or config.author.name, comments=comments,
                 date=meta.date.astimezone(config.tz) if meta.date else None,
                 updated=meta.updated.astimezone(config.tz) if meta.updated else None)


def document_url(doc: Document, config: SiteConfig) -> str:
    """Where a document would be placed (ContentError if it cannot be): importers use it to
    find a free URL before writing."""
    return _place(doc, config).url


def _safe_url(url: str, doc: Document) -> str:
    """Collapse '//' and refuse '.' or '..' segments: no URL may leave the output folder."""
    parts = [part for part in url.split("/") if part]
    if any(part in (".", "..") for part in parts):
        raise ContentError(f"URL {url!r} would leave the site", path=doc.source.display_path)
    return "/" + "".join(part + "/" for part in parts)


def _terms(posts: list[Entry], kind: str, prefix: str, names: Any,
           errors: list[BlogError]) -> dict[str, Term]:
    terms: dict[str, Term] = {}
    for post in posts:
        seen: set[str] = set()
        for name in names(post):
            slug = _slug(name)
            if slug in seen:  # two spellings of one tag on one post
                continue
            seen.add(slug)
            if not slug:
                errors.append(ContentError(f"{kind} {name!r} has no letters or digits to make a URL",
                                           path=post.source))
                continue
            term = terms.setdefault(slug, Term(kind=kind, name=name, slug=slug,
                                               url=f"{prefix}{slug}/"))
            term.posts.append(post)
    return terms


def _relate(posts: list[Entry], limit: int) -> None:
    """Related posts: most shared tags first, then the newest.

    Each tag is a bitset over the posts (bit i = the i-th newest), and a post's shared-tag
    counts are added up bit-sliced, so ten thousand posts take a fraction of a second instead
    of tens of millions of dictionary updates."""
    if limit <= 0:
        return
    index = {id(p): i for i, p in enumerate(posts)}
    masks: dict[int, int] = {}
    for post in posts:
        for term in post.tags:
            if id(term) not in masks:
                masks[id(term)] = sum(1 << index[id(other)] for other in term.posts)
    everyone = (1 << len(posts)) - 1
    for i, post in enumerate(posts):
        counter: list[int] = []   # counter[j]: bit j of each post's shared-tag count
        for term in post.tags:
            carry = masks[id(term)]
            for j, bits in enumerate(counter):
                counter[j], carry = bits ^ carry, bits & carry
                if not carry:
                    break
            if carry:
                counter.append(carry)
        chosen: list[Entry] = []
        for shared in range(len(post.tags), 0, -1):
            exactly = everyone & ~(1 << i)
            for j, bits in enumerate(counter):
                exactly &= bits if shared >> j & 1 else ~bits
            while exactly and len(chosen) < limit:
                lowest = exactly & -exactly
                chosen.append(posts[lowest.bit_length() - 1])
                exactly ^= lowest
            if len(chosen) == limit:
                break
        post.related = chosen


def _paginate(kind: str, title: str, base: str, posts: list[Entry], per_page: int,
              **extra: Any) -> list[Listing]:
    chunks = [posts[i:i + per_page] for i in range(0, len(posts), per_page)] or [[]]
    urls = tuple(base if n == 1 else f"{base}page/{n}/" for n in range(1, len(chunks) + 1))
    return [Listing(kind=kind, title=title, url=urls[n], posts=chunk,
                    pagination=Pagination(number=n + 1, count=len(chunks), urls=urls), **extra)
            for n, chunk in enumerate(chunks)]


def _listings(posts: list[Entry], tags: list[Term], categories: list[Term],
              config: SiteConfig) -> tuple[list[Listing], list[Listing]]:
    per_page = config.posts_per_page
    listings = _paginate("index", config.title, "/", posts, per_page)
    for term in tags + categories:
        label = "Tag" if term.kind == "tag" else "Category"
        listings += _paginate(term.kind, f"{label}: {term.name}", term.url, term.posts, per_page,
                              term=term)
    listings.append(Listing(kind="tags", title="Tags and categories", url="/tags/"))
    listings.append(Listing(kind="archive", title="Archive", url="/archive/", posts=posts))
    years: list[Listing] = []
    by_year: dict[int, list[Entry]] = defaultdict(list)
    by_month: dict[tuple[int, int], list[Entry]] = defaultdict(list)
    for post in posts:
        by_year[post.published.year].append(post)
        by_month[(post.published.year, post.published.month)].append(post)
    for year in sorted(by_year, reverse=True):
        years.append(Listing(kind="archive", title=f"Archive: {year}", url=f"/{year:04d}/",
                             posts=by_year[year], year=year))
    months = [Listing(kind="archive", title=f"Archive: {year:04d}-{month:02d}",
                      url=f"/{year:04d}/{month:02d}/", posts=by_month[(year, month)],
                      year=year, month=month)
              for year, month in sorted(by_month, reverse=True)]
    listings += years + months
    listings.append(Listing(kind="404", title="Page not found", url="/404.html"))
    if config.search.enabled:
        listings.append(Listing(kind="search", title="Search", url=SEARCH_URL))
    if config.comments.enabled:
        listings.append(Listing(kind="comment-page", title=COMMENT_PAGE_TITLE, url=COMMENT_PAGE_URL))
    return listings, years


def _check_urls(entries: list[Entry], listings: list[Listing], tags: list[Term],
                errors: list[BlogError]) -> None:
    """Two things written to one file, or a page where a generated file must go (or inside
    it, as `sitemap.xml/index.html`), is an error naming the source."""
    owners: dict[str, str] = {}
    for listing in listings:
        owners.setdefault(output_path(listing.url), f"the {listing.kind} page {listing.url}")
    for url in (*GENERATED_URLS, *(tag.feed_url for tag in tags)):
        owners.setdefault(output_path(url), f"the generated file {url}")
    for entry in entries:
        path = output_path(entry.url)
        parents = ["/".join(path.split("/")[:n]) for n in range(1, path.count("/") + 1)]
        clash = next((p for p in [path, *parents] if p in owners), None)
        if clash is not None:
            errors.append(ContentError(
                f"writes {entry.url} ({path}), where {owners[clash]} goes; "
                "give it another `slug:`", path=entry.source))
        else:
            owners[path] = entry.source
