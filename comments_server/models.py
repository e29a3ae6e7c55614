"""Comment data: Status, Thread, Comment; input validation and thread-tree assembly (no Flask, no SQL)."""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from comments_server.errors import ApiError

THREAD_PATH_MAX = 512
# Database integers are signed 64-bit; a larger id can only be unknown.
MAX_ID = 2**63 - 1

# Field shapes, shared with the OpenAPI document (api/openapi.py) so it says exactly what is
# accepted. Written so Python's re and ECMA-262 read them alike: whitespace that is not a control
# character spelled out (what str.strip() removes, with the controls), controls by code point.
BLANK = r" \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
CONTROL = r"\u0000-\u001f\u007f-\u009f"
# No "//" start: a protocol-relative path would turn redirects to the post into open redirects.
THREAD_PATTERN = rf"^/(?!/)[^{BLANK}{CONTROL}?#\\]*$"
# Characters that show nothing, or nothing but space: format characters (zero-width space,
# joiners, bidi controls, BOM), fillers and variation selectors. A name or body made only of
# these is empty, and they are stripped from its ends like spaces.
INVISIBLE = (r"\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
             r"\u2060-\u206f\u2800\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb")
VISIBLE_CHAR = rf"[^{BLANK}{CONTROL}{INVISIBLE}]"
# The one address policy, for every way an email comes in (API, form, dashboard, imports) and the
# one check before sending: a dot-atom local part of at most 64 ASCII letters, digits and the
# RFC 5322 atext characters that cannot open markup, route mail onwards or start an RFC 2047
# encoded word (no % ! & ` ?, no quoted strings, no specials ()<>[]:;@\,"), at a host name whose
# last label starts with a letter (no IP literal like [10.0.0.1], no bare 10.0.0.1).
_ATOM = r"[A-Za-z0-9#$'*+/=^_{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_TOP_LABEL = r"[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
EMAIL_PATTERN = rf"(?=[^@]{{1,64}}@){_ATOM}(?:\.{_ATOM})*@(?:{_LABEL}\.)+{_TOP_LABEL}"
# An absolute http(s) URL: a host without user info or brackets; no quotes, angle brackets,
# backslashes or backticks anywhere, which only help break out of markup.
_URL_CHAR = rf'[^{BLANK}{CONTROL}"<>\\`]'
URL_PATTERN = rf'[Hh][Tt][Tt][Pp][Ss]?://[^{BLANK}{CONTROL}"<>\\`/?#@\[\]]+(?:[/?#]{_URL_CHAR}*)?'
_THREAD_PATH = re.compile(THREAD_PATTERN)
_EMAIL = re.compile(f"^{EMAIL_PATTERN}$")
_URL = re.compile(f"^{URL_PATTERN}$")
_VISIBLE = re.compile(VISIBLE_CHAR)
_INVISIBLE_ANYWHERE = re.compile(f"[{INVISIBLE}]")
_INVISIBLE_ENDS = re.compile(f"^[{BLANK}{CONTROL}{INVISIBLE}]+|[{BLANK}{CONTROL}{INVISIBLE}]+$")


class Status(str, Enum):
    """Where a comment stands; only PUBLISHED comments are shown (DELETED as a placeholder)."""

    PUBLISHED = "published"
    PENDING = "pending"
    SPAM = "spam"
    DELETED = "deleted"


@dataclass(frozen=True)
class Thread:
    """One post that takes comments, as listed in the thread manifest."""

    path: str
    title: str
    author: str = ""
    open: bool = True
    fediverse: str = ""      # the URL of the post's announcement on the fediverse ("" if none named)


# Where a comment was written: on this site, or elsewhere and received (stored as a comment so it
# waits for an answer like any reader's).
ORIGINS = ("comment", "webmention", "fediverse")
# Mentions that are not replies: imported ones, and what a received Webmention may be.
MENTION_KINDS = ("pingback", "trackback", "webmention", "like", "repost", "bookmark", "mention")


@dataclass(frozen=True)
class NewComment:
    """A validated comment ready to store (everything but the id)."""

    thread: str
    parent_id: int | None
    status: Status
    author_name: str
    author_email: str | None
    author_url: str | None
    is_author: bool
    notify_replies: bool
    body: str
    body_html: str
    created_at: datetime
    ip: str | None
    edit_token_hash: str | None
    uid: str = ""            # empty: the store gives the comment a fresh one
    author_id: int | None = None   # the author account that posted it (dashboard or its API token)
    held_reason: str | None = None   # why a plugin held it for moderation (shown in the dashboard)
    # Where it was written: ORIGIN_COMMENT here, or a remote reply (its own URL and remote id).
    origin: str = "comment"
    origin_url: str | None = None
    origin_id: str | None = None
    author_photo: str | None = None


@dataclass(frozen=True)
class Comment(NewComment):
    """A stored comment."""

    id: int = 0
    edited_at: datetime | None = None


@dataclass(frozen=True)
class ImportedComment:
    """A comment read from an export or another system: its parent is named by uid."""

    comment: NewComment      # with uid set and parent_id None
    parent_uid: str | None
    edited_at: datetime | None = None


@dataclass(frozen=True)
class Limits:
    """Per-field limits from the config; None switches a limit off."""

    min_body_length: int | None = 2
    max_body_length: int | None = 10000
    max_name_length: int | None = 80
    max_email_length: int | None = 254
    max_url_length: int | None = 500
    max_links: int | None = 3

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Limits:
        return cls(
            min_body_length=config["MIN_BODY_LENGTH"],
            max_body_length=config["MAX_BODY_LENGTH"],
            max_name_length=config["MAX_NAME_LENGTH"],
            max_email_length=config["MAX_EMAIL_LENGTH"],
            max_url_length=config["MAX_URL_LENGTH"],
            max_links=config["MAX_LINKS"],
        )


@dataclass(frozen=True)
class CommentInput:
    """The fields of a new comment, type-checked and within limits."""

    thread: str
    parent_id: int | None
    author_name: str
    author_email: str | None
    author_url: str | None
    body: str
    notify_replies: bool
    honeypot: str = ""
    form_token: str | None = None


def _bad(field_name: str, code: str, message: str, status: int = 400) -> ApiError:
    return ApiError(status, code, message, field_name)


def _text(data: Mapping[str, Any], name: str, *, required: bool, limit: int | None = None,
          status: int = 400, visible: bool = False) -> str | None:
    """A string field, stripped; None when absent or blank and not required.

    `limit` counts the characters as sent, surrounding spaces included (the document's maxLength).
    With `visible` (text people read: names, bodies) invisible characters count as blank too."""
    value = data.get(name)
    if value is None:
        if required:
            raise _bad(name, "missing", f"{name} is required")
        return None
    if not isinstance(value, str):
        raise _bad(name, "wrong_type", f"{name} must be a string (got {type_name(value)})")
    _check_characters(name, value, multiline=name == "body")
    _check_length(name, value, limit, status=status)
    value = _INVISIBLE_ENDS.sub("", value) if visible else value.strip()
    if not value or (visible and not _VISIBLE.search(value)):
        if required:
            raise _bad(name, "empty", f"{name} must not be empty")
        return None
    return value


def type_name(value: Any) -> str:
    """The JSON name of a Python value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _check_characters(name: str, value: str, *, multiline: bool) -> None:
    """Refuse NUL, other control characters and lone surrogates: databases and feeds choke on them."""
    for char in value:
        category = unicodedata.category(char)
        if category == "Cs" or (category == "Cc" and not (multiline and char in "\n\r\t")):
            raise _bad(name, "invalid_characters", f"{name} contains a control character (U+{ord(char):04X})")


def _check_length(name: str, value: str, limit: int | None, *, status: int = 400) -> None:
    if limit is not None and len(value) > limit:
        raise _bad(name, "too_long", f"{name} must be at most {limit} characters (got {len(value)})", status)


def validate_thread_path(value: Any, field_name: str = "thread") -> str:
    """A thread is a site path: starts with '/', no spaces, query or fragment."""
    if value is None:
        raise _bad(field_name, "missing", f"{field_name} is required")
    if not isinstance(value, str):
        raise _bad(field_name, "wrong_type", f"{field_name} must be a string (got {type_name(value)})")
    if not value:
        raise _bad(field_name, "empty", f"{field_name} must not be empty")
    if len(value) > THREAD_PATH_MAX:
        raise _bad(field_name, "too_long", f"{field_name} must be at most {THREAD_PATH_MAX} characters")
    _check_characters(field_name, value, multiline=False)
    if not _THREAD_PATH.match(value):
        raise _bad(field_name, "invalid", f"{field_name} must be a site path like /2024/05/a-post/ (got {value!r})")
    return value


def validate_id(value: Any, field_name: str) -> int | None:
    """An optional positive integer id; JSON booleans and fractions are not ids (2.0 is, as in JSON Schema)."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(field_name, "wrong_type", f"{field_name} must be an integer or null (got {type_name(value)})")
    if not 1 <= value <= MAX_ID:
        raise _bad(field_name, "out_of_range", f"{field_name} must be a positive integer")
    return value


def validate_body(value: Any, limits: Limits) -> str:
    """The Markdown source of a comment; over the length limit is 413."""
    body = _text({"body": value}, "body", required=True, limit=limits.max_body_length, status=413, visible=True)
    assert body is not None
    if limits.min_body_length is not None and len(body) < limits.min_body_length:
        raise _bad("body", "too_short", f"body must be at least {limits.min_body_length} characters")
    return body


def validate_author_url(value: str | None, limits: Limits) -> str | None:
    """Author URLs are shown as links, so only absolute http(s) URLs pass (URL_PATTERN)."""
    if value is None:
        return None
    _check_length("author_url", value, limits.max_url_length)
    if not _URL.match(value):
        raise _bad("author_url", "invalid", "author_url must be an http:// or https:// URL")
    return value


def validate_author_fields(data: Mapping[str, Any], limits: Limits, *, name_required: bool = True
                           ) -> tuple[str, str | None, str | None]:
    """(author_name, author_email, author_url) of a comment, checked the one way whether it is
    posted, restored from an export or imported from another blog; the name may be left empty
    only where a comment comes from elsewhere (a deleted one keeps none)."""
    author_name = _text(data, "author_name", required=name_required, limit=limits.max_name_length,
                        visible=True) or ""
    author_email = _text(data, "author_email", required=False, limit=limits.max_email_length)
    if author_email is not None:
        if not is_email(author_email):
            raise _bad("author_email", "invalid", "author_email must look like name@example.com")
        author_email = author_email.lower()
    author_url = validate_author_url(_text(data, "author_url", required=False, limit=limits.max_url_length), limits)
    return author_name, author_email, author_url


def is_email(value: str) -> bool:
    """Whether `value` is an address the one address policy (EMAIL_PATTERN) takes."""
    return len(value) <= 254 and _EMAIL.fullmatch(value) is not None


def name_key(name: str) -> str:
    """A name as a reader would take it, for telling two apart: compatibility forms folded (NFKC,
    so fullwidth letters are letters), invisible characters and spaces removed, case folded."""
    shown = _INVISIBLE_ANYWHERE.sub("", unicodedata.normalize("NFKC", name))
    return "".join(shown.split()).casefold()


def takes_a_name(name: str, names: Iterable[str]) -> bool:
    """Whether `name` reads as one of `names` (compared by name_key; an empty key never does)."""
    key = name_key(name)
    return bool(key) and any(name_key(other) == key for other in names)


def validate_ip(value: Any) -> str | None:
    """A comment's stored client address from elsewhere (an export, an import): an IP address
    or nothing, written the standard way."""
    if value is None or value == "":
        return None
    try:
        return str(ipaddress.ip_address(str(value).strip()))
    except ValueError:
        raise _bad("ip", "invalid", f"ip must be an IPv4 or IPv6 address (got {str(value)[:60]!r})") from None


def validate_body_characters(value: str) -> None:
    """A body from elsewhere (an export, an import) has no length limit but the same characters."""
    _check_characters("body", value, multiline=True)


def validate_new_comment(data: Mapping[str, Any], limits: Limits, *, honeypot_field: str = "") -> CommentInput:
    """Check every field of a new comment in a fixed order; raise ApiError for the first problem."""
    thread = validate_thread_path(data.get("thread"))
    parent_id = validate_id(data.get("parent_id"), "parent_id")
    author_name, author_email, author_url = validate_author_fields(data, limits)
    body = validate_body(data.get("body"), limits)
    notify = data.get("notify_replies", False)
    if notify is None:
        notify = False
    if not isinstance(notify, bool):
        raise _bad("notify_replies", "wrong_type", f"notify_replies must be a boolean (got {type_name(notify)})")
    if notify and author_email is None:
        raise _bad("author_email", "missing", "author_email is required to be notified of replies")
    honeypot = ""
    if honeypot_field:
        raw = data.get(honeypot_field)
        if raw is not None and not isinstance(raw, str):
            raise _bad(honeypot_field, "wrong_type", f"{honeypot_field} must be a string (got {type_name(raw)})")
        honeypot = raw or ""
    form_token = data.get("form_token")
    if form_token is not None and not isinstance(form_token, str):
        raise _bad("form_token", "wrong_type", f"form_token must be a string (got {type_name(form_token)})")
    return CommentInput(
        thread=thread, parent_id=parent_id, author_name=author_name, author_email=author_email,
        author_url=author_url, body=body, notify_replies=notify, honeypot=honeypot.strip(),
        form_token=form_token,
    )


@dataclass
class CommentNode:
    """A comment placed in the displayed tree."""

    comment: Comment
    replies: list[CommentNode] = field(default_factory=list)


def assemble_tree(comments: list[Comment], display_depth: int) -> list[CommentNode]:
    """Nest a thread's comments (PUBLISHED and DELETED, oldest first) for display.

    Replies nest up to `display_depth` levels; deeper replies are listed under their ancestor at the
    last level. DELETED comments stay as placeholders only while a published reply hangs below them.
    Replies whose parent is hidden (held or spam) are shown at the top level rather than lost.
    Iterative, because storage depth is unlimited.
    """
    by_id = {c.id: c for c in comments}
    # Parents always have smaller ids than their replies (a reply is inserted after its parent).
    ordered = sorted(comments, key=lambda c: c.id)
    visible: dict[int, bool] = {c.id: c.status == Status.PUBLISHED for c in ordered}
    for c in reversed(ordered):
        if visible[c.id] and c.parent_id in by_id:
            visible[c.parent_id] = True
    depth: dict[int, int] = {}
    display_parent: dict[int, int | None] = {}
    for c in ordered:
        if c.parent_id is None or c.parent_id not in by_id:
            depth[c.id] = 0
            display_parent[c.id] = None
            continue
        parent_level = depth[c.parent_id]
        if parent_level < display_depth:
            depth[c.id] = parent_level + 1
            display_parent[c.id] = c.parent_id
        else:
            depth[c.id] = parent_level
            display_parent[c.id] = display_parent[c.parent_id]
    nodes = {c.id: CommentNode(c) for c in comments if visible[c.id]}
    roots: list[CommentNode] = []
    for c in comments:  # storage order: oldest first
        if not visible[c.id]:
            continue
        target = display_parent[c.id]
        (nodes[target].replies if target is not None else roots).append(nodes[c.id])
    return roots


# Authors, conversation state and mail (the dashboard and notifications) ------------------------


@dataclass(frozen=True)
class Author:
    """An author account: logs in to the dashboard, replies with the badge, gets notifications."""

    id: int
    name: str
    email: str
    password_hash: str
    created_at: datetime


@dataclass(frozen=True)
class ApiToken:
    """An author's API token for scripts; only its hash is stored."""

    id: int
    author_id: int
    label: str
    created_at: datetime
    last_used_at: datetime | None = None


class State(str, Enum):
    """Where a comment stands in the conversation (storage.sql computes it in one query)."""

    ANSWERED = "answered"
    UNANSWERED = "unanswered"
    DISMISSED = "dismissed"
    HELD = "held"
    SPAM = "spam"
    DELETED = "deleted"
    AUTHOR = "author"


@dataclass(frozen=True)
class TrackedComment:
    """A comment with its conversation state and, when answered, its first author reply's time."""

    comment: Comment
    state: State
    first_reply_at: datetime | None
    dismissed_at: datetime | None = None
    snoozed_until: datetime | None = None
    parent: Comment | None = None    # the comment it replies to, for context


@dataclass(frozen=True)
class OutgoingMail:
    """An email to put in the outbox; `dedupe_key` makes enqueuing the same notification twice a no-op."""

    kind: str
    recipient: str
    subject: str
    body_text: str
    body_html: str
    headers: Mapping[str, str] = field(default_factory=dict)
    comment_id: int | None = None
    dedupe_key: str | None = None


@dataclass(frozen=True)
class QueuedMail(OutgoingMail):
    """An outbox row."""

    id: int = 0
    created_at: datetime | None = None
    attempts: int = 0
    next_attempt_at: datetime | None = None
    sent_at: datetime | None = None
    failed_at: datetime | None = None
    last_error: str | None = None


@dataclass(frozen=True)
class Mention:
    """A pingback, trackback or webmention: another page that links to a post. Kept apart from
    comments, so it is never in the unanswered queue nor shown as a reader's comment."""

    thread: str
    kind: str                 # one of MENTION_KINDS
    source_url: str
    title: str
    excerpt: str
    created_at: datetime
    uid: str
    id: int = 0
    # What a received Webmention says about itself; None for imported pingbacks and trackbacks.
    status: str = "published"    # "published" or "deleted" (a hidden one, kept for its history)
    author_name: str | None = None
    author_url: str | None = None
    author_photo: str | None = None
    content_html: str | None = None   # sanitised
    published_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class NewJob:
    """Background work to enqueue in the same transaction as the comment it is about."""

    kind: str
    key: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class Job:
    """A claimed row of the durable job table: background work of one `kind`, named by `key`
    (one open job per kind and key), with a JSON `payload`."""

    id: int
    kind: str
    key: str
    payload: dict[str, Any]
    revision: int
    created_at: datetime
    due_at: datetime
    attempts: int
    last_error: str | None = None
    claimed_until: datetime | None = None
    done_at: datetime | None = None
    failed_at: datetime | None = None
