"""Write stage: outputs go to a staging folder that replaces the output folder only when whole."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from blogengine.errors import BlogError
from blogengine.render import Output

MARKER = ".blogengine-build"


def check_output_dir(out_dir: Path, site_root: Path) -> None:
    """Refuse output folders whose replacement would destroy the site or someone's files."""
    out = out_dir.resolve()
    root = site_root.resolve()
    if out == root or root.is_relative_to(out):
        raise BlogError(f"the output folder {out_dir} holds the site itself; choose another --output")
    if out.is_relative_to(root / "content") or out.is_relative_to(root / "templates"):
        raise BlogError(f"the output folder {out_dir} is inside the site's sources; "
                        "choose another --output")
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MARKER).exists())):
        raise BlogError(f"the output folder {out_dir} exists and was not written by blogengine; "
                        "remove it or choose another --output")


def write_outputs(outputs: Iterable[Output], out_dir: Path) -> int:
    """Write every output into a fresh staging folder, then swap it in for out_dir.

    If anything fails (including an error raised by the outputs iterator), the staging
    folder is removed and the previous out_dir is left exactly as it was."""
    out_dir = out_dir.absolute()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = out_dir.parent / f".{out_dir.name}.tmp-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    written: dict[str, str] = {}
    folders: set[str] = set()
    try:
        for output in outputs:
            _write_one(output, staging, written, folders)
        (staging / MARKER).write_text("built by blogengine; this folder is replaced on every build\n",
                                      encoding="utf-8")
        _swap(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return len(written)


def _write_one(output: Output, staging: Path, written: dict[str, str], folders: set[str]) -> None:
    rel = output.path
    origin = str(output.copy_from) if output.copy_from else output.url
    if rel in written:
        raise BlogError(f"two outputs want {rel}: {written[rel]} and {origin}; rename one")
    parts = rel.split("/")
    if not rel or rel.startswith("/") or any(part in ("", ".", "..") for part in parts):
        raise BlogError(f"refusing to write {rel!r} outside the output folder")
    target = staging / rel
    written[rel] = origin
    try:
        folder = rel.rpartition("/")[0]
        if folder and folder not in folders:  # one mkdir per folder, not per file
            (staging / folder).mkdir(parents=True, exist_ok=True)
            folders.add(folder)
        if output.copy_from is not None:
            shutil.copy2(output.copy_from, target)
        else:
            assert output.body is not None
            target.write_bytes(output.body)
    except (IsADirectoryError, NotADirectoryError, FileExistsError):
        # one output is a folder on another's path, e.g. content/x.html/ and a page at /x.html
        clash = next((w for w in written if w != rel and
                      (w.startswith(rel + "/") or rel.startswith(w + "/"))), "another output")
        raise BlogError(f"{origin} ({rel}) and {written.get(clash, clash)} ({clash}) "
                        "need the same path as a file and as a folder; rename one") from None


def _swap(staging: Path, out_dir: Path) -> None:
    """Put the finished build in place; the old one is moved aside first, then deleted."""
    if not out_dir.exists():
        staging.rename(out_dir)
        return
    old = out_dir.parent / f".{out_dir.name}.old-{os.getpid()}"
    shutil.rmtree(old, ignore_errors=True)
    out_dir.rename(old)
    try:
        staging.rename(out_dir)
    except BaseException:
        old.rename(out_dir)
        raise
    shutil.rmtree(old, ignore_errors=True)
