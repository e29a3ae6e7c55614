"""Site search: Pagefind indexes the published posts and pages into /pagefind/ after a build.

The theme marks what is searchable (`data-pagefind-body` on posts and pages, so listings are
left out); Pagefind splits the index by each page's `<html lang>`. The index is made into a
folder beside the output and swapped in, so readers never see half an index.

Pagefind is given only the pages that mark a searchable body (links to them in a folder of
their own): it would leave the listings out anyway, after parsing them.

Indexing costs about as much as the rest of a build, so it runs beside the link check
(`start_index` then `IndexJob.finish`), and each index is kept in the build cache under a
digest of every published HTML page: a build whose pages come out the same (`--clean`, a
restored checkout) takes the kept index instead of running Pagefind again."""

from __future__ import annotations

import hashlib
import itertools
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from blogengine.errors import BlogError
from blogengine.write import delete_later, output_files, running

INDEX_FOLDER = "pagefind"
CACHE_FOLDER = "search"
# Pagefind takes about three seconds per thousand pages; this only stops a hung indexer.
TIMEOUT_SECONDS = 600


def index_needed(out_dir: Path, pages_changed: int) -> bool:
    """Whether the index must be made again: a page changed, or there is no index yet."""
    return pages_changed > 0 or not (out_dir / INDEX_FOLDER / "pagefind.js").is_file()


def remove_index(out_dir: Path) -> None:
    """Take the index away (search turned off)."""
    shutil.rmtree(out_dir / INDEX_FOLDER, ignore_errors=True)


def start_index(out_dir: Path, cache_dir: Path | None = None,
                stopped: Callable[[], bool] = lambda: False) -> IndexJob:
    """Stage the kept index of these pages, or start Pagefind on them and return at once;
    `finish` publishes the index into `out_dir/pagefind/` or raises BlogError saying why not
    (as start_index does when `stopped` turns true while it reads the pages)."""
    executable = _executable()
    pages = read_pages(out_dir, executable, stopped)
    kept = cache_dir / CACHE_FOLDER / pages.key if cache_dir is not None else None
    if kept is not None and (kept / "pagefind.js").is_file():
        staged = _staging(out_dir)
        try:
            _copy_tree(kept, staged)
        except OSError:   # an unreadable cache: index as if it were not there
            shutil.rmtree(staged, ignore_errors=True)
        else:
            return IndexJob(out_dir, staged, process=None, executable=None, keep_in=None)
    staged = _staging(out_dir)
    site = out_dir if pages.searchable is None else _searchable_site(out_dir, pages.searchable)
    command = [str(executable), "--site", str(site), "--output-path", str(staged), "--silent"]
    try:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
    except OSError as exc:
        _remove_site(out_dir, site, len(pages.searchable or ()))
        remove_index(out_dir)
        raise _cannot_run(executable, exc) from None
    return IndexJob(out_dir, staged, process=process, executable=executable, keep_in=kept,
                    site=site, site_pages=len(pages.searchable or ()))


