"""Helpers for the importer tests: a site to import into, the CLI, the comment store."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner, Result

from blogengine.cli import main
from comments_server.models import Comment
from comments_server.storage import open_storage
from comments_server.storage.sql import SqlStorage
from tests.support import REPO

DATA = REPO / "tests" / "data" / "import"
LATER = datetime(2030, 1, 1, tzinfo=UTC)   # a clock after every fixture comment

SITE_CONFIG = """title = "Moved in"
base_url = "https://new.example.com/"
timezone = "Europe/Paris"

[author]
name = "Ann Author"

[comments]
database_url = "{db_url}"
"""


def make_site(root: Path, db_url: str, extra: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "blogengine.toml").write_text(SITE_CONFIG.format(db_url=db_url) + extra, encoding="utf-8")
    (root / "content" / "posts").mkdir(parents=True, exist_ok=True)
    return root


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def snapshot(root: Path) -> dict[str, str]:
    """Every file under the site (but the database files) with a digest of its bytes."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and "comments.sqlite3" not in p.name}


def storage(db_url: str) -> SqlStorage:
    return open_storage(db_url)


def depth(comment: Comment, by_id: dict[int, Comment]) -> int:
    level = 0
    while comment.parent_id is not None:
        comment = by_id[comment.parent_id]
        level += 1
    return level


def read_front(path: Path) -> str:
    return path.read_text(encoding="utf-8").split("---\n")[1]
