"""The incremental build cache under `.blogengine/` (safe to delete at any time): parsed
documents, what each output was built from, and the state of every input file."""

from __future__ import annotations

import hashlib
import operator
import os
import pickle
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from blogengine.load import FileStamp

if TYPE_CHECKING:   # types only: an up-to-date build reads the cache without the engine
    from blogengine.deps import Dependency
    from blogengine.parse import Document


@dataclass(frozen=True)
class OutputRecord:
    """What the cache keeps of one output: its key and, for pages, what it read."""

    key: str
    inputs: tuple[Dependency, ...] | None = None   # pages only
    objects: str = ""                               # the objects those inputs belong to


@dataclass(frozen=True)
class KeptDict:
    """A big dict kept in the cache as the last one saved whole (`base`) and the entries
    changed since: `current` is the base with them applied."""

    base: dict[str, Any]
    current: dict[str, Any]


# A big dict is saved whole again once this share of its entries changed since it was.
REWRITE_SHARE = 0.1


def dict_states(name: str, new: dict[str, Any], kept: KeptDict | None,
                by_value: bool = False) -> dict[str, Any]:
    """The states that save `new` under `name`: the entries changed since `kept`'s base
    (told by identity: an unchanged entry is the object read back; `by_value`: by equality,
    for small values that may come from elsewhere), while they are few; else the whole dict.
    An edit of a 10,000-page site saves a few entries of the objects' digests instead of
    5 MB."""
    if kept is not None:
        base = kept.base
        differs = operator.ne if by_value else operator.is_not
        changed = {key: value for key, value in new.items() if differs(base.get(key), value)}
        removed = [key for key in base if key not in new]
        return _saved_states(name, new, changed, removed, len(base))
    return _saved_states(name, new)


def added_states(name: str, kept_changes: object, added: dict[str, Any], new: dict[str, Any]
                 ) -> dict[str, Any]:
    """The states that save `new` under `name` when it differs from the dict last saved only
    in the entries `added`, without reading that dict's base back: the changes kept since the
    base (`kept_changes`, as saved), with these, while they are few; else the whole dict."""
    changed, removed = kept_changes if isinstance(kept_changes, tuple) \
        and len(kept_changes) == 2 else ({}, [])
    return _saved_states(name, new, {**changed, **added}, removed, len(new))


def _saved_states(name: str, new: dict[str, Any], changed: dict[str, Any] | None = None,
                  removed: list[str] | None = None, size: int = 0) -> dict[str, Any]:
    """The changes since the base (of `size` entries) while they are a small share of it,
    else the whole dict `new`."""
    if changed is not None and removed is not None \
            and len(changed) + len(removed) <= REWRITE_SHARE * size:
        return {_changes(name): (changed, removed)}
    return {name: new, _changes(name): None}


def _changes(name: str) -> str:
    return f"{name}:changes"


CACHE_DIR = ".blogengine"
FORMAT = 6   # bump when the tables change: an older cache is then simply started again
# An output's record: the pages' records, before the build confirms them, are "pending".
_RECORDS = "(rel TEXT PRIMARY KEY, key TEXT, objects TEXT, inputs BLOB)"
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS state (name TEXT PRIMARY KEY, value BLOB);
CREATE TABLE IF NOT EXISTS sources (rel TEXT PRIMARY KEY, mtime_ns INTEGER, size INTEGER,
                                    digest TEXT, doc BLOB, html TEXT);
