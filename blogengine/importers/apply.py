"""Writing a Plan into a site: files staged in a temporary folder and moved in, posts placed by
the site model (so each comment thread is the post's real path), comments in one transaction."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

from slugify import slugify

from blogengine.comments import import_conversations, open_store
from blogengine.config import SiteConfig
from blogengine.errors import BlogError, ContentError
from blogengine.importers.plan import CommentItem, Entry, MentionItem, Plan, front_matter_text
from blogengine.importers.redirects import (redirect_file, redirect_page,
                                            rewrite_links)
from blogengine.importers.rethread import rethread
from blogengine.load import load_sources, read_source
from blogengine.markup import make_markdown
from blogengine.model import GENERATED_URLS, Site, build_site, output_path
from blogengine.parse import Document, parse_document

_NAMELESS = "Anonymous"


@dataclass
class ImportReport:
    """What an import did, for the CLI to print."""

    system: str
    source: Path
    site: Path
    written: Counter[str] = field(default_factory=Counter)    # "posts", "pages", "assets", ...
    already: Counter[str] = field(default_factory=Counter)    # identical file already there
    kept: list[str] = field(default_factory=list)             # files not written, and why
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


def read_site(config: SiteConfig, staged: dict[str, Path] | None = None) -> Site:
    """The site model of the site's content plus staged files (content rel -> file), drafts and
    future posts included. Existing files that do not parse are left out: they are not ours."""
    md = make_markdown(allow_html=not config.escape_html)
    staged = staged or {}
    documents: list[Document] = []
    for source in load_sources(config.content_dir).sources:
        if str(source.rel) in staged:
            continue
        try:
            documents.append(parse_document(source, md, config.tz))
        except ContentError:
            continue
    for rel, path in sorted(staged.items()):
        errors: list[ContentError] = []
        staged_source = read_source(path, PurePosixPath(rel), errors)
        if staged_source is None:
            raise errors[0]
        documents.append(parse_document(staged_source, md, config.tz))
    return build_site(documents, config, drafts=True, future=True)


class _Stage:
    """Files to add to the site, written first into a temporary folder inside it."""

    def __init__(self, root: Path, report: ImportReport) -> None:
        self.root = root
        self.report = report
        self.folder = Path(tempfile.mkdtemp(prefix=".blogengine-import-", dir=root))
        self.files: list[str] = []      # relative to the site root
        self.staged: set[str] = set()

    def add(self, rel: str, data: bytes, kind: str) -> Path:
        """Stage `data` for root/rel unless that file exists; returns the file to read it from."""
        target = self.root / rel
        if rel in self.staged:   # two things of the import want one file: the first wins
            self.report.kept.append(f"{rel}: wanted twice by this import; the first was written")
            return self.folder / rel
        if target.exists():
            if target.is_file() and target.read_bytes() == data:
                self.report.already[kind] += 1
            else:
                self.report.kept.append(f"{rel}: a different file is already there (not overwritten)")
            return target
        staged = self.folder / rel
        staged.parent.mkdir(parents=True, exist_ok=True)
        staged.write_bytes(data)
        self.files.append(rel)
        self.staged.add(rel)
        self.report.written[kind] += 1
        return staged

    def copy(self, rel: str, source: Path, kind: str) -> None:
        try:
            data = source.read_bytes()
        except OSError as exc:
            raise BlogError(f"cannot read the file ({exc.strerror})", path=source) from None
        self.add(rel, data, kind)

    def move_in(self) -> list[Path]:
        """Move every staged file into the site; returns what was added, to undo it on failure."""
        added: list[Path] = []
        try:
            for rel in self.files:
                target = self.root / rel
                for parent in reversed(target.relative_to(self.root).parents[:-1]):
                    folder = self.root / parent
                    if not folder.exists():
                        folder.mkdir()
                        added.append(folder)
                os.replace(self.folder / rel, target)
                added.append(target)
        except BaseException:
            undo(added)
            raise
        return added

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def undo(added: list[Path]) -> None:
    """Remove files and folders an import added (newest first)."""
    for path in reversed(added):
        try:
            path.rmdir() if path.is_dir() else path.unlink()
        except OSError:
            pass


def apply_plan(config: SiteConfig, plan: Plan) -> ImportReport:
    """Write the plan's files and store its comments; on any failure the site is left as it was."""
    report = ImportReport(system=plan.system, source=plan.source, site=config.root,
                          skipped=Counter(plan.skipped), skipped_details=list(plan.skipped_details),
                          notes=list(plan.notes))
    has_comments = any(e.comments or e.mentions for e in plan.entries) or any(
        plan.thread_comments.values()) or any(plan.thread_mentions.values())
    storage = None
    if has_comments and not config.comments.enabled:
        report.comments_off = True
    elif has_comments:
        storage = open_store(config)
    stage = _Stage(config.root, report)
    try:
        _apply(config, plan, stage, storage, report)
    finally:
        stage.discard()
        if storage is not None:
            storage.close()
    return report