@dataclass
class IndexJob:
    """An index on its way: Pagefind running into `staged` (or a kept index copied there)."""

    out_dir: Path
    staged: Path
    process: subprocess.Popen[str] | None
    executable: Path | None
    keep_in: Path | None   # where to keep the new index for later builds
    stopped: bool = False
    site: Path | None = None   # the folder Pagefind reads (the searchable pages' links)
    site_pages: int = 0        # how many pages it links to

    def finish(self) -> None:
        """Wait for the index and swap it in; on failure the old index goes too (it no longer
        matches the pages, and its absence makes the next build index again). An index
        stopped meanwhile (`stop`) is dropped without a word."""
        try:
            if self.process is not None:
                self._wait(self.process)
                if self.keep_in is not None:
                    _keep(self.staged, self.keep_in)
            _publish(self.staged, self.out_dir / INDEX_FOLDER)
        except BaseException:
            shutil.rmtree(self.staged, ignore_errors=True)
            remove_index(self.out_dir)
            if not self.stopped:
                raise
        finally:
            self._let_go()

    def stop(self) -> None:
        """From another thread: make a running `finish` give up (`serve` starts a new build)."""
        self.stopped = True
        if self.process is not None and self.process.poll() is None:
            self.process.kill()

    def cancel(self) -> None:
        """Stop the indexer (the build failed after starting it) and leave no index behind."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.communicate()
        shutil.rmtree(self.staged, ignore_errors=True)
        remove_index(self.out_dir)
        self._let_go()

    def _let_go(self) -> None:
        if self.site is not None:
            _remove_site(self.out_dir, self.site, self.site_pages)

    def _wait(self, process: subprocess.Popen[str]) -> None:
        try:
            out, err = process.communicate(timeout=TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired as exc:
            process.kill()
            process.communicate()
            raise _cannot_run(self.executable, exc) from None
        if self.stopped:
            raise BlogError("search: indexing stopped for a newer build")
        if process.returncode != 0 or not (self.staged / "pagefind.js").is_file():
            said = (err.strip() or out.strip()).splitlines()[-5:]
            raise BlogError(f"search: Pagefind could not index {self.out_dir} (exit code "
                            f"{process.returncode}){': ' + ' / '.join(said) if said else ''}")


@dataclass(frozen=True)
class SitePages:
    """The HTML pages Pagefind would read, as a key for the index they make."""

    key: str
    # The pages that mark a searchable body (data-pagefind-body), when any does: Pagefind
    # leaves the others out, yet parses them all, a quarter of its time on a blog's listings.
    # None: no page marks one, so Pagefind indexes them all.
    searchable: list[str] | None


_BODY_MARK = b"data-pagefind-body"


def read_pages(out_dir: Path, executable: Path,
               stopped: Callable[[], bool] = lambda: False) -> SitePages:
    """A digest of every HTML page Pagefind reads (their paths and bytes) and of the indexer
    itself (a new binary may index differently): equal digests give equal indexes."""
    binary = executable.stat()
    digest = hashlib.sha256(f"{executable}\n{binary.st_size}\n{binary.st_mtime_ns}\n".encode())
    prefix = INDEX_FOLDER + "/"
    marked: list[str] = []
    for rel in sorted(rel for rel in output_files(out_dir)
                      if rel.endswith(".html") and not rel.startswith(prefix)):
        if stopped():   # serve saw a new save: it is about to write pages
            raise BlogError("search: indexing stopped for a newer build")
        with open(os.path.join(out_dir, rel), "rb") as handle:
            data = handle.read()
        digest.update(f"{rel}\n{len(data)}\n".encode())
        digest.update(data)
        # (Attribute names are case-blind; lower() only for the pages without the usual case.)
        if _BODY_MARK in data or _BODY_MARK in data.lower():
            marked.append(rel)
    return SitePages(key=digest.hexdigest()[:32], searchable=marked or None)


_SITE_NAME = ".{}.pagefind-site-{}-{}"   # output folder, process, build of that process
_sites = itertools.count()


def _searchable_site(out_dir: Path, rels: list[str]) -> Path:
    """A folder of links to the searchable pages alone, for Pagefind to read: it indexes them
    the same as in the whole site, and the links hold each page as this build wrote it. The
    whole site when the links cannot be made (no room)."""
    me = str(os.getpid())
    for leftover in out_dir.parent.glob(_SITE_NAME.format(out_dir.name, "*", "*")):
        pid = leftover.name.split("-")[-2]
        if pid != me and not running(pid):   # left by a build that was killed
            delete_later(leftover)
    site = out_dir.parent / _SITE_NAME.format(out_dir.name, me, next(_sites))
    shutil.rmtree(site, ignore_errors=True)   # (only when a killed build had this pid)
    source, target = str(out_dir), str(site)
    made = {""}
    try:
        os.mkdir(target)
        for rel in rels:
            folder = rel.rpartition("/")[0]
            if folder not in made:   # (plain mkdir, parents first: a page's folder is new)
                missing = [folder]
                while (parent := missing[-1].rpartition("/")[0]) not in made:
                    missing.append(parent)
                for name in reversed(missing):
                    os.mkdir(os.path.join(target, name))
                    made.add(name)
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


def _staging(out_dir: Path) -> Path:
    staged = out_dir.parent / f".{out_dir.name}.pagefind-{os.getpid()}"
    shutil.rmtree(staged, ignore_errors=True)
    return staged


def _keep(staged: Path, kept: Path) -> None:
    """Keep a copy of the new index in the cache, in place of the ones kept before; a cache
    that cannot be written only costs a later build the indexing."""
    partial = kept.parent / f".{kept.name}.{os.getpid()}.part"
    try:
        shutil.rmtree(partial, ignore_errors=True)
        _copy_tree(staged, partial)
        for old in kept.parent.iterdir():
            if old != partial:
                shutil.rmtree(old, ignore_errors=True)
        partial.rename(kept)
    except OSError:
        shutil.rmtree(partial, ignore_errors=True)


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
    from pagefind.service import get_executable   # the package finds its bundled binary
    found = get_executable()
    if found is None:
        raise BlogError("search: the Pagefind binary is missing; install it with "
                        "pip install 'pagefind[bin]', or set [search] enabled = false")
    return found


def _publish(staged: Path, target: Path) -> None:
    """Swap the new index in: the old one is moved aside first, then deleted."""
    old = target.parent / f".{INDEX_FOLDER}.old-{os.getpid()}"
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    try:
        staged.rename(target)
    except BaseException:
        if old.exists():
            old.rename(target)
        raise
    shutil.rmtree(old, ignore_errors=True)
