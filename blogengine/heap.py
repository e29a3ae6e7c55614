"""Garbage collection paused while a build piles up objects that live until it ends.

A build holds every document, the site model and the plan's digests to its end. While they
pile up, each full collection reads them all again, for nothing: at 10,000 posts that was
about a fifth of an edited post's build. The work handed to `parallel.run_chunks` (rendering and
parsing, in workers or not) makes garbage, and collects as usual meanwhile, over what it
makes alone."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

_paused = False   # by collections_paused (not by whoever else turned collection off)


@contextmanager
def collections_paused() -> Iterator[None]:
    """No garbage collection inside the block (objects without cycles are freed as ever).
    What the block leaves alive is then counted as old, not read by the next collection."""
    global _paused
    if _paused or not gc.isenabled():
        yield
        return
    gc.disable()
    _paused = True
    try:
        yield
    finally:
        _paused = False
        _age()
        gc.enable()


@contextmanager
def collections_resumed() -> Iterator[None]:
    """Collect as usual inside the block, over the objects made in it alone (the others are
    frozen: also the way to fork workers, whose collections would otherwise read, and so
    copy, every page of memory they share with this process)."""
    global _paused
    paused = _paused
    gc.freeze()
    if paused:
        _paused = False
        gc.enable()
    try:
        yield
    finally:
        if paused:
            gc.disable()
            _paused = True
        gc.unfreeze()


def keep_to_the_end() -> None:
    """The process is about to end: leave what it holds out of the collections left (the one
    at exit would read every object of a big build, about 0.3 s at 10,000 posts)."""
    gc.freeze()


def _age() -> None:
    # Into the oldest generation without a collection reading them (freeze, then unfreeze,
    # moves whole lists).
    gc.freeze()
    gc.unfreeze()
