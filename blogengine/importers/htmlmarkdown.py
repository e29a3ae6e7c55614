"""HTML fragments to CommonMark (markdownify): what Markdown can hold becomes Markdown; the rest
(complex tables and lists, players, captioned figures, details) stays as clean HTML blocks, which
the generator renders as they are."""

from __future__ import annotations

import copy
import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bs4 import BeautifulSoup, Comment, Tag
from markdownify import MarkdownConverter

_BREAK = "\ue000"               # a <br>: a hard break, unless it ends a paragraph

_CELL_BLOCKS = ["p", "ul", "ol", "dl", "pre", "blockquote", "div", "table", "figure", "hr",
                "h1", "h2", "h3", "h4", "h5", "h6", "audio", "video", "details"]
_KEEP_ATTRS = {"a": {"href", "title"}, "img": {"src", "alt", "title", "width", "height"},
               "audio": {"src", "controls", "loop", "autoplay", "muted", "preload"},
               "video": {"src", "controls", "poster", "loop", "autoplay", "muted", "playsinline",
                         "preload", "width", "height"},
               "source": {"src", "type"}, "track": {"src", "kind", "srclang", "label"},
               "td": {"colspan", "rowspan", "scope", "headers"},
               "th": {"colspan", "rowspan", "scope", "headers"},
               "ol": {"start", "type", "reversed"}, "li": {"value"}, "abbr": {"title"},
               "acronym": {"title"}, "time": {"datetime"}, "details": {"open"},
               "q": {"cite"}, "blockquote": {"cite"}, "col": {"span"}, "colgroup": {"span"},
               "iframe": {"src", "title", "width", "height", "allowfullscreen"}}
# Inline elements Markdown has no syntax for, kept as inline HTML around Markdown text.
_INLINE_HTML = ("sup", "sub", "abbr", "acronym", "ins", "u", "mark", "small", "big", "cite", "dfn",
                "var", "time")
_BLOCK_START = re.compile(r"^\s*(?:[-+*]\s|\d{1,9}[.)]\s|>|#{1,6}(?:\s|$)|```|~~~|"
                          r"</?(?:figure|table|ul|ol|details|pre|div|p|blockquote|h\d|hr|dl)\b)")
_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")


def _escape(text: str, in_cell: bool, in_link: bool) -> str:
    """Backslash-escape what would turn plain text into Markdown syntax (CommonMark drops the
    backslash before punctuation, so readers never see it)."""
    text = re.sub(r"([\\`*])", r"\\\1", text)
    if in_link:     # any bracket could end the link's text
        text = re.sub(r"([\[\]])", r"\\\1", text)
    # Elsewhere a bracket only matters where it could open a link, footnote or task box.
    text = re.sub(r"(?<!\\)\](?=[(\[:])", r"\\]", text)
    text = re.sub(r"(?<!\\)\[(?=\^|[ xX]\])", r"\\[", text)
    text = re.sub(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])", r"\\_", text)
    text = re.sub(r"<(?=[A-Za-z/!?])", r"\\<", text)
    text = re.sub(r"&(?=#?\w+;)", r"\\&", text)
    text = text.replace("~~", r"\~\~")
    # Block syntax only counts at the start of a line (a text node may start one).
    line = r"(^|\n)([ \t]*)"
    text = re.sub(line + r"(#{1,6}|[-+*:~]|!!!)(?=[ \t]|$)", r"\1\2\\\3", text,
                  flags=re.MULTILINE)
    text = re.sub(line + r"([>]|[-=]+[ \t]*$)", r"\1\2\\\3", text, flags=re.MULTILINE)
    text = re.sub(r"(^|\n)([ \t]*)(\d{1,9})([.)])(?=[ \t]|$)", r"\1\2\3\\\4", text)
    return text.replace("|", r"\|") if in_cell else text


def _text_of(el: Tag) -> str:
    """The text of an element as a browser shows it, <br> as a line break."""
    source = re.sub(r"<br\s*/?>\n?", "\n", el.decode_contents(), flags=re.IGNORECASE)
    return BeautifulSoup(source, "html.parser").get_text()


def _fence(code: str, lang: str) -> str:
    longest = max((len(m) for m in re.findall(r"`{3,}", code)), default=2)
    mark = "`" * (longest + 1)
    return f"\n\n{mark}{lang}\n{code.rstrip(chr(10))}\n{mark}\n\n"


