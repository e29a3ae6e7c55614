"""Receiving Webmentions (https://www.w3.org/TR/webmention/), without HTTP: check a request
(`source` and `target` are http(s) URLs, different, and the target is a post of this site that
takes comments) and queue its verification; then verify it in the background: fetch the source
safely, confirm it links to the target, and store what it says (a reply as a comment, a like,
repost, bookmark or mention as a mention), updating or removing what an earlier one stored."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from comments_server.errors import ApiError
from comments_server.models import Comment, Mention, Thread
from comments_server.netguard import FetchError, FetchPolicy, UnsafeURL, fetch
from comments_server.remote_replies import site_name, remote_url
from comments_server.sanitize import clean_html, html_text
from comments_server.webmention.source import SourceReading, normalise_url, read_source

if TYPE_CHECKING:
    from comments_server.links import SiteLinks
    from comments_server.manifest import ThreadIndex
    from comments_server.remote_replies import RemoteReplies
    from comments_server.storage import Storage

log = logging.getLogger(__name__)

VERIFY_KIND = "webmention-verify"
SEND_KIND = "webmention-send"
ORIGIN = "webmention"
MAX_URL = 2000
MAX_KEY = 300
MAX_EXCERPT = 300
_COMMENT_FRAGMENT = re.compile(r"^comment-([0-9]{1,18})$")
HTML_TYPES = ("text/html", "application/xhtml+xml")


class VerificationFailed(Exception):
    """A Webmention that cannot be verified, now or later (the job is given up)."""


@dataclass(frozen=True)
class Received:
    """A Webmention request that passed its checks: the post its target names."""

    source: str
    target: str
    thread: Thread


def job_key(source: str, target: str) -> str:
    """One open verification per source and target: a second request updates the first."""
    key = f"{source} {target}"
    return key if len(key) <= MAX_KEY else "sha256:" + hashlib.sha256(key.encode("utf-8")).hexdigest()


def mention_uid(source: str, thread: str) -> str:
    """A received mention's uid: one per source page and post, so an update finds it."""
    return "webmention:" + hashlib.sha256(f"{source}\n{thread}".encode("utf-8")).hexdigest()[:40]


def comment_fragment(url: str | None) -> int | None:
    """The comment a URL points at (…/post/#comment-12 -> 12), if any."""
    if not url:
        return None
    match = _COMMENT_FRAGMENT.match(urlsplit(url).fragment)
    return int(match.group(1)) if match else None


