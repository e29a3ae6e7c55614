"""Comments baked into the site: each post's published conversation, read at build time from
the comment server's database or, when only its URL is known, over its API."""

from __future__ import annotations

import json
import urllib.error
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from blogengine.comments import (CommentStoreError, checked_conversation, checked_mentions,
                                 read_conversations, read_mentions, read_reply_medians)
from blogengine.config import SiteConfig
from blogengine.serverlink import RedirectRefused, open_url

API_TIMEOUT_SECONDS = 5


@dataclass(frozen=True)
class Conversation:
    """What the theme shows under a post: the comment tree as the API gives it."""

    count: int
    comments: list[dict[str, Any]] = field(default_factory=list)
    reply_median: int | None = None     # seconds the post's author usually takes to answer
    mentions: list[dict[str, Any]] = field(default_factory=list)   # likes, reposts, ... from other sites


@dataclass
class BakedConversations:
    by_thread: dict[str, Conversation]
    warning: str | None = None


def bake_conversations(config: SiteConfig, bylines: dict[str, str]) -> BakedConversations:
    """Read every thread's conversation (`bylines`: thread path to its post's author); on failure,
    none (and one warning): pages still build, with the comment form and without the conversation."""
    threads = list(bylines)
    if not config.comments.enabled or not threads:
        return BakedConversations(by_thread={})
    if config.comments.url and not config.comments.database_url:
        return _from_api(config.comments.url, threads)
    try:
        data = read_conversations(config, threads)
        medians = read_reply_medians(config, bylines)
        mentions = read_mentions(config, threads)
    except CommentStoreError as exc:
        return BakedConversations(by_thread={}, warning=(
            f"comments not included: cannot read the comment database ({exc})"))
    # A thread with nothing to show shares one frozen Conversation per reply median: a big site
    # mostly has such threads, and ten thousand made one by one took a tenth of an edit.
    quiet: dict[int | None, Conversation] = {}
    by_thread = {}
    for path, (count, comments) in data.items():
        median, mentioned = medians.get(path), mentions.get(path, [])
        if count or comments or mentioned:
            by_thread[path] = Conversation(count=count, comments=comments, reply_median=median,
                                           mentions=mentioned)
            continue
        if median not in quiet:
            quiet[median] = Conversation(count=0, reply_median=median)
        by_thread[path] = quiet[median]
    return BakedConversations(by_thread=by_thread)


def quiet_conversations(threads: Iterable[str]) -> BakedConversations:
    """Every thread without a comment or a mention (before the comment database exists)."""
    quiet = Conversation(count=0)
    return BakedConversations(by_thread=dict.fromkeys(threads, quiet))


def _from_api(server: str, threads: list[str]) -> BakedConversations:
    base = server.rstrip("/")
    found: dict[str, Conversation] = {}
    for thread in threads:
        url = f"{base}/api/comments?thread={quote(thread, safe='/')}"
        try:
            with open_url(url, timeout=API_TIMEOUT_SECONDS) as response:
                data = json.load(response)
        except RedirectRefused as exc:
            return _unreachable(server, f"HTTP {exc.code} redirect to {exc.location or '?'}, not followed; "
                                        "set [comments] url to the final address")
        except urllib.error.HTTPError as exc:
            if exc.code == 404:  # a thread the server does not know yet: no comments
                found[thread] = Conversation(count=0)
                continue
            return _unreachable(server, f"HTTP {exc.code}")
        except (OSError, ValueError) as exc:
            return _unreachable(server, str(getattr(exc, "reason", exc)))
        # Whatever answers that URL is not trusted to write into the site: every comment is
        # rebuilt field by field and its HTML sanitised again, as if it came from a reader.
        conversation = checked_conversation(data)
        if conversation is None:
            return _unreachable(server, "its answer is not a conversation")
        median = data.get("author_reply_median_seconds") if isinstance(data, dict) else None
        found[thread] = Conversation(count=conversation[0], comments=conversation[1],
                                     reply_median=median if type(median) is int and median >= 0 else None,
                                     mentions=checked_mentions(data))
    return BakedConversations(by_thread=found)


def _unreachable(server: str, reason: str) -> BakedConversations:
    return BakedConversations(by_thread={}, warning=(
        f"comments not included: the comment server at {server} did not answer ({reason}); "
        "pages still show the comment form"))
