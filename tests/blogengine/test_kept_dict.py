"""Big dicts in the build cache (the link check's index of every page): saved whole, then as the
entries changed since, until enough changed to save them whole again; read back the same."""

from __future__ import annotations

import sqlite3

from blogengine.cache import REWRITE_SHARE, BuildCache, dict_states


def save(cache: BuildCache, states: dict[str, object]) -> None:
    cache.save(state=states, kept_sources=[], changed={}, removed=[], full=False)


def stored_row(cache: BuildCache, name: str) -> bytes:
    with sqlite3.connect(cache.path) as db:
        return db.execute("SELECT value FROM state WHERE name = ?", (name,)).fetchone()[0]


def test_a_few_changes_are_saved_without_the_whole_dict(tmp_path):
    cache = BuildCache(tmp_path / "cache.sqlite3")
    first = {f"page-{n}": (n, f"links of {n}") for n in range(100)}
    save(cache, dict_states("links", first, None))
    whole = stored_row(cache, "links")
    kept = cache.get_dict_state("links")
    assert kept is not None and kept.current == first
    edited = dict(kept.current)
    edited["page-3"] = (3, "new links")
    edited["page-100"] = (100, "a new page")
    del edited["page-7"]
    states = dict_states("links", edited, kept)
    assert set(states) == {"links:changes"}
    save(cache, states)
    assert stored_row(cache, "links") == whole          # the big row is not written again
    again = cache.get_dict_state("links")
    assert again is not None and again.current == edited
    # Changes add up against the same base: an unchanged entry read back is not saved again.
    edited_again = dict(again.current)
    edited_again["page-4"] = (4, "newer")
    changed, removed = dict_states("links", edited_again, again)["links:changes"]
    assert set(changed) == {"page-3", "page-4", "page-100"} and removed == ["page-7"]


def test_past_the_share_the_whole_dict_is_saved_again(tmp_path):
    cache = BuildCache(tmp_path / "cache.sqlite3")
    first = {f"page-{n}": (n, "old") for n in range(100)}
    save(cache, dict_states("links", first, None))
    kept = cache.get_dict_state("links")
    many = {key: (n, "new") for n, key in enumerate(first) if n <= 100 * REWRITE_SHARE}
    edited = {**kept.current, **many}
    states = dict_states("links", edited, kept)
    assert states == {"links": edited, "links:changes": None}
    save(cache, states)
    again = cache.get_dict_state("links")
    assert again is not None and again.base == edited and again.current == edited


def test_no_dict_saved_reads_as_none(tmp_path):
    cache = BuildCache(tmp_path / "cache.sqlite3")
    assert cache.get_dict_state("links") is None
    save(cache, {"links": ["not", "a", "dict"]})
    assert cache.get_dict_state("links") is None
