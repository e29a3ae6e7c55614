"""The flat-reply rule: before threaded comments, an author answered with a top-level comment
that opens by naming the reader ("Bob, I think…", "@Bob …"). Such a comment is put under that
reader's latest earlier comment in the post, so the conversation shows it as the answer."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from blogengine.importers.plan import CommentItem

# Markup a body may open with before the name: emphasis, a quote mark, a link's bracket.
_LEAD = re.compile(r"^[\s*_>\[\"“'‘]*")
_AFTER_NAME = re.compile(r"^\s*(?:[,:;!—–]|-\s|\]|\*\*|\.\s)")


@dataclass(frozen=True)
class Rethreaded:
    """One author comment moved under a reader's comment."""

    comment: CommentItem          # as moved (parent_uid set)
    reader: CommentItem


def _opens_with(text: str, name: str) -> bool:
    lowered, wanted = text.lower(), name.lower()
    if lowered.startswith("@" + wanted):
        rest = lowered[len(wanted) + 1:]
        return not rest[:1].isalnum()
    if lowered.startswith(wanted):
        return bool(_AFTER_NAME.match(lowered[len(wanted):]))
    return False


def addressed_reader(body: str, earlier: list[CommentItem]) -> CommentItem | None:
    """The reader a flat author comment opens by naming, as their latest comment in `earlier`
    (oldest first): full names first, then a first name that only one earlier reader has."""
    text = _LEAD.sub("", body)
    readers = [c for c in earlier if not c.is_author and not c.deleted and c.author_name.strip()]
    names = sorted({c.author_name.strip() for c in readers}, key=len, reverse=True)
    chosen = next((n for n in names if _opens_with(text, n)), None)
    if chosen is None:
        firsts: dict[str, set[str]] = {}
        for name in names:
            first = name.split()[0]
            if first != name:
                firsts.setdefault(first.lower(), set()).add(name)
        for first, full in sorted(firsts.items(), key=lambda item: -len(item[0])):
            if len(full) == 1 and _opens_with(text, first):
                chosen = next(iter(full))
                break
    if chosen is None:
        return None
    return [c for c in readers if c.author_name.strip() == chosen][-1]


def rethread(comments: list[CommentItem]) -> tuple[list[CommentItem], list[Rethreaded]]:
    """Apply the flat-reply rule to one post's comments; returns them (oldest first) and the moves."""
    ordered = sorted(comments, key=lambda c: (c.created_at, c.uid))
    result: list[CommentItem] = []
    moves: list[Rethreaded] = []
    for index, comment in enumerate(ordered):
        if comment.is_author and comment.parent_uid is None:
            reader = addressed_reader(comment.body, ordered[:index])
            if reader is not None:
                comment = replace(comment, parent_uid=reader.uid)
                moves.append(Rethreaded(comment, reader))
        result.append(comment)
    return result, moves
