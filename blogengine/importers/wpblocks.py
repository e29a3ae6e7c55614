"""Block-editor posts (<!-- wp:name {json} --> marks): the blocks WordPress fills in when a page
is shown have no HTML in the export: they are named, so nothing vanishes without a word."""

from __future__ import annotations

import re
from collections.abc import Callable

_BLOCK = re.compile(r"<!--\s+(/)?wp:([a-z][a-z0-9_/-]*)(\s+\{.*?\})?\s+(/)?-->", re.DOTALL)
# Self-closing blocks that lose nothing: their content is carried some other way or is empty.
_CARRIED = {"footnotes", "spacer", "separator", "shortcode", "more", "nextpage"}


def has_blocks(text: str) -> bool:
    """Whether a post was written in the block editor."""
    return "<!-- wp:" in text


def note_blocks(text: str, report: Callable[[str], None]) -> str:
    """Report the server-rendered (self-closing) blocks, in one message; drop the block marks."""
    names = []
    for match in _BLOCK.finditer(text):
        name = match.group(2).removeprefix("core/")
        if match.group(4) and name not in _CARRIED and f"wp:{name}" not in names:
            names.append(f"wp:{name}")
    if names:
        report(", ".join(names) + (" blocks" if len(names) > 1 else " block")
               + " dropped (WordPress fills them in when showing the page)")
    return _BLOCK.sub("", text)
