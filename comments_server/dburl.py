"""Database URLs without a database library: which backend, which SQLite file. Light enough for
the static build, which only needs to know whether the comment database exists yet."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

_SQLITE = re.compile(r"sqlite(?:\+\w+)?://(?:/(?P<database>[^?]*))?(?:\?.*)?", re.DOTALL)


def normalize_url(url: str) -> str:
    """postgres:// and postgresql:// mean psycopg 3, the driver this package installs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def sqlite_path(url: str) -> Path | None:
    """The database file of a sqlite URL, or None for other backends and in-memory databases
    (read as SQLAlchemy's make_url reads them: the path after the third slash, %-decoded)."""
    match = _SQLITE.fullmatch(url)
    if match is None:
        return None
    database = unquote(match.group("database") or "")
    if not database or database == ":memory:":
        return None
    return Path(database)
