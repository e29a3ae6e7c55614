"""Readers' confirmation links, without HTTP: the owner of an address confirms it for reply
emails, and (a returning commenter under `first-time` moderation) publishes the comment the
email was about. Links are signed and expire (compose.py), and work once (used_links)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from comments_server.compose import ConfirmLink, LinkError, Notifier
from comments_server.manifest import ThreadIndex
from comments_server.models import Comment, Status, Thread
from comments_server.plugins import CommentPlugins
from comments_server.storage import Storage


@dataclass(frozen=True)
class ConfirmDraft:
    """What a valid link opens: the address, and the comment to publish when it is one to publish."""

    link: ConfirmLink
    comment: Comment | None     # shown before publishing; None when the link only confirms


@dataclass(frozen=True)
class Confirmed:
    """What a used link did."""

    email: str
    subscribed: bool     # reply emails now go to the address
    published: Comment | None


class Confirmations:
    """Open and use readers' confirmation links."""

    def __init__(self, storage: Storage, threads: ThreadIndex, notifier: Notifier,
                 clock: Callable[[], datetime], plugins: CommentPlugins | None = None) -> None:
        self.storage = storage
        self.plugins = plugins or CommentPlugins()
        self.threads = threads
        self.notifier = notifier
        self.clock = clock

    def open(self, token: str) -> ConfirmDraft:
        """LinkError if the link is forged, expired or used."""
        link = self.notifier.read_confirm_link(token)
        if self.storage.outbox.link_used(link.nonce):
            raise LinkError("This confirmation link has been used already.")
        return ConfirmDraft(link, self._publishable(link))

    def confirm(self, token: str) -> Confirmed:
        """Use the link once: confirm the address if its comment asked for replies (a suppressed
        address stays suppressed) and publish the comment if the link is for that."""
        draft = self.open(token)
        link = draft.link
        if not self.storage.outbox.use_link(link.nonce, self.clock()):
            raise LinkError("This confirmation link has been used already.")
        comment = self.storage.get_comment(link.comment_id)
        asked = comment is not None and comment.notify_replies and _same(comment.author_email, link.email)
        subscribed = self.storage.addresses.confirm(link.email, self.clock()) if asked else False
        published = self._publish(draft.comment) if draft.comment is not None else None
        return Confirmed(link.email, subscribed, published)

    def _publishable(self, link: ConfirmLink) -> Comment | None:
        """The link's comment, if the link publishes it and it is still held under this address."""
        if not link.publish:
            return None
        comment = self.storage.get_comment(link.comment_id)
        if comment is None or comment.status != Status.PENDING or not _same(comment.author_email, link.email):
            return None
        return comment

    def _publish(self, comment: Comment) -> Comment | None:
        parent = self.storage.get_comment(comment.parent_id) if comment.parent_id else None
        thread = self.threads.get(comment.thread) or Thread(path=comment.thread, title=comment.thread)
        mail = self.notifier.for_published(thread, parent)
        published = self.storage.set_status(comment.id, Status.PUBLISHED, mail, self.clock())
        self.notifier.wake()
        if published is not None:
            self.plugins.published(published)
        return published


def _same(a: str | None, b: str) -> bool:
    return a is not None and a.lower() == b.lower()
