"""Load stage: find every file under content/, read Markdown sources, list assets to copy."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from blogengine.errors import ContentError

MARKDOWN_SUFFIXES = (".md", ".markdown")


@dataclass(frozen=True)
class SourceRef:
    """Which Markdown file a document came from (plain strings: ten thousand of these are
    unpickled from the build cache on every rebuild), and a digest of its bytes."""

    rel: str              # path under content/, e.g. posts/hello.md
    digest: str

    @property
    def display_path(self) -> str:
        return f"content/{self.rel}"

    @property
    def parts(self) -> list[str]:
        return self.rel.split("/")


@dataclass(frozen=True)
class SourceFile:
    """A Markdown file read from disk, with its text and a digest of its bytes."""

    path: Path            # absolute path on disk
    rel: PurePosixPath    # path under content/, e.g. posts/hello.md
    text: str
    digest: str

    @property
    def display_path(self) -> str:
        return f"content/{self.rel}"

    def ref(self) -> SourceRef:
        """The same file without its text (documents keep only this)."""
        return SourceRef(rel=str(self.rel), digest=self.digest)


@dataclass(frozen=True)
class FileStamp:
    """What a stat says of a file: enough to tell, cheaply, that it has not changed."""

    mtime_ns: int
    size: int

    @classmethod
    def of(cls, path: str | Path) -> FileStamp:
        stat = os.stat(path)
        return cls(mtime_ns=stat.st_mtime_ns, size=stat.st_size)


@dataclass(frozen=True)
class Asset:
    """A non-Markdown file copied to the same relative path in the output."""

    path: Path
    rel: PurePosixPath


# A Markdown source found by the scan: its path on disk, its path under content/ ("posts/a.md")
# and its stamp. Plain strings: a big site's build makes ten thousand of these on every run,
# and pathlib's objects cost it a tenth of a second (the parse makes them for what it reads).
ScannedSource = tuple[str, str, FileStamp]


@dataclass
class ScannedContent:
    """Every file under content/, found and stat-ed but not read."""

    markdown: list[ScannedSource] = field(default_factory=list)
    assets: list[Asset] = field(default_factory=list)
    errors: list[ContentError] = field(default_factory=list)


@dataclass
class LoadedContent:
    sources: list[SourceFile] = field(default_factory=list)
    assets: list[Asset] = field(default_factory=list)
    errors: list[ContentError] = field(default_factory=list)


def scan_content(content_dir: Path) -> ScannedContent:
    """Walk content_dir (following links that stay inside it) in sorted order."""
    scanned = ScannedContent()
    if not content_dir.is_dir():
        scanned.errors.append(ContentError("no content/ folder here (expected content/posts/*.md)",
                                           path=content_dir))
        return scanned
    root = content_dir.resolve()
    for path, rel, entry in _walk(str(content_dir), root, "", {root}, scanned.errors):
        if os.path.splitext(entry.name)[1].lower() in MARKDOWN_SUFFIXES:
            try:
                stat = entry.stat()   # the scan's own stat, cached by the entry
                scanned.markdown.append((path, rel, FileStamp(stat.st_mtime_ns, stat.st_size)))
            except OSError as exc:
                scanned.errors.append(ContentError(f"cannot read file: {exc.strerror}",
                                                   path=f"content/{rel}"))
        else:
            scanned.assets.append(Asset(path=Path(path), rel=PurePosixPath(rel)))
    return scanned


def load_sources(content_dir: Path) -> LoadedContent:
    """Scan content_dir and read every Markdown source."""
    scanned = scan_content(content_dir)
    loaded = LoadedContent(assets=scanned.assets, errors=scanned.errors)
    for path, rel, _stamp in scanned.markdown:
        source = read_source(Path(path), PurePosixPath(rel), loaded.errors)
        if source is not None:
            loaded.sources.append(source)
    return loaded


def _walk(folder: str, root: Path, rel: str, visited: set[Path],
          errors: list[ContentError]) -> list[tuple[str, str, os.DirEntry[str]]]:
    """Each file under `folder` (`rel` under content/, "" at the top): its path, its path
    under content/ and its scan entry."""
    found: list[tuple[str, str, os.DirEntry[str]]] = []
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        errors.append(ContentError(f"cannot read folder: {exc.strerror}", path=Path(folder)))
        return found
    for entry in entries:
        if entry.name.startswith(".") or entry.name.endswith("~"):
            continue
        entry_rel = f"{rel}/{entry.name}" if rel else entry.name
        if entry.is_symlink():
            display = f"content/{entry_rel}"
            try:
                target = Path(entry.path).resolve(strict=True)
            except FileNotFoundError:
                errors.append(ContentError("symbolic link is broken", path=display))
                continue
            except (RuntimeError, OSError):  # Python raises RuntimeError on a link loop
                errors.append(ContentError("symbolic link loop; skipped", path=display))
                continue
            if not target.is_relative_to(root):
                errors.append(ContentError(
                    f"symbolic link leads outside content/ (to {target}); refused", path=display))
                continue
        if entry.is_dir():
            real = Path(entry.path).resolve()
            if real in visited:
                continue  # a link back to a folder we are already inside: a loop, stop here
            found.extend(_walk(entry.path, root, entry_rel, visited | {real}, errors))
        elif entry.is_file():
            found.append((entry.path, entry_rel, entry))
    return found


def read_source(path: Path, rel: PurePosixPath, errors: list[ContentError]) -> SourceFile | None:
    """Read and decode one Markdown file; a problem is appended to `errors`."""
    display = f"content/{rel}"
    try:
        data = path.read_bytes()
    except OSError as exc:
        errors.append(ContentError(f"cannot read file: {exc.strerror}", path=display))
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        errors.append(ContentError(
            f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "save the file as UTF-8", path=display, line=line))
        return None
    text = text.removeprefix("\ufeff").replace("\r\n", "\n")
    return SourceFile(path=path, rel=rel, text=text, digest=hashlib.sha256(data).hexdigest())
