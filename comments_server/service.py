"""What the endpoints do, without HTTP: post, edit, delete, read threads and counts.

Views parse requests and call these; everything here raises ApiError for bad input.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import ipaddress
import json
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from comments_server.errors import ApiError
from comments_server.fediverse.answer import answer_jobs
from comments_server.manifest import ThreadIndex
from comments_server.models import (
    Author,
    Comment,
    CommentInput,
    CommentNode,
    Limits,
    NewComment,
    Status,
    Thread,
    assemble_tree,
    takes_a_name,
    validate_body,
    validate_new_comment,
    validate_thread_path,
)
from comments_server.plugins import CommentPlugins
from comments_server.sanitize import count_links, plain_html, render_comment
from comments_server.storage import JobBuilder, MailBuilder, Storage, ThreadCounts
from comments_server.storage.accounts import NameTaken
from comments_server.storage.once import FormTokenUsed, IdempotentWrite, Once, RequestSeen

if TYPE_CHECKING:
    from comments_server.accounts import Accounts
    from comments_server.compose import Notifier


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Policy:
    """The anti-spam and moderation settings, read once from the config."""

    moderation: str = "none"
    min_submit_seconds: float | None = 3.0
    form_token_max_age: int = 86400
    honeypot_field: str = "website"
    edit_window_seconds: int | None = 900
    display_depth: int = 5
    allow_unknown_threads: bool = False
    counts_max_threads: int | None = 100
    max_preview_length: int | None = 5000
    idempotency_key_ttl: int = 86400
    form_without_token: str = "publish"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Policy:
        return cls(
            moderation=config["MODERATION"],
            min_submit_seconds=config["MIN_SUBMIT_SECONDS"],
            form_token_max_age=config["FORM_TOKEN_MAX_AGE"],
            honeypot_field=config["HONEYPOT_FIELD"],
            edit_window_seconds=config["EDIT_WINDOW_SECONDS"],
            display_depth=config["DISPLAY_DEPTH"],
            allow_unknown_threads=config["ALLOW_UNKNOWN_THREADS"],
            counts_max_threads=config["COUNTS_MAX_THREADS"],
            max_preview_length=config["MAX_PREVIEW_LENGTH"],
            idempotency_key_ttl=config["IDEMPOTENCY_KEY_TTL"],
            form_without_token=config["FORM_WITHOUT_TOKEN"],
        )


def preview_cap(limits: Limits, policy: Policy) -> int | None:
    """The longest body a preview renders: MAX_PREVIEW_LENGTH, or less when MAX_BODY_LENGTH is."""
    caps = [c for c in (limits.max_body_length, policy.max_preview_length) if c is not None]
    return min(caps) if caps else None


@dataclass(frozen=True)
class PostResult:
    """A stored comment; `edit_token` only when it was published. `replayed`: the answer to an
    earlier request with the same Idempotency-Key, whose status it keeps."""

    comment: Comment
    edit_token: str | None
    replayed: bool = False
    held: bool | None = None

    @property
    def published(self) -> bool:
        if self.held is not None:
            return not self.held
        return self.comment.status == Status.PUBLISHED


@dataclass(frozen=True)
class FormTicket:
    """A form token that passed its checks: the nonce it spends, and when it would expire."""

    nonce: str
    expires_at: datetime


IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")
IDEMPOTENCY_HEADER = "Idempotency-Key"


@dataclass(frozen=True)
class ThreadView:
    """A thread as the API shows it; `comments` is None when the caller's `known_version` is current."""

    thread: Thread
    version: int
    changed_at: datetime | None
    count: int
    comments: list[CommentNode] | None
    has_mentions: bool = False


def _reserved() -> ApiError:
    return ApiError(400, "reserved", "author_name is the name of this blog's author; choose another "
                    "(authors post from the dashboard)", "author_name")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def clean_ip(value: str | None) -> str | None:
    """Store only real addresses; a forged X-Forwarded-For can hold anything."""
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


