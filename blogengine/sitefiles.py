"""Machine-readable site files: sitemap.xml, robots.txt and the comment thread manifest."""

from __future__ import annotations

import json
from html import escape as html_escape

from blogengine.feeds import absolute_url
from blogengine.model import SITEMAP_URL, Site

THREADS_VERSION = 1


def sitemap_xml(site: Site) -> bytes:
    """Every entry and listing page except the 404 page and the comment page shell, with lastmod
    for posts and pages."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    for entry in site.entries:
        lines.append(f"  <url><loc>{_escape(absolute_url(site.config, entry.url))}</loc>")
        when = entry.updated or entry.date
        if when is not None:
            lines.append(f"    <lastmod>{when.isoformat()}</lastmod>")
        lines.append("  </url>")
    for listing in site.listings:
        if listing.kind not in ("404", "comment-page"):
            lines.append(f"  <url><loc>{_escape(absolute_url(site.config, listing.url))}</loc></url>")
    lines.append("</urlset>")
    return ("\n".join(lines) + "\n").encode("utf-8")


def robots_txt(site: Site) -> bytes:
    sitemap = absolute_url(site.config, SITEMAP_URL)
    return f"User-agent: *\nAllow: /\n\nSitemap: {sitemap}\n".encode("utf-8")


def threads_manifest(site: Site) -> bytes:
    """The threads the comment server may accept comments on: one per post (and per page with
    comments on), with its title, its author and whether comments are open; and the site's
    title, address, language (the server's own form pages speak it) and time zone (the
    dashboard shows times in it). A post that names its fediverse announcement carries it, and
    the site its `[fediverse] account`, for the comment server to poll replies from."""
    threads = [{"path": entry.thread, "title": entry.title, "author": entry.author,
                "open": entry.comments, **({"fediverse": entry.fediverse} if entry.fediverse else {})}
               for entry in site.entries if entry.kind == "post" or entry.comments]
    about: dict[str, str] = {"title": site.config.title, "base_url": site.config.base_url,
                             "language": site.config.language, "timezone": site.config.timezone}
    if site.config.fediverse.account:
        about["fediverse_account"] = site.config.fediverse.account
    manifest = {"version": THREADS_VERSION, "site": about, "threads": threads}
    return (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _escape(text: str) -> str:
    """&, < and > as XML wants them (xml.sax.saxutils would import urllib.request)."""
    return html_escape(text, quote=False)
