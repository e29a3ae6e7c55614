"""Files an import adds to a site, written first into a temporary folder inside it and moved in
together at the end, so a failure (or a dry run) leaves the site as it was."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from blogengine.errors import BlogError


@dataclass
class StageLog:
    """What staging found, for the import's report."""

    written: Counter[str] = field(default_factory=Counter)    # "posts", "pages", "assets", ...
    already: Counter[str] = field(default_factory=Counter)    # identical file already there
    kept: list[str] = field(default_factory=list)             # files not written, and why


class Stage:
    """Files to add under `root`; nothing there changes before move_in."""

    def __init__(self, root: Path, log: StageLog) -> None:
        self.root = root
        self.log = log
        self.folder = Path(tempfile.mkdtemp(prefix=".blogengine-import-", dir=root))
        self.files: list[str] = []          # relative to the root, in the order staged
        self.replacing: set[str] = set()    # of those, files that overwrite one already there

    def add(self, rel: str, data: bytes, kind: str, *, replace: bool = False) -> None:
        """Stage `data` for root/rel unless a file is there (or `replace` says to overwrite it)."""
        target = self.root / rel
        if not self._inside_content(rel):   # a name from the old site must not write elsewhere
            self.log.kept.append(f"{rel}: outside the site's content/ folder (not written)")
            return
        if rel in self.files:   # two things of the import want one file: the first wins
            self.log.kept.append(f"{rel}: wanted twice by this import; the first was written")
            return
        if target.exists() and not replace:
            if target.is_file() and target.read_bytes() == data:
                self.log.already[kind] += 1
            else:
                self.log.kept.append(f"{rel}: a different file is already there (not overwritten)")
            return
        staged = self.folder / rel
        staged.parent.mkdir(parents=True, exist_ok=True)
        staged.write_bytes(data)
        self.files.append(rel)
        if target.exists():
            self.replacing.add(rel)
        self.log.written[kind] += 1

    def _inside_content(self, rel: str) -> bool:
        """`rel` names a place under content/: no '..', not absolute, no link leading out."""
        parts = PurePosixPath(rel).parts
        if PurePosixPath(rel).is_absolute() or ".." in parts or parts[:1] != ("content",):
            return False
        return (self.root / rel).resolve().is_relative_to((self.root / "content").resolve())

    def copy(self, rel: str, source: Path, kind: str, *, within: Path | None) -> None:
        """Stage a copy of `source`, which must be a file of `within` (not a link)."""
        if within is None or source.is_symlink() or not source.resolve().is_relative_to(within.resolve()):
            self.log.kept.append(f"{rel}: its source {source} is a link or outside {within} "
                                 "(not copied)")
            return
        try:
            data = source.read_bytes()
        except OSError as exc:
            raise BlogError(f"cannot read the file ({exc.strerror})", path=source) from None
        self.add(rel, data, kind)

    def move_in(self) -> Moved:
        """Move every staged file into the site; the result can undo it on a later failure."""
        moved = Moved(self.folder / ".replaced")
        try:
            for rel in self.files:
                target = self.root / rel
                for parent in reversed(target.relative_to(self.root).parents[:-1]):
                    folder = self.root / parent
                    if not folder.exists():
                        folder.mkdir()
                        moved.added.append(folder)
                if rel in self.replacing:   # kept aside until the whole import has succeeded
                    backup = moved.backups / rel
                    backup.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(target, backup)
                    moved.replaced.append((target, backup))
                os.replace(self.folder / rel, target)
                moved.added.append(target)
        except BaseException:
            moved.undo()
            raise
        return moved

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


@dataclass
class Moved:
    """Files and folders an import added, and the files it replaced (kept in `backups`)."""

    backups: Path
    added: list[Path] = field(default_factory=list)
    replaced: list[tuple[Path, Path]] = field(default_factory=list)   # (site file, its backup)

    def undo(self) -> None:
        """Remove what was added (newest first) and put replaced files back."""
        for path in reversed(self.added):
            try:
                path.rmdir() if path.is_dir() else path.unlink()
            except OSError:
                pass
        for target, backup in reversed(self.replaced):
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(backup, target)
            except OSError:
                pass
