"""A Hugo page's text as plain Markdown: shortcodes with a Markdown equivalent converted, the
others named."""

from __future__ import annotations

import html
import re

_OPEN, _CLOSE = r"\{\{[<%]-?\s*", r"\s*-?[>%]\}\}"
_END = _OPEN + r"/\s*"           # `{{< /name >}}`, `{{< / name >}}` and `{{</ name >}}` alike


def _attrs(text: str) -> dict[str, str]:
    return {m.group(1): m.group(2) if m.group(2) is not None else m.group(3)
            for m in re.finditer(r'(\w+)=(?:"([^"]*)"|(\S+))', text)}


def _positional(text: str) -> str:
    match = re.match(r'\s*"?([^"\s]+)"?', text)
    return match.group(1) if match else ""


def _figure(match: re.Match[str]) -> str:
    a = _attrs(match.group(1))
    image = f"![{a.get('alt') or a.get('title') or ''}]({a.get('src', '')})"
    if a.get("link"):
        image = f"[{image}]({a['link']})"
    caption = a.get("caption") or a.get("title")
    return image + (f"\n\n*{html.unescape(caption)}*" if caption else "")


def _highlight(match: re.Match[str]) -> str:
    return f"```{_positional(match.group(1))}\n{match.group(2).strip(chr(10))}\n```"


def _video(match: re.Match[str]) -> str:
    kind, arg = match.group(1), _attrs(match.group(2)).get("id") or _positional(match.group(2))
    url = f"https://www.youtube.com/watch?v={arg}" if kind.startswith("youtube") \
        else f"https://vimeo.com/{arg}"
    return f"<{url}>"


def _tweet(match: re.Match[str]) -> str:
    a = _attrs(match.group(1))
    user, tweet = a.get("user"), a.get("id") or _positional(match.group(1))
    return f"<https://twitter.com/{user}/status/{tweet}>" if user else \
        f"<https://twitter.com/i/status/{tweet}>"


def _gist(match: re.Match[str]) -> str:
    parts = match.group(1).split()
    return f"<https://gist.github.com/{parts[0]}/{parts[1]}>" if len(parts) >= 2 else match.group(0)


def _inline(match: re.Match[str]) -> str:
    # An inline shortcode is a template: its HTML is kept, its Go template actions are not.
    return re.sub(r"^[ \t]*\{\{-?.*?-?\}\}[ \t]*\n?", "", match.group(2), flags=re.MULTILINE).strip("\n")


def shortcodes_to_markdown(body: str, leftover: set[str]) -> str:
    """Hugo shortcodes with a plain Markdown equivalent: figure, highlight, youtube, vimeo, gist,
    tweet links; inline shortcodes keep their HTML; ref/relref become markers resolved once every
    post's old URL is known. Others are left as text (readable) and named in `leftover`."""
    body = re.sub(_OPEN + r"highlight\s+([^>%]*?)" + _CLOSE + r"\n?(.*?)" + _END + r"highlight"
                  + _CLOSE, _highlight, body, flags=re.DOTALL)
    body = re.sub(_OPEN + r"([\w-]+\.inline)" + _CLOSE + r"\n?(.*?)" + _END + r"\1" + _CLOSE,
                  _inline, body, flags=re.DOTALL)
    body = re.sub(_OPEN + r"figure\s+(.*?)" + _CLOSE, _figure, body, flags=re.DOTALL)
    body = re.sub(_OPEN + r"(youtube|vimeo|youtube_simple|vimeo_simple)\s+(.*?)" + _CLOSE,
                  _video, body)
    body = re.sub(_OPEN + r"(?:tweet|twitter|twitter_simple)\s+(.*?)" + _CLOSE, _tweet, body)
    body = re.sub(_OPEN + r"gist\s+(.*?)" + _CLOSE, _gist, body)
    body = re.sub(_OPEN + r"(?:rel)?ref\s+\"?([^\"\s>%]+)\"?" + _CLOSE,
                  lambda m: f"\x00ref:{m.group(1)}\x00", body)
    for match in re.finditer(_OPEN + r"/?\s*([\w.-]+)", body):
        leftover.add(match.group(1))
    return body
