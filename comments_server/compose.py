"""Which emails a comment causes, and their text: author notifications, digests, reader replies.

Also the signed links they carry: a single-use, expiring reply link for authors; for readers a
single-use, expiring confirmation link (reply emails are opt-in twice) and a one-click unsubscribe link. No Flask and no SMTP here; mails go to the outbox (mail.py sends).
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.errors import HeaderParseError
from email.headerregistry import Address
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from jinja2 import Environment, PackageLoader, select_autoescape

from comments_server.humanize import human_duration
from comments_server.links import SiteLinks
from comments_server.models import Author, Comment, OutgoingMail, Status, Thread, TrackedComment, is_email
from comments_server.storage.addresses import AddressState

MAX_SUBJECT = 180
# Characters that end a line somewhere (str.splitlines) or are otherwise control characters.
_LINE_BREAKS = frozenset("\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


class LinkError(Exception):
    """A signed link that is forged, expired or used; the message is for the reader."""


def header_text(value: str, limit: int = MAX_SUBJECT) -> str:
    """Text safe for a header: no line breaks or control characters (no header injection), and no
    RFC 2047 encoded word, which the email library would decode, line breaks and all ("=?" -> "= ?")."""
    cleaned = "".join(
        " " if char in _LINE_BREAKS or unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") else char
        for char in value
    )
    cleaned = " ".join(cleaned.split()).replace("=?", "= ?")
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def safe_address(value: str | None) -> str | None:
    """A single plain email address the address policy takes (models.is_email), or None: a row
    stored before the policy, or by hand, may hold anything."""
    if not value or not is_email(value):
        return None
    if any(char in value for char in ",;<>\"() \t"):
        return None
    try:
        address = Address(addr_spec=value)
    except (HeaderParseError, ValueError, IndexError):
        return None
    return address.addr_spec if address.username and address.domain else None


def excerpt(text: str, limit: int = 280) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class ConfirmLink:
    """What a valid confirmation link grants: the owner of `email` confirms it (for reply
    emails) and, with `publish`, publishes the comment it was sent about."""

    email: str
    comment_id: int
    nonce: str
    publish: bool


@dataclass(frozen=True)
class ReplyLink:
    """What a valid reply link grants: answering one comment as one author."""

    comment_id: int
    author_id: int | None
    nonce: str
    # When the account it was made for was created (microseconds): a link answers as that
    # account only, never as a later one that got its id. None: an AUTHOR_TOKENS link.
    author_created: int | None = None


def account_stamp(author: Author) -> int:
    """What binds a reply link to one account beyond its id: when it was created, in microseconds."""
    return round(author.created_at.timestamp() * 1_000_000)


class Notifier:
    """Composes notification emails; `enabled` is false when no SMTP server is configured."""

    def __init__(
        self,
        *,
        secret_key: str,
        enabled: bool,
        notify_authors: bool,
        reply_link_max_age: int,
        server_url: Callable[[], str],
        links: SiteLinks,
        clock: Callable[[], datetime],
        addresses: Callable[[str], AddressState] = lambda _email: AddressState(),
        confirm_link_max_age: int = 7 * 86400,
        wake: Callable[[], None] | None = None,
    ) -> None:
        self.enabled = enabled
        self._addresses = addresses
        self.confirm_link_max_age = confirm_link_max_age
        self.notify_authors = notify_authors
        self.reply_link_max_age = reply_link_max_age
        self._server_url = server_url
        self._links = links
        self.clock = clock
        self._wake = wake
        self._reply_signer = URLSafeSerializer(secret_key, salt="blogengine-reply-link")
        self._unsubscribe_signer = URLSafeSerializer(secret_key, salt="blogengine-unsubscribe")
        self._confirm_signer = URLSafeSerializer(secret_key, salt="blogengine-confirm-address")
        self._env = Environment(
            loader=PackageLoader("comments_server", "notify/templates/mail"),
            autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self._env.filters["waiting"] = human_duration
        self._env.filters["excerpt"] = excerpt

    def wake(self) -> None:
        """Mail was queued: nudge the background sender, when the app runs one (`wake` given)."""
        if self._wake is not None:
            self._wake()

    # Links -----------------------------------------------------------------------------------

    def url(self, path: str) -> str:
        return self._server_url().rstrip("/") + path

    def reply_link(self, comment_id: int, author: Author | None) -> str:
        expires = int((self.clock() + timedelta(seconds=self.reply_link_max_age)).timestamp())
        token = self._reply_signer.dumps([comment_id, author.id if author else 0, secrets.token_urlsafe(12), expires,
                                          account_stamp(author) if author else 0])
        return self.url(f"/dashboard/reply/{token}")

    def read_reply_link(self, token: str) -> ReplyLink:
        """The grant of a reply link; LinkError if forged or expired (used-ness is storage's)."""
        try:
            comment_id, author_id, nonce, expires, created = self._reply_signer.loads(token)
        except (BadSignature, ValueError, TypeError):
            # Links made before they named their account (four fields) are refused too.
            raise LinkError("This reply link is not valid. Open the dashboard to answer instead.") from None
        if not all(isinstance(v, int) for v in (comment_id, author_id, expires, created)) or not isinstance(nonce, str):
            raise LinkError("This reply link is not valid. Open the dashboard to answer instead.")
        if self.clock().timestamp() > expires:
            raise LinkError("This reply link has expired. Open the dashboard to answer instead.")
        return ReplyLink(comment_id, author_id or None, nonce, created or None)

    def unsubscribe_link(self, email: str) -> str:
        return self.url(f"/notify/unsubscribe/{self._unsubscribe_signer.dumps(email)}")

    def read_unsubscribe_link(self, token: str) -> str:
        try:
            email = self._unsubscribe_signer.loads(token)
        except BadSignature:
            raise LinkError("This unsubscribe link is not valid.") from None
        if not isinstance(email, str):
            raise LinkError("This unsubscribe link is not valid.")
        return email

    def confirm_link(self, email: str, comment_id: int, publish: bool) -> str:
        expires = int((self.clock() + timedelta(seconds=self.confirm_link_max_age)).timestamp())
        token = self._confirm_signer.dumps([email, comment_id, secrets.token_urlsafe(12), expires, int(publish)])
        return self.url(f"/notify/confirm/{token}")

    def read_confirm_link(self, token: str) -> ConfirmLink:
        """The grant of a confirmation link; LinkError if forged or expired (used-ness is storage's)."""
        invalid = "This confirmation link is not valid."
        try:
            email, comment_id, nonce, expires, publish = self._confirm_signer.loads(token)
        except (BadSignature, ValueError, TypeError):
            raise LinkError(invalid) from None
        if not (isinstance(email, str) and isinstance(nonce, str)
                and all(isinstance(v, int) for v in (comment_id, expires, publish))):
            raise LinkError(invalid)
        if self.clock().timestamp() > expires:
            raise LinkError("This confirmation link has expired. Ask for replies on your next comment "
                            "to get a new one.")
        return ConfirmLink(email, comment_id, nonce, bool(publish))

    # Mails about one comment -------------------------------------------------------------------

    def for_new_comment(self, thread: Thread, parent: Comment | None, authors: Sequence[Author], *,
                        confirm_publish: bool = False) -> Callable[[Comment], list[OutgoingMail]] | None:
        """The builder of the mails a newly stored comment causes (None when email is off).

        `confirm_publish`: the comment is held until the owner of its address publishes it from
        a confirmation email (a returning commenter under `first-time` moderation)."""
        if not self.enabled:
            return None
        return lambda comment: (self._to_authors(comment, thread, parent, authors)
                                + self._to_reader(comment, thread, parent)
                                + self._confirmation(comment, thread, confirm_publish))

    def for_published(self, thread: Thread, parent: Comment | None) -> Callable[[Comment], list[OutgoingMail]] | None:
        """The builder of the mails a comment causes when it is approved (the authors knew already)."""
        if not self.enabled:
            return None
        return lambda comment: self._to_reader(comment, thread, parent)

    def _context(self, comment: Comment, thread: Thread, **extra: Any) -> dict[str, Any]:
        post_url = self._links.post_link(thread.path)
        return {"comment": comment, "thread": thread, "post_url": post_url,
                "comment_url": f"{post_url}#comment-{comment.id}", "site_title": self._links.site_title,
                "dashboard_url": self.url("/dashboard/"), **extra}

    def _render(self, name: str, **context: Any) -> tuple[str, str]:
        text = self._env.get_template(f"{name}.txt").render(**context)
        html = self._env.get_template(f"{name}.html").render(**context)
        return text, html

    def _to_authors(self, comment: Comment, thread: Thread, parent: Comment | None,
                    authors: Sequence[Author]) -> list[OutgoingMail]:
        if comment.is_author or not self.notify_authors or comment.status not in (Status.PUBLISHED, Status.PENDING):
            return []
        held = comment.status == Status.PENDING
        kind = "held_comment" if held else "new_comment"
        mails = []
        for author in authors:
            recipient = safe_address(author.email)
            if recipient is None:
                continue
            text, html = self._render(kind, **self._context(
                comment, thread, parent=parent, author=author, reply_url=self.reply_link(comment.id, author),
                moderation_url=self.url(f"/dashboard/moderation#comment-{comment.id}"),
                queue_url=self.url(f"/dashboard/#comment-{comment.id}"),
                max_age_days=max(self.reply_link_max_age // 86400, 1)))
            what = "Held for moderation" if held else "New comment"
            subject = header_text(f"{what} on “{thread.title}” from {comment.author_name}")
            mails.append(OutgoingMail(kind=kind, recipient=recipient, subject=subject, body_text=text,
                                      body_html=html, headers={"Auto-Submitted": "auto-generated"},
                                      comment_id=comment.id, dedupe_key=f"{kind}:{comment.id}:{author.id}"))
        return mails

    def _to_reader(self, comment: Comment, thread: Thread, parent: Comment | None) -> list[OutgoingMail]:
        """Tell the commenter being replied to, if they asked to be told, and not about their own reply."""
        if comment.status != Status.PUBLISHED or parent is None or parent.status != Status.PUBLISHED:
            return []
        if not parent.notify_replies or parent.is_author:
            return []
        recipient = safe_address(parent.author_email)
        if recipient is None or recipient.lower() == (comment.author_email or "").lower():
            return []
        # Only an address whose owner confirmed it, and has not unsubscribed since: anyone can
        # type any address into a comment, and the reply's author chooses what the mail says.
        if not self._addresses(recipient).may_mail:
            return []
        kind = "author_answered" if comment.is_author else "reply"
        unsubscribe = self.unsubscribe_link(recipient)
        text, html = self._render(kind, **self._context(comment, thread, parent=parent, unsubscribe_url=unsubscribe))
        # A reader's name never goes in the subject: it would let anyone write the subject line
        # ("PayPal Security Team: action required") of a mail from this blog's server.
        if comment.is_author:
            subject = f"{comment.author_name}, the author, answered your comment on “{thread.title}”"
        else:
            subject = f"New reply to your comment on “{thread.title}”"
        return [OutgoingMail(kind=kind, recipient=recipient, subject=header_text(subject), body_text=text,
                             body_html=html, headers=self._list_headers(unsubscribe), comment_id=comment.id,
                             dedupe_key=f"reply:{comment.id}")]

    @staticmethod
    def _list_headers(unsubscribe: str) -> dict[str, str]:
        return {"Auto-Submitted": "auto-generated", "List-Unsubscribe": f"<{unsubscribe}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}

    def _confirmation(self, comment: Comment, thread: Thread, publish: bool) -> list[OutgoingMail]:
        """The first email to a reader's address: confirm it for reply emails (the comment asked
        for them) and, with `publish`, publish the comment. Nothing the commenter wrote is in it;
        the link's page shows the comment. One a day per address, none to a suppressed one."""
        if comment.is_author or comment.status not in (Status.PUBLISHED, Status.PENDING):
            return []
        recipient = safe_address(comment.author_email)
        if recipient is None:
            return []
        state = self._addresses(recipient)
        wants_replies = comment.notify_replies and not state.confirmed
        if state.suppressed or not (wants_replies or publish):
            return []
        unsubscribe = self.unsubscribe_link(recipient)
        text, html = self._render("confirm", thread=thread, site_title=self._links.site_title,
                                  post_url=self._links.post_link(thread.path), publish=publish,
                                  wants_replies=wants_replies, unsubscribe_url=unsubscribe,
                                  confirm_url=self.confirm_link(recipient, comment.id, publish),
                                  max_age_days=max(self.confirm_link_max_age // 86400, 1))
        what = "Publish your comment" if publish else "Confirm reply emails"
        subject = header_text(f"{what} on “{thread.title}”")
        # One a day per address: the key names the address by its hash (dedupe_key holds 200 characters).
        address_key = hashlib.sha256(recipient.lower().encode("utf-8")).hexdigest()[:32]
        day = self.clock().date().isoformat()
        return [OutgoingMail(kind="confirm", recipient=recipient, subject=subject, body_text=text, body_html=html,
                             headers=self._list_headers(unsubscribe), comment_id=comment.id,
                             dedupe_key=f"confirm:{address_key}:{day}")]

    # The daily digest --------------------------------------------------------------------------

    def digest(self, author: Author, items: Sequence[tuple[TrackedComment, Thread]],
               day: str) -> OutgoingMail | None:
        """One email listing the comments waiting on the author's posts, oldest first."""
        recipient = safe_address(author.email)
        if not self.enabled or recipient is None or not items:
            return None
        now = self.clock()
        entries = [{"comment": t.comment, "parent": t.parent, "thread": thread,
                    "post_url": self._links.post_link(thread.path), "waited": now - t.comment.created_at,
                    "reply_url": self.reply_link(t.comment.id, author)} for t, thread in items]
        context = {"author": author, "entries": entries, "site_title": self._links.site_title,
                   "dashboard_url": self.url("/dashboard/"), "max_age_days": max(self.reply_link_max_age // 86400, 1)}
        text, html = self._render("digest", **context)
        count = len(entries)
        subject = header_text(f"{count} reader{'s' if count != 1 else ''} waiting for an answer"
                              + (f" on {self._links.site_title}" if self._links.site_title else ""))
        return OutgoingMail(kind="digest", recipient=recipient, subject=subject, body_text=text, body_html=html,
                            headers={"Auto-Submitted": "auto-generated"}, dedupe_key=f"digest:{author.id}:{day}")
