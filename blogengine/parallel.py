"""Spread a build stage over worker processes (fork: workers inherit the site model as it is)."""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from blogengine.heap import collections_resumed

T = TypeVar("T")
C = TypeVar("C")
R = TypeVar("R")

# The context of the pool being started: forked workers inherit it as it is, where pickling it
# with every slice would copy the whole site model over and over. Only run_chunks sets it.
_context: Any = None


def worker_count(requested: int | None) -> int:
    """The workers to use: as asked, else one per CPU this process may run on."""
    if requested is not None and requested > 0:
        return requested
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def chunks(items: Sequence[T], count: int) -> list[Sequence[T]]:
    """About `count` slices of items, in order, none empty."""
    size = max(1, -(-len(items) // max(1, count)))
    return [items[i:i + size] for i in range(0, len(items), size)]


def run_chunks(work: Callable[[C, Sequence[T]], R], items: Sequence[T], *, jobs: int,
               minimum: int, context: C, meanwhile: Callable[[], None] | None = None
               ) -> Iterator[tuple[int, R]]:
    """Apply `work(context, slice)` to slices of items, in this process when there is little to
    do or one job, else in `jobs` forked workers; yields (items done in that slice, result) as
    slices finish.

    `context` reaches the workers by fork, never pickled: keep it immutable (a frozen dataclass).
    `meanwhile` runs in this process while the workers work (in a thread started only after
    they are forked: forking a process with a busy thread is unsafe), or after, without them."""
    with collections_resumed():   # the work makes garbage: workers and all
        yield from _run_chunks(work, items, jobs=jobs, minimum=minimum, context=context,
                               meanwhile=meanwhile)


def _run_chunks(work: Callable[[C, Sequence[T]], R], items: Sequence[T], *, jobs: int,
                minimum: int, context: C, meanwhile: Callable[[], None] | None
                ) -> Iterator[tuple[int, R]]:
    if jobs <= 1 or len(items) < minimum:
        for piece in chunks(items, 20):  # slices only so that progress can be shown
            yield len(piece), work(context, piece)
        if meanwhile is not None:
            meanwhile()
        return
    # Several slices per worker, so one slow slice does not leave the other workers idle.
    pieces = chunks(items, jobs * 4)
    global _context
    _context = context   # before the pool forks its workers: they see it from the start
    try:   # (the objects made so far are frozen: collections_resumed)
        with multiprocessing.get_context("fork").Pool(processes=jobs) as pool:
            side = _Side(meanwhile) if meanwhile is not None else None
            try:
                for size, result in pool.imap_unordered(_call, [(work, piece) for piece in pieces]):
                    yield size, result
            finally:
                if side is not None:
                    side.join()
    finally:
        _context = None


class _Side:
    """A function run in a thread; its exception is raised again on join."""

    def __init__(self, function: Callable[[], None]) -> None:
        self.error: BaseException | None = None

        def run() -> None:
            try:
                function()
            except BaseException as exc:  # handed to the caller by join()
                self.error = exc

        self.thread = threading.Thread(target=run, name="blogengine-meanwhile", daemon=True)
        self.thread.start()

    def join(self) -> None:
        self.thread.join()
        if self.error is not None:
            raise self.error


def _call(task: tuple[Callable[[Any, Sequence[Any]], Any], Sequence[Any]]) -> tuple[int, Any]:
    """One slice, in a worker: the context is the one inherited from the parent at fork."""
    work, piece = task
    return len(piece), work(_context, piece)
