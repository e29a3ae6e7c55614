"""A Hugo page's text as blogengine Markdown: shortcodes with a blogengine built-in become its
calls (figure, youtube/vimeo -> video, gist, details), others with a Markdown equivalent are
converted, the rest are escaped (shown as written) and named."""

from __future__ import annotations

import html
import re

_OPEN, _CLOSE = r"\{\{[<%]-?\s*", r"\s*-?[>%]\}\}"
_END = _OPEN + r"/\s*"           # `{{< /name >}}`, `{{< / name >}}` and `{{</ name >}}` alike


def _attrs(text: str) -> dict[str, str]:
    return {m.group(1): re.sub(r"\\(.)", r"\1", m.group(2)) if m.group(2) is not None
            else m.group(3)
            for m in re.finditer(r'(\w+)=(?:"((?:[^"\\]|\\.)*)"|(\S+))', text)}


def _positional(text: str) -> str:
    match = re.match(r'\s*"?([^"\s]+)"?', text)
    return match.group(1) if match else ""


# The blogengine built-ins an imported call may become; any other call is escaped.
BUILTINS = frozenset({"figure", "video", "gist", "details"})


def call(name: str, *positional: str, **named: str | None) -> str:
    """A blogengine shortcode call, every value quoted."""
    def quoted(value: str) -> str:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    parts = [name, *(quoted(v) for v in positional),
             *(f"{key}={quoted(value)}" for key, value in named.items() if value)]
    return "{{< " + " ".join(parts) + " >}}"


def _figure(match: re.Match[str]) -> str:
    # Hugo's figure: src, link, alt, title, caption, attr (the credit), width, height.
    a = {key: html.unescape(value) for key, value in _attrs(match.group(1)).items()}
    return call("figure", src=a.get("src", ""), alt=a.get("alt") or a.get("title"),
                caption=a.get("caption") or a.get("title"), credit=a.get("attr"),
                link=a.get("link"), width=a.get("width"), height=a.get("height"))


def _highlight(match: re.Match[str]) -> str:
    return f"```{_positional(match.group(1))}\n{match.group(2).strip(chr(10))}\n```"


def _video(match: re.Match[str]) -> str:
    attrs = _attrs(match.group(2))
    video, site = attrs.get("id") or _positional(match.group(2)), match.group(1).split("_")[0]
    # Hugo's title is optional; ours names the player for screen readers.
    title = attrs.get("title") or f"{'YouTube' if site == 'youtube' else 'Vimeo'} video {video}"
    return call("video", **{site: video, "title": html.unescape(title)})


def _tweet(match: re.Match[str]) -> str:
    a = _attrs(match.group(1))
    user, tweet = a.get("user"), a.get("id") or _positional(match.group(1))
    return f"<https://twitter.com/{user}/status/{tweet}>" if user else \
        f"<https://twitter.com/i/status/{tweet}>"


def _gist(match: re.Match[str]) -> str:
    parts = [part.strip('"') for part in match.group(1).split()]
    return call("gist", *parts[:3]) if len(parts) >= 2 else match.group(0)


def _details(match: re.Match[str]) -> str:
    a = {key: html.unescape(value) for key, value in _attrs(match.group(1)).items()}
    is_open = "true" if a.get("open", "false").lower() not in ("false", "0", "") else None
    return call("details", summary=a.get("summary"), open=is_open)


def _escape(match: re.Match[str]) -> str:
    """A call of no blogengine built-in: escaped, so the page shows it as written."""
    return "{{</* " + match.group(1).strip() + " */>}}"


def _inline(match: re.Match[str]) -> str:
    # An inline shortcode is a template: its HTML is kept, its Go template actions are not.
    return re.sub(r"^[ \t]*\{\{-?.*?-?\}\}[ \t]*\n?", "", match.group(2), flags=re.MULTILINE).strip("\n")


def shortcodes_to_markdown(body: str, leftover: set[str]) -> str:
    """Hugo shortcodes as blogengine calls (figure, youtube, vimeo, gist, details) or Markdown
    (highlight, tweet links); inline shortcodes keep their HTML; ref/relref become markers
    resolved once every post's old URL is known. Others are escaped (shown as written) and
    named in `leftover`."""
    body = re.sub(_OPEN + r"highlight\s+([^>%]*?)" + _CLOSE + r"\n?(.*?)" + _END + r"highlight"
                  + _CLOSE, _highlight, body, flags=re.DOTALL)
    body = re.sub(_OPEN + r"([\w-]+\.inline)" + _CLOSE + r"\n?(.*?)" + _END + r"\1" + _CLOSE,
                  _inline, body, flags=re.DOTALL)
    body = re.sub(_OPEN + r"figure\s+(.*?)" + _CLOSE, _figure, body, flags=re.DOTALL)
    body = re.sub(_OPEN + r"(youtube|vimeo|youtube_simple|vimeo_simple)\s+(.*?)" + _CLOSE,
                  _video, body)
    body = re.sub(_OPEN + r"(?:tweet|twitter|twitter_simple)\s+(.*?)" + _CLOSE, _tweet, body)
    body = re.sub(_OPEN + r"gist\s+(.*?)" + _CLOSE, _gist, body)
    body = re.sub(_OPEN + r"details\b(.*?)" + _CLOSE, _details, body, flags=re.DOTALL)
    body = re.sub(_END + r"details" + _CLOSE, "{{< /details >}}", body)
    body = re.sub(_OPEN + r"(?:rel)?ref\s+\"?([^\"\s>%]+)\"?" + _CLOSE,
                  lambda m: f"\x00ref:{m.group(1)}\x00", body)
    for match in re.finditer(_OPEN + r"/?\s*([\w.-]+)", body):
        if match.group(1) not in BUILTINS or match.group(0).startswith("{{%"):
            leftover.add(match.group(1))
    unknown = "|".join(re.escape(name) for name in sorted(leftover))
    if unknown:
        body = re.sub(r"\{\{<-?\s*(/?\s*(?:" + unknown + r")(?![\w.-]).*?)-?>\}\}", _escape, body,
                      flags=re.DOTALL)
    return body
