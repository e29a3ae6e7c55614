"""Trim a WXR export to some of its items, byte for byte: the header (channel, authors), the
chosen <item> blocks as they are, and the footer. Made the fixtures of
tests/data/import/corpora/wordpress/ (see its SOURCE.md):

    python -m tests.support.trim_wxr [--no-terms] SOURCE.xml OUT.xml POST_ID [POST_ID ...]

--no-terms also drops the channel's list of categories, tags and terms (the importer takes a
post's categories and tags from the post itself).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

_ITEM = re.compile(r"[ \t]*<item[\s>].*?</item>[ \t]*\n?", re.DOTALL)
_TERM = re.compile(r"[ \t]*<wp:(category|tag|term)>.*?</wp:\1>[ \t]*\n?", re.DOTALL)
_POST_ID = re.compile(r"<wp:post_id>\s*(?:<!\[CDATA\[)?(\d+)")


def trim(text: str, keep: set[str], terms: bool = True) -> str:
    """The export with only the items whose wp:post_id is in `keep`, in their order."""
    def kept(match: re.Match[str]) -> str:
        found = _POST_ID.search(match.group(0))
        return match.group(0) if found and found.group(1) in keep else ""

    start = text.find("<item")
    header, rest = text[:start], text[start:]
    if not terms:
        header = _TERM.sub("", header)
    return header + _ITEM.sub(kept, rest)


if __name__ == "__main__":
    args = sys.argv[1:]
    terms = "--no-terms" not in args
    source, out, *ids = [a for a in args if a != "--no-terms"]
    Path(out).write_text(trim(Path(source).read_text(encoding="utf-8"), set(ids), terms),
                         encoding="utf-8")
