"""A build killed at any moment leaves the published output whole: untouched, or (when it had
already decided its change) finished by the next build."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from blogengine.build import BuildOptions, build
from blogengine.config import load_config
from blogengine.write import JOURNAL
from tests.support.site import NOW, post


# Builds killed in a subprocess at chosen moments, 5 to 12 s each: out of the fast loop.
pytestmark = pytest.mark.slow


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def many(count: int, body: str) -> dict[str, str | bytes]:
    return {f"content/posts/p{i:04d}.md": post(f"Post {i}", f"2023-{i % 12 + 1:02d}-{i % 28 + 1:02d}",
                                               tags=f"[t{i % 9}]", body=f"{body} {i}.")
            for i in range(count)}


def kill_when_staging_appears(root: Path, *, after_files: int) -> subprocess.Popen[bytes]:
    """Start `blogengine build` and SIGKILL it once its staging folder holds some files."""
    process = subprocess.Popen([sys.executable, "-m", "blogengine", "build", "--jobs", "1"],
                               cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        staging = list(root.glob(".public.tmp-*"))
        if staging and sum(1 for _ in staging[0].rglob("*")) >= after_files:
            os.kill(process.pid, signal.SIGKILL)
            break
        time.sleep(0.002)
    process.wait()
    return process


def test_a_build_killed_while_writing_leaves_the_old_site(make_site, tmp_path):
    root = make_site(many(400, "First version of post"))
    build(load_config(root), BuildOptions(now=NOW))
    before = tree(root / "public")
    for path in (root / "content/posts").glob("*.md"):   # every page changes: a fresh folder
        path.write_text(path.read_text().replace("First version", "Second version"))
    process = kill_when_staging_appears(root, after_files=50)
    assert process.returncode == -signal.SIGKILL, "the build finished before it could be killed"
    assert tree(root / "public") == before
    # The next build cleans up and publishes the new site, as a clean build would.
    build(load_config(root), BuildOptions(now=NOW))
    assert not list(root.glob(".public.tmp-*"))
    clean = tmp_path / "clean"
    build(load_config(root), BuildOptions(output_dir=clean, now=NOW, incremental=False))
    assert tree(root / "public") == tree(clean)


def test_an_incremental_build_killed_midway_is_untouched_or_finished(make_site, tmp_path):
    root = make_site(many(400, "Text of post"))
    build(load_config(root), BuildOptions(now=NOW))
    before = tree(root / "public")
    for path in sorted((root / "content/posts").glob("*.md"))[:60]:   # a patch, not a swap
        path.write_text(path.read_text().replace("Text of post", "Edited text of post"))
    process = kill_when_staging_appears(root, after_files=5)
    assert process.returncode == -signal.SIGKILL, "the build finished before it could be killed"
    staged = list(root.glob(".public.tmp-*"))
    if not any((folder / JOURNAL).exists() for folder in staged):
        assert tree(root / "public") == before     # killed before deciding: nothing changed
    build(load_config(root), BuildOptions(now=NOW))
    clean = tmp_path / "clean"
    build(load_config(root), BuildOptions(output_dir=clean, now=NOW, incremental=False))
    assert tree(root / "public") == tree(clean)
    shutil.rmtree(clean)
