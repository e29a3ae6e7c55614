"""Shortcode syntax (parse stage): `{{< name args >}}` calls in Markdown, found by markdown-it
rules and left in the HTML as placeholders that the render stage fills (shortcode_render.py).

    {{< figure src="/a.jpg" caption="A *caption*" >}}           inline, or alone on a line
    {{< details summary="More" >}} ... {{< /details >}}          block: the inner Markdown
    {{</* figure */>}}                                           escaped: shown as written

Code spans and fenced code are left alone: markdown-it consumes them before these rules run."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markupsafe import Markup

OPEN = "{{<"
ESCAPED_OPEN, ESCAPED_CLOSE = "{{</*", "*/>}}"
_NAME = re.compile(r"\{\{<\s*(/)?\s*([A-Za-z][\w-]*)")
_END = re.compile(r"\s*(/)?>\}\}")
_ARG = re.compile(r"""\s+(?:([A-Za-z_][\w-]*)\s*=\s*)?"""
                  r"""(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|((?:(?!/?>\}\})[^\s"'=])+))""",
                  re.DOTALL)
_BACKSLASH = re.compile(r"\\(.)", re.DOTALL)
# NUL never reaches the HTML from a source (markdown-it turns it into U+FFFD), so these
# placeholders cannot be written by an author.
PLACEHOLDER = re.compile("\0sc(\\d+)(?:\0|<\0(.*?)\0sc\\1>\0)", re.DOTALL)


@dataclass(frozen=True)
class ShortcodeCall:
    """One call in a document: its name, arguments, line and whether it wraps inner Markdown."""

    name: str
    args: tuple[tuple[str, str], ...]    # named arguments, in the order written
    positional: tuple[str, ...]
    line: int
    block: bool = False

    @property
    def template(self) -> str:
        return f"shortcodes/{self.name}.html"


class ShortcodeSyntaxError(Exception):
    """A malformed call; parse_document turns it into a ContentError with the file's path."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass(frozen=True)
class _Scanned:
    name: str
    closing: bool
    args: tuple[tuple[str, str], ...]
    positional: tuple[str, ...]
    end: int


def _scan(src: str, pos: int) -> _Scanned | str:
    """The call starting at src[pos] ("{{<"), or what is wrong with it."""
    match = _NAME.match(src, pos)
    assert match is not None
    closing, name = bool(match[1]), match[2]
    named: dict[str, str] = {}
    positional: list[str] = []
    at = match.end()
    while True:
        end = _END.match(src, at)
        if end is not None:
            break
        arg = _ARG.match(src, at)
        if arg is None:
            rest = src[at:at + 20].split("\n")[0].strip()
            if not rest:
                return f"shortcode {name!r} is not closed (expected '>}}}}' after its arguments)"
            return (f"shortcode {name!r}: cannot read the arguments at {rest!r} (expected "
                    "key=\"value\", key='value', key=value or a value)")
        key, value = arg[1], _value(arg)
        if key is None:
            positional.append(value)
        elif key in named:
            return f"shortcode {name!r}: argument {key!r} is given twice"
        else:
            named[key] = value
        at = arg.end()
    if closing and (named or positional):
        return f"closing tag {{{{< /{name} >}}}} takes no arguments"
    return _Scanned(name, closing, tuple(named.items()), tuple(positional), end.end())


def _value(arg: re.Match[str]) -> str:
    if arg[2] is not None:
        return _BACKSLASH.sub(r"\1", arg[2])
    if arg[3] is not None:
        return _BACKSLASH.sub(r"\1", arg[3])
    return arg[4]


def _inline_rule(state: StateInline, silent: bool) -> bool:
    src, pos = state.src, state.pos
    if not src.startswith(OPEN, pos):
        return False
    if src.startswith(ESCAPED_OPEN, pos):
        end = src.find(ESCAPED_CLOSE, pos)
        if end < 0:
            return False
        if not silent:
            state.push("text", "", 0).content = "{{<" + src[pos + len(ESCAPED_OPEN):end] + ">}}"
        state.pos = end + len(ESCAPED_CLOSE)
        return True
    if _NAME.match(src, pos) is None:
        return False     # "{{<" in prose, not followed by a name: plain text
    scanned = _scan(src, pos)
    if not silent:
        token = state.push("shortcode", "", 0)
        token.meta = {"offset": pos, "scanned": scanned}
    state.pos = scanned.end if isinstance(scanned, _Scanned) else state.posMax
    return True


def _line_text(state: StateBlock, line: int) -> str:
    return state.src[state.bMarks[line] + state.tShift[line]:state.eMarks[line]]


def _block_rule(state: StateBlock, start: int, end_line: int, silent: bool) -> bool:
    """A call alone on its line(s): a block of its own (no <p> around it), wrapping the lines
    up to its closing tag when it has one."""
    if state.sCount[start] - state.blkIndent >= 4:
        return False
    pos = state.bMarks[start] + state.tShift[start]
    src = state.src
    if not src.startswith(OPEN, pos) or src.startswith(ESCAPED_OPEN, pos):
        return False
    if _NAME.match(src, pos) is None:
        return False
    scanned = _scan(src, pos)
    if not isinstance(scanned, _Scanned):
        return False     # the inline rule reports it, with its line
    last = start
    while last < end_line and state.eMarks[last] < scanned.end:
        last += 1
    if last >= end_line or src[scanned.end:state.eMarks[last]].strip():
        return False     # text follows on the same line: an inline call
    if silent:
        return True      # ends a paragraph, as any block does
    if scanned.closing:
        raise ShortcodeSyntaxError(f"closing tag {{{{< /{scanned.name} >}}}} without an opening "
                                   f"{{{{< {scanned.name} ... >}}}} before it", start + 1)
    close = _closing_line(state, scanned.name, last + 1, end_line)
    call = {"scanned": scanned, "line": start + 1}
    if close is None:
        token = state.push("shortcode", "", 0)
        token.block = True
        token.map = [start, last + 1]
        token.meta = call
        state.line = last + 1
        return True
    old_parent, old_max = state.parentType, state.lineMax
    state.parentType = "shortcode"
    state.lineMax = close
    token = state.push("shortcode_open", "", 1)
    token.block = True
    token.map = [start, close + 1]
    token.meta = call
    state.md.block.tokenize(state, last + 1, close)
    token = state.push("shortcode_close", "", -1)
    token.block = True
    state.parentType, state.lineMax = old_parent, old_max
    state.line = close + 1
    return True


def _closing_line(state: StateBlock, name: str, start: int, end_line: int) -> int | None:
    """The line of the `{{< /name >}}` that closes a block opened above `start`."""
    opener = re.compile(r"\{\{<\s*" + re.escape(name) + r"(?![\w-])(?:(?!/>\}\}).)*>\}\}\s*$")
    closer = re.compile(r"\{\{<\s*/\s*" + re.escape(name) + r"\s*>\}\}\s*$")
    depth = 0
    for line in range(start, end_line):
        text = _line_text(state, line)
        if closer.match(text):
            if depth == 0:
                return line
            depth -= 1
        elif opener.match(text):
            depth += 1
    return None


def _core_rule(state: StateCore) -> None:
    """Number the calls in document order and list them in env["shortcodes"]; malformed
    calls and stray closing tags are errors with their line."""
    calls: list[ShortcodeCall] = state.env.setdefault("shortcodes", [])
    stack: list[int] = []
    for token in state.tokens:
        if token.type in ("shortcode", "shortcode_open"):
            scanned = token.meta["scanned"]
            token.meta["index"] = len(calls)
            calls.append(_call(scanned, token.meta["line"], token.type == "shortcode_open"))
            if token.type == "shortcode_open":
                stack.append(token.meta["index"])
        elif token.type == "shortcode_close":
            token.meta = {"index": stack.pop()}
        elif token.type == "inline" and token.children:
            first = (token.map[0] + 1) if token.map else 0
            for child in token.children:
                if child.type != "shortcode":
                    continue
                line = first + token.content.count("\n", 0, child.meta["offset"])
                scanned = child.meta["scanned"]
                if isinstance(scanned, str):
                    raise ShortcodeSyntaxError(scanned, line)
                if scanned.closing:
                    raise ShortcodeSyntaxError(
                        f"closing tag {{{{< /{scanned.name} >}}}} without an opening "
                        f"{{{{< {scanned.name} ... >}}}} alone on a line before it", line)
                child.meta["index"] = len(calls)
                calls.append(_call(scanned, line, False))


def _call(scanned: _Scanned, line: int, block: bool) -> ShortcodeCall:
    return ShortcodeCall(name=scanned.name, args=scanned.args, positional=scanned.positional,
                         line=line, block=block)


def _render_inline(self: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
    end = "\n" if tokens[idx].block else ""
    return f"\0sc{tokens[idx].meta['index']}\0{end}"


def _render_open(self: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
    return f"\0sc{tokens[idx].meta['index']}<\0"


def _render_close(self: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
    return f"\0sc{tokens[idx].meta['index']}>\0\n"


def shortcodes_plugin(md: MarkdownIt) -> None:
    """Add the shortcode rules to a markdown-it parser; calls end up in env["shortcodes"]."""
    md.inline.add_terminator_char("{")
    md.inline.ruler.before("backticks", "shortcode", _inline_rule)
    md.block.ruler.before("paragraph", "shortcode", _block_rule,
                          {"alt": ["paragraph", "reference", "blockquote", "list"]})
    md.core.ruler.after("inline", "shortcode", _core_rule)
    md.add_render_rule("shortcode", _render_inline)
    md.add_render_rule("shortcode_open", _render_open)
    md.add_render_rule("shortcode_close", _render_close)


class ShortcodeHtml(Markup):
    """HTML with shortcode placeholders, and the page it belongs to: the template engine fills
    the placeholders when it writes the value out (shortcode_render.finalize)."""

    page: Any = None


def with_shortcodes(html: str, page: Any) -> Markup:
    """A page's HTML for templates: plain Markup, or ShortcodeHtml when it holds calls."""
    if "\0sc" not in html:
        return Markup(html)
    value = ShortcodeHtml(html)
    value.page = page
    return value