def _apply(config: SiteConfig, plan: Plan, stage: _Stage, storage: Any, report: ImportReport) -> None:
    # Place every entry first (from a scratch copy: where a post lands depends on its front
    # matter only), so links between imported posts can then be pointed at their new URLs.
    scratch = stage.folder / ".placing"
    staged: dict[str, Path] = {}
    for entry in plan.entries:
        _usable_terms(entry, report)
        if not (config.content_dir / entry.rel).exists():
            path = scratch / entry.rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(front_matter_text(entry.front, entry.body), encoding="utf-8")
            staged[str(entry.rel)] = path
    site = read_site(config, staged)
    shutil.rmtree(scratch, ignore_errors=True)
    by_rel = {e.doc.source.rel: e for e in site.entries}
    for entry in plan.entries:
        if str(entry.rel) not in by_rel:
            raise ContentError("already there but it does not build; fix it or move it away, "
                               "then import again", path=f"content/{entry.rel}")
    moved = {old: by_rel[str(e.rel)].url for e in plan.entries for old in e.old_urls}
    for entry in plan.entries:
        body = rewrite_links(entry.body, moved, plan.hosts, config.base_path)
        stage.add(f"content/{entry.rel}", front_matter_text(entry.front, body).encode("utf-8"),
                  entry.kind + "s")
    owners = {output_path(e.url) for e in site.entries} | {output_path(x.url) for x in site.listings}
    owners |= {output_path(url) for url in GENERATED_URLS}
    redirected: set[str] = set()
    threads: dict[str, list[CommentItem]] = {k: list(v) for k, v in plan.thread_comments.items()}
    mentions: dict[str, list[MentionItem]] = {k: list(v) for k, v in plan.thread_mentions.items()}
    for entry in plan.entries:
        placed = by_rel[str(entry.rel)]
        report.threads[entry.label] = placed.url
        threads.setdefault(placed.url, []).extend(entry.comments)
        mentions.setdefault(placed.url, []).extend(entry.mentions)
        for rel, source in entry.resources:
            stage.copy(f"content/{placed.url.strip('/')}/{rel}".replace("content//", "content/"),
                       source, "assets")
        for old in entry.old_urls:
            _redirect(config, stage, report, entry, placed.url, old, owners, redirected)
    for asset_rel, source in plan.assets:
        stage.copy(f"content/{asset_rel}", source, "assets")
    records, mention_rows = _comment_records(threads, mentions, report)
    if storage is None:
        if report.comments_off:
            report.notes.append(f"comments are off for this site ([comments] enabled = false): "
                                f"{len(records)} comments and {len(mention_rows)} mentions "
                                "were not imported")
        stage.move_in()
        return
    added = stage.move_in()
    try:
        (report.comments_added, report.comments_already), (report.mentions_added,
                                                           report.mentions_already) = \
            import_conversations(storage, records, mention_rows)
    except BaseException:
        undo(added)
        raise


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


def _redirect(config: SiteConfig, stage: _Stage, report: ImportReport, entry: Entry, url: str,
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
    record: dict[str, Any] = {"uid": item.uid, "parent_uid": item.parent_uid, "thread": thread,
                              "created_at": item.created_at.isoformat()}
    if item.deleted:  # only who replied to it survives: nothing of what it said
        return record | {"status": "deleted", "body": ""}
    url = item.author_url if item.author_url and item.author_url.startswith(
        ("http://", "https://")) and not any(ch in item.author_url for ch in ' "<>\\`') else None
    return record | {
        "status": "pending" if item.pending else "published",
        "author_name": item.author_name.strip()[:200] or _NAMELESS,
        "author_email": (item.author_email or "").strip().lower() or None,
        "author_url": url, "is_author": item.is_author, "body": item.body, "ip": item.ip or None}


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
