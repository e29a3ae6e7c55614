"""Write stage: outputs go to a staging folder that replaces the output folder only when whole."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from blogengine.errors import BlogError

MARKER = ".blogengine-build"


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
    """A folder beside the output folder, filled by the build and swapped in when complete.

    If the build fails, `abort()` removes it and the previous output stays exactly as it was.
    Workers in other processes may write into it at the same time (distinct files)."""

    def __init__(self, out_dir: Path, *, reuse: bool = False) -> None:
        """With `reuse`, the staging folder starts as a copy of the previous output made of hard
        links (no bytes copied); every write then replaces a link, never the shared file."""
        self.out_dir = out_dir.absolute()
        self.out_dir.parent.mkdir(parents=True, exist_ok=True)
        self.root = self.out_dir.parent / f".{self.out_dir.name}.tmp-{os.getpid()}"
        shutil.rmtree(self.root, ignore_errors=True)
        self.root.mkdir()
        self._folders: set[str] = set()
        self.existing: set[str] = set()
        self.reused = reuse and self.out_dir.is_dir()
        if self.reused:
            self._link_previous()

    def _link_previous(self) -> None:
        source = str(self.out_dir)
        for folder, dirs, files in os.walk(source):
            rel_folder = os.path.relpath(folder, source)
            target_folder = self.root if rel_folder == "." else self.root / rel_folder
            if rel_folder != ".":
                target_folder.mkdir()
                self._folders.add(rel_folder.replace(os.sep, "/"))
            for name in files:
                os.link(os.path.join(folder, name), target_folder / name)
                rel = name if rel_folder == "." else f"{rel_folder}/{name}".replace(os.sep, "/")
                self.existing.add(rel)

    def _target(self, rel: str) -> Path:
        folder = rel.rpartition("/")[0]
        if folder and folder not in self._folders:  # one mkdir per folder, not per file
            (self.root / folder).mkdir(parents=True, exist_ok=True)
            self._folders.add(folder)
        return self.root / rel

    def write(self, rel: str, data: bytes) -> bool:
        """Write a file; False when it already held exactly these bytes (left untouched)."""
        target = self._target(rel)
        if rel in self.existing:
            try:
                if target.stat().st_size == len(data) and target.read_bytes() == data:
                    return False
            except OSError:
                pass
            temporary = target.with_name(f".{target.name}.new")
            temporary.write_bytes(data)
            os.replace(temporary, target)   # replaces the link; the previous build keeps its file
        else:
            target.write_bytes(data)
        return True

    def copy(self, rel: str, source: Path) -> None:
        target = self._target(rel)
        if rel in self.existing:
            temporary = target.with_name(f".{target.name}.new")
            shutil.copy2(source, temporary)
            os.replace(temporary, target)
        else:
            shutil.copy2(source, target)

    def remove_except(self, keep: set[str]) -> int:
        """Delete files of the previous build that this build no longer has; returns how many."""
        stale = [rel for rel in self.existing if rel not in keep and rel != MARKER]
        for rel in stale:
            (self.root / rel).unlink(missing_ok=True)
        for rel in sorted({r.rpartition("/")[0] for r in stale if "/" in r}, reverse=True):
            try:
                (self.root / rel).rmdir()       # only if nothing else is left in it
                while "/" in rel:
                    rel = rel.rpartition("/")[0]
                    (self.root / rel).rmdir()
            except OSError:
                pass
        return len(stale)

    def commit(self) -> None:
        """Put the finished build in place; the old one is moved aside first, then deleted."""
        marker = self.root / MARKER
        marker.unlink(missing_ok=True)
        marker.write_text("built by blogengine; this folder is replaced on every build\n",
                          encoding="utf-8")
        out_dir = self.out_dir
        if not out_dir.exists():
            self.root.rename(out_dir)
            return
        old = out_dir.parent / f".{out_dir.name}.old-{os.getpid()}"
        shutil.rmtree(old, ignore_errors=True)
        out_dir.rename(old)
        try:
            self.root.rename(out_dir)
        except BaseException:
            old.rename(out_dir)
            raise
        shutil.rmtree(old, ignore_errors=True)

    def abort(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
