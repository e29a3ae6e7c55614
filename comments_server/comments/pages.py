"""How the reader pages are drawn: their content inside the site's page shell (shell.py), or a
standalone page when there is none; comments in the markup of the thread (the theme's
partials/comment.html, the widget's renderComment); the policy their headers carry."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Response, render_template, request
from markupsafe import Markup

from comments_server.models import Comment
from comments_server.serialize import comment_json
from comments_server.services import services
from comments_server.strings import catalogue, fill, page_language


def strings() -> dict[str, Any]:
    """The reader strings in the site's language."""
    return catalogue(services().links.site_language)


def reader_page(template: str, status: int, page_title: str, **context: Any) -> Response:
    """`template` (the page's content) in the site's shell, else in the standalone page."""
    app_services = services()
    language = app_services.links.site_language
    context.update(t=strings(), lang=page_language(language))
    content = Markup(render_template(template, **context))
    shell = app_services.page_shell.current()
    if shell is not None:
        html = shell.fill(page_title, content)
    else:
        html = render_template("comments/standalone.html", title=page_title, content=content, lang=context["lang"],
                               site_title=app_services.links.site_title, site_url=app_services.links.site_url)
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = page_policy(app_services.links.site_url)
    # This server takes the Webmentions for the site's pages; its own pages say so too.
    response.headers["Link"] = f'<{request.script_root}/webmention>; rel="webmention"'
    return response


def page_policy(site_url: str) -> str:
    """No script at all; styles, images and fonts from this server and from the site, whose theme
    the shell loads (the site may live on another origin); forms post here only (the form's
    answer is this server's page after posting)."""
    parts = urlsplit(site_url)
    site = f" {parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else ""
    return (f"default-src 'none'; style-src 'self' 'unsafe-inline'{site}; img-src 'self' data:{site}; "
            f"font-src 'self'{site}; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


def site_zone() -> tzinfo:
    """The site's time zone (from the manifest), for comment dates as the post shows them."""
    name = services().links.site_timezone
    try:
        return ZoneInfo(name) if name else UTC
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def _utc_offset(value: datetime) -> str:
    """UTC, UTC+2, UTC-3:30: as the build's `utc_offset` filter and the widget write it."""
    offset = value.utcoffset()
    minutes = round(offset.total_seconds() / 60) if offset is not None else 0
    hours, rest = divmod(abs(minutes), 60)
    sign = "+" if minutes > 0 else "-"
    return "UTC" if not minutes else f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def comment_view(comment: Comment, t: dict[str, Any]) -> dict[str, Any]:
    """A comment as the thread shows it (its public JSON), with its date in words."""
    view = comment_json(comment)
    when = comment.created_at.astimezone(site_zone())
    date = fill(str(t["date"]), day=when.day, month=t["months"][when.month - 1], year=when.year)
    view["date_text"] = date
    view["exact_text"] = fill(str(t["date_time"]), date=date, time=when.strftime("%H:%M"), zone=_utc_offset(when))
    return view
