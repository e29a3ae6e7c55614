"""The Markdown dialect of posts: markdown-it-py with plugins, Pygments for fenced code."""

from __future__ import annotations

import html
from functools import lru_cache
from typing import Any

from markdown_it import MarkdownIt
from mdit_py_plugins.admon import admon_plugin
from mdit_py_plugins.anchors import anchors_plugin
from mdit_py_plugins.deflist import deflist_plugin
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.front_matter import front_matter_plugin
from mdit_py_plugins.tasklists import tasklists_plugin
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound
from slugify import slugify

from blogengine.shortcodes import shortcodes_plugin

HIGHLIGHT_CLASS = "highlight"


def heading_id(title: str) -> str:
    """A stable id for a heading: the slug of its text (ids are made unique per document)."""
    return slugify(title) or "section"


@lru_cache(maxsize=1024)
def highlight_code(code: str, lang: str, _attrs: Any) -> str:
    """Fenced code to highlighted HTML with Pygments CSS classes; unknown languages stay plain."""
    name = (lang or "").split()[0] if lang else ""
    lang_class = f' class="language-{html.escape(name, quote=True)}"' if name else ""
    lexer = _lexer(name) if name else None
    if lexer is None:
        body = html.escape(code)
    else:
        body = highlight(code, lexer, _formatter())
    # tabindex: a code block that scrolls sideways must be reachable by keyboard
    return f'<pre class="{HIGHLIGHT_CLASS}" tabindex="0"><code{lang_class}>{body}</code></pre>\n'


@lru_cache(maxsize=256)
def _lexer(name: str) -> Lexer | None:
    """One lexer per language and process: finding and making one costs more than a short
    block's highlighting (lexers keep no state between blocks)."""
    try:
        return get_lexer_by_name(name)
    except ClassNotFound:
        return None


@lru_cache(maxsize=1)
def _formatter() -> HtmlFormatter:  # type: ignore[type-arg]
    return HtmlFormatter(nowrap=True)


def pygments_css(light_style: str, dark_style: str) -> str:
    """Stylesheet for highlighted code: the light style, and the dark one when the reader prefers dark."""
    selector = f".{HIGHLIGHT_CLASS}"
    # Each style only in its own scheme, so no light colour is left over on the dark background.
    blocks = []
    for scheme, style in (("light", light_style), ("dark", dark_style)):
        rules = HtmlFormatter(style=style).get_style_defs(selector)  # type: ignore[no-untyped-call]
        indented = "\n".join("  " + line for line in rules.splitlines())
        blocks.append(f"@media (prefers-color-scheme: {scheme}) {{\n{indented}\n}}\n")
    return f"/* Pygments: {light_style} (light), {dark_style} (dark) */\n" + "".join(blocks)


def make_markdown(*, allow_html: bool = True) -> MarkdownIt:
    """The post parser: CommonMark plus tables, footnotes, task lists, definition lists,
    heading anchors, admonitions, front matter and shortcodes."""
    # No linkify: it costs a third of the parse time, and authors write their links.
    md = MarkdownIt("commonmark", {"html": allow_html, "typographer": False,
                                   "xhtmlOut": False, "highlight": highlight_code})
    md.enable(["table", "strikethrough"])
    md.use(front_matter_plugin)
    md.use(footnote_plugin)
    md.use(tasklists_plugin, label=True)
    md.use(deflist_plugin)
    md.use(admon_plugin)
    md.use(anchors_plugin, min_level=1, max_level=6, slug_func=heading_id)
    md.use(shortcodes_plugin)
    md.add_render_rule("footnote_block_open", _footnotes_open)
    md.add_render_rule("code_block", _indented_code)
    return md


def _indented_code(self: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
    # Indented code gets the same markup as fenced code without a language.
    return highlight_code(tokens[idx].content, "", None)


def _footnotes_open(self: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
    # A heading, so the footnotes section is a named region for screen readers.
    return ('<hr class="footnotes-sep">\n<section class="footnotes" aria-labelledby="footnote-list-label">\n'
            '<h2 id="footnote-list-label" class="visually-hidden">Footnotes</h2>\n<ol class="footnotes-list">\n')
