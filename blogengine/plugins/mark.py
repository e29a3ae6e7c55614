"""Example plugin `mark`: `==text==` in Markdown becomes `<mark>text</mark>` (highlighted text).

Copy it into your site's plugins/ folder as a start for a Markdown rule of your own."""

from __future__ import annotations

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline

from blogengine.hookspecs import hookimpl

MARKER = "=="


@hookimpl
def markdown_setup(md: MarkdownIt) -> None:
    """Teach the parser `==text==`; code spans and blocks are parsed first, so stay as they are."""
    md.inline.ruler.before("emphasis", "mark", mark_rule)


def mark_rule(state: StateInline, silent: bool) -> bool:
    """`==` + text (not starting or ending with a space) + `==`, on one inline run."""
    start = state.pos
    src = state.src
    if not src.startswith(MARKER, start) or src.startswith("=", start + 2):
        return False
    first = start + len(MARKER)
    end = src.find(MARKER, first)
    if end == -1 or end + len(MARKER) > state.posMax or end == first:
        return False
    inner = src[first:end]
    # `a == b` is not a mark; nor is a run that would swallow half a code span
    if inner[0].isspace() or inner[-1].isspace() or inner.count("`") % 2:
        return False
    if not silent:
        old_max = state.posMax
        state.push("mark_open", "mark", 1).markup = MARKER
        state.pos, state.posMax = first, end
        state.md.inline.tokenize(state)
        state.posMax = old_max
        state.push("mark_close", "mark", -1).markup = MARKER
    state.pos = end + len(MARKER)
    return True
