"""Which files of the old site an import may read: every importer asks here, and the stage
checks again before it copies (stage.Stage.copy)."""

from __future__ import annotations

from pathlib import Path


def site_file(path: Path, root: Path) -> bool:
    """Whether `path` is a file of the site under `root` an import may read: a regular file,
    not a symbolic link, and inside the site once every link on the way is followed. An import
    copies the site, not what its links point to (/etc/passwd, /proc/self/environ)."""
    try:
        return (path.is_file() and not path.is_symlink()
                and path.resolve().is_relative_to(root.resolve()))
    except OSError:
        return False
