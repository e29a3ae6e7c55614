"""Write stage: a build never changes the published output folder until it is complete.

A build into an output folder that is there (incremental or whole) stages only the files whose
bytes changed, then applies them with renames from a journal, which a later build finishes if
this one is killed while applying; killed any earlier, it leaves the output untouched. A first
build fills a fresh folder and moves it in."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from blogengine.cache import RACY_NS
from blogengine.errors import BlogError

MARKER = ".blogengine-build"
MARKER_TEXT = "built by blogengine; this folder is rewritten by every build\n"
JOURNAL = ".blogengine-journal"


def check_output_dir(out_dir: Path, site_root: Path) -> None:
    """Refuse output folders whose replacement would destroy the site or someone's files."""
    out = out_dir.resolve()
    root = site_root.resolve()
    if out == root or root.is_relative_to(out):
        raise BlogError(f"the output folder {out_dir} holds the site itself; choose another --output")
    if out.is_relative_to(root / "content") or out.is_relative_to(root / "templates"):
        raise BlogError(f"the output folder {out_dir} is inside the site's sources; "
                        "choose another --output")
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MARKER).exists())):
        raise BlogError(f"the output folder {out_dir} exists and was not written by blogengine; "
                        "remove it or choose another --output")


def folder_id(out_dir: Path) -> str:
    """Which output folder this is, as later builds tell it: its inode and its marker's inode
    and time, the marker being written once, when blogengine made the folder or first wrote
    into it (an inode alone is given again to a folder made after one was deleted). OSError
    when there is no such folder."""
    inode = out_dir.stat().st_ino
    try:
        marker = os.stat(out_dir / MARKER)
    except OSError:
        return f"{inode}-unmarked"
    return f"{inode}-{marker.st_ino}-{marker.st_mtime_ns}"


def _mark(folder: Path) -> None:
    (folder / MARKER).write_text(MARKER_TEXT, encoding="utf-8")


def check_paths(planned: Iterable[tuple[str, str]]) -> None:
    """Every output path once, none inside another's file, none leaving the output folder.

    `planned` holds (relative path, what writes it); problems are raised before anything is
    written, naming both sides."""
    owners: dict[str, str] = {}
    for rel, origin in planned:
        parts = rel.split("/")
        if not rel or rel.startswith("/") or any(part in ("", ".", "..") for part in parts):
            raise BlogError(f"refusing to write {rel!r} outside the output folder ({origin})")
        if rel in owners:
            raise BlogError(f"two outputs want {rel}: {owners[rel]} and {origin}; rename one")
        owners[rel] = origin
    folders = {"/".join(rel.split("/")[:n]) for rel in owners for n in range(1, rel.count("/") + 1)}
    for rel in sorted(folders & owners.keys()):
        inside = next(other for other in sorted(owners) if other.startswith(rel + "/"))
        raise BlogError(f"{owners[inside]} ({inside}) and {owners[rel]} ({rel}) need the same path "
                        "as a file and as a folder; rename one")


