"""A build pauses garbage collection while it piles up objects that live to its end; the work
it hands to workers (run_chunks) collects as usual."""

from __future__ import annotations

import gc
import os
import weakref
from collections.abc import Iterator

import pytest

from blogengine import parallel
from blogengine.heap import collections_paused, collections_resumed


@pytest.fixture(autouse=True)
def collection_left_as_found() -> Iterator[None]:
    was = gc.isenabled()
    yield
    gc.unfreeze()
    (gc.enable if was else gc.disable)()


class Node:
    def __init__(self) -> None:
        self.me = self   # a cycle: only a collection frees it


def collecting(_context: None, piece: list[int]) -> list[tuple[int, bool]]:
    return [(os.getpid(), gc.isenabled()) for _item in piece]


def test_a_pause_turns_collection_off_and_back_on():
    gc.enable()
    with collections_paused():
        assert not gc.isenabled()
        node = Node()
        gone = weakref.ref(node)
        del node
        for _ in range(20_000):   # allocations that would trigger collections
            Node.__new__(Node)
        assert gone() is not None
    assert gc.isenabled()
    gc.collect()
    assert gone() is None


@pytest.mark.parametrize("jobs", [1, 2])
def test_work_handed_to_run_chunks_collects_in_a_pause_and_in_its_workers(jobs):
    gc.enable()
    with collections_paused():
        rows = [row for _count, part in parallel.run_chunks(collecting, list(range(40)),
                                                            jobs=jobs, minimum=1, context=None)
                for row in part]
        assert not gc.isenabled()
    assert len(rows) == 40 and all(enabled for _pid, enabled in rows)
    if jobs == 2:
        assert os.getpid() not in {pid for pid, _enabled in rows}


def test_the_objects_a_pause_leaves_alive_are_old_without_a_collection():
    gc.enable()
    before = gc.get_stats()
    with collections_paused():
        node = Node()
    assert not any(item is node for item in gc.get_objects(generation=0))
    assert any(item is node for item in gc.get_objects(generation=2))
    assert [stats["collections"] for stats in gc.get_stats()] \
        == [stats["collections"] for stats in before]


def test_collection_turned_off_by_someone_else_stays_off():
    gc.disable()
    with collections_paused():
        assert not gc.isenabled()
        with collections_resumed():
            assert not gc.isenabled()
        rows = [row for _count, part in parallel.run_chunks(collecting, [1, 2], jobs=1,
                                                            minimum=1, context=None)
                for row in part]
    assert not gc.isenabled() and not any(enabled for _pid, enabled in rows)


def test_objects_frozen_for_the_work_are_unfrozen_after_it():
    with collections_paused():
        with collections_resumed():
            assert gc.get_freeze_count() > 0
        assert gc.get_freeze_count() == 0


def test_only_a_command_ending_its_own_process_holds_the_build_to_the_end(monkeypatch):
    from blogengine import heap
    monkeypatch.setattr(heap, "_own_process", False)
    monkeypatch.setattr(heap, "_ending", False)
    monkeypatch.setattr(heap, "_left_to_the_end", [])

    def left() -> weakref.ref[Node]:
        node = Node.__new__(Node)   # (no cycle: freed as soon as nothing holds it)
        gone = weakref.ref(node)
        heap.leave_to_the_end(node)
        del node
        return gone

    heap.command_ends_process()   # `build` called in a test's process: not its own
    assert left()() is None
    heap.end_process(0)           # returns: the test goes on
    heap.own_process()            # `serve`, in its own process, but its builds go on and on
    assert left()() is None
    heap.command_ends_process()   # `build`, in its own process
    assert left()() is not None
