"""Garbage collection paused while a build piles up objects that live until it ends.

A build holds every document, the site model and the plan's digests to its end. While they
pile up, each full collection reads them all again, for nothing: at 10,000 posts that was
about a fifth of an edited post's build. The work handed to `parallel.run_chunks` (rendering and
parsing, in workers or not) makes garbage, and collects as usual meanwhile, over what it
makes alone."""

from __future__ import annotations

import atexit
import gc
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

_paused = False   # by collections_paused (not by whoever else turned collection off)
_own_process = False   # the `blogengine` command runs in a process of its own (cli.run)
_ending = False        # and the command running now ends it (command_ends_process)
_left_to_the_end: list[object] = []


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


def own_process() -> None:
    """Called by the `blogengine` command's entry point: the command has the process to itself
    (a test calling the command shares the test's)."""
    global _own_process
    _own_process = True


def command_ends_process() -> None:
    """Called by a command that ends once its build is done (`build`, not `serve`): in its own
    process, what the build leaves may stay in memory to the end (leave_to_the_end,
    end_process)."""
    global _ending
    _ending = _own_process


def leave_to_the_end(held: object) -> None:
    """Hold `held` to the end of the process, when the command ends it: taking a big build's
    objects apart one by one costs it about 0.05 s at 10,000 posts, for nothing."""
    if _ending:
        _left_to_the_end.append(held)


def end_process(code: int = 0) -> None:
    """When the command ends the process: end it now, as Python would (the exit handlers run,
    the output is flushed) but without taking every object apart first (about 0.1 s after a
    build at 10,000 posts). Otherwise (a test calling the command) return."""
    if _ending:
        _exit(code)


def _exit(code: int) -> NoReturn:
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):   # a closed pipe, a closed stream: nothing to flush to
            pass
    os._exit(code)


def _age() -> None:
    # Into the oldest generation without a collection reading them (freeze, then unfreeze,
    # moves whole lists).
    gc.freeze()
    gc.unfreeze()
