"""Published conversations for the static build: the JSON the API serves, read from the database.

`blogengine build` calls this to write comments into pages, so readers without JavaScript,
search engines and archives see them."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from comments_server.config import load_config
from comments_server.models import Status, assemble_tree
from comments_server.storage import open_storage
from comments_server.storage.sql import sqlite_path
from comments_server.web import tree_json


class BakeError(Exception):
    """The comments could not be read (bad settings, unreachable or outdated database)."""


def _site_database(site_root: Path) -> tuple[str, dict[str, Any]]:
    cfg = load_config({"SITE": str(site_root.resolve())})
    database_problems = [p for p in cfg.problems if "DATABASE_URL" in p or "SITE" in p]
    if database_problems:
        raise BakeError("; ".join(database_problems))
    return str(cfg.values["DATABASE_URL"]), cfg.values


def comments_version(site_root: Path) -> str:
    """A digest of the comment table's state in one aggregate query: it changes when a comment
    is added, edited, deleted or changes status ("none" before the database exists)."""
    url, _values = _site_database(site_root)
    path = sqlite_path(url)
    if path is not None and not path.exists():
        return "none"
    try:
        storage = open_storage(url, auto_migrate=False)
    except Exception as exc:  # reported by the build as "cannot tell": a full rebuild
        raise BakeError(str(exc)) from exc
    try:
        return hashlib.sha256(repr(storage.change_summary()).encode()).hexdigest()
    except Exception as exc:  # a database gone mid-read
        raise BakeError(str(exc)) from exc
    finally:
        storage.close()


def read_site_conversations(site_root: Path, threads: Iterable[str]) -> dict[str, dict[str, Any]]:
    """For each thread: {"count": published comments, "comments": nested API comment JSON}.

    The database and display depth come from the same settings the server uses for this site
    (its [comments] table, COMMENTS_* variables). A SQLite file that does not exist yet means
    no comments yet, not an error."""
    url, values = _site_database(site_root)
    wanted = list(dict.fromkeys(threads))
    path = sqlite_path(url)
    if path is not None and not path.exists():
        return {thread: {"count": 0, "comments": []} for thread in wanted}
    try:
        storage = open_storage(url, auto_migrate=False)
    except Exception as exc:  # any failure to open is reported as one warning by the build
        raise BakeError(str(exc)) from exc
    depth = int(values["DISPLAY_DEPTH"])
    try:
        result = {}
        for thread, comments in storage.list_threads(wanted).items():
            count = sum(1 for c in comments if c.status == Status.PUBLISHED)
            result[thread] = {"count": count, "comments": tree_json(assemble_tree(comments, depth))}
        return result
    except Exception as exc:  # a database gone mid-read: the build warns and goes on without
        raise BakeError(str(exc)) from exc
    finally:
        storage.close()