CREATE TABLE IF NOT EXISTS outputs {_RECORDS};
CREATE TABLE IF NOT EXISTS pending {_RECORDS};
"""
# A file changed within this long of the scan that saw it may change again within the same
# timestamp tick; such "racy" stamps are checked by content next time (as git does).
RACY_NS = 2_000_000_000


class BuildCache:
    """One SQLite file per output folder; every read tolerates a missing or broken cache."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._connections: dict[tuple[int, int], sqlite3.Connection] = {}

    @classmethod
    def for_output(cls, site_root: Path, out_dir: Path) -> BuildCache:
        name = hashlib.sha256(str(out_dir.resolve()).encode()).hexdigest()[:16]
        return cls(site_root / CACHE_DIR / f"build-{name}.sqlite3")

    @property
    def db(self) -> sqlite3.Connection:
        # One connection per process and thread: a forked build worker must not share its
        # parent's, and SQLite connections stay in the thread that made them.
        key = (os.getpid(), threading.get_ident())
        connection = self._connections.get(key)
        if connection is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                                         check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            if connection.execute("PRAGMA user_version").fetchone()[0] != FORMAT:
                connection.executescript("DROP TABLE IF EXISTS state; DROP TABLE IF EXISTS sources;"
                                         " DROP TABLE IF EXISTS outputs;"
                                         " DROP TABLE IF EXISTS pending;")
                connection.execute(f"PRAGMA user_version = {FORMAT}")
            connection.executescript(SCHEMA)
            self._connections = {k: c for k, c in self._connections.items() if k[0] == key[0]}
            self._connections[key] = connection
        return connection

    def reset(self) -> None:
        """Forget everything (a broken cache is simply started again)."""
        self.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    def get_state(self, name: str) -> Any:
        row = self.db.execute("SELECT value FROM state WHERE name = ?", (name,)).fetchone()
        return pickle.loads(row[0]) if row else None

    def has_state(self, name: str) -> bool:
        """Whether the state `name` is saved, without reading it."""
        return self.db.execute("SELECT 1 FROM state WHERE name = ?", (name,)).fetchone() is not None

    def get_dict_changes(self, name: str) -> object:
        """What changed in a dict saved with dict_states since it was saved whole, as saved
        (added_states takes it), without the dict itself."""
        return self.get_state(_changes(name))

    def get_dict_state(self, name: str) -> KeptDict | None:
        """A dict saved with dict_states; None when there is none (or it is not a dict)."""
        base = self.get_state(name)
        if not isinstance(base, dict):
            return None
        changes = self.get_state(_changes(name))
        if not (isinstance(changes, tuple) and len(changes) == 2):
            return KeptDict(base, base)
        changed, removed = changes
        current = dict(base)
        current.update(changed)
        for key in removed:
            current.pop(key, None)
        return KeptDict(base, current)

    def sources(self, rels: list[str] | None = None) -> dict[str, tuple[FileStamp, str]]:
        """rel -> (stamp, digest) of every cached source (of `rels`, when given)."""
        query = "SELECT rel, mtime_ns, size, digest FROM sources"
        rows = self.db.execute(query) if rels is None else self._rows_of(query, rels)
        return {rel: (FileStamp(mtime_ns, size), digest) for rel, mtime_ns, size, digest in rows}

    def documents(self, rels: Iterable[str]) -> dict[str, Document]:
        """Cached documents, their HTML left in the cache until a page needs it."""
        wanted = set(rels)
        found = {}
        for rel, blob in self.db.execute("SELECT rel, doc FROM sources"):
            if rel in wanted:
                found[rel] = replace(pickle.loads(blob), loader=partial(self.html, rel))
        return found

    def html(self, rel: str) -> str:
        row = self.db.execute("SELECT html FROM sources WHERE rel = ?", (rel,)).fetchone()
        if row is None:
            raise LookupError(f"{rel} is missing from the build cache")
        return str(row[0])

    def outputs(self) -> dict[str, tuple[str, str | None]]:
        """rel -> (key, objects read) of every output of the last build (objects: pages only)."""
        return {rel: (key, objects) for rel, key, objects
                in self.db.execute("SELECT rel, key, objects FROM outputs")}

    def inputs(self, rels: Iterable[str]) -> dict[str, tuple[Dependency, ...]]:
        """What these pages read, attribute by attribute (loaded only for pages that may
        have changed)."""
        return {rel: pickle.loads(blob) for rel, blob
                in self._rows_of("SELECT rel, inputs FROM outputs", list(rels))
                if blob is not None}

    def _rows_of(self, query: str, rels: list[str]) -> Iterator[Any]:
        """The rows of `query` (a table's SELECT) for these paths, asked 500 at a time (SQLite
        caps the parameters of one statement)."""
        for start in range(0, len(rels), 500):
            chunk = rels[start:start + 500]
            marks = ",".join("?" * len(chunk))
            yield from self.db.execute(f"{query} WHERE rel IN ({marks})", chunk)

    def put_documents(self, documents: Sequence[tuple[Document, FileStamp]]) -> None:
        """Store freshly parsed documents with their bodies (build workers call this)."""
        if not documents:
            return
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany(
                "INSERT OR REPLACE INTO sources VALUES (?, ?, ?, ?, ?, ?)",
                ((doc.source.rel, stamp.mtime_ns, stamp.size, doc.source.digest,
                  pickle.dumps(replace(doc, body=None, loader=None), pickle.HIGHEST_PROTOCOL),
                  doc.html) for doc, stamp in documents))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def save(self, *, state: dict[str, Any], kept_sources: Iterable[str],
             changed: dict[str, OutputRecord], removed: Iterable[str], full: bool) -> None:
        """Record a finished build in one transaction: which sources remain, the outputs that
        changed (`full`: every output, replacing the old list), and the build's state."""
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            kept = set(kept_sources)
            for (rel,) in db.execute("SELECT rel FROM sources").fetchall():
                if rel not in kept:
                    db.execute("DELETE FROM sources WHERE rel = ?", (rel,))
            # The pages the workers rendered, written there by the workers themselves: with
            # every output, the table itself becomes the list (copying tens of MB of records
            # from one table to the other took a clean build at 10,000 posts 0.2 s).
            if full:
                db.execute("DROP TABLE outputs")
                db.execute("ALTER TABLE pending RENAME TO outputs")
                db.execute(f"CREATE TABLE pending {_RECORDS}")
            else:
                db.executemany("DELETE FROM outputs WHERE rel = ?", ((rel,) for rel in removed))
                db.execute("INSERT OR REPLACE INTO outputs SELECT * FROM pending")
                db.execute("DELETE FROM pending")
            db.executemany("INSERT OR REPLACE INTO outputs VALUES (?, ?, ?, ?)",
                           _rows(changed))
            db.executemany("INSERT OR REPLACE INTO state VALUES (?, ?)",
                           ((name, pickle.dumps(value)) for name, value in state.items()))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def clear_pending(self) -> None:
        """Forget records a failed or killed build left unconfirmed."""
        try:
            self.db.execute("DELETE FROM pending")
        except sqlite3.Error:
            pass    # an unusable cache only costs time; `save` will start it again

    def put_pending(self, records: dict[str, OutputRecord]) -> None:
        """Store rendered pages' records; the build confirms them in `save` once it is whole."""
        if not records:
            return
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany("INSERT OR REPLACE INTO pending VALUES (?, ?, ?, ?)", _rows(records))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def files(self) -> list[str]:
        """This cache's files on disk: the database, its log, the kept model beside it."""
        try:
            return [entry.path for entry in os.scandir(self.path.parent)
                    if entry.name.startswith(self.path.stem) and entry.is_file()]
        except OSError:
            return []

    def close(self) -> None:
        for (pid, _thread), connection in self._connections.items():
            if pid == os.getpid():
                connection.close()
        self._connections = {}


def _rows(records: dict[str, OutputRecord]) -> Iterable[tuple[str, str, str, bytes | None]]:
    for rel, record in records.items():
        inputs = None if record.inputs is None else pickle.dumps(record.inputs, pickle.HIGHEST_PROTOCOL)
        yield rel, record.key, record.objects, inputs