def html_block(el: Tag, css_class: str = "") -> str:
    """An element as a clean CommonMark HTML block: presentational attributes dropped, no blank
    line inside (one would end the block), a blank line around it."""
    el = copy.copy(el)
    for comment in el.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    for tag in [el, *el.find_all(True)]:
        keep = _KEEP_ATTRS.get(tag.name, set())
        tag.attrs = {k: v for k, v in tag.attrs.items() if k in keep}
        if tag.name in ("audio", "video"):
            tag["controls"] = ""
            src = tag.get("src") or next((s.get("src") for s in tag.find_all("source") if s.get("src")), "")
            if src and tag.find("a") is None:      # for browsers without a player
                link = BeautifulSoup("", "html.parser").new_tag("a", href=str(src))
                link.string = str(src)
                tag.append(link)
    for span in el.find_all(["span", "div"]):
        if not span.get_text(strip=True) and span.find(["img", "audio", "video", "iframe"]) is None:
            span.decompose()
    if css_class:
        el["class"] = css_class
    if el.name in ("audio", "video", "iframe"):
        wrapper = BeautifulSoup("", "html.parser").new_tag("figure")
        wrapper.append(el)
        el = wrapper
    markup = str(el).replace('controls=""', "controls")
    markup = re.sub(r"\n(?=[ \t]*\n)", "&#10;", markup.strip())
    return f"\n\n{markup}\n\n"


def _simple_table(el: Tag) -> bool:
    """Whether a GFM table holds this table: one header row, plain cells, no spans."""
    if el.find(["caption", "tfoot", "table"]) is not None:
        return False
    rows = el.find_all("tr")
    if not rows:
        return False
    widths = set()
    for row in rows:
        cells = row.find_all(["td", "th"], recursive=False)
        widths.add(len(cells))
        for cell in cells:
            if cell.get("colspan", "1") not in ("1", "") or cell.get("rowspan", "1") not in ("1", ""):
                return False
            if len(cell.find_all("p")) > 1 or cell.find(_CELL_BLOCKS[1:]) is not None:
                return False
            if any("\n" in _text_of(code).strip("\n") for code in cell.find_all("code")):
                return False        # a code block
    first = rows[0].find_all(["td", "th"], recursive=False)
    header = all(c.name == "th" for c in first) or (rows[0].parent is not None and rows[0].parent.name == "thead")
    heads = [r for r in rows[1:] if r.parent is not None and r.parent.name == "thead"
             or r.find("th", recursive=False) is not None]      # row headers: Markdown has none
    return header and not heads and len(widths) == 1


def _simple_list(el: Tag) -> bool:
    """Whether Markdown lists hold this list and the lists inside it."""
    for lst in [el, *el.find_all(["ul", "ol"])]:
        if lst.get("type") not in (None, "1", "disc") or lst.has_attr("reversed"):
            return False
        for child in lst.children:
            if isinstance(child, Tag) and child.name != "li":
                return False
            if isinstance(child, str) and not isinstance(child, Comment) and child.strip():
                return False
            if isinstance(child, Tag) and child.has_attr("value"):
                return False
        if lst.find(["table", "details", "figure"]) is not None:
            return False
    return True


_BASE: Any = MarkdownConverter     # markdownify's own conversions, untyped


