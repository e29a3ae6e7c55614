"""The site model kept between builds. A build pickles its model beside the build cache (every
document, the model placed from them, each object's digest and the social cards); the next one,
when only posts' bodies changed, takes it back instead of reading 10,000 documents out of the
cache, placing them and digesting every object again (about 0.7 s of an edit at 10,000 posts,
for 0.1 s of unpickling). Such a build keeps only what it changed (Changes, in the build
cache's state) while that stays small, not the whole model again (0.3 s to pickle). `serve`
keeps the same in memory between its builds (livebuild.py); the conditions are the same: see
BuildRun.warm_model and BuildRun.warm_site."""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

from blogengine.model import Entry, Site
from blogengine.parse import Document
from blogengine.render import Output


# Bump when KeptModel or the model's classes change: a model pickled otherwise is not used.
FORMAT = 2


class KeptCards:
    """The social cards' outputs of a kept model, unpickled only when asked for. A build from
    the kept model changes no card (a card shows front matter, and only bodies changed), so
    it needs only their paths and the keys of their output records: at 10,000 posts the
    outputs took 0.056 s of the model's 0.18 s to unpickle."""

    def __init__(self, outputs: list[Output], records: dict[str, str], fingerprint: str) -> None:
        self._outputs: list[Output] | None = outputs
        self._pickled: bytes | None = None
        self.records = records          # path -> the key its output record holds
        self.fingerprint = fingerprint  # of the build that keyed them

    def outputs(self) -> list[Output]:
        if self._outputs is None:
            assert self._pickled is not None
            self._outputs = pickle.loads(self._pickled)
        return self._outputs

    def __getstate__(self) -> dict[str, object]:
        if self._pickled is None:   # (a model saved whole again keeps its cards' bytes)
            self._pickled = pickle.dumps(self._outputs, protocol=pickle.HIGHEST_PROTOCOL)
        return {"records": self.records, "fingerprint": self.fingerprint,
                "pickled": self._pickled}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._outputs = None
        self._pickled = state["pickled"]
        self.records = state["records"]
        self.fingerprint = state["fingerprint"]


@dataclass
class KeptModel:
    token: str                  # the build state's "model": a model of another build is not used
    site: Site
    documents: list[Document]   # every document, those the site leaves out (drafts) too
    objects: dict[str, str]     # a digest per model object (deps.object_digests)
    cards: KeptCards            # the social cards' outputs (they show front matter only)
    format: int = FORMAT
    # Since it was saved whole (set by load_model, not pickled with it): see Changes.
    changes: Changes = field(default_factory=lambda: Changes({}, {}))

    def __getstate__(self) -> dict[str, object]:
        return {**self.__dict__, "changes": Changes({}, {})}


@dataclass(frozen=True)
class Changes:
    """What builds from a kept model changed in it: the documents given a new body (by path
    under content/, without the body, which the build cache holds) and the digests of the
    objects that changed with them."""

    documents: dict[str, Document]
    objects: dict[str, str]

    def adding(self, documents: list[Document], objects: dict[str, str]) -> Changes:
        return Changes({**self.documents, **{doc.source.rel: replace(doc, body=None)
                                             for doc in documents}},
                       {**self.objects, **objects})


def model_path(cache_path: Path) -> Path:
    """Where the model of the build cache at `cache_path` is kept."""
    return cache_path.with_name(cache_path.stem + ".model.pickle")


def save_model(path: Path, model: KeptModel) -> None:
    """Write the model (a new file swapped in); a model that cannot be written only costs the
    next build the placing."""
    partial_path = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        with open(partial_path, "wb") as handle:
            pickle.dump(model, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(partial_path, path)
    except (OSError, pickle.PicklingError, RecursionError):
        partial_path.unlink(missing_ok=True)


def load_model(path: Path, token: str, changes: object,
               html: Callable[[str], str]) -> KeptModel | None:
    """The model kept under `token` with the `changes` builds made since (a Changes), its
    documents' bodies read by `html(rel)` when a page needs them; None when there is none, or
    another."""
    try:
        with open(path, "rb") as handle:
            model = pickle.load(handle)
    except Exception:   # none, or unreadable: the build places the documents itself
        return None
    if not isinstance(model, KeptModel) or vars(model).get("format") != FORMAT \
            or model.token != token:
        return None
    if isinstance(changes, Changes) and changes.documents:
        at = {doc.source.rel: n for n, doc in enumerate(model.documents)}
        if not changes.documents.keys() <= at.keys():
            return None
        entries = {entry.doc.source.rel: entry for entry in model.site.entries}
        for rel, doc in changes.documents.items():
            model.documents[at[rel]] = doc
            if rel in entries:
                entries[rel].doc = doc
        model.objects.update(changes.objects)
        model.changes = changes
    for doc in model.documents:
        if doc.body is None:   # (a frozen dataclass: the loader is the only field set here)
            object.__setattr__(doc, "loader", partial(html, doc.source.rel))
    return model


def swap_bodies(site: Site, kept: dict[str, Document], fresh: Iterable[Document]
                ) -> list[Entry] | None:
    """Put each fresh document into the entry that shows the kept one at its path, when they
    differ in their bodies alone (the same front matter, kind and images: the model placed from
    the fresh ones would be the same); the entries given one, or None, with nothing swapped,
    when a document differs otherwise or is new."""
    fresh = list(fresh)
    for doc in fresh:
        old = kept.get(doc.source.rel)
        if old is None or (old.meta, old.kind, old.images) != (doc.meta, doc.kind, doc.images):
            return None
    entries = {entry.doc.source.rel: entry for entry in site.entries}
    swapped = []
    for doc in fresh:
        entry = entries.get(doc.source.rel)
        if entry is not None:   # drafts and future posts are not on the site
            entry.doc = doc
            swapped.append(entry)
    return swapped
