"""Comment export and import in the server's own JSON format: backups, moves between SQLite and
PostgreSQL, and demo conversations. No Flask here."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from comments_server.errors import ApiError, TransferError
from comments_server.models import (MENTION_KINDS, ORIGINS, ImportedComment, Limits, Mention, NewComment, Status,
                                    is_email,
                                    validate_author_fields, validate_body_characters,
                                    validate_ip, validate_thread_path)
from comments_server.remote_replies import MAX_REMOTE_ID, remote_name, remote_url
from comments_server.sanitize import clean_html, render_comment
from comments_server.storage import ReaderAddress, Storage

__all__ = ["TransferError", "export_document", "import_data", "import_document", "parse_document",
           "repair_records"]

FORMAT = "blogengine-comments"
VERSION = 1
UID_MAX = 200


@dataclass(frozen=True)
class ImportReport:
    added: int
    skipped: int      # already in the database (same uid)
    mentions_added: int = 0
    mentions_skipped: int = 0
    repaired: tuple[tuple[str, str], ...] = ()   # (uid, what was changed and why) by repair_records
    badges_dropped: int = 0   # is_author claims not backed by an author account (badge_emails)

# Optional fields of a mention that a received Webmention has (imported pingbacks have none).
_MENTION_URLS = ("author_url", "author_photo")
_MENTION_TIMES = ("published_at", "updated_at")


def export_document(storage: Storage, *, now: datetime | None = None) -> dict[str, Any]:
    """Every comment, in every state, with what a restore needs (emails and IPs included:
    keep exports private)."""
    records = []
    uid_of: dict[int, str] = {}
    for comment in storage.all_comments():
        uid_of[comment.id] = comment.uid
        records.append({
            "uid": comment.uid,
            "parent_uid": uid_of.get(comment.parent_id) if comment.parent_id else None,
            "thread": comment.thread,
            "status": comment.status.value,
            "author_name": comment.author_name,
            "author_email": comment.author_email,
            "author_url": comment.author_url,
            "is_author": comment.is_author,
            "notify_replies": comment.notify_replies,
            "body": comment.body,
            "created_at": _rfc3339(comment.created_at),
            "edited_at": _rfc3339(comment.edited_at) if comment.edited_at else None,
            "ip": comment.ip,
            # A reply written elsewhere: where, and its HTML (it has no Markdown source).
            **({"origin": comment.origin, "origin_url": comment.origin_url, "origin_id": comment.origin_id,
                "author_photo": comment.author_photo, "body_html": comment.body_html}
               if comment.origin != "comment" else {}),
        })
    exported = (now or datetime.now(UTC)).astimezone(UTC)
    document: dict[str, Any] = {"format": FORMAT, "version": VERSION, "exported_at": _rfc3339(exported),
                                "comments": records}
    # Pingbacks and trackbacks brought in by `blogengine import`; the key is there only when
    # some exist, so other exports read as before.
    mentions = [{"uid": m.uid, "thread": m.thread, "kind": m.kind, "source_url": m.source_url,
                 "title": m.title, "excerpt": m.excerpt, "created_at": _rfc3339(m.created_at),
                 **_received_fields(m)}
                for m in storage.mentions.all_mentions()]
    if mentions:
        document["mentions"] = mentions
    # Readers' confirmed and suppressed addresses: a restore must not forget an unsubscribe.
    addresses = [{"email": a.email, "confirmed_at": _rfc3339(a.confirmed_at) if a.confirmed_at else None,
                  "suppressed_at": _rfc3339(a.suppressed_at) if a.suppressed_at else None}
                 for a in storage.addresses.all()]
    if addresses:
        document["reader_addresses"] = addresses
    return document


def import_document(storage: Storage, text: str, *, limits: Limits | None = None,
                    badge_emails: frozenset[str] | None = None) -> ImportReport:
    """Validate a whole export file, then store it in one transaction; re-importing adds nothing.
    With `badge_emails` (the author accounts' addresses), a record keeps `is_author` only when
    its email is one of them: a file's word is not an author's identity."""
    return import_data(storage, _json(text), limits=limits, badge_emails=badge_emails)


def import_data(storage: Storage | None, data: Any, *, limits: Limits | None = None,
                repair: bool = False, dry_run: bool = False,
                badge_emails: frozenset[str] | None = None) -> ImportReport:
    """Validate a whole export document (as parsed JSON), then store it in one transaction.

    A comment's fields pass the checks a posted comment's do (`limits`: the server's settings).
    With `repair` (comments brought from another blog), a field that fails is mended instead
    (see repair_records) and said so in the report; with `dry_run` nothing is stored, and the
    report says what would have been (with no storage at all: as if the database were empty)."""
    repaired: list[tuple[str, str]] = []
    if repair and isinstance(data, dict) and isinstance(data.get("comments"), list):
        data = dict(data)
        data["comments"], repaired = repair_records(data["comments"], limits or Limits())
    records = parse_records(data, limits)
    dropped = 0
    if badge_emails is not None:
        for index, record in enumerate(records):
            if record.comment.is_author and (record.comment.author_email or "") not in badge_emails:
                records[index] = replace(record, comment=replace(record.comment, is_author=False))
                dropped += 1
    mentions = parse_mentions(data)
    addresses = parse_addresses(data)
    if storage is None:   # a dry run before the database exists: every record would be new
        (added, skipped), (mentions_added, mentions_skipped) = (len(records), 0), (len(mentions), 0)
    else:
        (added, skipped), (mentions_added, mentions_skipped) = storage.import_conversations(
            records, mentions, dry_run=dry_run)
        if addresses and not dry_run:
            storage.addresses.restore(addresses)
    return ImportReport(added=added, skipped=skipped, mentions_added=mentions_added,
                        mentions_skipped=mentions_skipped, repaired=tuple(repaired),
                        badges_dropped=dropped)


def repair_records(items: list[Any], limits: Limits) -> tuple[list[Any], list[tuple[str, str]]]:
    """Comments from another blog, mended where a field fails the server's checks, so one odd
    comment never stops an import: a name too long is cut, an email or URL that is not one is
    left out, control characters are taken out. Returns the records and (uid, what changed)."""
    mended: list[Any] = []
    notes: list[tuple[str, str]] = []
    for item in items:
        if not isinstance(item, dict):
            mended.append(item)
            continue
        item = dict(item)
        for _ in range(len(_MENDS) + 1):   # each pass mends one field
            problem = _field_problem(item, limits)
            if problem is None:
                break
            name, message = problem
            item[name] = _MENDS[name](item[name], limits)
            notes.append((str(item.get("uid")), f"{name} {_MENDED[name]} ({message})"))
        mended.append(item)
    return mended, notes


def _field_problem(item: Mapping[str, Any], limits: Limits) -> tuple[str, str] | None:
    try:
        validate_author_fields(item, limits, name_required=False)
        validate_ip(item.get("ip"))
        if isinstance(item.get("body"), str):
            validate_body_characters(item["body"])
    except ApiError as exc:
        if exc.field in _MENDS:
            return exc.field, exc.message
    return None


def _printable(value: Any) -> str:
    return "".join(ch for ch in str(value) if unicodedata.category(ch) not in ("Cc", "Cs")
                   or ch in "\n\r\t")


def _mend_name(value: Any, limits: Limits) -> str:
    name = " ".join(_printable(value).split())
    return name[:limits.max_name_length].strip() if limits.max_name_length else name


def _leave_out(value: Any, limits: Limits) -> None:
    return None


def _mend_body(value: Any, limits: Limits) -> str:
    return _printable(value)


_MENDS: dict[str, Callable[[Any, Limits], str | None]] = {
    "author_name": _mend_name, "author_email": _leave_out, "author_url": _leave_out,
    "ip": _leave_out, "body": _mend_body}
_MENDED = {"author_name": "shortened", "author_email": "left out", "author_url": "left out",
           "ip": "left out", "body": "cleaned of control characters"}


def _received_fields(mention: Mention) -> dict[str, Any]:
    """What a received Webmention adds to a mention, for an export (nothing for a pingback)."""
    fields: dict[str, Any] = {"status": mention.status} if mention.status != "published" else {}
    for name in ("author_name", *_MENTION_URLS, "content_html"):
        if getattr(mention, name) is not None:
            fields[name] = getattr(mention, name)
    for name in _MENTION_TIMES:
        if getattr(mention, name) is not None:
            fields[name] = _rfc3339(getattr(mention, name))
    return fields


def parse_mentions(data: dict[str, Any]) -> list[Mention]:
    """The optional "mentions" list of an export already checked by parse_records."""
    items = data.get("mentions", [])
    if not isinstance(items, list):
        raise TransferError('"mentions" must be a list')
    found: list[Mention] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        where = f"mentions[{index}]"
        if not isinstance(item, dict):
            raise TransferError(f"{where}: must be an object")
        values: dict[str, str] = {}
        for name in ("uid", "kind", "source_url", "title", "excerpt"):
            value = item.get(name, "")
            if not isinstance(value, str):
                raise TransferError(f"{where}.{name}: must be a string")
            values[name] = value
        if not values["uid"] or len(values["uid"]) > UID_MAX or values["uid"] in seen:
            raise TransferError(f"{where}.uid: must be a unique string of 1 to {UID_MAX} characters")
        if values["kind"] not in MENTION_KINDS:
            raise TransferError(f"{where}.kind: must be one of {', '.join(MENTION_KINDS)}")
        try:
            thread = validate_thread_path(item.get("thread"))
        except ApiError as exc:
            raise TransferError(f"{where}.thread: {exc.message}") from None
        status = item.get("status", "published")
        if status not in ("published", "deleted"):
            raise TransferError(f"{where}.status: must be published or deleted")
        author, content = item.get("author_name"), item.get("content_html")
        for field_name, given in (("author_name", author), ("content_html", content)):
            if given is not None and not isinstance(given, str):
                raise TransferError(f"{where}.{field_name}: must be a string")
        seen.add(values["uid"])
        found.append(Mention(
            thread=thread, kind=values["kind"], source_url=values["source_url"], title=values["title"],
            excerpt=values["excerpt"], uid=values["uid"],
            created_at=_time(item.get("created_at"), f"{where}.created_at", required=True), status=status,
            author_name=remote_name(author, values["source_url"], None) if author else None,
            author_url=remote_url(item.get("author_url")), author_photo=remote_url(item.get("author_photo")),
            # Never trust HTML from a file: through the comment allow-list again.
            content_html=clean_html(content) if content else None,
            published_at=_time(item["published_at"], f"{where}.published_at") if item.get("published_at") else None,
            updated_at=_time(item["updated_at"], f"{where}.updated_at") if item.get("updated_at") else None))
    return found


def parse_addresses(data: Any) -> list[ReaderAddress]:
    """Check an export's optional "reader_addresses": confirmed and suppressed reader addresses."""
    items = data.get("reader_addresses", []) if isinstance(data, dict) else []
    if not isinstance(items, list):
        raise TransferError('"reader_addresses" must be a list')
    found = []
    for index, item in enumerate(items):
        where = f"reader_addresses[{index}]"
        email = item.get("email") if isinstance(item, dict) else None
        if not isinstance(email, str) or not is_email(email):
            raise TransferError(f"{where}.email: must be an email address the server takes")
        confirmed, suppressed = item.get("confirmed_at"), item.get("suppressed_at")
        found.append(ReaderAddress(
            email.lower(), _time(confirmed, f"{where}.confirmed_at") if confirmed is not None else None,
            _time(suppressed, f"{where}.suppressed_at") if suppressed is not None else None))
    return found


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise TransferError(f"line {exc.lineno}: not valid JSON ({exc.msg})") from None


def parse_document(text: str) -> list[ImportedComment]:
    """Read and check an export file's comments."""
    return parse_records(_json(text))


def parse_records(data: Any, limits: Limits | None = None) -> list[ImportedComment]:
    """Check an export's comments; parents must come before their replies (exports are in that order)."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise TransferError(f'not a blogengine comments export (expected "format": "{FORMAT}")')
    if data.get("version") != VERSION:
        raise TransferError(f"unsupported export version {data.get('version')!r} (this version reads {VERSION})")
    items = data.get("comments")
    if not isinstance(items, list):
        raise TransferError('"comments" must be a list')
    records: list[ImportedComment] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        record = _record(item, f"comments[{index}]", seen, limits or Limits())
        seen.add(record.comment.uid)
        records.append(record)
    return records


def _record(item: Any, where: str, seen: set[str], limits: Limits) -> ImportedComment:
    if not isinstance(item, dict):
        raise TransferError(f"{where}: must be an object")

    def text(name: str, *, required: bool = False, limit: int | None = None) -> str | None:
        value = item.get(name)
        if value is None or value == "":
            if required:
                raise TransferError(f"{where}.{name}: missing")
            return None
        if not isinstance(value, str):
            raise TransferError(f"{where}.{name}: must be a string")
        if limit is not None and len(value) > limit:
            raise TransferError(f"{where}.{name}: longer than {limit} characters")
        return value

    def flag(name: str) -> bool:
        value = item.get(name, False)
        if not isinstance(value, bool):
            raise TransferError(f"{where}.{name}: must be true or false")
        return value

    uid = text("uid", required=True, limit=UID_MAX)
    assert uid is not None
    if uid in seen:
        raise TransferError(f"{where}.uid: {uid!r} appears twice")
    parent_uid = text("parent_uid", limit=UID_MAX)
    if parent_uid is not None and parent_uid not in seen:
        raise TransferError(f"{where}.parent_uid: {parent_uid!r} must be an earlier comment in the file")
    try:
        thread = validate_thread_path(item.get("thread"))
    except ApiError as exc:
        raise TransferError(f"{where}.thread: {exc.message}") from None
    try:
        status = Status(item.get("status", "published"))
    except ValueError:
        raise TransferError(f"{where}.status: must be one of {', '.join(s.value for s in Status)}") from None
    body = text("body") or ""
    if not body and status is not Status.DELETED:
        raise TransferError(f"{where}.body: missing")
    try:   # the checks a posted comment passes, so every way in keeps the same promises
        author_name, author_email, author_url = validate_author_fields(item, limits, name_required=False)
        ip = validate_ip(item.get("ip"))
        validate_body_characters(body)
    except ApiError as exc:
        raise TransferError(f"{where}.{exc.field}: {exc.message}") from None
    origin = item.get("origin", "comment")
    if origin not in ORIGINS:
        raise TransferError(f"{where}.origin: must be one of {', '.join(ORIGINS)}")
    origin_url = remote_url(text("origin_url"))
    if origin != "comment" and origin_url is None and status is not Status.DELETED:
        raise TransferError(f"{where}.origin_url: a reply written elsewhere needs its http(s) URL")
    remote_html = text("body_html") if origin != "comment" else None
    comment = NewComment(
        thread=thread, parent_id=None, status=status,
        author_name=author_name, author_email=author_email,
        author_url=author_url, is_author=False if origin != "comment" else flag("is_author"),
        notify_replies=flag("notify_replies"), body=body,
        # Never trust HTML from a file: render it again with today's sanitiser (a remote reply's
        # HTML, which has no Markdown source, goes through its allow-list again).
        body_html=clean_html(remote_html) if remote_html else render_comment(body) if body else "",
        created_at=_time(item.get("created_at"), f"{where}.created_at", required=True),
        ip=ip, edit_token_hash=None, uid=uid,
        origin=origin, origin_url=origin_url if origin != "comment" else None,
        origin_id=(text("origin_id", limit=MAX_REMOTE_ID) if origin != "comment" else None),
        author_photo=remote_url(text("author_photo")) if origin != "comment" else None,
    )
    edited = item.get("edited_at")
    return ImportedComment(comment=comment, parent_uid=parent_uid,
                           edited_at=_time(edited, f"{where}.edited_at") if edited else None)


def _time(value: Any, where: str, *, required: bool = False) -> datetime:
    if not isinstance(value, str):
        raise TransferError(f"{where}: {'missing' if value is None else 'must be a string'} "
                            "(an RFC 3339 time such as 2024-05-01T09:30:00Z)")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise TransferError(f"{where}: {value!r} is not an RFC 3339 time") from None
    if parsed.tzinfo is None:
        raise TransferError(f"{where}: {value!r} needs a time zone (Z or +01:00)")
    return parsed.astimezone(UTC)


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
