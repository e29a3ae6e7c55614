"""Helpers for the deploy tests: a small site, `blogengine deploy` through click, folder snapshots."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

from click.testing import CliRunner, Result

from blogengine.cli import main
from tests.support.site import BASIC_CONFIG, post, write_files

NOTES = "files/notes.txt"   # an asset: changing it changes exactly one output file
BROKEN_POST = "---\ntitle: Broken\ndate: 2024-13-45\n---\n\nThe date is impossible.\n"


def make_deploy_site(root: Path, deploy_toml: str = "") -> Path:
    """A site with two posts, a page and an asset, plus a [deploy] table."""
    root.mkdir(parents=True)
    config = textwrap.dedent(BASIC_CONFIG) + "\n" + textwrap.dedent(deploy_toml)
    (root / "blogengine.toml").write_text(config, encoding="utf-8")
    write_files(root, {
        "content/posts/first.md": post("First post", "2024-05-01", "Hello, *world*."),
        "content/posts/second.md": post("Second post", "2024-06-01", "More words."),
        "content/pages/about.md": "---\ntitle: About\n---\n\nAbout me.\n",
        f"content/{NOTES}": "version 1\n",
    })
    return root


def deploy(root: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    """`blogengine deploy --source ROOT ARGS...` in-process; exceptions are not swallowed."""
    return CliRunner().invoke(main, ["deploy", "--source", str(root), *args], env=env,
                              catch_exceptions=False)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file below a folder by relative path, with its bytes."""
    if not folder.exists():
        return {}
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def inodes(folder: Path) -> dict[str, int]:
    """Each file's inode: a file that was rewritten (by rename) gets a new one."""
    return {p.relative_to(folder).as_posix(): os.stat(p).st_ino
            for p in sorted(folder.rglob("*")) if p.is_file()}


def built_files(root: Path) -> dict[str, bytes]:
    """The site as built in public/, without the build's own bookkeeping."""
    return {rel: data for rel, data in snapshot(root / "public").items()
            if rel not in (".blogengine-build", ".blogengine-journal")}


def listed(result: Result) -> dict[str, list[str]]:
    """The `new`/`changed`/`removed` lines of deploy's output, by kind."""
    found: dict[str, list[str]] = {"new": [], "changed": [], "removed": []}
    for line in result.output.splitlines():
        parts = line.split()
        if line.startswith("  ") and len(parts) == 2 and parts[0] in found:
            found[parts[0]].append(parts[1])
    return found


def one_line_error(result: Result) -> str:
    """The error a failed deploy printed: exactly one line, starting `error:`, no traceback."""
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output
    return lines[0]


# A deleted page takes its own files with it: the page and its social card; and the search
# index files that held it change (Pagefind names them by their content).
ABOUT_PAGE_FILES = ["about/index.html", "cards/about.png"]


def outside_search_index(paths: list[str]) -> list[str]:
    """The listed paths, less Pagefind's index files."""
    return [path for path in paths if not path.startswith("pagefind/")]
