"""`blogengine comments backup`: a consistent copy of a live SQLite comment database, taken with
SQLite's online backup API while the server goes on writing."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from comments_server.private_files import create_private


class BackupError(Exception):
    """The backup could not be made; the message says why."""


def backup_sqlite(database: Path, destination: Path) -> int:
    """Copy `database` to `destination` page by page, consistently even under writes; the copy
    is checked (integrity_check) before it replaces anything. Returns how many comments it holds."""
    if not database.is_file():
        raise BackupError(f"{database} does not exist")
    destination.parent.mkdir(parents=True, exist_ok=True)
    temporary = destination.with_name(f".{destination.name}.partial-{os.getpid()}")
    temporary.unlink(missing_ok=True)
    create_private(temporary)  # the copy holds emails, IPs and password hashes
    source = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)
    try:
        target = sqlite3.connect(temporary)
        try:
            # Small steps, so the live server's writers are never held up for long.
            source.backup(target, pages=256, sleep=0.005)
            target.execute("PRAGMA journal_mode=DELETE")   # one self-contained file
            check = target.execute("PRAGMA integrity_check").fetchone()[0]
            if check != "ok":
                raise BackupError(f"the copy failed its integrity check: {check}")
            count = int(target.execute("SELECT count(*) FROM comments").fetchone()[0])
        finally:
            target.close()
    except sqlite3.Error as exc:
        temporary.unlink(missing_ok=True)
        raise BackupError(f"cannot back up {database}: {exc}") from None
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    finally:
        source.close()
    os.replace(temporary, destination)
    return count
