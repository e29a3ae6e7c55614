"""Staticman comments: the data files Staticman committed to a Jekyll or Hugo site, one folder per
post, read into threaded CommentItems."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from blogengine.importers.html import html_to_markdown
from blogengine.importers.contained import site_file
from blogengine.importers.plan import CommentItem, Plan, SourceError
from blogengine.importers.staticsite import load_data_file, parse_date

DATA_SUFFIXES = (".yml", ".yaml", ".json", ".toml")
# Fields naming the comment a reply answers by its _id, as the common templates spell them
# (`reply_to` in Hugo themes; `_parent` when the form's options[parent] holds a comment id).
ID_REFERENCES = ("reply_to", "replying_to_uid", "parent_id", "parent", "_parent", "replying_to")
BODY_FIELDS = ("message", "comment", "body", "text")


def staticman_comments(folder: Path, plan: Plan, system: str, site_id: str, authors: set[str],
                       tz: ZoneInfo) -> dict[str, list[CommentItem]]:
    """Comments in `<folder>/<post slug>/<entry>.yml` (or .json, .toml), keyed by the folder name.

    Both common schemas keep their threading: a reply names its parent's `_id` (`reply_to`,
    or `_parent` when that holds a comment id rather than the post's URL), or, in the
    made-mistakes templates, `replying_to` is the 1-based position of its parent among the
    post's top-level comments in file-name order."""
    found: dict[str, list[CommentItem]] = {}
    if not folder.is_dir():
        return found
    hashed = {hashlib.md5(a.encode()).hexdigest() for a in authors}  # noqa: S324 (Gravatar's)
    for post_folder in sorted(p for p in folder.iterdir() if p.is_dir()):
        entries = _read_entries(post_folder, plan, f"{folder.name}/{post_folder.name}")
        parents = _parents(entries)
        comments = []
        for (comment_id, data, label), parent in zip(entries, parents):
            comment = _comment(data, label, plan, tz, authors | hashed)
            if comment is None:
                continue
            uid = f"{system}:{site_id}:{post_folder.name}"
            comment.uid = f"{uid}:{comment_id}"
            comment.parent_uid = f"{uid}:{parent}" if parent else None
            comments.append(comment)
        found[post_folder.name] = comments
    return found


def _read_entries(post_folder: Path, plan: Plan,
                  label: str) -> list[tuple[str, dict[str, Any], str]]:
    """(comment id, fields, label) for each data file, in file-name order (Jekyll's `sort`)."""
    entries = []
    for path in sorted(post_folder.iterdir()):
        if path.suffix not in DATA_SUFFIXES or not site_file(path, post_folder):
            continue
        where = f"{label}/{path.name}"
        try:
            data = load_data_file(path)
        except SourceError as exc:
            plan.skip("comments", "unreadable file", f"{where}: {exc.message}")
            continue
        if not isinstance(data, dict):
            plan.skip("comments", "not a comment", f"{where}: not a mapping of fields")
            continue
        entries.append((str(data.get("_id") or path.stem), data, where))
    return entries


def _blank(value: Any) -> bool:
    return value is None or str(value).strip() == ""


def _parents(entries: list[tuple[str, dict[str, Any], str]]) -> list[str | None]:
    """The id each comment answers, or None at the top level."""
    ids = {comment_id for comment_id, _data, _label in entries}
    parents: list[str | None] = []
    for comment_id, data, _label in entries:
        named = [str(data[k]).strip() for k in ID_REFERENCES if not _blank(data.get(k))]
        parents.append(next((n for n in named if n in ids and n != comment_id), None))
    # made-mistakes: `replying_to: '3'` is the third comment that replies to nobody.
    top = [comment_id for (comment_id, data, _), parent in zip(entries, parents)
           if parent is None and _blank(data.get("replying_to"))]
    for n, (_comment_id, data, _label) in enumerate(entries):
        position = str(data.get("replying_to") or "").strip()
        if parents[n] is None and position.isdigit() and 1 <= int(position) <= len(top):
            parents[n] = top[int(position) - 1]
        elif parents[n] is None and not _blank(data.get("reply_to") or position):
            # Its parent is gone: keep the reference, the import notes it and keeps it on top.
            parents[n] = str(data.get("reply_to") or position).strip()
    return parents


def _comment(data: dict[str, Any], label: str, plan: Plan, tz: ZoneInfo,
             authors: set[str]) -> CommentItem | None:
    when = parse_date(data.get("date") if not _blank(data.get("date")) else
                      data.get("timestamp"), tz)
    if when is None:
        plan.skip("comments", "no valid date", f"{label}: no valid `date`")
        return None
    name = str(data.get("name") or "").strip()
    # Staticman often stores the MD5 of the email (for Gravatar), not the email.
    email = str(data.get("email") or "").strip().lower()
    message = str(next((data[k] for k in BODY_FIELDS if not _blank(data.get(k))), ""))
    url = next((str(data[k]).strip() for k in ("url", "website") if not _blank(data.get(k))), None)
    return CommentItem(
        uid="", parent_uid=None, author_name=name,
        author_email=email if "@" in email else None, author_url=url,
        is_author=bool({name.lower(), email} & authors - {""}),
        body=html_to_markdown(message) if re.search(r"</?[a-z][^>]*>", message) else message.strip(),
        created_at=when.astimezone(UTC))
