"""Helpers for tests that build sites: fixture sites written to a temp dir and built for real."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from bs4 import BeautifulSoup

from blogengine.build import BuildOptions, BuildReport, build
from blogengine.config import load_config

# The clock for tests: future-dated posts are judged against this, never the real time.
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=ZoneInfo("UTC"))

BASIC_CONFIG = """
title = "Test Blog"
base_url = "https://blog.example.com/"
posts_per_page = 2
timezone = "UTC"

[author]
name = "Ann Author"
email = "ann@example.com"
"""


def write_files(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")


def post(title: str, date: str, body: str = "Body text.", **fields: str) -> str:
    """A Markdown post with front matter; extra fields are written verbatim as YAML."""
    lines = [f"title: {title!r}", f"date: {date}"] + [f"{k}: {v}" for k, v in fields.items()]
    return "---\n" + "\n".join(lines) + "\n---\n\n" + textwrap.dedent(body).lstrip("\n")


@pytest.fixture
def make_site(tmp_path: Path) -> Callable[..., Path]:
    """Write a site (config + files) into a temp folder and return its root."""
    def make(files: dict[str, str | bytes] | None = None, config: str = BASIC_CONFIG,
             name: str = "site") -> Path:
        root = tmp_path / name
        root.mkdir()
        (root / "blogengine.toml").write_text(textwrap.dedent(config), encoding="utf-8")
        (root / "content" / "posts").mkdir(parents=True)
        write_files(root, files or {})
        return root
    return make


@pytest.fixture
def build_at() -> Callable[..., BuildReport]:
    """Build the site at a root with the test clock; options as keyword arguments."""
    def run(root: Path, **options: object) -> BuildReport:
        options.setdefault("now", NOW)
        return build(load_config(root), BuildOptions(**options))  # type: ignore[arg-type]
    return run


def read_html(path: Path) -> BeautifulSoup:
    """Parse a written page as a browser would (html5lib)."""
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html5lib")
