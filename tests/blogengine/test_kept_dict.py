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


def test_values_made_afresh_are_told_apart_by_value_when_asked(tmp_path):
    """The objects' digests: a build from the kept model has them from the model, as strings
    equal to the cache's but not the same objects."""
    cache = BuildCache(tmp_path / "cache.sqlite3")
    first = {f"entry\t/p{n}/": f"digest {n}" for n in range(100)}
    save(cache, dict_states("objects", first, None))
    kept = cache.get_dict_state("objects")
    fresh = {key: "".join(["digest ", value.split()[1]]) for key, value in first.items()}
    fresh["entry\t/p5/"] = "digest five"
    assert all(fresh[key] is not kept.base[key] for key in first)   # (equal, not the same)
    assert "objects" in dict_states("objects", fresh, kept)         # by identity: all changed
    changed, removed = dict_states("objects", fresh, kept, by_value=True)["objects:changes"]
    assert changed == {"entry\t/p5/": "digest five"} and removed == []


def test_an_edit_saves_the_objects_changed_not_all_of_them(make_site, build_at):
    from tests.support.site import post
    root = make_site({f"content/posts/p{n}.md": post(f"Post {n}", f"2024-01-{n + 1:02d}")
                      for n in range(12)})
    build_at(root)
    cache = BuildCache(next((root / ".blogengine").glob("build-*.sqlite3")))
    whole = stored_row(cache, "objects")
    (root / "content/posts/p3.md").write_text(post("Post 3", "2024-01-04", body="Wombats now."))
    build_at(root)
    assert stored_row(cache, "objects") == whole
    changed, _removed = cache.get_state("objects:changes")
    assert changed and all("/post-3/" in oid for oid in changed)
