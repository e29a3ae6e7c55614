"""Jekyll includes and plugin tags of the common kinds as blogengine shortcode calls: videos
(minimal-mistakes' `video`/`responsive_video`, `youtube.html`, `vimeo.html`, jekyll-youtube's
`{% youtube %}`, `{% vimeo %}`), figures (minimal-mistakes' `figure`, `image.html`, `figure.html`)
and gists (jekyll-gist's `{% gist %}`, `gist.html`). Anything else is left for the include
inlining and the leftover report, as is a tag whose arguments hold Liquid that can't be read."""

from __future__ import annotations

import re

from blogengine.importers.hugo_text import call

_TAG = r"\{%-?\s*"
_END = r"\s*-?%\}"
_SITE_URL = re.compile(r"\{\{-?\s*(?:site\.baseurl|site\.url|site\.github\.url)\s*-?\}\}")
_PARAM = re.compile(r"""([\w-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|(\S+))""")
_YOUTUBE_ID = re.compile(r"[A-Za-z0-9_-]{6,20}")
_VIMEO_ID = re.compile(r"[0-9]{1,15}")

VIDEO_INCLUDES = {"video": None, "responsive_video": None, "youtube": "youtube",
                  "youtube-player": "youtube", "vimeo": "vimeo"}
FIGURE_INCLUDES = {"figure", "image", "img", "fig"}
GIST_INCLUDES = {"gist"}


def _params(text: str) -> tuple[dict[str, str], list[str], list[str]]:
    """Named parameters, positional ones, and the names of those whose value is Liquid
    (a variable, or `{{ }}` / `{% %}` other than the site's URL)."""
    named: dict[str, str] = {}
    unreadable: list[str] = []
    for match in _PARAM.finditer(text):
        quoted = match.group(2) if match.group(2) is not None else match.group(3)
        value = quoted if quoted is not None else match.group(4)
        value = _SITE_URL.sub("", value)
        # Unquoted, a word is a Liquid variable (`image_path=fig_path`); a number or
        # true/false/nil is itself.
        literal = value.isdigit() or value in ("true", "false", "nil")
        if (quoted is None and not literal) or "{{" in value or "{%" in value:
            unreadable.append(match.group(1))
        named[match.group(1)] = value
    rest = _PARAM.sub(" ", text)
    positional = [p.strip("\"'") for p in rest.split()]
    return named, positional, unreadable


def _video_id(text: str) -> str:
    """An id, or the id in a video's URL (`{% youtube https://www.youtube.com/embed/ID %}`)."""
    found = re.search(r"(?:youtube(?:-nocookie)?\.com/(?:embed/|watch\?v=|v/)|youtu\.be/"
                      r"|vimeo\.com/(?:video/)?)([\w-]+)", text)
    return found.group(1) if found else text


def _video(site: str, video: str, title: str | None) -> str | None:
    valid = _YOUTUBE_ID if site == "youtube" else _VIMEO_ID
    if not valid.fullmatch(video):
        return None
    # A Jekyll include seldom names its video; ours names the player for screen readers.
    named = title or f"{'YouTube' if site == 'youtube' else 'Vimeo'} video {video}"
    return call("video", **{site: video, "title": named})


def _from_include(name: str, args: str, leftover: set[str]) -> str | None:
    """The call an include becomes, or None to leave it as it is."""
    base = re.sub(r"\.html?$", "", name.lower())
    kind = "video" if base in VIDEO_INCLUDES else "figure" if base in FIGURE_INCLUDES \
        else "gist" if base in GIST_INCLUDES else None
    if kind is None:
        return None
    named, positional, unreadable = _params(args)
    if unreadable:
        leftover.add(f"include {name} (Liquid in {', '.join(sorted(unreadable))})")
        return None
    if kind == "video":
        site = VIDEO_INCLUDES[base] or named.get("provider", "").lower()
        video = named.get("id") or named.get("video_id") or (positional[0] if positional else "")
        if site not in ("youtube", "vimeo") or not video:
            return None
        return _video(site, video, named.get("title"))
    if kind == "figure":
        src = next((named[k] for k in ("image_path", "src", "url", "image", "file", "path")
                    if named.get(k)), None)
        if src is None:
            return None
        caption = named.get("caption") or named.get("description") or named.get("title")
        return call("figure", src=src, alt=named.get("alt"), caption=caption,
                    width=named.get("width"), height=named.get("height"))
    return _gist(named.get("user"), named.get("id") or named.get("gist_id")
                 or (positional[0] if positional else None), named.get("file"))


def _gist(user: str | None, gist: str | None, file: str | None) -> str | None:
    if not gist:
        return None
    if user is None and "/" in gist:
        user, gist = gist.split("/", 1)
    if user is None:
        # jekyll-gist takes a bare id; our card needs its owner, so a plain link stands in.
        return f"<https://gist.github.com/{gist}>"
    return call("gist", user, gist, *([file] if file else []))


def includes_to_shortcodes(body: str, leftover: set[str]) -> str:
    """Video, figure and gist includes and plugin tags as blogengine calls. What is not of
    these kinds, or has arguments that can't be read, is left as it is (and named in `leftover`
    when it was of these kinds)."""
    def include(match: re.Match[str]) -> str:
        made = _from_include(match.group(1), match.group(2), leftover)
        return match.group(0) if made is None else made

    def plugin(match: re.Match[str]) -> str:
        name, args = match.group(1), match.group(2).strip()
        if "{{" in args:
            leftover.add(f"{name} (Liquid in its arguments)")
            return match.group(0)
        parts = [part.strip("\"'") for part in args.split()]
        if not parts:
            return match.group(0)
        made = _gist(None, parts[0], parts[1] if len(parts) > 1 else None) if name == "gist" \
            else _video(name, _video_id(parts[0]), None)
        return match.group(0) if made is None else made

    body = re.sub(_TAG + r"include(?:_cached)?\s+([\w./-]+)([^%]*?)" + _END, include, body)
    return re.sub(_TAG + r"(youtube|vimeo|gist)\s+([^%]*?)" + _END, plugin, body)
