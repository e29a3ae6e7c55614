"""The build cache's records of outputs: the pages' records the workers store as pending, which
the build confirms with the others when it saves (cache.BuildCache.save)."""

from __future__ import annotations

from blogengine.cache import BuildCache, OutputRecord


def page(key: str) -> OutputRecord:
    return OutputRecord(key, (("entry", "/a/", "title"),), "entry /a/")


def save(cache: BuildCache, changed: dict[str, OutputRecord], *, full: bool,
         removed: tuple[str, ...] = ()) -> None:
    cache.save(state={}, kept_sources=[], changed=changed, removed=removed, full=full)


def test_a_whole_build_replaces_every_record_with_its_own(tmp_path):
    cache = BuildCache(tmp_path / "cache.sqlite3")
    cache.put_pending({"a/index.html": page("a1"), "b/index.html": page("b1")})
    save(cache, {"feed.xml": OutputRecord("f1")}, full=True)
    assert cache.outputs() == {"a/index.html": ("a1", "entry /a/"),
                               "b/index.html": ("b1", "entry /a/"), "feed.xml": ("f1", "")}
    assert cache.inputs(["a/index.html"]) == {"a/index.html": (("entry", "/a/", "title"),)}
    # The next whole build: b's page and the feed are gone, c's is new.
    cache.put_pending({"a/index.html": page("a2"), "c/index.html": page("c2")})
    save(cache, {"sitemap.xml": OutputRecord("s2")}, full=True)
    assert cache.outputs() == {"a/index.html": ("a2", "entry /a/"),
                               "c/index.html": ("c2", "entry /a/"), "sitemap.xml": ("s2", "")}


def test_an_incremental_build_adds_its_records_to_the_others(tmp_path):
    cache = BuildCache(tmp_path / "cache.sqlite3")
    cache.put_pending({"a/index.html": page("a1"), "b/index.html": page("b1")})
    save(cache, {"feed.xml": OutputRecord("f1")}, full=True)
    cache.put_pending({"a/index.html": page("a2")})
    save(cache, {"feed.xml": OutputRecord("f2")}, full=False, removed=("b/index.html",))
    assert cache.outputs() == {"a/index.html": ("a2", "entry /a/"), "feed.xml": ("f2", "")}
    cache.put_pending({"c/index.html": page("c3")})   # pending again, after both kinds of save
    save(cache, {}, full=False)
    assert set(cache.outputs()) == {"a/index.html", "c/index.html", "feed.xml"}


def test_records_left_pending_by_a_failed_build_are_not_confirmed(tmp_path):
    cache = BuildCache(tmp_path / "cache.sqlite3")
    cache.put_pending({"a/index.html": page("a1")})
    save(cache, {}, full=True)
    cache.put_pending({"a/index.html": page("killed")})   # a build killed before saving
    cache.clear_pending()                                  # the next build starts
    cache.put_pending({"b/index.html": page("b2")})
    save(cache, {}, full=False)
    assert cache.outputs() == {"a/index.html": ("a1", "entry /a/"),
                               "b/index.html": ("b2", "entry /a/")}
