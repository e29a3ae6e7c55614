"""Site search: Pagefind indexes the published posts and pages into /pagefind/ after a build.

The theme marks what is searchable (`data-pagefind-body` on posts and pages, so listings are
left out); Pagefind splits the index by each page's `<html lang>`. The index is made into a
folder beside the output and swapped in, so readers never see half an index.

Pagefind is given only the pages that mark a searchable body (links to them in a folder of
their own): it would leave the listings out anyway, after parsing them.

Indexing costs about as much as the rest of a build (Pagefind takes about 2.5 s per thousand
pages here), so it runs beside the link check (`start_index` then `IndexJob.finish`), and a
big site's index is made in parts of about a thousand pages, each page in the part its path's
hash picks: Pagefind indexes only the parts whose pages changed, the others come from the
build cache, where each part is kept under a digest of its pages (`--clean` and a restored
checkout take them all). The search page merges the parts (Pagefind's mergeIndex, which ranks
the results of all parts together)."""

from __future__ import annotations

import functools
import hashlib
import importlib
import itertools
import json
import os
import pickle
import re
import shutil
import subprocess
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from blogengine.errors import BlogError
from blogengine.pagefacts import PageNote, search_marks, search_note
from blogengine.prescan import OutputListing
from blogengine.searchpages import forget_pages, is_kept, stale_pages, sync_pages
from blogengine.searchscratch import bring_in, scratch
from blogengine.stamps import search_pending_mark as _pending_mark
from blogengine.write import clear_killed, delete_later, folder_id, make_folder_of, output_files

INDEX_FOLDER = "pagefind"
CACHE_FOLDER = "search"
PAGES_FOLDER = "search-links"   # in the build cache: each part's pages (links), for Pagefind
NOTES_FILE = "search-pages.pickle"   # in the build cache: PageNote by page
PUBLISHED_FILE = "search-published.json"   # in the build cache: the published index's parts
ENTRY_FILE = "pagefind-entry.json"
PARTS_FOLDER = "parts"      # the index's other parts, in /pagefind/parts/N/
PARTS_FILE = "parts.json"   # which, for the search page to merge: {"parts": [{bundle, languages}]}
PART_PAGES = 500            # [search] part_pages: searchable pages per part (of one language)
_PART_FOLDERS = {"index", "fragment", "filter"}
RUNS_AT_ONCE = 4   # Pagefind runs (about 180 MB each at a thousand pages)
# This only stops a hung indexer.
TIMEOUT_SECONDS = 600


def index_needed(out_dir: Path, pages_changed: int, cache_dir: Path | None = None,
                 part_pages: int = PART_PAGES) -> bool:
    """Whether the index must be made again: a page changed, there is no index yet, the
    last one started was never published (index_pending), or it was split in parts of
    another size (`[search] part_pages` changed; noted in `cache_dir`)."""
    return pages_changed > 0 or not (out_dir / INDEX_FOLDER / "pagefind.js").is_file() \
        or index_pending(out_dir) \
        or cache_dir is not None and _noted_part_pages(cache_dir) != part_pages


def index_pending(out_dir: Path) -> bool:
    """Whether an index was started for the pages in `out_dir` and never published (it failed,
    or its build or `serve` was killed): the build cache may already call the pages built, so
    the index in the folder, if any, may not match them."""
    return _pending_mark(out_dir).exists()


def remove_index(out_dir: Path, cache_dir: Path | None = None) -> None:
    """Take the index away (search turned off), and the pages kept for it in `cache_dir`."""
    shutil.rmtree(out_dir / INDEX_FOLDER, ignore_errors=True)
    _pending_mark(out_dir).unlink(missing_ok=True)
    if cache_dir is not None:
        shutil.rmtree(cache_dir / PAGES_FOLDER, ignore_errors=True)
        _published_file(cache_dir).unlink(missing_ok=True)


