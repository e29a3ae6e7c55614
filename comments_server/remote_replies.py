"""Replies written elsewhere (a Webmention from another blog, a reply on the fediverse), stored as
comments so they show in the thread and wait in the author's queue like a reader's. No Flask.

Every way in goes through one check: the content through the comment allow-list, the remote
fields through the same shapes as a reader's, the reply through moderation and the plugins
(`comment_about_to_be_stored`). A remote reply is never an author's, unless the caller has seen it
come from the author's own account (the fediverse poller: a reply from `[fediverse] account`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from comments_server.models import (
    INVISIBLE,
    ORIGINS,
    URL_PATTERN,
    Comment,
    CommentInput,
    Limits,
    NewComment,
    OutgoingMail,
    Status,
)
from comments_server.plugins import CommentPlugins
from comments_server.sanitize import clean_html, count_links, html_text

if TYPE_CHECKING:
    from comments_server.accounts import Accounts
    from comments_server.compose import Notifier
    from comments_server.manifest import ThreadIndex
    from comments_server.service import Policy
    from comments_server.storage import Storage

REMOTE_ORIGINS = tuple(o for o in ORIGINS if o != "comment")
_URL = re.compile(f"^{URL_PATTERN}$")
_INVISIBLE = re.compile(f"[{INVISIBLE}\\x00-\\x1f\\x7f-\\x9f]")
MAX_REMOTE_URL = 2000
MAX_REMOTE_ID = 200


class RemoteReplyError(ValueError):
    """A remote reply that cannot be stored (an unknown origin, a URL that is not http(s))."""


def remote_url(value: str | None) -> str | None:
    """An absolute http(s) URL in the shape comments accept, or None."""
    if not value or len(value) > MAX_REMOTE_URL or not _URL.fullmatch(value):
        return None
    return value


def site_name(url: str) -> str:
    """The host a remote reply came from, as readers are shown it ("blog.example")."""
    host = (urlsplit(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host


def remote_name(name: str | None, origin_url: str, max_length: int | None) -> str:
    """A remote author's name as text on one line, within the name limit; the site's host if none."""
    cleaned = " ".join(_INVISIBLE.sub("", name or "").split())
    if max_length is not None:
        cleaned = cleaned[:max_length].rstrip()
    return cleaned or site_name(origin_url)


class RemoteReplies:
    """Store, update and remove replies received from elsewhere."""

    def __init__(self, storage: Storage, threads: ThreadIndex, *, accounts: Accounts, limits: Limits,
                 policy: Policy, plugins: CommentPlugins, clock: Callable[[], datetime],
                 notifier: Notifier | None = None) -> None:
        self.storage = storage
        # The author hears of a remote reply as of a reader's comment (NOTIFY_AUTHORS).
        self.notifier = notifier
        self.threads = threads
        self.accounts = accounts
        self.limits = limits
        self.policy = policy
        self.plugins = plugins
        self.clock = clock

    def store_remote_reply(self, thread: str, origin: str, origin_url: str, origin_id: str | None,
                           author_name: str | None, author_url: str | None, author_photo: str | None,
                           content_html: str, published_at: datetime | None,
                           in_reply_to_comment_id: int | None = None, is_author: bool = False) -> Comment:
        """Store a remote reply as a comment of `thread`, or update the one stored for its
        (origin, origin_url). New replies go through moderation and the plugins; an update keeps
        the status the reply has (one the author deleted stays deleted). `in_reply_to_comment_id`
        makes it a reply to that comment when it is a published one of the same thread.
        `is_author`: it came from the author's own account; it is published with the badge, like
        a reply from the dashboard (no moderation), and answers the comment it replies to."""
        if origin not in REMOTE_ORIGINS:
            raise RemoteReplyError(f"origin must be one of {', '.join(REMOTE_ORIGINS)} (got {origin!r})")
        url = remote_url(origin_url)
        if url is None:
            raise RemoteReplyError(f"origin_url must be an absolute http(s) URL (got {origin_url[:200]!r})")
        if self.threads.get(thread) is None and not self.policy.allow_unknown_threads:
            raise RemoteReplyError(f"no post at {thread} takes comments")
        now = self.clock()
        body_html = clean_html(content_html)
        parent_id = self._parent(thread, in_reply_to_comment_id)
        fields = CommentInput(
            thread=thread, parent_id=parent_id,
            author_name=remote_name(author_name, url, self.limits.max_name_length),
            author_email=None, author_url=remote_url(author_url), body=html_text(body_html), notify_replies=False)
        existing = self.storage.remote.find_reply(origin, url)
        status, reason = ((Status.PUBLISHED, None) if existing is not None or is_author
                          else self._moderate(fields, body_html))
        # The remote date orders it in the thread; never a date still to come.
        created = min(published_at, now) if published_at is not None else now
        new = NewComment(
            thread=thread, parent_id=parent_id, status=status, author_name=fields.author_name, author_email=None,
            author_url=fields.author_url, is_author=is_author, notify_replies=False, body=fields.body,
            body_html=body_html, created_at=created, ip=None, edit_token_hash=None, held_reason=reason,
            origin=origin, origin_url=url, origin_id=(origin_id or None) and origin_id[:MAX_REMOTE_ID],
            author_photo=remote_url(author_photo))
        comment, added = self.storage.remote.save_reply(new, now, None if existing else self._mail(thread, parent_id))
        if added:
            if self.notifier is not None:
                self.notifier.wake()
            if comment.status is Status.PUBLISHED:
                self.plugins.published(comment)
        return comment

    def _mail(self, path: str, parent_id: int | None) -> Callable[[Comment], list[OutgoingMail]] | None:
        """The emails a new remote reply causes: the author's notice, a reader's reply notice."""
        thread = self.threads.get(path)
        if self.notifier is None or thread is None:
            return None
        parent = self.storage.get_comment(parent_id) if parent_id is not None else None
        return self.notifier.for_new_comment(thread, parent, self.accounts.authors_of(thread))

    def remove_remote_reply(self, origin: str, origin_url: str) -> Comment | None:
        """The remote side deleted its reply: it leaves the thread (as a placeholder while replies
        hang below it). The comment it was, or None if none was stored."""
        return self.storage.remote.remove_reply(origin, origin_url, self.clock())

    def _parent(self, thread: str, comment_id: int | None) -> int | None:
        if comment_id is None:
            return None
        parent = self.storage.get_comment(comment_id)
        if parent is None or parent.thread != thread or parent.status is not Status.PUBLISHED:
            return None
        return parent.id

    def _moderate(self, fields: CommentInput, body_html: str) -> tuple[Status, str | None]:
        """A new remote reply's status: held under MODERATION first-time or all (no address vouches
        for a remote author), or when it looks like spam to the checks a reader's comment meets."""
        if self.policy.moderation != "none":
            return Status.PENDING, f"MODERATION is {self.policy.moderation}"
        links = count_links(body_html)
        if self.limits.max_links is not None and links > self.limits.max_links:
            return Status.PENDING, f"{links} links (MAX_LINKS is {self.limits.max_links})"
        thread = self.threads.get(fields.thread)
        if thread is not None and self.accounts.takes_name(fields.author_name, thread):
            return Status.PENDING, "signed with the name of this blog's author"
        verdict = self.plugins.check(fields, body_html)
        if verdict is not None:
            return verdict
        return Status.PUBLISHED, None
