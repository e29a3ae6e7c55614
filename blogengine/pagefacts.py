"""What the search index and the link check learn of a built page from its bytes, worked out
by whoever holds them: the render workers as they write each page, so that after a clean build
neither reads 14,000 pages back in the main process (about a second each at 10,000 posts), or
the index and the check themselves for a page they must read.

A fact the last build took is used only while the file has the mtime and size noted with it,
else the page is read again; a fact this build's writer took is used as it is (nothing else
writes the output folder meanwhile)."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass

# search: (mtime_ns, size, whether it marks a searchable body, its language, sha256 of its bytes)
PageNote = tuple[int, int, bool, str, bytes]
# link check: (mtime_ns, size, the first 16 bytes of the sha256 of its bytes)
PageStamp = tuple[int, int, bytes]

_BODY_MARK = b"data-pagefind-body"
_LANG = re.compile(rb"<html[^>]*?\slang=[\"']?([^\"'\s>]+)", re.IGNORECASE)


@dataclass(frozen=True)
class Wanted:
    """Which facts a build will use: the search index's notes, the link check's stamps."""

    notes: bool = False
    stamps: bool = False


def page_facts(stat: os.stat_result, data: bytes, wanted: Wanted
               ) -> tuple[PageNote | None, PageStamp | None]:
    """The facts `wanted` of one page, its bytes digested once for both."""
    digest = hashlib.sha256(data).digest()
    return (search_note(stat, data, digest) if wanted.notes else None,
            check_stamp(stat, data, digest) if wanted.stamps else None)


def search_note(stat: os.stat_result, data: bytes, digest: bytes | None = None) -> PageNote:
    """`digest`: the sha256 of `data`, when the caller has it."""
    searchable, language = search_marks(data)
    return (stat.st_mtime_ns, stat.st_size, searchable, language,
            digest or hashlib.sha256(data).digest())


def search_marks(data: bytes) -> tuple[bool, str]:
    """Whether a page marks a searchable body, and its language (only looked for then)."""
    # (Attribute names are case-blind; lower() only for the pages without the usual case.)
    searchable = _BODY_MARK in data or _BODY_MARK in data.lower()
    said = _LANG.search(data[:4096]) if searchable else None
    return searchable, said.group(1).decode("ascii", "replace").lower() if said else ""


def check_stamp(stat: os.stat_result, data: bytes, digest: bytes | None = None) -> PageStamp:
    """`digest`: the sha256 of `data`, when the caller has it (sha256 rather than blake2b:
    the processors of these machines compute it, faster)."""
    return (stat.st_mtime_ns, stat.st_size, (digest or hashlib.sha256(data).digest())[:16])
