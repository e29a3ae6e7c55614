"""Site search: Pagefind indexes the published posts and pages into /pagefind/ after a build.

The theme marks what is searchable (`data-pagefind-body` on posts and pages, so listings are
left out); Pagefind splits the index by each page's `<html lang>`. The index is made into a
folder beside the output and swapped in, so readers never see half an index."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from blogengine.errors import BlogError

INDEX_FOLDER = "pagefind"
# Pagefind takes about a second per thousand pages; this only stops a hung indexer.
TIMEOUT_SECONDS = 600


def index_needed(out_dir: Path, pages_changed: int) -> bool:
    """Whether the index must be made again: a page changed, or there is no index yet."""
    return pages_changed > 0 or not (out_dir / INDEX_FOLDER / "pagefind.js").is_file()


def remove_index(out_dir: Path) -> None:
    """Take the index away (search turned off)."""
    shutil.rmtree(out_dir / INDEX_FOLDER, ignore_errors=True)


def index_site(out_dir: Path) -> None:
    """Index the published site into `out_dir/pagefind/`, or raise BlogError saying why not.

    On failure the old index goes too: it no longer matches the pages, and its absence makes
    the next build index again even when no page changes."""
    try:
        _index(out_dir)
    except BaseException:
        remove_index(out_dir)
        raise


def _index(out_dir: Path) -> None:
    executable = _executable()
    staged = out_dir.parent / f".{out_dir.name}.pagefind-{os.getpid()}"
    shutil.rmtree(staged, ignore_errors=True)
    command = [str(executable), "--site", str(out_dir), "--output-path", str(staged), "--silent"]
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False,
                                timeout=TIMEOUT_SECONDS, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        shutil.rmtree(staged, ignore_errors=True)
        raise BlogError(f"search: could not run Pagefind ({executable}): {exc}; "
                        "set [search] enabled = false to build without search") from None
    if result.returncode != 0 or not (staged / "pagefind.js").is_file():
        shutil.rmtree(staged, ignore_errors=True)
        said = (result.stderr.strip() or result.stdout.strip()).splitlines()[-5:]
        raise BlogError(f"search: Pagefind could not index {out_dir} (exit code "
                        f"{result.returncode}){': ' + ' / '.join(said) if said else ''}")
    _publish(staged, out_dir / INDEX_FOLDER)


def _executable() -> Path:
    from pagefind.service import get_executable   # the package finds its bundled binary
    found = get_executable()
    if found is None:
        raise BlogError("search: the Pagefind binary is missing; install it with "
                        "pip install 'pagefind[bin]', or set [search] enabled = false")
    return found


def _publish(staged: Path, target: Path) -> None:
    """Swap the new index in: the old one is moved aside first, then deleted."""
    old = target.parent / f".{INDEX_FOLDER}.old-{os.getpid()}"
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    try:
        staged.rename(target)
    except BaseException:
        if old.exists():
            old.rename(target)
        raise
    shutil.rmtree(old, ignore_errors=True)