class CommentService:
    """The comment server's behaviour over one Storage and one ThreadIndex; a new comment's
    notifications are composed by `notifier` for the accounts that own the post."""

    def __init__(
        self,
        storage: Storage,
        threads: ThreadIndex,
        *,
        accounts: Accounts,
        notifier: Notifier,
        secret_key: str,
        limits: Limits,
        policy: Policy,
        clock: Callable[[], datetime] = utcnow,
        plugins: CommentPlugins | None = None,
        answered: Callable[[Comment, Comment], None] | None = None,
        fediverse_answers: bool = False,
    ) -> None:
        self.storage = storage
        self.plugins = plugins or CommentPlugins()
        # An author's answer through the API goes back where its parent came from, as one from
        # the dashboard does (Conversations.reply): a Webmention, a fediverse status.
        self._answered = answered
        self._fediverse_answers = fediverse_answers
        self.threads = threads
        self.accounts = accounts
        self.notifier = notifier
        self.limits = limits
        self.policy = policy
        self._secret = secret_key.encode("utf-8")
        self.clock = clock

    @property
    def honeypot_field(self) -> str:
        """The form field only bots fill in ('' when there is none)."""
        return self.policy.honeypot_field

    # Threads -----------------------------------------------------------------------------

    def resolve_thread(self, path: Any, *, for_write: bool = False, field_name: str = "thread") -> Thread:
        """The manifest entry for `path`: 404 if unknown, 403 if closed and `for_write`."""
        path = validate_thread_path(path, field_name)
        thread = self.threads.get(path)
        if thread is None:
            if self.policy.allow_unknown_threads:
                return Thread(path=path, title=path)
            raise ApiError(404, "unknown_thread", f"no post at {path} takes comments", field_name)
        if for_write and not thread.open:
            raise ApiError(403, "thread_closed", f"comments on {path} are closed", field_name)
        return thread

    def read_thread(self, path: Any, known_version: int | None = None) -> ThreadView:
        """A thread's comments as a tree, from one query; only its version if `known_version` is current."""
        thread = self.resolve_thread(path)
        snapshot = self.storage.thread_snapshot(thread.path, known_version)
        if snapshot.comments is None:
            return ThreadView(thread, snapshot.version, snapshot.changed_at, 0, None)
        count = sum(1 for c in snapshot.comments if c.status == Status.PUBLISHED)
        tree = assemble_tree(snapshot.comments, self.policy.display_depth)
        return ThreadView(thread, snapshot.version, snapshot.changed_at, count, tree, snapshot.has_mentions)

    def published_comment(self, comment_id: int) -> Comment:
        """One published comment; 404 for any other."""
        comment = self.storage.get_comment(comment_id)
        if comment is None or comment.status != Status.PUBLISHED:
            raise ApiError(404, "not_found", f"comment {comment_id} does not exist")
        return comment

    def recent(self, limit: int, thread: Thread | None = None) -> list[Comment]:
        """The newest published comments, of one thread or of all; newest first."""
        return self.storage.recent(limit, thread.path if thread else None)

    def counts(self, paths: list[Any]) -> ThreadCounts:
        """Published comments per thread, and when the latest of them changed."""
        return self.storage.thread_counts(self.count_paths(paths))

    def count_paths(self, paths: list[Any]) -> tuple[str, ...]:
        """The thread paths of a counts request, checked: 400 for none, too many or a bad one."""
        if not paths:
            raise ApiError(400, "missing", "give at least one thread parameter", "thread")
        limit = self.policy.counts_max_threads
        if limit is not None and len(paths) > limit:
            raise ApiError(400, "too_many", f"at most {limit} thread parameters per request", "thread")
        return tuple(validate_thread_path(p) for p in paths)

    # Form tokens: a signed "form loaded at" time, to refuse bots that post in a blink ------------

    def form_token(self, thread: str) -> str:
        """'<stamp>.<nonce>.<signature>': when the form loaded, and a nonce that posts once."""
        stamp = str(int(self.clock().timestamp()))
        nonce = secrets.token_urlsafe(12)
        return f"{stamp}.{nonce}.{self._sign(thread, stamp, nonce)}"

    def _sign(self, thread: str, stamp: str, nonce: str) -> str:
        mac = hmac.new(self._secret, f"form-token|{thread}|{stamp}|{nonce}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac[:18]).decode("ascii")

    def check_form_token(self, token: str | None, thread: str) -> FormTicket | None:
        """400 unless the token was issued for `thread`, long enough ago, not too long ago, and
        has not posted a comment yet; None when form tokens are off (MIN_SUBMIT_SECONDS)."""
        wait = self.policy.min_submit_seconds
        if wait is None:
            return None
        if not token:
            raise ApiError(400, "missing", "form_token is required (it comes from GET /api/form-token)", "form_token")
        stamp, _, rest = token.partition(".")
        nonce, _, signature = rest.partition(".")
        if (not stamp.isdigit() or len(stamp) > 12 or not nonce or len(nonce) > 32
                or not hmac.compare_digest(signature, self._sign(thread, stamp, nonce))):
            raise ApiError(400, "invalid", "form_token is not valid for this thread; reload the page", "form_token")
        age = self.clock().timestamp() - int(stamp)
        if age > self.policy.form_token_max_age:
            raise ApiError(400, "expired", "the form has expired; reload the page and submit again", "form_token")
        if age < wait:
            raise ApiError(
                400, "too_fast", f"submitted {max(age, 0):.0f}s after loading; wait a few seconds and try again",
                "form_token",
            )
        if self.storage.once.form_token_used(nonce):
            raise ApiError(400, "used", "this form has posted its comment; reload the page to post another",
                           "form_token")
        return FormTicket(nonce, datetime.fromtimestamp(int(stamp) + self.policy.form_token_max_age, UTC))

    # Idempotency keys: a retried write gets the first answer -----------------------------------

    def _idempotency(self, key: str | None, data: Mapping[str, Any], author: Author | None,
                     is_author: bool) -> tuple[str, str] | None:
        """(key hash, request hash) of a write sent with an Idempotency-Key; the key counts per
        sender (an author account, the legacy author token, or readers), the request as sent."""
        if key is None:
            return None
        if not IDEMPOTENCY_KEY.fullmatch(key):
            raise ApiError(400, "invalid", "Idempotency-Key must be 1 to 255 printable ASCII characters",
                           IDEMPOTENCY_HEADER)
        sender = f"author:{author.id}" if author is not None else "token" if is_author else "reader"
        request = json.dumps(dict(data), sort_keys=True, default=str, ensure_ascii=True)
        return hash_token(f"{sender}|{key}"), hash_token(request)

    def _replay(self, key_hash: str, request_hash: str) -> PostResult | None:
        """The first answer to this key, if it has one (and the request is the same)."""
        answered = self.storage.once.answered(key_hash, self.clock())
        if answered is None:
            return None
        if not hmac.compare_digest(answered.request_hash, request_hash):
            raise ApiError(422, "idempotency_key_reused",
                           "this Idempotency-Key was used for a different request; make a new key for a new request",
                           IDEMPOTENCY_HEADER)
        comment = self.storage.get_comment(answered.comment_id)
        if comment is None:
            raise ApiError(404, "not_found", f"comment {answered.comment_id} does not exist")
        held = answered.status != 201
        return PostResult(comment, None if held else self._edit_token_for(key_hash), replayed=True, held=held)

    def _edit_token_for(self, key_hash: str) -> str:
        """The edit token of a comment posted with an Idempotency-Key: derived, not stored, so a
        replay can hand it out again while the database keeps only its hash."""
        mac = hmac.new(self._secret, f"edit-token|{key_hash}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode("ascii").rstrip("=")

    # Writes ---------------------------------------------------------------------------------

    def post(self, data: Mapping[str, Any], *, is_author: bool = False, author: Author | None = None,
             ip: str | None = None, idempotency_key: str | None = None, from_form: bool = False) -> PostResult:
        """Validate and store a new comment; the result says whether it was published or held.

        `is_author` (an AUTHOR_TOKENS token) or `author` (an account's token) posts with the badge;
        an account's comment carries the account's name, whatever `author_name` says. A request
        repeated with the same `idempotency_key` gets the first answer and stores nothing.
        `from_form`: the HTML form, whose copy baked into a static page has no form token; what
        happens to a comment without one is FORM_WITHOUT_TOKEN's to say."""
        is_author = is_author or author is not None
        keyed = self._idempotency(idempotency_key, data, author, is_author)
        if keyed is not None and (replay := self._replay(*keyed)) is not None:
            return replay
        if author is not None:
            fields = self._author_fields({**data, "author_name": author.name, "author_email": author.email})
        elif is_author:
            fields = self._author_fields(data)
        else:
            fields = validate_new_comment(data, self.limits, honeypot_field=self.policy.honeypot_field)
        thread = self.resolve_thread(fields.thread, for_write=True)
        if fields.parent_id is not None:
            parent = self.storage.get_comment(fields.parent_id)
            if parent is None or parent.status != Status.PUBLISHED:
                raise ApiError(404, "unknown_parent", f"comment {fields.parent_id} does not exist", "parent_id")
            if parent.thread != thread.path:
                raise ApiError(
                    409, "parent_in_other_thread",
                    f"comment {fields.parent_id} belongs to another thread", "parent_id",
                )
        else:
            parent = None
        if not is_author:
            if fields.honeypot:
                # Answer as if held, so the bot learns nothing; kept as SPAM for the dashboard to
                # purge (as plain text: spam is never published, so it costs no Markdown).
                return PostResult(self._store(fields, thread, plain_html(fields.body), Status.SPAM, False, ip, None),
                                  None)
            tokenless = from_form and not fields.form_token and self.policy.min_submit_seconds is not None
            if tokenless and self.policy.form_without_token == "refuse":
                raise ApiError(400, "token_required", "this form posts only from the comment server's own form "
                               "page (FORM_WITHOUT_TOKEN is refuse)", "form_token")
            # Without a token there is no time to check: the honeypot (above), the link cap, the
            # name check, moderation (below) and the rate limit (around the view) still apply.
            ticket = None if tokenless else self.check_form_token(fields.form_token, thread.path)
        else:
            tokenless = False
            ticket = None
        # Markdown is the costly step: it comes after every cheap check (the request's size, the
        # fields, the rate limit before them; then the thread, the parent, the honeypot, the form token).
        body_html = render_comment(fields.body)
        status = Status.PUBLISHED
        held: tuple[Status, str] | None = None
        held_reason: str | None = None
        if not is_author:
            links = count_links(body_html)
            if self.limits.max_links is not None and links > self.limits.max_links:
                raise ApiError(
                    400, "too_many_links", f"body has {links} links (at most {self.limits.max_links})", "body"
                )
            self._check_name(fields, thread)
            status, confirm_publish = self._moderate(fields)
            if tokenless and self.policy.form_without_token == "hold":
                status, confirm_publish = Status.PENDING, False
            held = self.plugins.check(fields, body_html)
            if held is not None:
                status, confirm_publish, held_reason = held[0], False, held[1]
        else:
            confirm_publish = False
        published = status == Status.PUBLISHED
        if held is not None and held[0] is Status.SPAM:
            body_html = plain_html(fields.body)   # spam is never published: no Markdown kept
        write = None
        if keyed is not None:
            expires = self.clock() + timedelta(seconds=self.policy.idempotency_key_ttl)
            write = IdempotentWrite(keyed[0], keyed[1], 201 if published else 202, expires)
        token = (self._edit_token_for(keyed[0]) if keyed else secrets.token_urlsafe(32)) if published else None
        once = Once(ticket.nonce if ticket else None, ticket.expires_at if ticket else None, write)
        try:
            answers = is_author and parent is not None and published
            comment = self._store(fields, thread, body_html, status, is_author, ip, token,
                                  author_id=author.id if author else None,
                                  mail=self._mail(thread, parent, confirm_publish) if status is not Status.SPAM else None,
                                  once=once, held_reason=held_reason,
                                  jobs=functools.partial(answer_jobs, parent)
                                  if answers and parent is not None and self._fediverse_answers else None,
                                  refuse_account_names=not is_author)
        except NameTaken:
            raise _reserved() from None
        except RequestSeen:
            # The same request, on this instance or another, stored its comment a moment earlier.
            assert keyed is not None
            replay = self._replay(*keyed)
            assert replay is not None
            return replay
        except FormTokenUsed:
            raise ApiError(400, "used", "this form has posted its comment; reload the page to post another",
                           "form_token") from None
        self.notifier.wake()
        if published:
            self.plugins.published(comment)
        if is_author and parent is not None and published and self._answered is not None:
            self._answered(parent, comment)
        return PostResult(comment, token)

    def _mail(self, thread: Thread, parent: Comment | None, confirm_publish: bool) -> MailBuilder | None:
        """The notifications a new comment causes, enqueued with it (None when email is off)."""
        if not self.notifier.enabled:
            return None
        return self.notifier.for_new_comment(thread, parent, self.accounts.authors_of(thread),
                                             confirm_publish=confirm_publish)

    def _check_name(self, fields: CommentInput, thread: Thread) -> None:
        """A reader may not sign with an author's name: it would read as the author's comment
        and, in a reply email, as the blog's own word. The post's byline here; the accounts'
        names in the comment's own transaction (_store, NameTaken)."""
        if takes_a_name(fields.author_name, [thread.author]):
            raise _reserved()

    def _author_fields(self, data: Mapping[str, Any]) -> CommentInput:
        """The author may leave out the name (the post's author is used)."""
        fields = dict(data)
        if not fields.get("author_name"):
            path = data.get("thread")
            thread = self.threads.get(path) if isinstance(path, str) else None
            fields["author_name"] = (thread.author if thread else "") or "Author"
        return validate_new_comment(fields, self.limits)

    def _moderate(self, fields: CommentInput) -> tuple[Status, bool]:
        """(status, whether the address's owner may publish it from a confirmation email).

        Under `first-time` every reader comment is held, so the answer (202) says nothing about
        an address's history. Anyone can type an address: a returning commenter's comment is
        published only by whoever reads that address's mail; a newcomer's, by the author."""
        mode = self.policy.moderation
        if mode == "all":
            return Status.PENDING, False
        if mode == "first-time":
            email = fields.author_email
            known = (email is not None and self.notifier.enabled and self.storage.has_published(email)
                     and not self.accounts.is_author_address(email))
            return Status.PENDING, known
        return Status.PUBLISHED, False

    def _store(
        self, fields: CommentInput, thread: Thread, body_html: str, status: Status,
        is_author: bool, ip: str | None, token: str | None, *, author_id: int | None = None,
        mail: MailBuilder | None = None, once: Once | None = None, held_reason: str | None = None,
        jobs: JobBuilder | None = None, refuse_account_names: bool = False,
    ) -> Comment:
        return self.storage.add_comment(
            NewComment(
                thread=thread.path, parent_id=fields.parent_id, status=status,
                author_name=fields.author_name, author_email=fields.author_email,
                author_url=fields.author_url, is_author=is_author,
                notify_replies=fields.notify_replies, body=fields.body, body_html=body_html,
                created_at=self.clock(), ip=clean_ip(ip),
                edit_token_hash=hash_token(token) if token else None, author_id=author_id,
                held_reason=held_reason,
            ),
            mail,
            once,
            jobs,
            refuse_account_names=refuse_account_names,
        )

    def _editable(self, comment_id: int, token: str | None) -> Comment:
        """The comment, if `token` may still change it."""
        if not token:
            raise ApiError(401, "missing_token", "send the comment's edit token in the X-Edit-Token header", None)
        comment = self.storage.get_comment(comment_id)
        if comment is None or comment.status in (Status.DELETED, Status.SPAM):
            raise ApiError(404, "not_found", f"comment {comment_id} does not exist", None)
        if comment.edit_token_hash is None or not hmac.compare_digest(comment.edit_token_hash, hash_token(token)):
            raise ApiError(403, "wrong_token", "the edit token does not match this comment", None)
        window = self.policy.edit_window_seconds
        if window is not None and self.clock() - comment.created_at > timedelta(seconds=window):
            raise ApiError(403, "edit_window_closed", f"comments can only be changed for {window // 60} minutes", None)
        return comment

    def edit(self, comment_id: int, token: str | None, data: Mapping[str, Any]) -> Comment:
        comment = self._editable(comment_id, token)
        body = validate_body(data.get("body"), self.limits)
        body_html = render_comment(body)
        links = count_links(body_html)
        if not comment.is_author and self.limits.max_links is not None and links > self.limits.max_links:
            raise ApiError(400, "too_many_links", f"body has {links} links (at most {self.limits.max_links})", "body")
        updated = self.storage.update_body(comment.id, body, body_html, self.clock())
        if updated is None:
            raise ApiError(404, "not_found", f"comment {comment_id} does not exist", None)
        return updated

    def delete(self, comment_id: int, token: str | None) -> None:
        comment = self._editable(comment_id, token)
        self.storage.delete_comment(comment.id, self.clock())

    def preview(self, body: Any) -> str:
        """A draft body rendered as it would be stored; nothing is stored."""
        if not isinstance(body, str):
            raise ApiError(400, "missing" if body is None else "wrong_type", "body must be a string", "body")
        limit = preview_cap(self.limits, self.policy)
        if limit is not None and len(body) > limit:
            raise ApiError(413, "too_long", f"body must be at most {limit} characters to preview (got {len(body)})",
                           "body")
        return render_comment(body)

    def unsubscribe(self, email: str) -> None:
        """No more email to `email`: its comments' reply notifications stop and it goes on the
        suppression list, which no later comment can lift."""
        self.storage.unsubscribe(email, self.clock())

    def resubscribe(self, email: str) -> None:
        """Off the suppression list, confirmed for reply emails (its own unsubscribe link asked)."""
        self.storage.addresses.resubscribe(email, self.clock())

    def editable_until(self, comment: Comment) -> datetime | None:
        window = self.policy.edit_window_seconds
        return None if window is None else comment.created_at + timedelta(seconds=window)


__all__ = ["CommentService", "Policy", "PostResult", "ThreadView", "hash_token", "preview_cap"]
