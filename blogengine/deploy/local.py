"""The `dir` deploy target: keep a local folder identical to the build (new, changed, removed)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from blogengine.deploy import Changes, plan_changes
from blogengine.errors import DeployError

# Left in a folder this target manages; a non-empty folder without it is someone else's.
DEPLOY_MARKER = ".blogengine-deploy"
CHUNK = 1 << 20


class DirTarget:
    """Synchronise a local folder with the build, writing each file atomically."""

    name = "dir"

    def __init__(self, folder: Path | None, *, delete: bool, site_root: Path, out_dir: Path) -> None:
        self.folder = folder
        self.delete = delete
        self.site_root = site_root
        self.out_dir = out_dir

    def describe(self) -> str:
        return str(self.folder or "")

    def check(self) -> None:
        folder = self.folder
        if folder is None:
            raise DeployError("the dir target needs a folder: set `path` in [deploy.dir] or pass --to")
        where = folder.resolve()
        root, out = self.site_root.resolve(), self.out_dir.resolve()
        if where == out or where.is_relative_to(out) or out.is_relative_to(where):
            raise DeployError(f"the deploy folder {folder} overlaps the build's output folder {out}; "
                              "choose another folder")
        if root.is_relative_to(where) or where.is_relative_to(root / "content") \
                or where.is_relative_to(root / "templates") or where.is_relative_to(root / "themes"):
            raise DeployError(f"the deploy folder {folder} would overwrite the site's own files; "
                              "choose a folder outside the site's sources")
        if where.exists() and not where.is_dir():
            raise DeployError(f"the deploy folder {folder} is a file, not a folder")
        if where.is_dir() and any(where.iterdir()) and not (where / DEPLOY_MARKER).exists():
            raise DeployError(f"the deploy folder {folder} is not empty and was not written by "
                              "`blogengine deploy`; empty it or choose another folder")

    def publish(self, site: Path, files: dict[str, Path], dry_run: bool) -> Changes:
        assert self.folder is not None
        folder = self.folder
        present = _files_in(folder)
        # Sizes first; bytes are compared only where sizes agree.
        wanted = {rel: str(path.stat().st_size) for rel, path in files.items()}
        sizes = {rel: str(path.stat().st_size) for rel, path in present.items()}
        same_size = {rel for rel in wanted if rel in sizes and sizes[rel] == wanted[rel]}
        for rel in same_size:
            if not _same_bytes(files[rel], present[rel]):
                sizes[rel] = "differs"
        changes = plan_changes(wanted, sizes, delete=self.delete)
        if dry_run:
            return changes
        folder.mkdir(parents=True, exist_ok=True)
        (folder / DEPLOY_MARKER).write_text(
            "synchronised by `blogengine deploy`; files here are replaced on every deploy\n",
            encoding="utf-8")
        for rel in (*changes.new, *changes.changed):
            _copy(files[rel], folder, rel)
        for rel in changes.removed:
            target = folder / rel
            if target.is_file() or target.is_symlink():
                target.unlink()
        _prune_empty(folder)
        return changes


def _files_in(folder: Path) -> dict[str, Path]:
    if not folder.is_dir():
        return {}
    found: dict[str, Path] = {}
    for current, _dirs, names in os.walk(folder):
        base = Path(current)
        for name in names:
            path = base / name
            rel = path.relative_to(folder).as_posix()
            if rel != DEPLOY_MARKER and not name.endswith(".blogengine-tmp"):
                found[rel] = path
    return found


def _same_bytes(a: Path, b: Path) -> bool:
    with a.open("rb") as one, b.open("rb") as two:
        while True:
            left, right = one.read(CHUNK), two.read(CHUNK)
            if left != right:
                return False
            if not left:
                return True


def _copy(source: Path, folder: Path, rel: str) -> None:
    """Replace folder/rel with source in one rename, so a reader never sees half a file."""
    target = folder / rel
    _make_room(folder, target)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.blogengine-tmp")
    shutil.copy2(source, temporary)
    os.replace(temporary, target)


def _make_room(folder: Path, target: Path) -> None:
    """A file where the build now has a folder, or a folder where it has a file, goes first."""
    for parent in reversed(target.relative_to(folder).parents[:-1]):
        path = folder / parent
        if path.is_file() or path.is_symlink():
            path.unlink()
    if target.is_dir() and not target.is_symlink():
        shutil.rmtree(target)


def _prune_empty(folder: Path) -> None:
    for current, _dirs, _names in os.walk(folder, topdown=False):
        path = Path(current)
        if path != folder:
            try:
                path.rmdir()   # only succeeds when empty
            except OSError:
                pass
