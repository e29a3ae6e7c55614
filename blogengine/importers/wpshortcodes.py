"""WordPress shortcodes in classic posts turned into the HTML5 WordPress itself would show:
[caption], [gallery], [audio], [video], [embed], [code]; the others named and left as text."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from pathlib import PurePosixPath
from urllib.parse import urlsplit

_ATTR = re.compile(r"""([\w-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s\]]+))""")
# A shortcode left after the known ones were handled: reported, and left as text.
_LEFTOVER = re.compile(r"\[/?([a-zA-Z][\w-]*)(?:\s+[\w-]+=(?:\"[^\"]*\"|'[^']*'|[^\s\]]+))*\s*/?\]")
_KNOWN_LEFTOVER_OK = re.compile(r"^\[/?(?:x|\d+|[a-z])\]$")   # [x] task boxes, [1] footnotes
_URL_LINE = re.compile(r"^(\s*)(https?://[^\s<>\"]+)\s*$", re.MULTILINE)
_FLAGS = re.DOTALL | re.IGNORECASE
AUDIO_TYPES = ("mp3", "m4a", "ogg", "wav", "wma", "flac")
VIDEO_TYPES = ("mp4", "m4v", "webm", "ogv", "wmv", "flv")
# The shortcodes WordPress registers itself: shortcode_unautop() unwraps them from <p>.
REGISTERED = ("caption", "wp_caption", "gallery", "audio", "video", "playlist", "embed")

Report = Callable[[str], None]


def attributes(text: str) -> dict[str, str]:
    """The `key="value"` attributes of a shortcode, keys lower-cased."""
    return {m.group(1).lower(): next(g for g in m.groups()[1:] if g is not None)
            for m in _ATTR.finditer(text)}


def _esc(value: str) -> str:
    return html.escape(value, quote=True)


def _link(url: str) -> str:
    return f'<a href="{_esc(url)}">{html.escape(url)}</a>'


def media_html(kind: str, url: str, poster: str = "") -> str:
    """An <audio> or <video> player with a link to the file for readers whose browser has none."""
    extra = f' poster="{_esc(poster)}"' if poster else ""
    return (f'<figure><{kind} controls preload="metadata" src="{_esc(url)}"{extra}>'
            f"{_link(url)}</{kind}></figure>")


def _suffix(url: str) -> str:
    return PurePosixPath(urlsplit(url).path).suffix.lower().lstrip(".")


def expand_early(text: str) -> str:
    """What WordPress does before its paragraphs: [code] blocks (SyntaxHighlighter runs first)
    and a URL alone on its line (auto-embeds)."""
    def code(match: re.Match[str]) -> str:
        attrs = attributes(match.group(2))
        lang = attrs.get("language") or attrs.get("lang") or ""
        cls = f' class="language-{_esc(lang)}"' if lang else ""
        return f"<pre><code{cls}>{html.escape(html.unescape(match.group(3).strip(chr(10))))}</code></pre>"

    text = re.sub(r"\[(sourcecode|code)\b([^\]]*)\](.*?)\[/\1\]", code, text, flags=_FLAGS)
    return _URL_LINE.sub(lambda m: m.group(1) + f"<p>{_link(m.group(2))}</p>", text)


def expand_shortcodes(text: str, attachments: Mapping[str, tuple[str, str]],
                      post_attachments: list[tuple[str, str]], report: Report) -> str:
    """Turn WordPress shortcodes into HTML5, as do_shortcode() runs after wpautop().

    `attachments` maps an attachment id to (url, title); `post_attachments` are this post's own,
    for a [gallery] without ids or an [audio] without a file. Others are left as text and named
    through `report`."""
    def caption(match: re.Match[str]) -> str:
        attrs, inner = attributes(match.group(1)), match.group(2)
        images = re.match(r"\s*((?:<a\b[^>]*>\s*)?<img\b[^>]*>(?:\s*</a>)?)(.*)$", inner, _FLAGS)
        image, words = (images.group(1), images.group(2)) if images else ("", inner)
        words = (words.strip() or attrs.get("caption", "")).strip()
        words = re.sub(r"^(?:<br\s*/?>|</?p>|\s)+|(?:<br\s*/?>|</?p>|\s)+$", "", words)
        if not image:
            return f"<p>{words}</p>"
        return f"<figure>{image}" + (f"<figcaption>{words}</figcaption>" if words else "") + "</figure>"

    def gallery(match: re.Match[str]) -> str:
        attrs = attributes(match.group(1))
        ids = [i.strip() for i in attrs.get("ids", attrs.get("include", "")).split(",") if i.strip()]
        found = [attachments[i] for i in ids if i in attachments] if ids else post_attachments
        if found and len(found) < len(ids):
            report(f"[gallery]: {len(ids) - len(found)} of its images are not in the export")
        if not found:
            report("[gallery] dropped: none of its images are in the export")
            return ""
        images = "".join(f'<img src="{_esc(url)}" alt="{_esc(title)}" />' for url, title in found)
        return f'<figure class="gallery">{images}</figure>'

    def media(match: re.Match[str]) -> str:
        kind, attrs = match.group(1).lower(), attributes(match.group(2))
        types = AUDIO_TYPES if kind == "audio" else VIDEO_TYPES
        bare = re.search(r"(?:^|\s)(https?://\S+?)(?=\s|/?$)", match.group(2))   # [audio URL]
        url = attrs.get("src") or next((attrs[t] for t in types if t in attrs), "") \
            or (bare.group(1) if bare else "")
        if not url:    # WordPress plays the post's first attached file of that kind
            url = next((u for u, _title in post_attachments if _suffix(u) in types), "")
        if not url:
            report(f"[{kind}] without a file dropped")
            return ""
        return media_html(kind, url, attrs.get("poster", ""))

    def embed(match: re.Match[str]) -> str:
        url = match.group(1).strip()
        return f"<p>{_link(url)}</p>" if url else ""

    def youtube(match: re.Match[str]) -> str:
        value = match.group(1).strip()
        return embed_link(value if value.startswith("http") else f"https://www.youtube.com/watch?v={value}")

    text = re.sub(r"\[(?:wp_)?caption\b([^\]]*)\](.*?)\[/(?:wp_)?caption\]", caption, text, flags=_FLAGS)
    text = re.sub(r"\[gallery\b([^\]]*)\]", gallery, text, flags=_FLAGS)
    text = re.sub(r"\[embed\b[^\]]*\](.*?)\[/embed\]", embed, text, flags=_FLAGS)
    text = re.sub(r"\[(audio|video)\b([^\]]*)\](?:.*?\[/\1\])?", media, text, flags=_FLAGS)
    text = re.sub(r"\[youtube[=\s]([^\]]+)\]", youtube, text, flags=_FLAGS)
    for match in _LEFTOVER.finditer(text):
        if not _KNOWN_LEFTOVER_OK.match(match.group(0)):
            report(f"[{match.group(1).lower()}] left as text")
    return text


def embed_link(url: str) -> str:
    """An embed WordPress would fetch from another site, kept as a paragraph with its link."""
    return f"<p>{_link(url)}</p>"
