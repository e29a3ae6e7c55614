"""HTML bodies to clean Markdown (markdownify), with WordPress's paragraphs and shortcodes."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from typing import Any

from markdownify import MarkdownConverter

_BLOCK = (r"(?:table|thead|tfoot|caption|col|colgroup|tbody|tr|td|th|div|dl|dd|dt|ul|ol|li|pre|"
          r"form|blockquote|address|math|style|script|p|h[1-6]|hr|fieldset|legend|section|article|"
          r"aside|header|footer|nav|figure|figcaption|details|summary|iframe|video|audio|object)")
_STARTS_BLOCK = re.compile(rf"^\s*</?{_BLOCK}[\s/>]", re.IGNORECASE)
_PRE = re.compile(r"<pre[\s>].*?</pre>", re.IGNORECASE | re.DOTALL)
_ATTR = re.compile(r"""([\w-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s\]]+))""")
# A shortcode left after the known ones were handled: reported, and left as text.
_LEFTOVER = re.compile(r"\[/?([a-zA-Z][\w-]*)(?:\s+[\w-]+=(?:\"[^\"]*\"|'[^']*'|[^\s\]]+))*\s*/?\]")
_KNOWN_LEFTOVER_OK = re.compile(r"^\[/?(?:x|\d+|[a-z])\]$")   # [x] task boxes, [1] footnotes
_URL_LINE = re.compile(r"^(\s*)(https?://[^\s<>\"]+)\s*$", re.MULTILINE)


class _Converter(MarkdownConverter):
    """markdownify with iframes kept as links (an embed must not vanish)."""

    def convert_iframe(self, el: Any, text: str, parent_tags: Any = None) -> str:
        src = el.get("src") or ""
        return f"\n\n<{src}>\n\n" if src.startswith(("http://", "https://")) else ""


def _language(el: Any) -> str:
    for cls in el.get("class") or []:
        for prefix in ("language-", "lang-", "brush:"):
            if cls.startswith(prefix):
                return str(cls[len(prefix):])
    code = el.find("code")
    if code is not None and code is not el:
        return _language(code)
    return str(el.get("lang") or el.get("data-lang") or "")


def html_to_markdown(text: str) -> str:
    """Convert an HTML fragment to CommonMark; HTML comments (Gutenberg's block marks) vanish."""
    converted = _Converter(heading_style="ATX", bullets="-", code_language_callback=_language,
                           escape_misc=False, newline_style="backslash").convert(text)
    lines = [line.rstrip() for line in str(converted).strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def attributes(text: str) -> dict[str, str]:
    """The `key="value"` attributes of a shortcode, keys lower-cased."""
    return {m.group(1).lower(): next(g for g in m.groups()[1:] if g is not None)
            for m in _ATTR.finditer(text)}


def has_paragraphs(text: str) -> bool:
    """Whether an HTML body marks its own paragraphs (block-editor posts do; classic ones don't)."""
    return bool(re.search(r"<p[\s>]|<!-- wp:", text, re.IGNORECASE))


def wpautop(text: str) -> str:
    """WordPress keeps classic posts and comments without <p>: blank lines are paragraphs and
    single newlines are line breaks, as its own wpautop() shows them."""
    kept: list[str] = []

    def keep(match: re.Match[str]) -> str:
        kept.append(match.group(0))
        return f"\n\n\x00{len(kept) - 1}\x00\n\n"

    text = _PRE.sub(keep, text.replace("\r\n", "\n"))
    out = []
    for chunk in re.split(r"\n\s*\n", text):
        chunk = chunk.strip("\n")
        if not chunk.strip():
            continue
        if chunk.startswith("\x00") or _STARTS_BLOCK.match(chunk):
            out.append(chunk)
        else:
            out.append("<p>" + chunk.replace("\n", "<br />\n") + "</p>")
    joined = "\n\n".join(out)
    return re.sub(r"\x00(\d+)\x00", lambda m: kept[int(m.group(1))], joined)


def _img_html(url: str, alt: str = "") -> str:
    return f'<img src="{html.escape(url, quote=True)}" alt="{html.escape(alt, quote=True)}" />'


def expand_wordpress(text: str, attachments: Mapping[str, tuple[str, str]],
                     post_attachments: list[tuple[str, str]], leftover: Callable[[str], None]) -> str:
    """Turn WordPress shortcodes into plain HTML before conversion.

    [caption] becomes the image and its caption in italics; [gallery] the attachments' images;
    [code]/[sourcecode] a code block; [embed], [audio], [video] and [youtube] links. Others are
    left as text, readable, and named through `leftover`. `attachments` maps an attachment id to
    (url, title); `post_attachments` are the attachments of this post, for a [gallery] without ids."""
    def caption(match: re.Match[str]) -> str:
        attrs, inner = attributes(match.group(1)), match.group(2)
        images = re.match(r"\s*((?:<a\b[^>]*>\s*)?<img\b[^>]*>(?:\s*</a>)?)(.*)$", inner,
                          re.DOTALL | re.IGNORECASE)
        image, words = (images.group(1), images.group(2)) if images else ("", inner)
        words = (words.strip() or attrs.get("caption", "")).strip()
        return f"<p>{image}</p>" + (f"<p><em>{words}</em></p>" if words else "")

    def gallery(match: re.Match[str]) -> str:
        attrs = attributes(match.group(1))
        ids = [i.strip() for i in attrs.get("ids", attrs.get("include", "")).split(",") if i.strip()]
        found = [attachments[i] for i in ids if i in attachments] if ids else post_attachments
        return "<p>" + "\n".join(_img_html(url, title) for url, title in found) + "</p>" if found else ""

    def code(match: re.Match[str]) -> str:
        attrs = attributes(match.group(2))
        lang = attrs.get("language") or attrs.get("lang") or ""
        cls = f' class="language-{html.escape(lang, quote=True)}"' if lang else ""
        return f"<pre><code{cls}>{html.escape(html.unescape(match.group(3).strip(chr(10))))}</code></pre>"

    def link(url: str) -> str:
        url = url.strip()
        return f'<p><a href="{html.escape(url, quote=True)}">{html.escape(url)}</a></p>' if url else ""

    def media(match: re.Match[str]) -> str:
        attrs = attributes(match.group(2))
        url = attrs.get("src") or next((v for k, v in attrs.items()
                                        if k in ("mp3", "m4a", "ogg", "wav", "mp4", "webm", "ogv")), "")
        return link(url)

    def youtube(match: re.Match[str]) -> str:
        value = match.group(1).strip()
        return link(value if value.startswith("http") else f"https://www.youtube.com/watch?v={value}")

    flags = re.DOTALL | re.IGNORECASE
    text = re.sub(r"\[(sourcecode|code)\b([^\]]*)\](.*?)\[/\1\]", code, text, flags=flags)
    text = re.sub(r"\[caption\b([^\]]*)\](.*?)\[/caption\]", caption, text, flags=flags)
    text = re.sub(r"\[gallery\b([^\]]*)\]", gallery, text, flags=flags)
    text = re.sub(r"\[embed\b[^\]]*\](.*?)\[/embed\]", lambda m: link(m.group(1)), text, flags=flags)
    text = re.sub(r"\[(audio|video)\b([^\]]*)\](?:.*?\[/\1\])?", media, text, flags=flags)
    text = re.sub(r"\[youtube[=\s]([^\]]+)\]", youtube, text, flags=flags)
    text = _URL_LINE.sub(lambda m: m.group(1) + link(m.group(2)), text)   # WordPress auto-embeds
    for match in _LEFTOVER.finditer(text):
        if not _KNOWN_LEFTOVER_OK.match(match.group(0)):
            leftover(match.group(1).lower())
    return text


def wordpress_to_markdown(text: str, attachments: Mapping[str, tuple[str, str]] | None = None,
                          post_attachments: list[tuple[str, str]] | None = None,
                          leftover: Callable[[str], None] = lambda name: None) -> str:
    """A WordPress post or comment body (HTML, maybe without <p>, with shortcodes) to Markdown."""
    classic = not has_paragraphs(text)
    expanded = expand_wordpress(text, attachments or {}, post_attachments or [], leftover)
    return html_to_markdown(wpautop(expanded) if classic else expanded)


def html_to_text(text: str) -> str:
    """The words of an HTML fragment on one line (summaries, mention excerpts)."""
    from bs4 import BeautifulSoup

    return re.sub(r"\s+", " ", BeautifulSoup(text, "html.parser").get_text(" ")).strip()