class _Converter(MarkdownConverter):
    """markdownify, with WordPress's media, tables and lists kept where Markdown cannot hold them."""

    def __init__(self, footnotes: Mapping[str, str] | None = None, **options: Any) -> None:
        super().__init__(**options)
        self.footnotes = dict(footnotes or {})
        self.cited: list[str] = []        # footnote ids, in the order the text refers to them
        self.dropped: set[str] = set()

    def escape(self, text: str, parent_tags: Any) -> str:
        return _escape(text, "td" in parent_tags or "th" in parent_tags, "a" in parent_tags) if text else ""

    def convert_br(self, el: Any, text: str, parent_tags: Any) -> str:
        if "pre" in parent_tags or "_noformat" in parent_tags:
            return "\n"
        if "td" in parent_tags or "th" in parent_tags:
            return "<br>"
        return " " if "_inline" in parent_tags else _BREAK + "\n"

    def convert_a(self, el: Any, text: str, parent_tags: Any) -> str:
        href = str(el.get("href") or "")
        if "_noformat" in parent_tags or not href or not text.strip():
            return text
        if text.replace("\\", "") == href and re.match(r"(?:https?|mailto):[^\s<>]*$", href):
            return f"<{href}>"
        dest = f"<{href}>" if re.search(r"[\s()<>]", href) else href
        title = str(el.get("title") or "").replace('"', '\\"')
        return f"[{text}]({dest}" + (f' "{title}")' if title else ")")

    def convert_img(self, el: Any, text: str, parent_tags: Any) -> str:
        src = str(el.get("src") or "")
        if not src:
            return ""
        alt = re.sub(r"([\\\[\]])", r"\\\1", str(el.get("alt") or ""))
        dest = f"<{src}>" if re.search(r"[\s()<>]", src) else src
        title = str(el.get("title") or "").replace('"', '\\"')
        return f"![{alt}]({dest}" + (f' "{title}")' if title else ")")

    def convert_code(self, el: Any, text: str, parent_tags: Any) -> str:
        if "_noformat" in parent_tags or "pre" in parent_tags:
            return text
        raw = _text_of(el)
        if "\n" in raw.strip("\n"):       # a multi-line <code> is a code block
            return _fence(raw.strip("\n"), _language(el))
        if "td" in parent_tags or "th" in parent_tags:    # a table cell ends at a bare pipe
            raw = raw.replace("|", "\\|")
        return str(_BASE.convert_code(self, el, raw.replace("\n", " "), parent_tags))

    def convert_pre(self, el: Any, text: str, parent_tags: Any) -> str:
        if "wp-block-verse" in (el.get("class") or []):     # a poem: its line breaks and emphasis
            return html_block(el)
        code = _text_of(el)
        return _fence(code[1:] if code.startswith("\n") else code, _language(el)) if code.strip() else ""

    def convert_table(self, el: Any, text: str, parent_tags: Any) -> str:
        if _simple_table(el):
            return str(_BASE.convert_table(self, el, text, parent_tags))
        return html_block(el)

    def convert_list(self, el: Any, text: str, parent_tags: Any) -> str:
        if "li" not in parent_tags and not _simple_list(el):
            return html_block(el)
        return str(_BASE.convert_list(self, el, text, parent_tags))

    convert_ul = convert_list
    convert_ol = convert_list

    def convert_figure(self, el: Any, text: str, parent_tags: Any) -> str:
        classes = el.get("class") or []
        if "wp-block-embed" in classes or el.find(class_="wp-block-embed__wrapper"):
            url = _text_of(el.find(class_="wp-block-embed__wrapper") or el).strip().split()
            caption = el.find("figcaption")
            words = str(_BASE.process_tag(self, caption, parent_tags)) if caption else ""
            return "".join(f"\n\n<{u}>\n\n" for u in url[:1]) + f"\n\n{words.strip()}\n\n"
        if len(el.find_all("img")) > 1:
            return html_block(el, "gallery")
        if el.find(["audio", "video"]) is not None \
                or (el.find("figcaption") is not None and el.find("img") is not None) \
                or (el.find("figcaption") is not None and el.find("table") is not None):
            return html_block(el)
        return f"\n\n{text.strip()}\n\n" if text.strip() else ""

    def convert_audio(self, el: Any, text: str, parent_tags: Any) -> str:
        return html_block(el)

    convert_video = convert_audio

    def convert_details(self, el: Any, text: str, parent_tags: Any) -> str:
        return html_block(el)

    def convert_iframe(self, el: Any, text: str, parent_tags: Any) -> str:
        src = str(el.get("src") or "")
        if src.startswith(("http://", "https://")):
            return f"\n\n<{src}>\n\n"
        self.dropped.add("<iframe> without an address dropped")
        return ""

    def convert_object(self, el: Any, text: str, parent_tags: Any) -> str:
        if "wp-block-file__embed" in (el.get("class") or []):
            return ""        # the file block's preview: its link follows
        param = el.find("param", attrs={"name": re.compile(r"^(?:movie|src)$", re.IGNORECASE)})
        inner = el.find("embed")
        data = str(el.get("data") or (param.get("value") if param else "")
                   or (inner.get("src") if inner else "") or "")
        if data.startswith(("http://", "https://")):
            return f"\n\n<{data}>\n\n"        # a plugin (Flash) embed: its address
        self.dropped.add("<object> embed dropped")
        return text

    def convert_embed(self, el: Any, text: str, parent_tags: Any) -> str:
        if el.find_parent("object") is not None:
            return ""
        src = str(el.get("src") or "")
        if src.startswith(("http://", "https://")):
            return f"\n\n<{src}>\n\n"
        self.dropped.add("<embed> dropped")
        return ""

    def convert_svg(self, el: Any, text: str, parent_tags: Any) -> str:
        self.dropped.add("inline <svg> drawing dropped")
        return ""

    def convert_script(self, el: Any, text: str, parent_tags: Any) -> str:
        self.dropped.add("<script> dropped")
        return ""

    def convert_form(self, el: Any, text: str, parent_tags: Any) -> str:
        self.dropped.add("<form> left as its text")
        return f"\n\n{text.strip()}\n\n"

    def convert_sup(self, el: Any, text: str, parent_tags: Any) -> str:
        ref = el.get("data-fn")
        if ref and ref in self.footnotes:
            if ref not in self.cited:
                self.cited.append(ref)
            return f"[^{self.cited.index(ref) + 1}]"
        if ref:
            self.dropped.add("footnote references without their text (no footnotes meta) kept as numbers")
        return self._inline_html(el, text)

    def _inline_html(self, el: Any, text: str) -> str:
        if not text.strip():
            return text
        # Line breaks at its edges go outside: `<cite>` alone on a line would open an HTML block.
        text = text.strip(" \n" + _BREAK)
        attrs = "".join(f' {k}="{html.escape(str(v), quote=True)}"' for k, v in el.attrs.items()
                        if k in _KEEP_ATTRS.get(el.name, ()))
        return f"<{el.name}{attrs}>{text}</{el.name}>"

    def _emphasis(self, el: Any, text: str, parent_tags: Any, same: set[str], fn: str) -> str:
        if same & set(parent_tags):         # <strong>a<strong>b</strong></strong>: one level
            return text
        return str(getattr(_BASE, fn)(self, el, text, parent_tags))

    def convert_strong(self, el: Any, text: str, parent_tags: Any) -> str:
        return self._emphasis(el, text, parent_tags, {"strong", "b"}, "convert_b")

    convert_b = convert_strong

    def convert_em(self, el: Any, text: str, parent_tags: Any) -> str:
        return self._emphasis(el, text, parent_tags, {"em", "i"}, "convert_em")

    convert_i = convert_em

    def convert_del(self, el: Any, text: str, parent_tags: Any) -> str:
        return self._emphasis(el, text, parent_tags, {"del", "s", "strike"}, "convert_del")

    convert_s = convert_del
    convert_strike = convert_del

    def convert_tt(self, el: Any, text: str, parent_tags: Any) -> str:
        return self.convert_code(el, text, parent_tags)

    def convert_address(self, el: Any, text: str, parent_tags: Any) -> str:
        return f"\n\n{text.strip()}\n\n"

    convert_center = convert_address
    convert_header = convert_address
    convert_footer = convert_address
    convert_aside = convert_address
    convert_nav = convert_address
    convert_main = convert_address
    convert_hgroup = convert_address


