"""Disqus: its XML export read into comments on the site's posts, matched by URL path."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from blogengine.config import SiteConfig
from blogengine.importers.placing import read_site
from blogengine.importers.redirects import normalize_path, site_redirects
from blogengine.importers.html import comment_to_markdown
from blogengine.importers.plan import CommentItem, Plan, SourceError
from blogengine.importers.xmlsafe import local_name, read_xml

EXPECTED = "a Disqus export (Admin > Moderation > Export)"
NS = "http://disqus.com"
DSQ = "http://disqus.com/disqus-internals"


def _text(element: ET.Element, *path: str) -> str:
    return (element.findtext("/".join(f"{{{NS}}}{p}" for p in path)) or "").strip()


def _ref(element: ET.Element, name: str) -> str | None:
    child = element.find(f"{{{NS}}}{name}")
    return child.get(f"{{{DSQ}}}id") if child is not None else None


def _when(value: str, path: Path) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise SourceError(f"createdAt {value!r} is not a date (expected 2019-05-17T08:30:00Z)",
                          path=path) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def find_thread(link: str, config: SiteConfig, urls: set[str], redirects: dict[str, str]) -> str | None:
    """The post a Disqus thread belongs to: its URL's path on this site, or an old path that
    an earlier import redirects to a post."""
    path = normalize_path(link)
    if path is None:
        return None
    base = config.base_path.rstrip("/")
    if base and path.startswith(base + "/"):
        path = path[len(base):]
    stem = path.removesuffix("index.html").rstrip("/")
    for candidate in (path, stem + "/", stem):
        if candidate in urls:
            return candidate
        if candidate in redirects and redirects[candidate] in urls:
            return redirects[candidate]
    return None


def read_disqus(path: Path, config: SiteConfig, moderators: Sequence[str] = ()) -> Plan:
    """Read a Disqus export: each thread's comments go to the post at the thread's URL path;
    deleted and spam comments are skipped (a deleted one that has replies stays as a
    placeholder); comments by the `moderators` (names, usernames or emails) are author comments."""
    root = read_xml(path, EXPECTED)
    if local_name(root) != "disqus":
        raise SourceError(f"not a Disqus export: the document is <{local_name(root)}>, not <disqus> "
                          f"(expected {EXPECTED})", path=path)
    plan = Plan(system="disqus", source=path)
    site = read_site(config)
    urls = {e.url for e in site.entries}
    redirects = site_redirects(config)
    wanted = {m.strip().lower() for m in moderators if m.strip()}
    threads: dict[str, tuple[str, str | None, bool]] = {}   # id -> (link, post path, deleted)
    for element in root.findall(f"{{{NS}}}thread"):
        thread_id = element.get(f"{{{DSQ}}}id") or ""
        link = _text(element, "link")
        threads[thread_id] = (link, find_thread(link, config, urls, redirects),
                              _text(element, "isDeleted") == "true")
    posts = root.findall(f"{{{NS}}}post")
    replied = {_ref(p, "parent") for p in posts if _text(p, "isDeleted") != "true"
               and _text(p, "isSpam") != "true"}
    unmatched: Counter[str] = Counter()
    forum = next((_text(t, "forum") for t in root.findall(f"{{{NS}}}thread") if _text(t, "forum")),
                 "disqus")
    for element in posts:
        post_id = element.get(f"{{{DSQ}}}id") or ""
        link, thread, thread_deleted = threads.get(_ref(element, "thread") or "", ("", None, False))
        spam, deleted = _text(element, "isSpam") == "true", _text(element, "isDeleted") == "true"
        if spam:
            plan.skip("comments", "spam")
            continue
        if thread_deleted:
            plan.skip("comments", "thread deleted on Disqus")
            continue
        if thread is None:
            unmatched[link or "(no link)"] += 1
            continue
        if deleted and post_id not in replied:
            plan.skip("comments", "deleted")
            continue
        names = {_text(element, "author", key).lower() for key in ("name", "username", "email")}
        parent = _ref(element, "parent")
        plan.thread_comments.setdefault(thread, []).append(CommentItem(
            uid=f"disqus:{forum}:{post_id}", parent_uid=f"disqus:{forum}:{parent}" if parent else None,
            author_name=_text(element, "author", "name") or _text(element, "author", "username"),
            author_email=_text(element, "author", "email") or None, author_url=None,
            is_author=bool(names & wanted) and not deleted,
            body="" if deleted else comment_to_markdown(_text(element, "message")),
            created_at=_when(_text(element, "createdAt"), path), deleted=deleted,
            ip=_text(element, "ipAddress") or None))
        if deleted:
            plan.skip("comments", "deleted; kept as a placeholder for its replies")
    for link, count in sorted(unmatched.items()):
        plan.skipped["comments (no post at their thread's URL)"] += count
        plan.skipped_details.append(f"{count} comment(s) of the thread {link}: no post at "
                                    f"{normalize_path(link) or link} on this site")
    if not posts:
        plan.notes.append("the export holds no comments")
    return plan
