"""Old URLs on the new site: paths, redirect pages (written and read back), links made to follow
posts to their new URLs."""

from __future__ import annotations

import html
import re
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit, urlunsplit

from blogengine.config import SiteConfig

REDIRECT_MARK = '<meta name="generator" content="blogengine import: redirect">'


def normalize_path(url: str) -> str | None:
    """The path of an old URL as a site path ('/2019/05/17/hello/'), or None when it names no
    page of its own (the front page, a ?p=12 link, a path climbing out)."""
    parts = urlsplit(url.strip())
    if parts.query or not parts.path or parts.path == "/":
        return None
    path = unquote(parts.path)
    segments = path.split("/")
    if any(s in (".", "..") for s in segments) or "\\" in path or "\x00" in path:
        return None
    return "/" + "/".join(s for s in segments if s) + ("/" if path.endswith("/") else "")


def redirect_file(path: str) -> str:
    """Where a redirect for an old path goes in the output: '/a/b/' and '/a/b' become
    a/b/index.html, '/a/b.html' stays a/b.html."""
    rel = path.strip("/")
    if not path.endswith("/") and PurePosixPath(rel).suffix.lower() in (".html", ".htm"):
        return rel
    return rel + "/index.html"


def redirect_page(config: SiteConfig, url: str, title: str) -> str:
    """A small page that sends browsers and search engines to `url` (a path on the new site)."""
    target = config.base_path.rstrip("/") + url
    absolute = config.base_url.rstrip("/") + url
    t, a = html.escape(target, quote=True), html.escape(absolute, quote=True)
    return (f'<!DOCTYPE html>\n<html lang="{html.escape(config.language, quote=True)}">\n<head>\n'
            f'<meta charset="utf-8">\n{REDIRECT_MARK}\n'
            f"<title>{html.escape(title or 'Moved')}</title>\n"
            f'<meta http-equiv="refresh" content="0; url={t}">\n'
            f'<link rel="canonical" href="{a}">\n<meta name="robots" content="noindex">\n'
            f'</head>\n<body>\n<p>This page has moved to <a href="{t}">{a}</a>.</p>\n'
            "</body>\n</html>\n")


def redirect_target(text: str) -> str | None:
    """The new path an imported redirect page points to, or None if it is not one of ours."""
    if REDIRECT_MARK not in text:
        return None
    start = text.find('http-equiv="refresh" content="0; url=')
    if start < 0:
        return None
    start = text.index("url=", start) + 4
    return html.unescape(text[start:text.index('"', start)])


def site_redirects(config: SiteConfig) -> dict[str, str]:
    """Old path -> new path, from the redirect pages earlier imports wrote under content/."""
    found: dict[str, str] = {}
    if not config.content_dir.is_dir():
        return found
    for path in sorted(config.content_dir.rglob("*.htm*")):
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        target = redirect_target(text)
        if target is None:
            continue
        rel = path.relative_to(config.content_dir).as_posix()
        old = "/" + (rel[: -len("index.html")] if rel.endswith("index.html") else rel)
        base = config.base_path.rstrip("/")
        found[old] = target[len(base):] if base and target.startswith(base) else target
    return found


_LINK = re.compile(r"(\]\(<?)([^()\s<>]+)(>?(?:\s+\"[^\"]*\")?\))")


def rewrite_links(body: str, moved: dict[str, str], hosts: set[str], base_path: str) -> str:
    """Point Markdown links and images at an imported post's old URL (on the old site's host, or
    site-relative) to its new URL; every other link is left as it is."""
    def replace(match: re.Match[str]) -> str:
        url = match.group(2)
        parts = urlsplit(url)
        if (parts.netloc and parts.netloc.lower() not in hosts) or (
                not parts.netloc and not url.startswith("/")) or parts.scheme not in ("", "http", "https"):
            return match.group(0)
        path = normalize_path(urlunsplit(("", "", parts.path, parts.query, "")))
        if path is None or path not in moved:
            return match.group(0)
        new = base_path.rstrip("/") + moved[path] + (f"#{parts.fragment}" if parts.fragment else "")
        return match.group(1) + new + match.group(3)

    return _LINK.sub(replace, body)
