"""WordPress post and comment bodies to Markdown: WordPress's paragraphs for classic posts, its
shortcodes and blocks as HTML5, footnotes and the <!--more--> break kept, the rest reported."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from bs4 import BeautifulSoup

from blogengine.importers import wpblocks, wpshortcodes
from blogengine.importers.htmlmarkdown import convert, html_to_markdown
from blogengine.importers.wpautop import shortcode_unautop, wpautop

__all__ = ["comment_to_markdown", "html_to_markdown", "html_to_text", "wordpress_to_markdown"]

_MORE = "\ue001MORE\ue001"      # <!--more-->: the summary break
_MORE_TAG = re.compile(r"<!--more(?:\s.*?)?-->|<!--noteaser-->", re.DOTALL)


def wordpress_to_markdown(text: str, attachments: Mapping[str, tuple[str, str]] | None = None,
                          post_attachments: list[tuple[str, str]] | None = None,
                          leftover: Callable[[str], None] = lambda message: None, *,
                          footnotes: list[dict[str, str]] | None = None) -> str:
    """A WordPress post or comment body (HTML, maybe without <p>, with shortcodes) to Markdown.

    Classic posts get WordPress's own paragraphs (wpautop) first. What is not carried over is
    named through `leftover`, one message each (e.g. "[playlist] left as text"). `footnotes` is
    the post's `footnotes` meta: [{"id": ..., "content": ...}] for the block editor's footnotes."""
    if "<!--nextpage-->" in text:
        leftover("<!--nextpage--> page breaks dropped: the pages are joined into one")
    text = _MORE_TAG.sub(f"\n\n<p>{_MORE}</p>\n\n", text.replace("\r\n", "\n"))
    if wpblocks.has_blocks(text):
        text = wpblocks.note_blocks(text, leftover)
    else:       # WordPress runs wpautop on every classic body, <p> or not
        text = shortcode_unautop(wpautop(wpshortcodes.expand_early(text)), wpshortcodes.REGISTERED)
    text = wpshortcodes.expand_shortcodes(text, attachments or {}, post_attachments or [], leftover)
    notes = {str(n.get("id")): str(n.get("content") or "") for n in footnotes or []}
    converted = convert(text, notes)
    for message in sorted(converted.dropped):
        leftover(message)
    definitions = [f"[^{i}]: " + " ".join(html_to_markdown(notes[ref]).split("\n")).strip()
                   for i, ref in enumerate(converted.cited, 1)]
    markdown = re.sub(rf"^[ \t]*{_MORE}[ \t]*$", "<!--more-->", converted.markdown, flags=re.MULTILINE)
    markdown = markdown.replace(_MORE, "")
    return "\n\n".join(part for part in (markdown, "\n".join(definitions)) if part)


# What a comment's Markdown can say (the comment server's sanitiser), and blocks that become paragraphs.
_COMMENT_TAGS = frozenset({"p", "br", "a", "em", "i", "strong", "b", "code", "pre", "blockquote",
                           "ul", "ol", "li"})
_COMMENT_BLOCKS = frozenset({"div", "section", "article", "figure", "figcaption", "dl", "dt", "dd",
                             "address", "details", "summary", "header", "footer", "aside", "center"})


def comment_to_markdown(text: str, *, wordpress: bool = False) -> str:
    """A comment's HTML as the Markdown comments are written in. The comment server shows
    paragraphs, links, emphasis, code, quotes and lists, and would show a heading's `#` or a
    table's `|` as text: so headings become bold lines, table rows lines of their cells, images
    links, and rules go. WordPress comments get its paragraphs (wpautop) first."""
    if wordpress:
        text = wpautop(text.replace("\r\n", "\n"))
    soup = BeautifulSoup(text, "html.parser")
    for heading in soup.find_all(re.compile(r"^h[1-6]$")):
        line = soup.new_tag("p")
        bold = soup.new_tag("strong")
        bold.string = heading.get_text(" ", strip=True)
        line.append(bold)
        heading.replace_with(line)
    for table in soup.find_all("table"):
        rows = []
        for row in table.find_all("tr"):
            cells = [cell.get_text(" ", strip=True) for cell in row.find_all(["td", "th"])]
            line = soup.new_tag("p")
            line.string = " · ".join(cell for cell in cells if cell)
            rows.append(line)
        table.replace_with(*rows) if rows else table.decompose()
    for image in soup.find_all("img"):
        src, alt = str(image.get("src") or ""), str(image.get("alt") or "")
        if src.startswith(("http://", "https://")):
            link = soup.new_tag("a", href=src)
            link.string = alt or src
            image.replace_with(link)
        else:
            image.replace_with(alt)
    for rule in soup.find_all("hr"):
        rule.decompose()
    for tag in soup.find_all(True):   # the comment dialect has no raw HTML: keep the words
        if tag.name in _COMMENT_BLOCKS:
            tag.name = "p"
        elif tag.name not in _COMMENT_TAGS:
            tag.unwrap()
    return html_to_markdown(str(soup))


def html_to_text(text: str) -> str:
    """The words of an HTML fragment on one line (summaries, mention excerpts)."""
    return re.sub(r"\s+", " ", BeautifulSoup(text, "html.parser").get_text(" ")).strip()
