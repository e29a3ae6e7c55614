"""What an importer read: entries to write, comments and mentions to store, what it skipped."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from blogengine.errors import BlogError


class SourceError(BlogError):
    """Input an importer cannot read: a missing folder, a truncated or foreign file."""


@dataclass
class CommentItem:
    """One comment from the old system, before it has a thread on the new site."""

    uid: str                      # stable: "<system>:<site>:<id>", so re-importing adds nothing
    parent_uid: str | None
    author_name: str
    author_email: str | None
    author_url: str | None
    is_author: bool
    body: str                     # Markdown
    created_at: datetime          # aware
    pending: bool = False         # held for moderation on the old site
    deleted: bool = False         # a deleted comment kept as a placeholder for its replies
    ip: str | None = None


@dataclass
class MentionItem:
    """A pingback, trackback or webmention: another page that linked to a post."""

    uid: str
    kind: str                     # "pingback", "trackback" or "webmention"
    source_url: str
    title: str
    excerpt: str
    created_at: datetime


@dataclass
class Entry:
    """A post or page to write as content/<rel>."""

    label: str                    # how messages name it: "post 12 'Hello'"
    kind: str                     # "post" or "page"
    rel: PurePosixPath            # under content/: posts/hello.md, pages/about.md
    front: dict[str, Any]
    body: str
    old_urls: list[str] = field(default_factory=list)   # site paths to redirect to the new URL
    comments: list[CommentItem] = field(default_factory=list)
    mentions: list[MentionItem] = field(default_factory=list)
    # Files that sat beside the old post (a Hugo bundle): copied beside the new URL.
    resources: list[tuple[str, Path]] = field(default_factory=list)
    slugs: tuple[str, ...] = ()   # names the old site knew it by (Staticman comment folders)


@dataclass
class Plan:
    """Everything one run of an importer wants to add to the site."""

    system: str                                    # "wordpress", "disqus", "jekyll", "hugo"
    source: Path
    entries: list[Entry] = field(default_factory=list)
    assets: list[tuple[PurePosixPath, Path]] = field(default_factory=list)  # content/<rel> <- file
    thread_comments: dict[str, list[CommentItem]] = field(default_factory=dict)  # by thread path
    thread_mentions: dict[str, list[MentionItem]] = field(default_factory=dict)
    # The old site's hosts: links to them whose path is an imported post's old URL are made to
    # point at its new URL.
    hosts: set[str] = field(default_factory=set)
    # The folder every copied file must come from (the old site's folder, or --uploads): the
    # stage refuses anything else, a link leading out of it included.
    files_root: Path | None = None
    skipped: Counter[str] = field(default_factory=Counter)   # "comments (spam)" -> count
    skipped_details: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def skip(self, what: str, reason: str, detail: str | None = None) -> None:
        self.skipped[f"{what} ({reason})"] += 1
        if detail:
            self.skipped_details.append(detail)


def front_matter_text(front: dict[str, Any], body: str) -> str:
    """A Markdown file: YAML front matter in the given key order, then the body."""
    lines = []
    for key, value in front.items():
        if value is None or value == [] or value == "":
            continue
        dumped = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10**6)
        lines.append(f"{key}: {dumped.removesuffix(chr(10)).removesuffix('...').strip()}")
    text = "---\n" + "\n".join(lines) + "\n---\n"
    body = body.strip("\n")
    return text + ("\n" + body + "\n" if body else "")


def local_date(moment: datetime) -> str:
    """A front matter date with its offset: unambiguous, and as the site's readers see it."""
    return moment.isoformat(sep=" ")
