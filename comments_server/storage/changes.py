"""A cheap "has anything been committed since?" for a SQLite file, so a process may keep an answer
(the counts) between commits instead of asking the database again on every request."""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path


class DataVersion:
    """`PRAGMA data_version` on a connection of its own, one per process: SQLite changes the number
    whenever another connection (any process, or this one's pool) commits to the file. The connection
    never writes, so every commit counts. A few microseconds, against a query's few hundred."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid = 0
        self._opened = 0   # numbers from different connections are not comparable: tell them apart

    def current(self) -> tuple[int, int]:
        """A token equal to an earlier one only if nothing was committed in between (read it before
        reading the data it stands for: a commit in between then makes the next token differ)."""
        with self._lock:
            if self._conn is None or self._pid != os.getpid():
                # A connection inherited across a fork must not be used: open our own.
                self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
                self._pid = os.getpid()
                self._opened += 1
            row = self._conn.execute("PRAGMA data_version").fetchone()
            return self._opened, int(row[0])

    def close(self) -> None:
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None
