"""The optional Markdown accelerator (`pip install blogengine[fast]`): markdown-it-pyrs, the Rust
port of markdown-it, renders the documents whose every feature it renders exactly as the
reference does (markup.py's markdown-it-py with its plugins); any other document returns None
here and goes the reference way.

What the reference computes from tokens is computed here from the Rust parser's HTML, which is
cheaper than walking its syntax tree from Python: heading ids and the table of contents from the
`<hN>` elements, the summary from the first top-level `<p>`, the word count from the text, and
fenced code handed to the same Pygments callback. tests/blogengine/test_fastmd.py proves the
result identical over every document the repository holds; docs/markdown-accelerator.md."""

from __future__ import annotations

import html as htmlmod
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from blogengine.markup import heading_id, highlight_code

if TYPE_CHECKING:
    from blogengine.parse import TocEntry

try:  # the [fast] extra; without it nothing below is ever called
    import markdown_it_pyrs as _rust
except ImportError:  # pragma: no cover - depends on the install
    _rust = None  # type: ignore[assignment]

# Sources with anything the reference renders through a plugin markdown-it-pyrs lacks, or that
# the two parsers were not proved to agree on, take the reference path.
_REFERENCE_ONLY = re.compile(
    r"\{\{<"                            # shortcodes
    r"|\[\^"                            # footnotes
    r"|\[[ xX]\]"                       # task list items
    # raw HTML (escaped or not), comments, <!--more--> (but URL autolinks in plain ASCII without
    # %-escapes: markdown-it-py shows those decoded, markdown-it-pyrs as written)
    r"|<(?![A-Za-z][A-Za-z0-9.+-]{1,31}:[!-$&-;=?-~]*>)[A-Za-z/!?]")
# Definition lists and admonitions, at the start of a line (searched in "\n" + the body: four
# times faster than one MULTILINE pattern for all of these).
_REFERENCE_ONLY_LINE = re.compile(r"\n[ \t]*(?:[:~]|!!!|\?\?\?)")
# The front matter the reference's plugin reads the same way: '---' lines, no '---' or '...'
# line inside (those end it early in front_matter_plugin).
_FRONT_MATTER = re.compile(r"---\n((?:(?![ \t]*(?:---|\.\.\.))[^\n]*\n)+?)---\n")
# The summary break (parse.py's _MORE) on a line of its own, between blank lines: the reference
# sees the same top-level block whether raw HTML is allowed (an HTML block) or not (a paragraph).
_MORE_LINE = re.compile(r"(?:\A(?:[ \t]*\n)*|\n[ \t]*\n)(<!--[ \t]*more\b[^>\n]*-->[ \t]*)\n"
                        r"(?=[ \t]*\n|\Z)", re.IGNORECASE)
_MORE_MARK = "\0more\0"   # where the break was; NUL never comes from a source (refused above)
_BLOCK_TAG = re.compile(r"<(/?)(blockquote|li|p|h[1-6])>")
_FENCE = re.compile(r'<pre><code(?: class="language-([^"]*)")?>(.*?)</code></pre>\n', re.DOTALL)
_SIMPLE_LANG = re.compile(r"[A-Za-z0-9_+#.-]+")
_TAG = re.compile(r"<[^>]*>")
_WORD = re.compile(r"\w+(?:['’-]\w+)*")   # parse.py's word


@dataclass(frozen=True)
class Rendered:
    """What parse_document takes from markdown-it-py's tokens, made by the accelerator."""

    front_matter: str
    html: str
    summary_html: str
    summary_text: str
    toc: tuple[TocEntry, ...]
    word_count: int


def unavailable_reason() -> str | None:
    """Why the accelerator cannot be used in this install, or None when it can."""
    if _rust is None:
        return "markdown-it-pyrs is not installed (pip install 'blogengine[fast]')"
    return None


def version() -> str:
    from importlib.metadata import version as installed
    return installed("markdown-it-pyrs")


