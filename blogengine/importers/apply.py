"""Writing a Plan into a site: posts placed by the site model (so each comment thread is the
post's real path; placing.py), files staged and moved in together (stage.py), comments stored in
one transaction through the comment server's own checks. A dry run does all of it but the
writing, so its report is the real one."""

from __future__ import annotations

import shutil
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from slugify import slugify

from blogengine.comments import ImportedConversations, import_conversations, open_store
from blogengine.config import SiteConfig
from blogengine.importers.placing import Placement, place_entries
from blogengine.importers.plan import CommentItem, Entry, MentionItem, Plan, front_matter_text
from blogengine.importers.redirects import (redirect_file, redirect_page,
                                            rewrite_links)
from blogengine.importers.rethread import rethread
from blogengine.importers.stage import Stage, StageLog
from blogengine.model import GENERATED_URLS, output_path

_NAMELESS = "Anonymous"


@dataclass
class ImportReport(StageLog):
    """What an import did (or, in a dry run, would do), for the CLI to print."""

    system: str = ""
    source: Path = Path()
    site: Path = Path()
    dry_run: bool = False
    comments_added: int = 0
    comments_already: int = 0
    held: int = 0
    authored: int = 0
    mentions_added: int = 0
    mentions_already: int = 0
    comments_off: bool = False
    skipped: Counter[str] = field(default_factory=Counter)
    skipped_details: list[str] = field(default_factory=list)
    rethreaded: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    threads: dict[str, str] = field(default_factory=dict)     # entry label -> its path


def apply_plan(config: SiteConfig, plan: Plan, *, dry_run: bool = False) -> ImportReport:
    """Write the plan's files and store its comments; on any failure the site is left as it
    was. A dry run writes nothing and reports what the import would do."""
    report = ImportReport(system=plan.system, source=plan.source, site=config.root, dry_run=dry_run,
                          skipped=Counter(plan.skipped), skipped_details=list(plan.skipped_details),
                          notes=list(plan.notes))
    has_comments = any(e.comments or e.mentions for e in plan.entries) or any(
        plan.thread_comments.values()) or any(plan.thread_mentions.values())
    storage = None
    if has_comments and not config.comments.enabled:
        report.comments_off = True
    elif has_comments:
        storage = open_store(config, dry_run=dry_run)
    stage = Stage(config.root, report)
    try:
        _apply(config, plan, stage, storage, report, store=has_comments and not report.comments_off)
    finally:
        stage.discard()
        if storage is not None:
            storage.close()
    return report


def _apply(config: SiteConfig, plan: Plan, stage: Stage, storage: Any, report: ImportReport, *,
           store: bool) -> None:
    # Place every entry first (from a scratch copy: where a post lands depends on its front
    # matter only), so links between imported posts can then be pointed at their new URLs.
    for entry in plan.entries:
        _usable_terms(entry, report)
    placement = place_entries(config, plan.entries, stage.folder / ".placing")
    shutil.rmtree(stage.folder / ".placing", ignore_errors=True)
    report.notes.extend(placement.notes)
    _report_dropped(placement, report)
    by_rel: dict[str, Any] = placement.by_rel
    moved = {old: by_rel[str(e.rel)].url for e in placement.entries for old in e.old_urls}
    for entry in placement.entries:
        body = rewrite_links(entry.body, moved, plan.hosts, config.base_path)
        stage.add(f"content/{entry.rel}", front_matter_text(entry.front, body).encode("utf-8"),
                  entry.kind + "s", replace=str(entry.rel) in placement.replace)
    site = placement.site
    owners = {output_path(e.url) for e in site.entries} | {output_path(x.url) for x in site.listings}
    owners |= {output_path(url) for url in GENERATED_URLS}
    redirected: set[str] = set()
    threads: dict[str, list[CommentItem]] = {k: list(v) for k, v in plan.thread_comments.items()}
    mentions: dict[str, list[MentionItem]] = {k: list(v) for k, v in plan.thread_mentions.items()}
    for entry in placement.entries:
        placed = by_rel[str(entry.rel)]
        report.threads[entry.label] = placed.url
        threads.setdefault(placed.url, []).extend(entry.comments)
        mentions.setdefault(placed.url, []).extend(entry.mentions)
        for rel, source in entry.resources:
            stage.copy(f"content/{placed.url.strip('/')}/{rel}".replace("content//", "content/"),
                       source, "assets", within=plan.files_root)
        for old in entry.old_urls:
            _redirect(config, stage, report, entry, placed.url, old, owners, redirected)
    for asset_rel, source in plan.assets:
        stage.copy(f"content/{asset_rel}", source, "assets", within=plan.files_root)
    records, mention_rows = _comment_records(threads, mentions, report)
    if not store:
        if report.comments_off:
            report.notes.append(f"comments are off for this site ([comments] enabled = false): "
                                f"{len(records)} comments and {len(mention_rows)} mentions "
                                "were not imported")
        if not report.dry_run:
            stage.move_in()
        return
    if report.dry_run:
        _stored(report, records, import_conversations(config, storage, records, mention_rows,
                                                      dry_run=True))
        return
    moved_in = stage.move_in()
    try:
        _stored(report, records, import_conversations(config, storage, records, mention_rows))
    except BaseException:
        moved_in.undo()
        raise


def _report_dropped(placement: Placement, report: ImportReport) -> None:
    for entry, why in placement.dropped:
        report.skipped[f"{entry.kind}s (would not build)"] += 1
        report.skipped_details.append(f"{entry.label}: not imported: {why}")
        if entry.comments or entry.mentions:
            report.skipped[f"comments (on a {entry.kind} not imported)"] += len(entry.comments)
            report.skipped[f"mentions (on a {entry.kind} not imported)"] += len(entry.mentions)
    report.skipped = +report.skipped   # drop the zero counts


