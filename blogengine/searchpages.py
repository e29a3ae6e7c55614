"""The folders of links Pagefind reads, one per part of the search index, kept in the build
cache between builds. Pagefind is given a part's pages alone, so each part needs a folder that
holds them at their paths; made anew, it took a few hundred folders and links per part, half a
second of an edit's build at 10,000 posts. Kept, it needs only the links of the pages written
since (a page written again is a new file: its link still holds the old one).

Each folder has a manifest beside it: the output folder it links into (write.folder_id: a build
that made a fresh output folder leaves every link stale, and has them made again in place as
it ends, search.IndexJob.refresh) and every page the folder may hold, written before the
folder is touched, so a build killed meanwhile leaves no link unlisted."""

from __future__ import annotations

import itertools
import json
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from blogengine.write import delete_later, folder_id, make_folder_of, remove_file


def is_kept(folder: Path, out_dir: Path) -> bool:
    """Whether `folder` holds links into this output folder (sync_pages then has little to
    do), as opposed to none yet or links into one made anew since."""
    manifest = _read(folder)
    try:
        return manifest is not None and manifest[0] == folder_id(out_dir)
    except OSError:
        return False


def sync_pages(out_dir: Path, rels: list[str], folder: Path) -> bool:
    """Make `folder` hold a link to each page `rels` of the output folder, and nothing else;
    False when the links cannot be made (another file system: the caller makes its own
    folder). A folder linking into an output folder made anew since has each link made
    again where it is (its folders stay)."""
    try:
        output = folder_id(out_dir)
        manifest = _read(folder)
        fresh = manifest is None
        had: set[str] = set() if manifest is None else manifest[1]
        if fresh:
            shutil.rmtree(folder, ignore_errors=True)
        wanted = set(rels)
        _write(folder, output, had | wanted)
        for rel in had - wanted:
            remove_file(folder, rel)
        source, target = str(out_dir), str(folder)
        made = {""}   # folders known to be there (a fresh folder has none: plain mkdir)
        os.makedirs(target, exist_ok=True)
        for rel in rels:
            page = os.path.join(source, rel)
            link = os.path.join(target, rel)
            if not fresh:
                try:
                    if os.stat(link).st_ino == os.stat(page).st_ino:
                        continue
                    os.unlink(link)   # the page was written again since
                except FileNotFoundError:
                    os.makedirs(os.path.dirname(link), exist_ok=True)
            else:
                make_folder_of(target, rel, made)
            os.link(page, link)
        _write(folder, output, wanted)
    except OSError:
        forget_pages([folder])
        return False
    return True


def forget_pages(folders: Iterable[Path]) -> None:
    """Delete these folders and their manifests; the folders in the background (a part's
    hundreds of folders take a tenth of a second, a whole site's seconds)."""
    for folder in folders:
        _manifest(folder).unlink(missing_ok=True)
        aside = folder.with_name(f".{folder.name}.gone-{os.getpid()}-{next(_gone)}")
        try:
            folder.rename(aside)
        except OSError:   # none there, or it cannot move: deleted here, if at all
            shutil.rmtree(folder, ignore_errors=True)
            continue
        delete_later(aside)


_gone = itertools.count()


def stale_pages(root: Path, out_dir: Path, numbers: set[int]) -> list[Path]:
    """The folders under `root` of parts other than `numbers`, or linking into an output
    folder made anew since: their links only keep old pages on the disk."""
    try:
        output = folder_id(out_dir)
        folders = {root / path.name.removesuffix(".json") for path in root.iterdir()}
    except OSError:
        return []
    return [folder for folder in sorted(folders) if not folder.name.startswith(".")   # (going)
            and (not folder.name.isdigit() or int(folder.name) not in numbers
                 or (manifest := _read(folder)) is None or manifest[0] != output)]


def _manifest(folder: Path) -> Path:
    return folder.with_name(folder.name + ".json")


def _read(folder: Path) -> tuple[str, set[str]] | None:
    try:
        data = json.loads(_manifest(folder).read_text(encoding="utf-8"))
        return str(data["output"]), set(data["pages"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write(folder: Path, output: str, pages: set[str]) -> None:
    manifest = _manifest(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    partial = manifest.with_name(manifest.name + ".new")
    partial.write_text(json.dumps({"output": output, "pages": sorted(pages)}), encoding="utf-8")
    os.replace(partial, manifest)
