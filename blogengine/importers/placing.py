"""Where each imported post and page lands: the `init` starter files an import may take over, a
free URL for every entry (a duplicate gets a numbered slug), and the site model they make with
the site's own content. An entry that cannot be placed is left out and reported, never the lot."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from markdown_it import MarkdownIt

from blogengine.config import SiteConfig
from blogengine.errors import BlogError, BuildFailed, ContentError
from blogengine.importers.plan import Entry, front_matter_text
from blogengine.load import load_sources, read_source
from blogengine.markup import make_markdown
from blogengine.model import Site, build_site, document_url
from blogengine.parse import Document, parse_document
from blogengine.scaffold import is_untouched_starter, starter_documents

# `blogengine init`'s first post and about page: an import's own "Hello world" or "About" goes there.
STARTER_FILES = frozenset(rel.removeprefix("content/") for rel in starter_documents(""))


@dataclass
class Placement:
    """The entries that will be written, where, and the site model they make."""

    site: Site
    entries: list[Entry]                         # placed, in plan order
    by_rel: dict[str, object]                    # content rel -> the site's entry for it
    replace: set[str] = field(default_factory=set)   # content rels of untouched starters to overwrite
    dropped: list[tuple[Entry, str]] = field(default_factory=list)   # (entry, why) left out
    notes: list[str] = field(default_factory=list)


def place_entries(config: SiteConfig, entries: list[Entry], scratch: Path) -> Placement:
    """Place `entries` among the site's own content, renaming what collides (see module doc)."""
    notes: list[str] = []
    replace = _claim_starters(config, entries, notes)
    md = make_markdown(allow_html=not config.escape_html)
    existing = _existing_documents(config, md, leave_out=replace)
    dropped: list[tuple[Entry, str]] = []
    taken = {_url_or_none(doc, config): rel for rel, doc in existing.items()}
    staged: dict[str, Document] = {}
    placed: list[Entry] = []
    for entry in entries:
        rel = str(entry.rel)
        if (config.content_dir / entry.rel).exists() and rel not in existing and rel not in replace:
            dropped.append((entry, f"content/{rel} is already there but does not build; fix it "
                                   "or move it away, then import again"))
            continue
        try:   # an entry already there is numbered too, so a second import writes the same text
            doc, renamed = _free_url(config, entry, scratch, md, taken)
        except BlogError as exc:
            dropped.append((entry, f"it would not build: {exc.message}"))
            continue
        if rel not in existing:
            notes.extend([renamed] if renamed else [])
            staged[rel] = doc
            taken[document_url(doc, config)] = rel
        placed.append(entry)
    site = _site(config, existing, staged, placed, dropped)
    by_rel: dict[str, object] = {str(e.doc.source.rel): e for e in site.entries}
    return Placement(site=site, entries=[e for e in placed if str(e.rel) in by_rel], by_rel=by_rel,
                     replace=replace, dropped=dropped, notes=notes)


def read_site(config: SiteConfig) -> Site:
    """The site model of the site's content, drafts and future posts included."""
    md = make_markdown(allow_html=not config.escape_html)
    return build_site(list(_existing_documents(config, md).values()), config, drafts=True, future=True)


def _existing_documents(config: SiteConfig, md: MarkdownIt, leave_out: Collection[str] = ()
                        ) -> dict[str, Document]:
    """The site's documents by content rel; files that do not parse are left out: they are
    not the import's to judge (an entry that would go there is dropped instead)."""
    found: dict[str, Document] = {}
    for source in load_sources(config.content_dir).sources:
        if str(source.rel) in leave_out:
            continue
        try:
            found[str(source.rel)] = parse_document(source, md, config.tz)
        except ContentError:
            continue
    return found


def _claim_starters(config: SiteConfig, entries: list[Entry], notes: list[str]) -> set[str]:
    """An entry at a starter's path takes an untouched starter's place; beside an edited one it
    gets a path of its own, so neither is lost."""
    replace: set[str] = set()
    for entry in entries:
        rel = str(entry.rel)
        target = config.content_dir / entry.rel
        if rel not in STARTER_FILES or not target.is_file():
            continue
        text = target.read_text(encoding="utf-8", errors="replace")
        if is_untouched_starter(f"content/{rel}", text):
            replace.add(rel)
            notes.append(f"{entry.label}: replaces the starter content/{rel} that `blogengine "
                         "init` wrote (it was never edited)")
        elif _front_lines(text) != _front_lines(front_matter_text(entry.front, "")):
            # Not this item from an earlier import (its front matter would match): the starter.
            entry.rel = entry.rel.with_name(f"{entry.rel.stem}-imported.md")
            notes.append(f"{entry.label}: content/{rel} is `blogengine init`'s starter, edited "
                         f"since, so it is kept; the import is content/{entry.rel}")
    return replace


def _front_lines(text: str) -> list[str]:
    """A document's front matter lines but its slug (which an import may have numbered)."""
    parts = text.split("---\n", 2)
    block = parts[1] if len(parts) == 3 and not parts[0] else ""
    return [line for line in block.splitlines() if not line.startswith("slug:")]


def _url_or_none(doc: Document, config: SiteConfig) -> str | None:
    try:
        return document_url(doc, config)
    except ContentError:
        return None


def _parse_entry(entry: Entry, scratch: Path, md: MarkdownIt, config: SiteConfig) -> Document:
    path = scratch / entry.rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(front_matter_text(entry.front, entry.body), encoding="utf-8")
    errors: list[ContentError] = []
    source = read_source(path, entry.rel, errors)
    if source is None:
        raise errors[0]
    return parse_document(source, md, config.tz)


def _free_url(config: SiteConfig, entry: Entry, scratch: Path, md: MarkdownIt,
              taken: dict[str | None, str]) -> tuple[Document, str | None]:
    """The entry parsed, its slug numbered (-2, -3 ...) while its URL is another's, and a note
    saying so."""
    doc = _parse_entry(entry, scratch, md, config)
    url = document_url(doc, config)
    rel = str(entry.rel)
    if taken.get(url, rel) == rel:
        return doc, None
    owner, base, number = taken[url], doc.meta.slug or _slug_of(url), 2
    while taken.get(url, rel) != rel:
        entry.front["slug"] = f"{base}-{number}"
        number += 1
        doc = _parse_entry(entry, scratch, md, config)
        url = document_url(doc, config)
    return doc, (f"{entry.label}: content/{owner} already has its URL; imported with slug "
                 f"{entry.front['slug']!r} at {url}")


def _slug_of(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def _site(config: SiteConfig, existing: dict[str, Document], staged: dict[str, Document],
          placed: list[Entry], dropped: list[tuple[Entry, str]]) -> Site:
    """The site model; an error the model finds in an imported entry (not caught above) leaves
    that entry out rather than the whole import."""
    by_rel = {str(e.rel): e for e in placed}
    while True:
        try:
            return build_site([*existing.values(), *staged.values()], config, drafts=True, future=True)
        except BuildFailed as failed:
            culprits = {rel for rel in staged
                        if any(_names(error, rel) for error in failed.errors)}
            if not culprits:
                raise
            for rel in culprits:
                messages = [e.message for e in failed.errors if _names(e, rel)]
                dropped.append((by_rel[rel], "it would not build: " + "; ".join(messages)))
                del staged[rel]
                placed.remove(by_rel[rel])


def _names(error: BlogError, rel: str) -> bool:
    return str(getattr(error, "path", "") or "").endswith(f"content/{rel}") or f"content/{rel}" in error.message

