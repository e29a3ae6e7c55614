"""Parse stage: one Markdown source -> Document (front matter, HTML, summary, table of contents)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from markdown_it import MarkdownIt
from markdown_it.token import Token

from blogengine.errors import ContentError
from blogengine.frontmatter import FrontMatter, read_front_matter
from blogengine.images import ImageFile
from blogengine.load import SourceFile, SourceRef
from blogengine.shortcodes import ShortcodeCall, ShortcodeSyntaxError

if TYPE_CHECKING:
    from blogengine.fastmd import Accelerator

WORDS_PER_MINUTE = 220
_WORD = re.compile(r"\w+(?:['’-]\w+)*")
# The summary break of WordPress, Hugo, Pelican and Jekyll's excerpt_separator convention.
_MORE = re.compile(r"<!--\s*more\b[^>]*-->", re.IGNORECASE)


@dataclass(frozen=True)
class TocEntry:
    level: int
    anchor: str
    title: str


@dataclass(frozen=True)
class Document:
    """A parsed source: what the model needs to place it and what templates need to show it.

    The body's HTML is either held (`body`) or fetched on demand (`loader`), so a rebuild can
    place ten thousand cached documents without reading every body back."""

    source: SourceRef
    kind: str                  # "post" or "page"
    meta: FrontMatter
    summary_html: str
    summary_text: str
    toc: tuple[TocEntry, ...]
    word_count: int
    body: str | None = None
    shortcodes: tuple[ShortcodeCall, ...] = ()   # filled in by the render stage
    images: tuple[ImageFile, ...] = ()           # the local images it shows (images.py)
    loader: Callable[[], str] | None = field(default=None, compare=False, repr=False)

    @property
    def html(self) -> str:
        if self.body is not None:
            return self.body
        assert self.loader is not None, f"{self.source.display_path}: no HTML and no loader"
        return self.loader()

    @property
    def reading_time(self) -> int:
        """Minutes to read, never less than one."""
        return max(1, math.ceil(self.word_count / WORDS_PER_MINUTE))

    def __getstate__(self) -> dict[str, Any]:
        """Pickled without its loader (a function of the build cache that holds the body)."""
        return {**self.__dict__, "loader": None}


def document_kind(source: SourceFile) -> str:
    return "post" if source.rel.parts[0] == "posts" else "page"


def parse_document(source: SourceFile, md: MarkdownIt, tz: ZoneInfo,
                   accelerator: Accelerator | None = None) -> Document:
    """Parse front matter and Markdown; errors carry the file's path and line. With an
    accelerator (fastmd.py), a document it renders identically is rendered by it."""
    kind = document_kind(source)
    if accelerator is not None:
        fast = accelerator.render(source.text)
        if fast is not None:
            meta = read_front_matter(fast.front_matter, first_line=2,
                                     display_path=source.display_path, tz=tz,
                                     date_required=(kind == "post"))
            summary_html, summary_text = ((_given_summary(meta.summary) if meta.summary
                                           else (fast.summary_html, fast.summary_text)))
            return Document(source=source.ref(), kind=kind, meta=meta, body=fast.html,
                            summary_html=summary_html, summary_text=summary_text, toc=fast.toc,
                            word_count=fast.word_count)
    env: dict[str, list[ShortcodeCall]] = {}
    try:
        tokens = md.parse(source.text, env)
    except ShortcodeSyntaxError as exc:
        raise ContentError(exc.message, path=source.display_path, line=exc.line) from None
    if not tokens or tokens[0].type != "front_matter":
        if source.text.startswith("---"):
            raise ContentError("front matter opened with '---' is never closed "
                               "(expected a line '---' after it)", path=source.display_path, line=1)
        raise ContentError("no front matter (the file must start with a '---' line, then "
                           "`title: ...`, then '---')", path=source.display_path, line=1)
    meta = read_front_matter(tokens[0].content, first_line=2, display_path=source.display_path,
                             tz=tz, date_required=(kind == "post"))
    body, before_more = _split_at_more(tokens[1:])
    html = md.renderer.render(body, md.options, {})
    summary_html, summary_text = _summary(body, md, meta, before_more)
    return Document(source=source.ref(), kind=kind, meta=meta, body=html,
                    summary_html=summary_html, summary_text=summary_text, toc=_toc(body),
                    word_count=_word_count(body), shortcodes=tuple(env.get("shortcodes", ())))


def _inline_text(token: Token) -> str:
    """Plain text of an inline token (footnote markers and markup dropped)."""
    parts: list[str] = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return "".join(parts).strip()


def _toc(tokens: list[Token]) -> tuple[TocEntry, ...]:
    entries = []
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and token.level == 0:
            entries.append(TocEntry(level=int(token.tag[1]), anchor=str(token.attrGet("id") or ""),
                                    title=_inline_text(tokens[index + 1])))
    return tuple(entries)


def _split_at_more(tokens: list[Token]) -> tuple[list[Token], list[Token] | None]:
    """The body without a `<!--more-->` line, and what came before that line (None without one).
    The marker is a raw HTML block, or a paragraph of its own where raw HTML is escaped."""
    for index, token in enumerate(tokens):
        if token.level != 0:
            continue
        if token.type == "html_block" and _MORE.fullmatch(token.content.strip()):
            return tokens[:index] + tokens[index + 1:], tokens[:index]
        if (token.type == "paragraph_open" and index + 2 < len(tokens)
                and _MORE.fullmatch(tokens[index + 1].content.strip())):
            return tokens[:index] + tokens[index + 3:], tokens[:index]
    return tokens, None


def _summary(tokens: list[Token], md: MarkdownIt, meta: FrontMatter,
             before_more: list[Token] | None) -> tuple[str, str]:
    """The front matter's summary, else all that comes before a `<!--more-->` line, else the
    first top-level paragraph (without footnote refs)."""
    if meta.summary:
        return _given_summary(meta.summary)
    if before_more:
        kept = [_without_footnote_refs(t) for t in before_more]
        text = " ".join(_inline_text(t) for t in kept if t.type == "inline")
        return md.renderer.render(kept, md.options, {}).strip(), " ".join(text.split())
    for index, token in enumerate(tokens):
        if token.type == "paragraph_open" and token.level == 0:
            inline = _without_footnote_refs(tokens[index + 1])
            html = md.renderer.renderInline(inline.children or [], md.options, {})  # type: ignore[attr-defined]
            return f"<p>{html.strip()}</p>", _inline_text(inline)
    return "", ""


def _given_summary(summary: str) -> tuple[str, str]:
    from markupsafe import escape
    return f"<p>{escape(summary)}</p>", summary


def _without_footnote_refs(token: Token) -> Token:
    """A summary stands alone: footnote markers would point at notes it does not hold."""
    if token.type != "inline" or not token.children:
        return token
    return token.copy(children=[c for c in token.children if c.type != "footnote_ref"])


def _word_count(tokens: list[Token]) -> int:
    count = 0
    for token in tokens:
        if token.type == "inline":
            count += len(_WORD.findall(_inline_text(token)))
        elif token.type in ("fence", "code_block"):
            count += len(_WORD.findall(token.content))
    return count