def _stored(report: ImportReport, records: list[dict[str, Any]], result: ImportedConversations) -> None:
    report.comments_added, report.comments_already = result.added, result.already
    report.mentions_added, report.mentions_already = result.mentions_added, result.mentions_already
    who = {r["uid"]: (r["thread"], r.get("author_name") or "a reader") for r in records}
    for uid, change in result.repaired:
        thread, name = who.get(uid, ("?", "a reader"))
        report.notes.append(f"{thread}: {name}'s comment: {change}")


def _usable_terms(entry: Entry, report: ImportReport) -> None:
    """Drop tags and categories that cannot make a URL (no letters or digits): the site would
    not build with them."""
    def usable(name: Any) -> bool:
        return bool(slugify(str(name), max_length=80, word_boundary=True))

    dropped = [t for t in entry.front.get("tags") or [] if not usable(t)]
    if dropped:
        entry.front["tags"] = [t for t in entry.front["tags"] if usable(t)]
    category = entry.front.get("category")
    if category is not None and not usable(category):
        dropped.append(category)
        entry.front["category"] = None
    if dropped:
        report.notes.append(f"{entry.label}: dropped tags or categories without letters or "
                            f"digits: {', '.join(map(str, dropped))}")


def _redirect(config: SiteConfig, stage: Stage, report: ImportReport, entry: Entry, url: str,
              old: str, owners: set[str], redirected: set[str]) -> None:
    base = config.base_path.rstrip("/")
    if base and old.startswith(base + "/"):
        old = old[len(base):]
    elif base:
        report.skipped["redirects (old URL outside the new site's base path)"] += 1
        report.skipped_details.append(f"{entry.label}: no redirect from {old}: outside {base}/")
        return
    if old.rstrip("/") == url.rstrip("/") or old in (url + "index.html",):
        return
    rel = redirect_file(old)
    if rel in owners:
        report.skipped["redirects (the new site has a page there)"] += 1
        report.skipped_details.append(f"{entry.label}: no redirect from {old}: "
                                      f"the new site writes {rel}")
        return
    if rel in redirected:
        return
    redirected.add(rel)
    title = str(entry.front.get("title") or "")
    stage.add(f"content/{rel}", redirect_page(config, url, title).encode("utf-8"), "redirects")


def _comment_records(threads: dict[str, list[CommentItem]], mentions: dict[str, list[MentionItem]],
                     report: ImportReport) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The comments and mentions as records of the comment server's export format (parents
    first), which the server checks and sanitises like any export file."""
    records: list[dict[str, Any]] = []
    for thread in sorted(threads):
        items = [c for c in threads[thread] if c.body.strip() or c.deleted]
        if len(items) < len(threads[thread]):
            report.skipped["comments (empty)"] += len(threads[thread]) - len(items)
        ordered, moves = rethread(items)
        for move in moves:
            report.rethreaded.append(
                f"{thread}: {move.comment.author_name}'s comment of "
                f"{move.comment.created_at:%Y-%m-%d %H:%M} now answers {move.reader.author_name}'s "
                f"of {move.reader.created_at:%Y-%m-%d %H:%M}")
        for item in _parents_first(ordered, report, thread):
            report.held += item.pending
            report.authored += item.is_author
            records.append(_comment_record(thread, item))
    rows = [{"uid": m.uid, "thread": thread, "kind": m.kind, "source_url": m.source_url,
             "title": m.title, "excerpt": m.excerpt, "created_at": m.created_at.isoformat()}
            for thread in sorted(mentions) for m in mentions[thread]]
    return records, rows


def _comment_record(thread: str, item: CommentItem) -> dict[str, Any]:
    """A record as the old system had it: the comment server checks and mends its fields."""
    record: dict[str, Any] = {"uid": item.uid, "parent_uid": item.parent_uid, "thread": thread,
                              "created_at": item.created_at.isoformat()}
    if item.deleted:  # only who replied to it survives: nothing of what it said
        return record | {"status": "deleted", "body": ""}
    return record | {
        "status": "pending" if item.pending else "published",
        "author_name": item.author_name.strip() or _NAMELESS,
        "author_email": (item.author_email or "").strip() or None,
        "author_url": (item.author_url or "").strip() or None, "is_author": item.is_author,
        "body": item.body, "ip": item.ip or None}


def _parents_first(ordered: list[CommentItem], report: ImportReport, thread: str) -> list[CommentItem]:
    """Oldest first, but every reply after its parent; a reply whose parent was skipped (spam,
    trash, another post) stays, at the top level."""
    uids = {c.uid for c in ordered}
    children: dict[str | None, list[CommentItem]] = {}
    for comment in ordered:
        parent = comment.parent_uid
        if parent is not None and (parent not in uids or parent == comment.uid):
            report.notes.append(f"{thread}: a reply by {comment.author_name} answers a comment "
                                "that was not imported; it is kept at the top level")
            comment = replace(comment, parent_uid=None)
            parent = None
        children.setdefault(parent, []).append(comment)
    result: list[CommentItem] = []
    stack = list(reversed(children.get(None, [])))
    while stack:
        comment = stack.pop()
        result.append(comment)
        stack.extend(reversed(children.get(comment.uid, [])))
    placed = {c.uid for c in result}
    for comment in ordered:  # a cycle of parents (broken data): each at the top level
        if comment.uid not in placed:
            result.append(replace(comment, parent_uid=None))
            placed.add(comment.uid)
    return result
