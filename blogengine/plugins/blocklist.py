"""Example plugin `blocklist`: holds reader comments for moderation when they contain a listed
word or link to a listed domain; the dashboard's moderation list shows which.

    [plugins]
    enabled = ["blocklist"]
    [plugins.blocklist]
    words = ["casino", "crypto giveaway"]
    domains = ["spam.example"]      # and its subdomains
    action = "pending"              # or "spam"

Copy it into your site's plugins/ folder as a start for a comment check of your own."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from blogengine.hookspecs import hookimpl

SETTINGS: dict[str, Any] = {"words": [], "domains": [], "action": "pending"}
HREF = re.compile(r"""href\s*=\s*["']([^"']+)["']""", re.IGNORECASE)


@hookimpl
def comment_about_to_be_stored(comment: Any, body_html: str,
                               settings: dict[str, Any]) -> tuple[str, str] | None:
    """("pending" or "spam", why) when the comment has a listed word or a link to a listed domain."""
    action = "spam" if settings["action"] == "spam" else "pending"
    text = " ".join(str(part or "") for part in (comment.author_name, comment.author_url,
                                                 comment.body))
    for word in settings["words"]:
        if re.search(rf"(?<!\w){re.escape(str(word))}(?!\w)", text, re.IGNORECASE):
            return action, f'blocklist: contains the word "{word}"'
    links = HREF.findall(body_html) + [comment.author_url or ""]
    for link in links:
        host = (urlsplit(link).hostname or "").lower().rstrip(".")
        for domain in settings["domains"]:
            domain = str(domain).lower().strip(".")
            if host and (host == domain or host.endswith("." + domain)):
                return action, f"blocklist: links to {domain}"
    return None
