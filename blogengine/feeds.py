"""Feeds: site-wide Atom and RSS 2.0 and per-tag Atom, through feedgen, with absolute links."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
import re
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from blogengine import __version__
from blogengine.config import SiteConfig
from blogengine.model import ATOM_URL, RSS_URL, Entry, Site

if TYPE_CHECKING:   # (feedgen and lxml are imported where a feed is written)
    from feedgen.feed import FeedGenerator

# An empty site still needs a fixed feed date: builds must not depend on the clock.
_EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)


def absolute_url(config: SiteConfig, path: str) -> str:
    """A site path such as /2024/05/x/ as a full URL under base_url."""
    rel = path.lstrip("/")
    base = config.base_url   # (always ends in "/")
    # What urljoin would make of a plain path, without parsing both (pages ask several times).
    if _PLAIN_PATH.match(rel) and "?" not in base and "#" not in base:
        return base + rel
    return urljoin(base, rel)


# No scheme, query, parameters, fragment, bracket, backslash, dot or empty segment, space or
# control character (urljoin drops or folds some of those): joined to base_url as it is.
_PLAIN_PATH = re.compile(r"(?![^/]*:)(?!.*//)(?!\.\.?(?:/|$))(?!.*/\.\.?(?:/|$))[^?#;[\]\\\x00-\x20\x7f]*\Z")


@lru_cache(maxsize=4096)
def absolutize_links(html: str, page_url: str) -> str:
    """Rewrite relative href/src in post HTML against the page's absolute URL (feed readers
    have no base to resolve them against). Cached: a post is in the site's feeds and in each
    of its tags' feeds."""
    import lxml.html   # (here: a build that writes no feed needs neither)
    if not html.strip():
        return html
    wrapper = lxml.html.fragment_fromstring(html, create_parent="div")
    wrapper.make_links_absolute(page_url, resolve_base_href=False)
    for element in wrapper.xpath(".//*[@srcset]"):   # lxml leaves srcset (images.py) alone
        element.set("srcset", ", ".join(
            " ".join([urljoin(page_url, part.split()[0]), *part.split()[1:]])
            for part in element.get("srcset").split(",") if part.strip()))
    inner: str = lxml.html.tostring(wrapper, encoding="unicode")
    return inner[len("<div>"):-len("</div>")]


EntryHtml = Callable[[Entry], str]


def _doc_html(entry: Entry) -> str:
    return entry.doc.html


def _feed(site: Site, title: str, page_url: str, feed_url: str, posts: list[Entry],
          html: EntryHtml) -> FeedGenerator:
    from feedgen.feed import FeedGenerator
    config = site.config
    feed = FeedGenerator()
    # RSS <author> must be an email address; Dublin Core's creator carries the name instead.
    feed.load_extension("dc", atom=False, rss=True)
    feed.id(absolute_url(config, feed_url))
    feed.title(title)
    feed.subtitle(config.description or config.title)
    # feedgen takes the RSS channel <link> from the last link given: the page, not the feed.
    feed.link(href=absolute_url(config, feed_url), rel="self")
    feed.link(href=absolute_url(config, page_url), rel="alternate")
    feed.language(config.language)
    feed.generator("blogengine", __version__)
    if config.author.name:
        author = {"name": config.author.name}
        if config.author.email:
            author["email"] = config.author.email
        feed.author(author)
    newest = max((p.updated or p.published for p in posts), default=site.updated or _EPOCH)
    feed.updated(newest)
    feed.lastBuildDate(newest)
    for post in posts[:config.feed_items]:
        url = absolute_url(config, post.url)
        item = feed.add_entry(order="append")
        item.id(url)
        item.guid(url, permalink=True)
        item.title(post.title)
        item.link(href=url)
        item.published(post.date)
        item.updated(post.updated or post.date)
        item.author({"name": post.author or config.title})
        item.dc.dc_creator(post.author or config.title)
        if post.summary_text:
            item.summary(post.summary_text)
        item.content(absolutize_links(html(post), url), type="html")
        for tag in post.tags:
            item.category(term=tag.name, label=tag.name,
                          scheme=absolute_url(config, "/tags/"))
    return feed


def atom_feed(site: Site, *, title: str | None = None, page_url: str = "/",
              feed_url: str = ATOM_URL, posts: list[Entry] | None = None,
              html: EntryHtml = _doc_html) -> bytes:
    """An Atom feed; `html` gives each post's HTML (with its shortcodes filled in)."""
    feed = _feed(site, title or site.config.title, page_url, feed_url,
                 site.posts if posts is None else posts, html)
    return feed.atom_str(pretty=True)  # type: ignore[no-any-return]


def rss_feed(site: Site, html: EntryHtml = _doc_html) -> bytes:
    feed = _feed(site, site.config.title, "/", RSS_URL, site.posts, html)
    return feed.rss_str(pretty=True)  # type: ignore[no-any-return]