def start_index(out_dir: Path, cache_dir: Path | None = None,
                stopped: Callable[[], bool] = lambda: False,
                part_pages: int = PART_PAGES, listing: OutputListing | None = None,
                early: EarlyPart | None = None,
                written: dict[str, PageNote] | None = None) -> IndexJob:
    """Stage the kept index of each part whose pages are unchanged and start Pagefind on the
    others, returning at once; `finish` publishes the index into `out_dir/pagefind/` or raises
    BlogError saying why not (as start_index does when `stopped` turns true while it reads the
    pages). `listing`: the output folder's files and pages, when the build has listed them;
    `early`: a part started before the pages were written (start_early), taken when it
    indexed the very pages of its part, else stopped; `written`: the notes of the pages the
    build wrote, taken by their writers (pagefacts.py)."""
    try:
        executable = _executable()
        _pending_mark(out_dir).touch()   # until finish publishes the index
        notes = cache_dir / NOTES_FILE if cache_dir is not None else None
        pages = read_pages(out_dir, executable, stopped, part_pages,
                           early.notes if early is not None else _read_notes(notes), listing,
                           written)
    except BaseException:
        if early is not None:
            early.discard()
        raise
    if notes is not None:
        _write_notes(notes, pages.notes)
    index, noted = _noted_published(cache_dir)
    job = IndexJob(out_dir, _staging(out_dir), executable,
                   cache_dir / CACHE_FOLDER if cache_dir is not None else None, pages.parts,
                   pages.files, cache_dir / PAGES_FOLDER if cache_dir is not None else None,
                   previous=_kept_before(cache_dir, noted), part_pages=part_pages)
    kept = {part.number for part in pages.parts if job.has_kept(part)}
    taken = early.part_of(pages) if early is not None else None
    if early is not None and (taken is None or taken.number in kept):
        early.discard()
        taken = None
    for part in pages.parts:   # Pagefind first: the kept parts are linked in while it runs
        if part is taken and early is not None:
            job.adopt(part, early)
        elif part.number not in kept:
            job.queue(part)
    published = noted if _still_published(index, out_dir) else {}
    for part in pages.parts:
        if part.number not in kept:
            continue
        if part.number and published.get(part.number) == part.key:
            job.carried.append(part)   # moved over from the published index by finish
            job.refresh(part)
        else:
            job.link_kept(part)
    return job