class Staging:
    """Where a build writes before anything is published.

    With an output folder there (`patch`): only the files whose bytes changed are staged;
    `commit()` moves them into the output folder and deletes what `remove()` named. The
    unchanged files are left alone: a whole build of a site with few changes makes and frees
    almost no file or folder, where a fresh folder swapped in took, at 10,000 posts, a folder
    per post, a link per file and the old folder's deletion (seconds of system time on ext4).
    With none yet: a complete new output folder, moved in by `commit()`.
    Workers in other processes may write into it at once (distinct files)."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir.absolute()
        self.patch = self.out_dir.is_dir()
        self.out_dir.parent.mkdir(parents=True, exist_ok=True)
        recover(self.out_dir)
        self.root = self.out_dir.parent / f".{self.out_dir.name}.tmp-{os.getpid()}"
        shutil.rmtree(self.root, ignore_errors=True)
        self.root.mkdir()
        self._folders: set[str] = set()
        self._removed: list[str] = []
        # After a patch's commit: every file it moved in or deleted (None: a fresh folder).
        self.changed: set[str] | None = None

    def _target(self, rel: str) -> Path:
        if self.patch:
            # Flat, by name digest: no folder to make per page (folders cost here), and
            # workers in other processes never collide.
            return self.root / _flat_name(rel)
        folder = rel.rpartition("/")[0]
        if folder and folder not in self._folders:  # one mkdir per folder, not per file
            (self.root / folder).mkdir(parents=True, exist_ok=True)
            self._folders.add(folder)
        return self.root / rel

    def write(self, rel: str, data: bytes) -> bool:
        """Stage a file; False when the published file already holds exactly these bytes."""
        if holds(os.path.join(self.out_dir, rel), data):
            return False
        self._target(rel).write_bytes(data)
        return True

    def link(self, rel: str, kept: Path) -> bool:
        """Stage `kept`, a file the build cache keeps under its content's digest and never
        changes, as a second name of that very file: no bytes read or written. False when the
        published file already is it. OSError when it cannot be linked (the cache lacks it, or
        lies on another file system): the caller then writes the bytes."""
        cached = os.stat(kept)
        try:
            published = os.stat(os.path.join(self.out_dir, rel), follow_symlinks=False)
            same = (published.st_ino, published.st_dev) == (cached.st_ino, cached.st_dev)
        except OSError:
            same = False
        if same:
            return False
        os.link(kept, self._target(rel))
        return True

    def stat(self, rel: str, staged: bool) -> os.stat_result:
        """The stat of the file that commit publishes at `rel`, once `write` has staged it
        (`staged`: its answer; moved in, it keeps its stat) or found it published with the same
        bytes (left as it is: a whole build finds most pages so)."""
        return os.stat(self._target(rel) if staged else os.path.join(self.out_dir, rel))

    def copy(self, rel: str, source: Path) -> bool:
        """Stage a copy of `source`; False when the published copy has the source's size and
        time (copy2 gave it the source's time) and is left as it is."""
        current = os.path.join(self.out_dir, rel)
        try:
            published: os.stat_result | None = os.stat(current, follow_symlinks=False)
            original = source.stat()
        except OSError:
            published = None
        # Told by size and time, as the build tells its sources: not for a source changed in
        # the last moments, which may change again within the same clock tick.
        alike = published is not None and stat.S_ISREG(published.st_mode) \
            and (published.st_size, published.st_mtime_ns) == (original.st_size, original.st_mtime_ns) \
            and time.time_ns() - original.st_mtime_ns > RACY_NS
        if alike:
            return False
        shutil.copy2(source, self._target(rel))
        return True

    def remove(self, rel: str) -> None:
        """Delete a published file at commit (patch mode; a fresh folder simply lacks it)."""
        self._removed.append(rel)

    def commit(self, candidates: Iterable[str] = ()) -> None:
        """Publish: move in the fresh folder, or the staged files among `candidates`
        (every path this build may have staged) and delete the removed ones."""
        if not self.patch:
            _mark(self.root)
            self.root.rename(self.out_dir)   # (a folder made meanwhile: an error, nothing lost)
            return
        staged = set(os.listdir(self.root))
        moved = [rel for rel in candidates if _flat_name(rel) in staged]
        if not (self.out_dir / MARKER).exists():   # (a folder that was there, empty)
            _mark(self.out_dir)
        journal = {"moved": moved, "removed": self._removed}
        temporary = self.root / f"{JOURNAL}.new"
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(journal, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.root / JOURNAL)   # from here on, the change is decided
        _apply(self.root, self.out_dir)
        self.changed = set(moved) | set(self._removed)

    def abort(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def _apply(staged: Path, out_dir: Path) -> None:
    """Move staged files into the output folder and delete the removed ones (idempotent: a
    later build calls it again for a journal left by a killed one)."""
    journal = json.loads((staged / JOURNAL).read_text(encoding="utf-8"))
    for rel in journal["removed"]:   # first: a removed file may stand where a folder goes
        remove_file(out_dir, rel)
    folders: set[Path] = set()
    for rel in journal["moved"]:
        source = staged / _flat_name(rel)
        if not source.exists():
            continue                     # moved already, by the build that wrote the journal
        target = out_dir / rel
        if target.parent not in folders:
            target.parent.mkdir(parents=True, exist_ok=True)
            folders.add(target.parent)
        os.replace(source, target)
    shutil.rmtree(staged, ignore_errors=True)


def remove_file(root: Path, rel: str) -> None:
    """Delete root/rel (if there) and the folders it leaves empty, up to root."""
    path = root / rel
    path.unlink(missing_ok=True)
    parent = path.parent
    while parent != root:
        try:
            parent.rmdir()          # only an emptied folder goes
        except OSError:
            break
        parent = parent.parent


def make_folder_of(root: str, rel: str, made: set[str]) -> None:
    """Make the folder that root/rel goes in, parents first, with a plain mkdir each: `made`
    holds the folders (relative, "" for root) known to be there, and gains those made."""
    folder = rel.rpartition("/")[0]
    if folder in made:
        return
    missing = [folder]
    while (parent := missing[-1].rpartition("/")[0]) not in made:
        missing.append(parent)
    for name in reversed(missing):
        os.mkdir(os.path.join(root, name))
        made.add(name)


def _flat_name(rel: str) -> str:
    return hashlib.sha1(rel.encode("utf-8")).hexdigest()


def left_staged(out_dir: Path) -> bool:
    """Whether a build left files staged beside the output folder (the next Staging's
    `recover` may then change the folder)."""
    return any(out_dir.parent.glob(f".{out_dir.name}.tmp-*"))


def recover(out_dir: Path) -> None:
    """Finish what a killed build decided (a journal) and drop what it had only staged."""
    for leftover in out_dir.parent.glob(f".{out_dir.name}.tmp-*"):
        if running(leftover.name.rpartition("-")[2]):
            continue                      # another build of the same site, still at work
        if (leftover / JOURNAL).is_file() and out_dir.is_dir():
            _apply(leftover, out_dir)
        else:
            shutil.rmtree(leftover, ignore_errors=True)
    for leftover in out_dir.parent.glob(f".{out_dir.name}.old-*"):
        delete_later(leftover)


def running(pid_text: str) -> bool:
    if not pid_text.isdigit() or int(pid_text) == os.getpid():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def holds(path: str, data: bytes) -> bool:
    """Whether the file at `path` (a file of its own, not a symbolic link) holds exactly
    `data`: its size first, then its bytes."""
    try:
        found = os.stat(path, follow_symlinks=False)
        if not stat.S_ISREG(found.st_mode) or found.st_size != len(data):
            return False
        with open(path, "rb") as handle:
            return handle.read() == data
    except OSError:
        return False


def clear_killed(folders: Iterable[Path], pid_of: Callable[[str], str | None]) -> None:
    """Delete the folders that builds which were killed left behind (`pid_of` reads the making
    process from a folder's name; None: not one of ours)."""
    me = str(os.getpid())
    for folder in folders:
        pid = pid_of(folder.name)
        if pid is not None and pid != me and not running(pid):
            delete_later(folder)


def delete_later(folder: Path) -> None:
    """Delete a folder of many files (a replaced search index, a part's folder of links)
    without making the build wait for it; in the foreground where there is no `rm`."""
    rm = shutil.which("rm")
    if rm is None or sys.platform == "win32":
        shutil.rmtree(folder, ignore_errors=True)
        return
    process = subprocess.Popen([rm, "-rf", "--", str(folder)], stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    # Reaped by a thread, so a long `serve` is not left with a zombie per rebuild.
    threading.Thread(target=process.wait, name="blogengine-reap", daemon=True).start()


def output_files(out_dir: Path) -> set[str]:
    """Every file of the built site, as a relative path (folders as os.walk sees them: a
    linked folder is not entered)."""
    files: set[str] = set()
    folders = [("", str(out_dir))]
    while folders:
        prefix, folder = folders.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_dir():
                    if not entry.is_symlink():
                        folders.append((prefix + entry.name + "/", entry.path))
                elif entry.name not in (MARKER, JOURNAL):
                    files.add(prefix + entry.name)
    return files