class Accelerator:
    """markdown-it-pyrs set up as the reference dialect's CommonMark + tables + strikethrough."""

    def __init__(self) -> None:
        assert _rust is not None, unavailable_reason()
        self._md = _rust.MarkdownIt("commonmark").enable_many(["table", "strikethrough"])
        self.used = 0   # documents rendered, for the build's report

    def render(self, text: str) -> Rendered | None:
        """The document rendered as the reference would, or None when it must go that way."""
        match = _FRONT_MATTER.match(text)
        if match is None or "\r" in text or "\0" in text:   # markdown-it normalises these
            return None
        body = text[match.end():]
        more = _MORE_LINE.search(body)
        checked = body if more is None else body[:more.start(1)] + body[more.end(1):]
        if _REFERENCE_ONLY.search(checked) or _REFERENCE_ONLY_LINE.search("\n" + checked):
            return None
        raw = self._md.render(body, xhtml=False)
        if more is not None:
            line = more.group(1) + "\n"   # an HTML block here, rendered as written
            if raw.count(line) != 1 or raw.count("<!--") != 1:   # e.g. inside fenced code
                return None
            raw = raw.replace(line, _MORE_MARK)
        rendered = _finish(match.group(1)[:-1], raw, lambda: self._code_kinds(body))
        self.used += rendered is not None
        return rendered

    def _code_kinds(self, body: str) -> list[str]:
        """"fence" or "code_block" for each code block, in order (only asked for when one has
        no language: in the HTML a fence without one and an indented block look alike)."""
        return [node.name for node in self._md.tree(body).walk()
                if node.name in ("fence", "code_block")]


def _finish(front_matter: str, raw: str, code_kinds: Callable[[], list[str]]
            ) -> Rendered | None:
    """Heading ids, toc, summary, word count and highlighted code from the Rust parser's HTML
    (None when it holds something this cannot match the reference on)."""
    from blogengine.parse import TocEntry

    words = len(_WORD.findall(htmlmod.unescape(_TAG.sub("", raw.replace(_MORE_MARK, "")))))
    depth = 0
    summary: tuple[str, str] | None = None
    slugs: set[str] = set()
    toc: list[TocEntry] = []
    pieces: list[str] = []
    done = 0
    for tag in _BLOCK_TAG.finditer(raw):
        closing, name = tag.group(1), tag.group(2)
        if name in ("blockquote", "li"):
            depth += -1 if closing else 1
        elif closing:
            continue
        elif name == "p":
            if summary is None and depth == 0:
                inner = raw[tag.end():raw.index("</p>", tag.end())].strip()
                summary = (f"<p>{inner}</p>", _plain(inner).replace("\n", " ").strip())
        else:
            inner = raw[tag.end():raw.index(f"</{name}>", tag.end())]
            if "\n" in inner:   # a multi-line setext heading: breaks count differently there
                return None
            title = _plain(inner)
            slug = _unique(heading_id(title), slugs)
            if depth == 0:
                toc.append(TocEntry(level=int(name[1]), anchor=slug, title=title.strip()))
            pieces.append(raw[done:tag.start()])
            pieces.append(f'<{name} id="{_escape(slug)}">')
            done = tag.end()
    pieces.append(raw[done:])
    body = _highlight("".join(pieces), code_kinds)
    if body is None:
        return None
    before_more = raw[:raw.find(_MORE_MARK)] if _MORE_MARK in raw else ""
    if before_more.strip():
        # The reference's summary: all before the break; its text only from inline content.
        if "<pre" in before_more:
            return None
        summary = (body[:body.index(_MORE_MARK)].strip(), " ".join(_plain(before_more).split()))
        body = body.replace(_MORE_MARK, "")
    elif _MORE_MARK in raw:
        body = body.replace(_MORE_MARK, "")
    summary_html, summary_text = summary or ("", "")
    return Rendered(front_matter=front_matter, html=body, summary_html=summary_html,
                    summary_text=summary_text, toc=tuple(toc), word_count=words)


def _highlight(html: str, code_kinds: Callable[[], list[str]]) -> str | None:
    """Code through markup.highlight_code, as the reference's `highlight` option (fences) and
    its code_block rule (indented code: no language, no blank line after) do."""
    pieces: list[str] = []
    done = 0
    kinds: list[str] | None = None
    for index, fence in enumerate(_FENCE.finditer(html)):
        lang = fence.group(1) or ""
        if lang and not _SIMPLE_LANG.fullmatch(lang):   # an unusual info string: unproved
            return None
        indented = False
        if not lang:
            kinds = kinds if kinds is not None else code_kinds()
            if index >= len(kinds):
                return None
            indented = kinds[index] == "code_block"
        pieces.append(html[done:fence.start()])
        pieces.append(highlight_code(htmlmod.unescape(fence.group(2)), lang, None)
                      + ("" if indented else "\n"))
        done = fence.end()
    pieces.append(html[done:])
    return "".join(pieces)


def _plain(inner_html: str) -> str:
    """The text of rendered inline HTML (no raw HTML reaches here: the source had none)."""
    return htmlmod.unescape(_TAG.sub("", inner_html))


def _unique(slug: str, slugs: set[str]) -> str:
    # mdit_py_plugins.anchors.unique_slug
    unique, n = slug, 1
    while unique in slugs:
        unique = f"{slug}-{n}"
        n += 1
    slugs.add(unique)
    return unique


def _escape(value: str) -> str:
    # markdown-it's escapeHtml, as the reference renders attributes
    return (value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))