@dataclass
class IndexJob:
    """An index on its way: each part a kept copy or a Pagefind run into its own folder beside
    `staged`, put together there by `finish`."""

    out_dir: Path
    staged: Path
    executable: Path
    cache: Path | None   # where the parts are kept for later builds
    parts: list[Part]
    files: set[str]      # every file in the output folder, as read_pages found it
    pages: Path | None = None   # where each part's folder of pages is kept (searchpages.py)
    stopped: bool = False
    # Parts (but the first) the published index holds as they are: finish moves them over.
    carried: list[Part] = field(default_factory=list)
    # The kept index of each part the last build published, which a part indexed again
    # shares its unchanged files with (searchscratch.py).
    previous: dict[int, Path] = field(default_factory=dict)
    part_pages: int = PART_PAGES   # (noted with the published parts: index_needed)
    _runs: dict[int, Future[None]] = field(default_factory=dict)
    _syncs: list[Future[bool]] = field(default_factory=list)   # (refresh)
    _pool: ThreadPoolExecutor | None = None
    _linker: ThreadPoolExecutor | None = None   # (link_kept)
    _processes: list[subprocess.Popen[str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _given_up: bool = False

    def part_folder(self, part: Part) -> Path:
        return _part_folder(self.staged, part.number)

    def has_kept(self, part: Part) -> bool:
        """Whether the cache keeps an index of this part's pages."""
        return self.cache is not None and (self.cache / part.key / ENTRY_FILE).is_file()

    def take_kept(self, part: Part) -> bool:
        """Copy the kept index of this part's pages (has_kept); False when it cannot be read."""
        if self.cache is None:
            return False
        try:
            _copy_tree(self.cache / part.key, self.part_folder(part))
        except OSError:   # an unreadable cache: index as if it were not there
            shutil.rmtree(self.part_folder(part), ignore_errors=True)
            return False
        return True

    def link_kept(self, part: Part) -> None:
        """Take the kept index of this part's pages (take_kept) in a thread of its own, while
        the build goes on to the link check and Pagefind runs for other parts, then refresh
        its folder of pages; when it cannot be read, index the part there."""
        if self._linker is None:
            self._linker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pagefind-kept")
        self._runs[part.number] = self._linker.submit(self._take_or_index, part)

    def _take_or_index(self, part: Part) -> None:
        if self.take_kept(part):
            self.refresh(part)
        else:
            self._index(part, None)

    def queue(self, part: Part) -> None:
        """Index this part in the background, beside the others (Pagefind uses more than one
        core itself: no more runs at once than cores, nor than RUNS_AT_ONCE)."""
        site = None
        if part.rels is not None and self.pages is not None \
                and is_kept(self.pages / str(part.number), self.out_dir):
            # A kept folder needs a few links: made here, where its system calls need not wait
            # for the interpreter lock while this thread goes on. A new one (hundreds of
            # folders) is made in the pool's thread, beside the other parts' runs.
            site = self._site(part)
        self._runs[part.number] = self._submit(self._index, part, site)

    def adopt(self, part: Part, early: EarlyPart) -> None:
        """Take the Pagefind run start_early began on this part's very pages."""
        with self._lock:
            self._processes.append(early.process)
            if self._given_up:
                early.process.kill()
        self._runs[part.number] = self._submit(self._take_early, part, early)

    def refresh(self, part: Part) -> None:
        """Bring this part's kept folder of pages up to date in the background, when it links
        into an output folder made anew since (after the old one was deleted, say): the next edit
        of the part then finds it ready (start_early needs it so)."""
        if self.pages is None or part.rels is None:
            return
        folder = self.pages / str(part.number)
        if folder.is_dir() and not is_kept(folder, self.out_dir):
            self._syncs.append(self._submit(sync_pages, self.out_dir, part.rels, folder))

    def _submit(self, work: Callable[..., object], *args: object) -> Future[Any]:
        with self._lock:   # (the kept parts' thread submits too: see link_kept)
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=min(os.cpu_count() or 1,
                                                                RUNS_AT_ONCE),
                                                thread_name_prefix="pagefind")
            return self._pool.submit(work, *args)

    def finish(self) -> None:
        """Wait for the parts and swap the index in; on failure the old index goes too (it no
        longer matches the pages, and its absence makes the next build index again). An index
        stopped meanwhile (`stop`) is dropped without a word."""
        try:
            for run in self._runs.values():
                run.result()
            for sync in self._syncs:
                sync.result()
            self._carry()
            self._put_together()
            _publish(self.staged, self.out_dir / INDEX_FOLDER)
            _pending_mark(self.out_dir).unlink(missing_ok=True)
            if self.cache is not None:
                _write_published(self.cache.parent, self.out_dir, self.parts, self.part_pages)
                _forget_parts_but(self.cache, {part.key for part in self.parts})
            if self.pages is not None:
                forget_pages(stale_pages(self.pages, self.out_dir,
                                         {part.number for part in self.parts}))
        except BaseException:
            self.cancel()
            if not self.stopped:
                raise
        finally:
            self._let_go()

    def stop(self) -> None:
        """From another thread: make a running `finish` give up (`serve` starts a new build)."""
        self.stopped = True
        self._kill()

    def cancel(self) -> None:
        """Stop the indexer (the build failed after starting it) and leave no index behind."""
        self._kill()
        self._let_go()
        for part in self.parts:
            shutil.rmtree(self.part_folder(part), ignore_errors=True)
        shutil.rmtree(self.staged, ignore_errors=True)
        # The pending mark stays: the next build indexes again, even when the pages it has
        # are up to date.
        shutil.rmtree(self.out_dir / INDEX_FOLDER, ignore_errors=True)
        if self.cache is not None:
            _published_file(self.cache.parent).unlink(missing_ok=True)

    def _carry(self) -> None:
        """Move the carried parts out of the published index into this one: a folder renamed
        each, where linking their files in from the cache took a big site's build a few
        tenths of a second. From the cache when one cannot be moved."""
        if not self.carried or self.cache is None:
            return
        # Until the new index is published, the old one may lack parts: none to carry then.
        _published_file(self.cache.parent).unlink(missing_ok=True)
        for part in self.carried:
            try:
                (self.out_dir / INDEX_FOLDER / PARTS_FOLDER / str(part.number)).rename(
                    self.part_folder(part))
            except OSError:
                if not self.take_kept(part):
                    self._index(part, None)

    def _kill(self) -> None:
        with self._lock:
            self._given_up = True   # no part starts after this
            for process in self._processes:
                if process.poll() is None:
                    process.kill()

    def _let_go(self) -> None:
        for pool in (self._pool, self._linker):
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)

    def _site(self, part: Part) -> Path:
        """The folder Pagefind reads for this part: its pages (kept, else made for this run
        alone), or the whole site."""
        if part.rels is None:
            return self.out_dir
        if self.pages is not None:
            folder = self.pages / str(part.number)
            if sync_pages(self.out_dir, part.rels, folder):
                return folder
        return _searchable_site(self.out_dir, part.rels)

    def _index(self, part: Part, site: Path | None) -> None:
        """Run Pagefind on this part's pages (`site`: the folder of them, made here when
        None) into its folder."""
        if self._given_up:
            raise BlogError("search: indexing stopped for a newer build")
        shutil.rmtree(self.part_folder(part), ignore_errors=True)
        previous = self.previous.get(part.number)
        output = _output_for(len(part.rels) if part.rels is not None else PART_PAGES, previous)
        if output is None:
            output, previous = self.part_folder(part), None
        if site is None:
            site = self._site(part)
        if site == self.out_dir and len(self.parts) > 1:   # every part would hold every page
            raise BlogError(f"search: could not link the pages to index beside {self.out_dir}")
        try:
            try:
                process = _run_pagefind(self.executable, site, output)
            except OSError as exc:
                raise _cannot_run(self.executable, exc) from None
            with self._lock:
                self._processes.append(process)
                if self._given_up:
                    process.kill()
            self._wait(process, output)
        except BaseException:
            shutil.rmtree(output, ignore_errors=True)
            raise
        finally:
            if self.pages is None or site.parent != self.pages:   # (a kept folder stays)
                _remove_site(self.out_dir, site, len(part.rels or ()))
        self._indexed(part, output, previous)

    def _take_early(self, part: Part, early: EarlyPart) -> None:
        self._wait(early.process, early.output)
        if self.pages is not None and part.rels is not None:
            # The pages start_early put in the folder are written now: links to them again
            # (only once Pagefind is done reading it).
            sync_pages(self.out_dir, part.rels, self.pages / str(part.number))
        self._indexed(part, early.output, early.previous)

    def _indexed(self, part: Part, output: Path, previous: Path | None = None) -> None:
        """Put the part Pagefind wrote into `output` in its folder, and keep a copy. `previous`:
        the part's last kept index, when Pagefind wrote into memory beside it."""
        if part.number:
            _leave_only_the_index(output)
        if previous is not None:
            shutil.rmtree(self.part_folder(part), ignore_errors=True)   # (a stopped run's)
            bring_in(output, previous, self.part_folder(part))
            output = self.part_folder(part)
        if self.cache is not None:
            _keep(output, self.cache / part.key)

    def _wait(self, process: subprocess.Popen[str], output: Path) -> None:
        try:
            out, err = process.communicate(timeout=TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired as exc:
            process.kill()
            process.communicate()
            raise _cannot_run(self.executable, exc) from None
        if self._given_up:
            raise BlogError("search: indexing stopped for a newer build")
        if process.returncode != 0 or not (output / ENTRY_FILE).is_file():
            said = (err.strip() or out.strip()).splitlines()[-5:]
            raise BlogError(f"search: Pagefind could not index {self.out_dir} (exit code "
                            f"{process.returncode}){': ' + ' / '.join(said) if said else ''}")

    def _put_together(self) -> None:
        """The first part at the top of the index (Pagefind's script, which a search page
        loads), the others in parts/N/, and parts.json naming them with their languages."""
        listed = []
        for part in self.parts:
            folder = self.part_folder(part)
            if part.number == 0:
                folder.rename(self.staged)
                continue
            entry = json.loads((folder / ENTRY_FILE).read_text(encoding="utf-8"))
            (self.staged / PARTS_FOLDER).mkdir(exist_ok=True)
            folder.rename(self.staged / PARTS_FOLDER / str(part.number))
            listed.append({"bundle": f"{PARTS_FOLDER}/{part.number}/",
                           "languages": sorted(entry.get("languages", {}))})
        (self.staged / PARTS_FILE).write_text(json.dumps({"parts": listed}, sort_keys=True) + "\n",
                                              encoding="utf-8")


@dataclass(frozen=True)
class Part:
    """Some of the searchable pages, indexed together; a part's key is a digest of its pages
    (paths and bytes) and of the indexer (a new binary may index differently)."""

    number: int
    key: str
    rels: list[str] | None   # None: the whole site (no page marks a searchable body)


@dataclass(frozen=True)
class SitePages:
    """The HTML pages Pagefind would read, in parts."""

    parts: list[Part]
    # The pages that mark a searchable body (data-pagefind-body), when any does: Pagefind
    # leaves the others out, yet parses them all, a quarter of its time on a blog's listings.
    # None: no page marks one, so Pagefind indexes them all.
    searchable: list[str] | None
    notes: dict[str, PageNote]   # for the next build's read_pages
    files: set[str]              # every file in the output folder (the link check's too)


# What read_pages learnt of a page (pagefacts.PageNote) is kept for the next build: a page
# whose stat is unchanged is not read again (the link check trusts the same stat).


def read_pages(out_dir: Path, executable: Path,
               stopped: Callable[[], bool] = lambda: False,
               part_pages: int = PART_PAGES, known: dict[str, PageNote] | None = None,
               listing: OutputListing | None = None,
               written: dict[str, PageNote] | None = None) -> SitePages:
    """Read every HTML page Pagefind would see (those `known` with the same stat excepted,
    and those `written` by this build, as their writers noted them; the files and their stats
    from `listing` when given, else from the folder) and split the searchable ones into
    parts: a part per `part_pages` pages of a language,
    rounded up to a power of two, each page in the part its path's hash picks. An edit
    changes one part's pages, so only that part is indexed again; the parts stay put until a
    language's pages double or halve."""
    binary = executable.stat()
    stamp = f"{executable}\n{binary.st_size}\n{binary.st_mtime_ns}\n".encode()
    prefix = INDEX_FOLDER + "/"
    files = output_files(out_dir) if listing is None else listing.files
    stats = listing.pages if listing is not None else {}
    notes: dict[str, PageNote] = {}
    marked: list[tuple[str, str, bytes]] = []   # path, language, digest
    for rel in sorted(rel for rel in files if rel.endswith(".html") and not rel.startswith(prefix)):
        if stopped():   # serve saw a new save: it is about to write pages
            raise BlogError("search: indexing stopped for a newer build")
        note = written.get(rel) if written is not None else None
        if note is None:
            note = _known_or_read(out_dir, rel, stats.get(rel),
                                  known.get(rel) if known is not None else None)
        notes[rel] = note
        if note[2]:
            marked.append((rel, note[3], note[4]))
    if not marked:   # Pagefind indexes the whole site: one part, of every page
        whole = hashlib.sha256(stamp)
        for rel, note in notes.items():
            whole.update(f"{rel}\n".encode() + note[4])
        return SitePages([Part(0, whole.hexdigest()[:32], None)], None, notes, files)
    parts = []
    for number, bucket in enumerate(_split(marked, part_pages)):
        key = hashlib.sha256(stamp + f"part {number}\n".encode())
        for rel, digest in bucket:
            key.update(f"{rel}\n".encode() + digest)
        parts.append(Part(number, key.hexdigest()[:32], [rel for rel, _ in bucket]))
    return SitePages(parts, [rel for rel, _lang, _digest in marked], notes, files)


def _split(marked: list[tuple[str, str, bytes]], part_pages: int
           ) -> list[list[tuple[str, bytes]]]:
    """The searchable pages (path, language, digest; by path) in parts, numbered from 0:
    (path, digest) in each."""
    languages: dict[str, int] = {}
    for _rel, lang, _digest in marked:
        languages[lang] = languages.get(lang, 0) + 1
    split = {lang: parts_for(count, part_pages) for lang, count in languages.items()}
    numbered: dict[int, list[tuple[str, bytes]]] = {}
    for rel, lang, digest in marked:
        numbered.setdefault(_spread(rel) % split[lang], []).append((rel, digest))
    return [numbered[bucket] for bucket in sorted(numbered)]   # (none is empty)


def _known_or_read(out_dir: Path, rel: str, seen: tuple[int, int] | None, note: object
                   ) -> PageNote:
    """The `note` the last build took of the page at `rel`, when the page has the same stat
    (`seen`, else stat-ed here); else the page read again. (Its path is made only then: an
    edit at 10,000 posts reads a handful of its 14,000 pages.)"""
    if seen is None:
        stat = os.stat(os.path.join(out_dir, rel))
        seen = (stat.st_mtime_ns, stat.st_size)
    if isinstance(note, tuple) and len(note) == 5 and note[0] == seen[0] and note[1] == seen[1]:
        return note
    return _note(os.path.join(out_dir, rel))


def _note(path: str) -> PageNote:
    with open(path, "rb") as handle:
        stat = os.fstat(handle.fileno())
        data = handle.read()
    return search_note(stat, data)


@dataclass
class EarlyPart:
    """A part's Pagefind run begun before the build wrote its pages (start_early), into the
    folder its part takes in the job (IndexJob.part_folder); start_index takes it only for a
    part of exactly the pages it read, byte for byte, else stops it."""

    number: int
    rels: list[str]
    digests: dict[str, bytes]          # each page as Pagefind read it
    output: Path
    process: subprocess.Popen[str]
    notes: dict[str, PageNote]         # the last build's, for read_pages
    previous: Path | None = None       # the part's last kept index, when output is in memory

    def part_of(self, pages: SitePages) -> Part | None:
        """The part of `pages` this run indexed, when its pages are those it read."""
        for part in pages.parts:
            if part.number == self.number:
                if part.rels == self.rels and all(
                        pages.notes[rel][4] == self.digests[rel] for rel in part.rels):
                    return part
                return None
        return None

    def discard(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.communicate()
        shutil.rmtree(self.output, ignore_errors=True)


EARLY_PAGES = 8   # start_early: at most this many pages (an edit, not a change of theme)


def start_early(out_dir: Path, cache_dir: Path, pages: dict[str, bytes],
                part_pages: int = PART_PAGES) -> EarlyPart | None:
    """Start Pagefind on the part of the index that holds `pages` (path: the bytes the build
    is about to write there), before the build has planned and written them: an edit's
    index is then under way while the build does the rest. Pagefind reads the part's kept
    folder of links (searchpages.py), where these pages are put as they will be. None when
    the guess cannot be made: pages new to the index or in more than one part, or not in a
    folder of their own, the last build's notes missing or out of date."""
    try:
        notes = _read_notes(cache_dir / NOTES_FILE)
        if not notes or not pages or len(pages) > EARLY_PAGES:
            return None
        digests: dict[str, bytes] = {}
        for rel, data in pages.items():
            old = notes.get(rel)
            if old is None or not old[2] or search_marks(data) != (True, old[3]):
                return None   # the page would change its part, or the parts
            digests[rel] = hashlib.sha256(data).digest()
        marked = [(rel, note[3], note[4]) for rel, note in sorted(notes.items()) if note[2]]
        holding = [(number, bucket) for number, bucket in enumerate(_split(marked, part_pages))
                   if any(rel in pages for rel, _digest in bucket)]
        if len(holding) != 1:
            return None
        number, bucket = holding[0]
        rels = [rel for rel, _digest in bucket]
        folder = cache_dir / PAGES_FOLDER / str(number)
        if not is_kept(folder, out_dir) or not sync_pages(out_dir, rels, folder):
            return None
        for rel, digest in bucket:   # the others as the last build noted them
            if rel not in pages:
                stat = os.stat(folder / rel)
                if (stat.st_mtime_ns, stat.st_size) != notes[rel][:2]:
                    return None
                digests[rel] = digest
        for rel, data in pages.items():
            page = folder / rel
            # Alone in its folder, the page leaves the order Pagefind walks in as it was.
            if os.listdir(page.parent) != [page.name]:
                return None
            page.unlink()   # (a link: the output's page stays as it is)
            page.write_bytes(data)
        previous = _kept_before(cache_dir, _noted_published(cache_dir)[1]).get(number)
        output = _output_for(len(rels), previous)
        if output is None:
            output, previous = _part_folder(_staged(out_dir), number), None
            shutil.rmtree(output, ignore_errors=True)
        try:
            process = _run_pagefind(_executable(), folder, output)
        except BaseException:
            shutil.rmtree(output, ignore_errors=True)
            raise
    except (OSError, BlogError):   # no guess: the index is made as it would be without
        return None
    return EarlyPart(number, rels, digests, output, process, notes, previous)


def _run_pagefind(executable: Path, site: Path, output: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([str(executable), "--site", str(site), "--output-path", str(output),
                             "--silent"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _output_for(pages: int, previous: Path | None) -> Path | None:
    """Where Pagefind writes a part made before (`previous`, its kept index): a folder in
    memory, brought in beside the old files by `_indexed`. None: write beside the output."""
    if previous is None:
        return None
    return scratch(pages)


def parts_for(pages: int, part_pages: int) -> int:
    """How many parts `pages` pages of one language are indexed in: a power of two."""
    parts = 1
    while parts * part_pages < pages:
        parts *= 2
    return parts


@functools.lru_cache(maxsize=None)   # (an edit splits the pages twice: start_early, read_pages)
def _spread(rel: str) -> int:
    return int.from_bytes(hashlib.blake2b(rel.encode(), digest_size=8).digest(), "big")


_SITE_NAME = ".{}.pagefind-site-{}-{}"   # output folder, process, build of that process
_sites = itertools.count()


def _searchable_site(out_dir: Path, rels: list[str]) -> Path:
    """A folder of links to the searchable pages alone, for Pagefind to read: it indexes them
    the same as in the whole site, and the links hold each page as this build wrote it. The
    whole site when the links cannot be made (no room)."""
    me = str(os.getpid())
    clear_killed(out_dir.parent.glob(_SITE_NAME.format(out_dir.name, "*", "*")),
                  lambda name: name.split("-")[-2])
    site = out_dir.parent / _SITE_NAME.format(out_dir.name, me, next(_sites))
    shutil.rmtree(site, ignore_errors=True)   # (only when a killed build had this pid)
    source, target = str(out_dir), str(site)
    made = {""}
    try:
        os.mkdir(target)
        for rel in rels:
            make_folder_of(target, rel, made)   # (a page's folder is new: plain mkdir)
            try:
                os.link(os.path.join(source, rel), os.path.join(target, rel))
            except OSError:
                shutil.copy2(os.path.join(source, rel), os.path.join(target, rel))
    except OSError:
        _remove_site(out_dir, site, len(rels))
        return out_dir
    return site


def _remove_site(out_dir: Path, site: Path, pages: int) -> None:
    if site == out_dir:
        return
    if pages > _DELETE_IN_BACKGROUND:   # thousands of folders take seconds to delete
        delete_later(site)
    else:                               # a few take milliseconds: gone before the build ends
        shutil.rmtree(site, ignore_errors=True)


_DELETE_IN_BACKGROUND = 1000


_STAGED = re.compile(r"\.pagefind-(\d+)(\.part-\d+|\.old)?$")   # a build's index, a part, the last


def _staging(out_dir: Path) -> Path:
    """This build's folder for the new index (its parts beside it), and those of builds that
    were killed gone."""
    def staged_by(name: str) -> str | None:
        made = _STAGED.search(name)
        return made.group(1) if made is not None else None
    clear_killed(out_dir.parent.glob(f".{out_dir.name}.pagefind-*"), staged_by)
    staged = _staged(out_dir)
    shutil.rmtree(staged, ignore_errors=True)
    return staged


def _staged(out_dir: Path) -> Path:
    return out_dir.parent / f".{out_dir.name}.pagefind-{os.getpid()}"


def _part_folder(staged: Path, number: int) -> Path:
    return staged.with_name(f"{staged.name}.part-{number}")


def _keep(staged: Path, kept: Path) -> None:
    """Keep a copy of a new part in the cache; a cache that cannot be written only costs a
    later build the indexing."""
    partial = kept.parent / f".{kept.name}.{os.getpid()}.part"
    try:
        shutil.rmtree(partial, ignore_errors=True)
        _copy_tree(staged, partial)
        shutil.rmtree(kept, ignore_errors=True)
        partial.rename(kept)
    except OSError:
        shutil.rmtree(partial, ignore_errors=True)


def _read_notes(path: Path | None) -> dict[str, PageNote] | None:
    if path is None:
        return None
    try:
        with open(path, "rb") as handle:
            notes = pickle.load(handle)
    except Exception:   # none yet, or unreadable: every page is read
        return None
    return notes if isinstance(notes, dict) else None


def _write_notes(path: Path, notes: dict[str, PageNote]) -> None:
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(partial, "wb") as handle:
            pickle.dump(notes, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(partial, path)
    except OSError:   # only costs the next build reading every page
        partial.unlink(missing_ok=True)


def _published_file(cache_dir: Path) -> Path:
    return cache_dir / PUBLISHED_FILE


def _write_published(cache_dir: Path, out_dir: Path, parts: list[Part], part_pages: int
                     ) -> None:
    """Note the parts of the index just published, their size (`part_pages`), and which
    folder it is (_index_id)."""
    path = _published_file(cache_dir)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        partial.write_text(json.dumps({
            "index": _index_id(out_dir), "part_pages": part_pages,
            "parts": [[part.number, part.key] for part in parts]}), encoding="utf-8")
        os.replace(partial, path)
    except OSError:   # only costs the next build linking the parts in from the cache
        partial.unlink(missing_ok=True)


def _index_id(out_dir: Path) -> str:
    """The published index's folder: its inode, in which output folder (write.folder_id)."""
    return f"{(out_dir / INDEX_FOLDER).stat().st_ino}@{folder_id(out_dir)}"


def _still_published(index: str | None, out_dir: Path) -> bool:
    """Whether the index the last build noted publishing (`index`: _noted_published) is still
    the one in the output folder (the same folder), whose parts a build may then move over."""
    try:
        return index is not None and index == _index_id(out_dir)
    except OSError:
        return False


def _kept_before(cache_dir: Path | None, parts: dict[int, str]) -> dict[int, Path]:
    """The kept index of each part the last build published (`parts`: _noted_published),
    wherever it published it."""
    if cache_dir is None:
        return {}
    kept = {number: cache_dir / CACHE_FOLDER / key for number, key in parts.items()}
    return {number: folder for number, folder in kept.items()
            if (folder / ENTRY_FILE).is_file()}


def _noted_published(cache_dir: Path | None) -> tuple[str | None, dict[int, str]]:
    """The published index's note (_write_published): its folder's id and parts."""
    noted = _published_note(cache_dir)
    try:
        return str(noted["index"]), {int(number): str(key) for number, key in noted["parts"]}
    except (ValueError, KeyError, TypeError):
        return None, {}


def _noted_part_pages(cache_dir: Path) -> int | None:
    """The part size the published index was split by (_write_published); None: unknown."""
    try:
        return int(_published_note(cache_dir)["part_pages"])
    except (ValueError, KeyError, TypeError):
        return None


def _published_note(cache_dir: Path | None) -> dict[str, Any]:
    """The note _write_published left in `cache_dir`, as written; {} without one."""
    if cache_dir is None:
        return {}
    try:
        noted = json.loads(_published_file(cache_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return noted if isinstance(noted, dict) else {}


def _forget_parts_but(cache: Path, keys: set[str]) -> None:
    """Only the parts of the index just published are kept."""
    for old in cache.iterdir():
        if old.name not in keys:
            shutil.rmtree(old, ignore_errors=True)


def _leave_only_the_index(output: Path) -> None:
    """A part merged into the first one's search needs only its index files: Pagefind's
    scripts, styles and WebAssembly come from the first part."""
    for path in output.iterdir():
        needed = (path.name in _PART_FOLDERS if path.is_dir()
                  else path.name == ENTRY_FILE or path.suffix == ".pf_meta")
        if not needed:
            path.unlink()


def _copy_tree(source: Path, target: Path) -> None:
    """Hard links where the file system allows (the files are never changed in place)."""
    def link_or_copy(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)
    shutil.copytree(source, target, copy_function=link_or_copy)


def _cannot_run(executable: Path | None, exc: BaseException) -> BlogError:
    return BlogError(f"search: could not run Pagefind ({executable}): {exc}; "
                     "set [search] enabled = false to build without search")


def _executable() -> Path:
    found = pagefind_executable()
    if found is None:
        raise BlogError("search: the Pagefind binary is missing; install it with "
                        "pip install 'pagefind[bin]', or set [search] enabled = false")
    return found


def pagefind_executable() -> Path | None:
    """The Pagefind binary, looked for where the `pagefind` package looks, in the same order:
    PAGEFIND_BINARY_PATH, the bundled binary packages, then PATH. Not through its own lookup,
    pagefind.service: that imports asyncio and ssl (20 ms before an edit's index can start)."""
    named = os.environ.get("PAGEFIND_BINARY_PATH")
    if named is not None:
        return Path(named)
    for package in ("pagefind_bin_extended", "pagefind_bin"):
        try:
            return Path(importlib.import_module(package).get_executable())
        except (ImportError, FileNotFoundError):   # not installed, or its binary is missing
            continue
    found = shutil.which("pagefind_extended") or shutil.which("pagefind")
    return Path(found) if found is not None else None


def _publish(staged: Path, target: Path) -> None:
    """Swap the new index in: the old one is moved aside (beside the staged one, out of the
    site), then deleted; a big site's in the background (ten thousand files take a few tenths
    of a second)."""
    old = staged.with_name(f"{staged.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    try:
        staged.rename(target)
    except BaseException:
        if old.exists():
            old.rename(target)
        raise
    if (old / PARTS_FOLDER).is_dir():   # a big site's: thousands of files
        delete_later(old)
    else:
        shutil.rmtree(old, ignore_errors=True)
