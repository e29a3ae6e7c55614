"""WordPress's paragraph rules for classic posts: a Python port of wpautop() and
shortcode_unautop() from wp-includes/formatting.php, step by step."""

from __future__ import annotations

import re
from collections.abc import Iterable

_ALLBLOCKS = (r"(?:table|thead|tfoot|caption|col|colgroup|tbody|tr|td|th|div|dl|dd|dt|ul|ol|li|pre|"
              r"form|map|area|blockquote|address|math|style|p|h[1-6]|hr|fieldset|legend|section|"
              r"article|aside|hgroup|header|footer|nav|figure|figcaption|details|menu|summary)")
# wp_html_split(): a comment, a CDATA section or an ordinary tag (to the next ">").
_HTML_SPLIT = re.compile(r"(<(?:(?=!--)!(?:-(?!->)[^-]*+)*+(?:-->)?"
                         r"|(?=!\[CDATA\[)!\[CDATA\[[^\]]*+(?:\](?!\]>)[^\]]*+)*+(?:\]\]>)?"
                         r"|[^>]*>?))")
# wp_spaces_regexp(): what WordPress counts as space around a lone shortcode.
_SPACES = r"(?:[\r\n\t ]|\xa0|&nbsp;)"
_NEWLINE_MARK = " <!-- wpnl --> "
_PRESERVE = "<WPPreserveNewline />"


def _newlines_in_tags(text: str) -> str:
    """wp_replace_in_html_tags(text, {"\\n": " <!-- wpnl --> "}): newlines inside tags kept aside."""
    parts = _HTML_SPLIT.split(text)
    for i in range(1, len(parts), 2):
        parts[i] = parts[i].replace("\n", _NEWLINE_MARK)
    return "".join(parts)


def _protect_pre(text: str) -> tuple[str, dict[str, str]]:
    """Each <pre>…</pre> swapped for a placeholder, as WordPress does: autop never touches it."""
    if "<pre" not in text:
        return text, {}
    parts = text.split("</pre>")
    last = parts.pop()
    kept: dict[str, str] = {}
    out = []
    for part in parts:
        start = part.find("<pre")
        if start < 0:           # malformed: a </pre> without its <pre>
            out.append(part)
            continue
        name = f"<pre wp-pre-tag-{len(kept)}></pre>"
        kept[name] = part[start:] + "</pre>"
        out.append(part[:start] + name)
    return "".join(out) + last, kept


def wpautop(text: str, br: bool = True) -> str:
    """Paragraphs (<p>) for double line breaks and <br /> for single ones, outside block elements
    and <pre>, exactly where WordPress puts them when it shows a classic post."""
    if not text.strip():
        return ""
    text, pre_tags = _protect_pre(text + "\n")
    text = re.sub(r"<br\s*/?>\s*<br\s*/?>", "\n\n", text)
    text = re.sub(rf"(<{_ALLBLOCKS}[\s/>])", r"\n\n\1", text)
    text = re.sub(rf"(</{_ALLBLOCKS}>)", r"\1\n\n", text)
    text = re.sub(r"(<hr\s*?/?>)", r"\1\n\n", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _newlines_in_tags(text)
    if "<option" in text:
        text = re.sub(r"\s*<option", "<option", text)
        text = re.sub(r"</option>\s*", "</option>", text)
    if "</object>" in text:
        text = re.sub(r"(<object[^>]*>)\s*", r"\1", text)
        text = re.sub(r"\s*</object>", "</object>", text)
        text = re.sub(r"\s*(</?(?:param|embed)[^>]*>)\s*", r"\1", text)
    if "<source" in text or "<track" in text:
        text = re.sub(r"([<\[](?:audio|video)[^>\]]*[>\]])\s*", r"\1", text)
        text = re.sub(r"\s*([<\[]/(?:audio|video)[>\]])", r"\1", text)
        text = re.sub(r"\s*(<(?:source|track)[^>]*>)\s*", r"\1", text)
    if "<figcaption" in text:
        text = re.sub(r"\s*(<figcaption[^>]*>)", r"\1", text)
        text = re.sub(r"</figcaption>\s*", "</figcaption>", text)
    text = re.sub(r"\n\n+", "\n\n", text)
    chunks = [c for c in re.split(r"\n\s*\n", text) if c]
    text = "".join("<p>" + chunk.strip("\n") + "</p>\n" for chunk in chunks)
    text = re.sub(r"<p>\s*</p>", "", text)
    text = re.sub(r"<p>([^<]+)</(div|address|form)>", r"<p>\1</p></\2>", text)
    text = re.sub(rf"<p>\s*(</?{_ALLBLOCKS}[^>]*>)\s*</p>", r"\1", text)
    text = re.sub(r"<p>(<li.+?)</p>", r"\1", text)
    text = re.sub(r"<p><blockquote([^>]*)>", r"<blockquote\1><p>", text, flags=re.IGNORECASE)
    text = text.replace("</blockquote></p>", "</p></blockquote>")
    text = re.sub(rf"<p>\s*(</?{_ALLBLOCKS}[^>]*>)", r"\1", text)
    text = re.sub(rf"(</?{_ALLBLOCKS}[^>]*>)\s*</p>", r"\1", text)
    if br:
        text = re.sub(r"<(script|style|svg).*?</\1>",
                      lambda m: m.group(0).replace("\n", _PRESERVE), text, flags=re.DOTALL)
        text = text.replace("<br>", "<br />").replace("<br/>", "<br />")
        text = re.sub(r"(?<!<br />)\s*\n", "<br />\n", text)
        text = text.replace(_PRESERVE, "\n")
    text = re.sub(rf"(</?{_ALLBLOCKS}[^>]*>)\s*<br />", r"\1", text)
    text = re.sub(r"<br />(\s*</?(?:p|li|div|dl|dd|dt|th|pre|td|ul|ol)[^>]*>)", r"\1", text)
    text = re.sub(r"\n</p>$", "</p>", text)
    for name, original in pre_tags.items():
        text = text.replace(name, original)
    if "<!-- wpnl -->" in text:
        text = text.replace(_NEWLINE_MARK, "\n").replace("<!-- wpnl -->", "\n")
    return text


def shortcode_unautop(text: str, names: Iterable[str]) -> str:
    """Unwrap a shortcode that stands alone in a paragraph (`<p>[gallery]</p>` -> `[gallery]`)."""
    tags = "|".join(re.escape(name) for name in names)
    if not tags:
        return text
    pattern = re.compile(
        rf"<p>{_SPACES}*"
        rf"(\[({tags})(?![\w-])"                      # 1: the shortcode, 2: its name
        r"[^\]/]*(?:/(?!\])[^\]/]*)*?"                # inside the opening tag
        r"(?:/\]"                                     # self-closing
        r"|\](?:[^\[]*(?:\[(?!/\2\])[^\[]*)*\[/\2\])?"  # or enclosing, to its closing tag
        r"))"
        rf"{_SPACES}*</p>")
    return pattern.sub(r"\1", text)
