"""The output folder listed beside the build: while the build parses, models and plans (work
for one core), a forked process walks the output folder and stats its pages; the build then
stats again only the files it changed itself. The search index and the link check read this
listing instead of walking the folder after the writing: at 10,000 posts the walk of 34,000
files and the stat of 14,000 pages are about 0.3 s of an edit's build."""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from blogengine.write import output_files

PAGE_SUFFIXES = (".html", ".htm")


@dataclass(frozen=True)
class OutputListing:
    """The output folder's files (as output_files lists them) and each page's stat."""

    files: set[str]
    pages: dict[str, tuple[int, int]]   # rel of each .html/.htm file -> (mtime_ns, size)


def list_output(out_dir: Path) -> OutputListing:
    """Walk the output folder and stat every page."""
    files = output_files(out_dir)
    folder = str(out_dir)
    pages = {}
    for rel in files:
        if rel.endswith(PAGE_SUFFIXES):
            try:
                stat = os.stat(os.path.join(folder, rel))
            except OSError:   # gone meanwhile: as if the walk had not seen it
                continue
            pages[rel] = (stat.st_mtime_ns, stat.st_size)
    return OutputListing(files, pages)


class OutputScan:
    """list_output(out_dir) in a forked process, started now and received by `listing`."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self._received = False
        self._found: OutputListing | None = None
        context = multiprocessing.get_context("fork")
        self._receiver, sender = context.Pipe(duplex=False)
        self._process = context.Process(target=_scan, args=(out_dir, sender, self._receiver),
                                        daemon=True, name="blogengine-prescan")
        self._process.start()   # (no thread of this process is busy yet: forking is safe)
        sender.close()

    def received(self) -> OutputListing | None:
        """The listing as it was at the start; None when the scan failed (the caller then
        walks the folder itself)."""
        if not self._received:
            try:
                found = self._receiver.recv()
            except (EOFError, OSError):   # the process died
                found = None
            finally:
                self.close()
            self._found = found if isinstance(found, OutputListing) else None
            self._received = True
        return self._found

    def listing(self, changed: Iterable[str]) -> OutputListing | None:
        """The listing as it was at the start, with the files changed since (`changed`: each
        file the build wrote or removed) looked at again; None when the scan failed."""
        found = self.received()
        if found is None:
            return None
        folder = str(self.out_dir)
        for rel in changed:
            try:
                stat = os.stat(os.path.join(folder, rel))
            except OSError:
                found.files.discard(rel)
                found.pages.pop(rel, None)
                continue
            found.files.add(rel)
            if rel.endswith(PAGE_SUFFIXES):
                found.pages[rel] = (stat.st_mtime_ns, stat.st_size)
        return found

    def close(self) -> None:
        """Stop the scan if it still runs (the build failed or did not need it)."""
        if self._process.is_alive():
            self._process.kill()
        self._process.join()
        self._receiver.close()


def _scan(out_dir: Path, sender: multiprocessing.connection.Connection,
          receiver: multiprocessing.connection.Connection) -> None:
    # The fork's copy of the build's end: held here, it would keep the pipe open after the
    # build was killed, and a listing bigger than the pipe's buffer would wait for ever.
    receiver.close()
    try:
        listing: OutputListing | None = list_output(out_dir)
    except OSError:
        listing = None
    try:
        sender.send(listing)
    except OSError:   # the build let go of it
        pass