for _name in _INLINE_HTML:
    if _name != "sup":
        setattr(_Converter, f"convert_{_name}",
                lambda self, el, text, parent_tags: self._inline_html(el, text))


def _language(el: Any) -> str:
    for cls in el.get("class") or []:
        for prefix in ("language-", "lang-", "brush:"):
            if cls.startswith(prefix):
                return str(cls[len(prefix):])
    code = el.find("code")
    if code is not None and code is not el:
        return _language(code)
    return str(el.get("lang") or el.get("data-lang") or "")


def _prepare(soup: BeautifulSoup) -> None:
    """A cover block's background image becomes an image in it (a reader would see it)."""
    for el in soup.find_all(style=re.compile(r"background-image\s*:\s*url\(")):
        match = re.search(r"background-image\s*:\s*url\(\s*['\"]?([^'\")]+)", str(el["style"]))
        if match and el.find("img") is None:
            el.insert(0, soup.new_tag("img", src=match.group(1), alt=""))


def _tidy(markdown: str) -> str:
    """Trailing spaces and runs of blank lines removed outside code blocks; a line break that
    ends a paragraph dropped (CommonMark would show its backslash)."""
    lines = markdown.split("\n")
    out: list[str] = []
    fence = ""
    for i, line in enumerate(lines):
        opener = _FENCE.match(line)
        if fence:
            if opener and opener.group(1)[0] == fence[0] and len(opener.group(1)) >= len(fence) \
                    and not line.strip()[len(opener.group(1)):].strip():
                fence = ""
            out.append(line)
            continue
        if opener:
            fence = opener.group(1)
        if _BREAK in line and not line.replace(_BREAK, "").strip():
            line = ""           # a break opening a paragraph shows nothing
        if _BREAK in line:
            following = next((rest for rest in lines[i + 1:i + 2]), "")
            ends = not following.replace(_BREAK, "").strip() or _BLOCK_START.match(following) is not None
            line = line.replace(_BREAK, "" if ends else "\\")
        line = line.rstrip()
        if not line and (not out or not out[-1]):
            continue
        out.append(line)
    return "\n".join(out).replace(_BREAK, "").strip()


@dataclass
class Converted:
    """Markdown, the footnotes it refers to (ids, in order) and what it could not carry over."""
    markdown: str
    cited: list[str] = field(default_factory=list)
    dropped: set[str] = field(default_factory=set)


def convert(text: str, footnotes: Mapping[str, str] | None = None) -> Converted:
    """Convert an HTML fragment; `<sup data-fn=ID>` becomes `[^n]` when `footnotes` has ID."""
    converter = _Converter(footnotes, heading_style="ATX", bullets="-", code_language_callback=_language,
                           escape_asterisks=False, escape_underscores=False, escape_misc=False,
                           newline_style="backslash")
    soup = BeautifulSoup(text, "html.parser")
    _prepare(soup)
    markdown = _tidy(str(converter.convert_soup(soup)))
    return Converted(markdown, converter.cited, converter.dropped)


def html_to_markdown(text: str) -> str:
    """Convert an HTML fragment to CommonMark; HTML comments (Gutenberg's block marks) vanish."""
    return convert(text).markdown
