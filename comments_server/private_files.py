"""Files that hold readers' emails and IP addresses and authors' password hashes (the SQLite
database, backups, exports): created readable by their owner only."""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_MODE = 0o600


def create_private(path: Path) -> None:
    """Create `path` empty and owner-only if it does not exist; an existing file is left as it is.
    SQLite gives its -wal and -shm files the mode of the database file."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE))
    except FileExistsError:
        pass


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` (replaced if it exists), owner-only from the first byte."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