class Webmentions:
    """Receive and verify Webmentions for the posts in the thread manifest."""

    def __init__(self, storage: Storage, threads: ThreadIndex, links: SiteLinks, replies: RemoteReplies, *,
                 fetch_policy: FetchPolicy, clock: Callable[[], datetime],
                 wake: Callable[[], None] | None = None, send_delay: int = 300) -> None:
        self.storage = storage
        self.threads = threads
        self.links = links
        self.replies = replies
        self.fetch_policy = fetch_policy
        self.clock = clock
        self._wake = wake
        self.send_delay = timedelta(seconds=send_delay)

    # Receiving ------------------------------------------------------------------------------

    def check(self, source: Any, target: Any) -> Received:
        """The request's fields checked; ApiError 400 names the field that is wrong."""
        source_url = self._url(source, "source")
        target_url = self._url(target, "target")
        if normalise_url(source_url) == normalise_url(target_url):
            raise ApiError(400, "same_as_target", "source and target must be different pages", "source")
        thread = self.thread_for(target_url)
        if thread is None:
            raise ApiError(400, "unknown_target", "target is not a post of this site that takes comments",
                           "target")
        if not thread.open:
            raise ApiError(400, "thread_closed", f"comments on {thread.path} are closed", "target")
        return Received(source_url, target_url, thread)

    def receive(self, source: Any, target: Any) -> Received:
        """Check a Webmention and queue its verification (a pending one for the same source and
        target is updated); what was received."""
        received = self.check(source, target)
        now = self.clock()
        self.storage.jobs.enqueue(VERIFY_KIND, job_key(received.source, received.target),
                                  {"source": received.source, "target": received.target}, now, now)
        if self._wake is not None:
            self._wake()
        return received

    @staticmethod
    def _url(value: Any, name: str) -> str:
        if value is None or (isinstance(value, str) and not value.strip()):
            raise ApiError(400, "missing", f"{name} is required", name)
        if not isinstance(value, str):
            raise ApiError(400, "wrong_type", f"{name} must be a URL", name)
        value = value.strip()
        if len(value) > MAX_URL:
            raise ApiError(400, "too_long", f"{name} must be at most {MAX_URL} characters", name)
        if remote_url(value) is None:
            raise ApiError(400, "invalid", f"{name} must be an absolute http(s) URL", name)
        return str(value)

    def thread_for(self, url: str) -> Thread | None:
        """The post a URL of this site names (any fragment, a trailing slash or not), or None."""
        wanted = normalise_url(url)
        wanted_parts = urlsplit(wanted)
        if wanted_parts.query:
            return None
        for thread in self.threads.all():
            post = self.links.post_url(thread.path)
            if not post:
                continue
            parts = urlsplit(normalise_url(post))
            # http and https name the same page: sites move to https and old links stay.
            if (parts.netloc == wanted_parts.netloc
                    and parts.path.rstrip("/") == wanted_parts.path.rstrip("/")):
                return thread
        return None

    def queue_answer(self, parent: Comment, reply: Comment) -> None:
        """An author answered a reply received as a Webmention: send one back (job "webmention-send"),
        from the answer's permalink on the post page to the reply's own page, once the site has
        had WEBMENTION_SEND_DELAY to publish the answer (the receiver reads it there)."""
        if parent.origin != ORIGIN or not parent.origin_url or not reply.is_author:
            return
        post = self.links.post_url(reply.thread)
        if not post:
            log.warning("not sending a Webmention for comment %d: the site's URL is unknown", reply.id)
            return
        source = f"{post}#comment-{reply.id}"
        now = self.clock()
        self.storage.jobs.enqueue(SEND_KIND, job_key(source, parent.origin_url),
                                  {"source": source, "target": parent.origin_url}, now + self.send_delay, now)

    # Verifying ------------------------------------------------------------------------------

    def verify(self, source: str, target: str) -> str:
        """Fetch `source` and store what it says about `target`; what came of it, for the log.

        VerificationFailed when it never can be verified; FetchError (a retry may mend it) when
        the source could not be read now."""
        thread = self.thread_for(target)
        if thread is None:
            raise VerificationFailed(f"{target} is no longer a post that takes comments")
        try:
            fetched = fetch(source, policy=self.fetch_policy, headers={"Accept": "text/html, */*;q=0.5"})
        except UnsafeURL as exc:
            raise VerificationFailed(f"source refused: {exc}") from None
        if fetched.status == 410:
            return self._remove(source, thread, "the source is gone (410)")
        if 400 <= fetched.status < 500:
            raise VerificationFailed(f"the source answered {fetched.status}")
        if fetched.status >= 500 or fetched.status < 200 or fetched.status >= 300:
            raise FetchError(f"the source answered {fetched.status}")
        matches = self._matcher(thread)
        content_type = (fetched.headers.get_content_type() or "").lower()
        if content_type in HTML_TYPES:
            reading = read_source(fetched.text, fetched.url, matches)
        else:
            # Not a page: it links to the target if it names it (JSON, plain text).
            reading = SourceReading(links_to_target=target in fetched.text)
        if not reading.links_to_target:
            return self._remove(source, thread, "the source does not link to the target")
        if reading.kind == "reply":
            return self._store_reply(source, target, thread, reading)
        return self._store_mention(source, thread, reading)

    def _matcher(self, thread: Thread) -> Callable[[str], bool]:
        def matches(url: str) -> bool:
            found = self.thread_for(url) if remote_url(url) else None
            return found is not None and found.path == thread.path
        return matches

    def _store_reply(self, source: str, target: str, thread: Thread, reading: SourceReading) -> str:
        comment = self.replies.store_remote_reply(
            thread.path, ORIGIN, source, None, reading.author_name, reading.author_url, reading.author_photo,
            reading.content_html, reading.published_at,
            in_reply_to_comment_id=comment_fragment(reading.about) or comment_fragment(target))
        self.storage.remote.remove_mention(mention_uid(source, thread.path), self.clock())
        return f"reply stored as comment {comment.id} ({comment.status.value})"

    def _store_mention(self, source: str, thread: Thread, reading: SourceReading) -> str:
        now = self.clock()
        content = clean_html(reading.content_html) if reading.content_html else ""
        mention = Mention(
            thread=thread.path, kind=reading.kind, source_url=source,
            title=reading.title or site_name(source), excerpt=html_text(content)[:MAX_EXCERPT],
            created_at=min(reading.published_at, now) if reading.published_at else now,
            uid=mention_uid(source, thread.path), author_name=reading.author_name,
            author_url=remote_url(reading.author_url), author_photo=remote_url(reading.author_photo),
            content_html=content or None, published_at=reading.published_at, updated_at=reading.updated_at)
        self.storage.remote.save_mention(mention, now)
        # It was a reply before, and is not any more.
        self.replies.remove_remote_reply(ORIGIN, source)
        return f"{reading.kind} stored"

    def _remove(self, source: str, thread: Thread, why: str) -> str:
        removed = self.replies.remove_remote_reply(ORIGIN, source)
        mention = self.storage.remote.remove_mention(mention_uid(source, thread.path), self.clock())
        return f"{why}: {'reply removed' if removed else 'mention removed' if mention else 'nothing was stored'}"


__all__ = ["Webmentions", "Received", "VerificationFailed", "VERIFY_KIND", "SEND_KIND", "job_key", "mention_uid"]
