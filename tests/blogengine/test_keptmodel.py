"""The site model kept between builds (keptmodel.py): pickled whole however long the chain of
posts, taken back by a build whose sources changed only in their bodies, and never where it could
differ from the model the documents would make (front matter changed, a template changed, a
model of another build); the pages always come out as from scratch."""

from __future__ import annotations

import os
import pickle
import sqlite3
import shutil
from pathlib import Path

import pytest

import blogengine.build
from blogengine.cache import BuildCache
from blogengine.config import load_config
from blogengine.keptmodel import KeptCards, model_path
from tests.blogengine.test_cache import age, plugin_site, tree  # noqa: F401 (a fixture)
from tests.blogengine.test_model import make_model
from tests.support.site import post


def posts(count: int) -> dict[str, str]:
    return {f"content/posts/p{n:04d}.md": post(f"Post {n}", f"20{10 + n % 15:02d}-0{n % 9 + 1}-1{n % 9}",
                                               tags=f"[t{n % 7}, u{n % 5}]", body=f"Body *{n}*.")
            for n in range(count)}


def edit_seven(root: Path, body: str) -> Path:
    """Give post 7 a new body, its stamp old enough to be trusted; its path."""
    edited = root / "content/posts/p0007.md"
    edited.write_text(edited.read_text().replace("Body *7*.", body))
    age(root / "content")
    return edited


def test_a_long_chain_of_posts_pickles_and_comes_back_linked(make_site):
    site = make_model(make_site(posts(3000)))   # far deeper than the default recursion limit
    back = pickle.loads(pickle.dumps(site, pickle.HIGHEST_PROTOCOL))
    assert [p.url for p in back.posts] == [p.url for p in site.posts]
    for old, new in zip(site.posts, back.posts):
        assert (new.previous.url if new.previous else None) == \
            (old.previous.url if old.previous else None)
        assert (new.next.url if new.next else None) == (old.next.url if old.next else None)
        assert [r.url for r in new.related] == [r.url for r in old.related]
    # Neighbours are the very entries of the site, not copies.
    at = {id(entry) for entry in back.entries}
    assert all(id(p.previous) in at for p in back.posts if p.previous is not None)
    assert all(id(p) in at for tag in back.tags for p in tag.posts)


@pytest.fixture
def placed(monkeypatch):
    """How many times the builds in a test placed their documents into a model."""
    calls = []
    real = blogengine.build.build_site
    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)
    monkeypatch.setattr(blogengine.build, "build_site", counting)
    return calls


def fresh(root: Path, build_at, tmp_path: Path) -> dict[str, bytes]:
    clean = tmp_path / f"clean-{len(list(tmp_path.glob('clean-*')))}"
    build_at(root, output_dir=clean, incremental=False, content_cache=False)
    return tree(clean)


def test_a_body_edit_builds_from_the_kept_model_as_from_scratch(make_site, build_at, tmp_path,
                                                                placed):
    root = make_site(posts(40))
    build_at(root)
    assert len(placed) == 1 and model_path(BuildCache.for_output(root, root / "public").path).is_file()
    edited = edit_seven(root, "A new body for *seven*.")
    report = build_at(root)
    assert report.parsed == 1 and len(placed) == 1            # not placed again
    assert "A new body for <em>seven</em>" in \
        (root / "public" / next(p for p in tree(root / "public")
                                if p.endswith("post-7/index.html"))).read_text()
    placed.clear()
    assert tree(root / "public") == fresh(root, build_at, tmp_path)
    # And again from the model as that build left it.
    edited.write_text(edited.read_text().replace("seven", "seventh"))
    age(root / "content")
    build_at(root)
    placed.clear()
    assert tree(root / "public") == fresh(root, build_at, tmp_path)


@pytest.mark.parametrize("change", ["title", "template", "new post", "other model"])
def test_a_build_places_the_documents_again_when_the_model_may_differ(make_site, build_at,
                                                                      tmp_path, placed, change):
    root = make_site(posts(40))
    build_at(root)
    edited = root / "content/posts/p0007.md"
    if change == "title":
        edited.write_text(edited.read_text().replace("Post 7", "Post seven"))
    elif change == "template":
        (root / "templates").mkdir()
        (root / "templates/base.html").write_text(
            (Path(blogengine.build.__file__).parents[1] / "themes/default/templates/base.html")
            .read_text().replace("<body", "<body data-changed"))
    elif change == "new post":
        (root / "content/posts/new.md").write_text(post("New", "2024-01-01", body="New."))
    else:   # the kept model of another site's build (its token does not match)
        other = make_site(posts(3), name="other")
        build_at(other)
        source = model_path(BuildCache.for_output(other, other / "public").path)
        shutil.copy(source, model_path(BuildCache.for_output(root, root / "public").path))
        edited.write_text(edited.read_text().replace("Body *7*.", "Another body."))
    age(root / "content")
    before = len(placed)
    build_at(root)
    assert len(placed) == before + 1
    placed.clear()
    assert tree(root / "public") == fresh(root, build_at, tmp_path)


def test_a_site_with_plugins_keeps_no_model(plugin_site, placed):
    # A plugin may change the model once it is placed (site_built): it is placed every time.
    assert not model_path(BuildCache.for_output(plugin_site.root,
                                                plugin_site.root / "public").path).exists()
    path = plugin_site.root / "content/posts/p2.md"
    path.write_text(path.read_text().replace("==Post 2==", "==Post two=="))
    plugin_site.check()   # (the incremental build and one from scratch, the same pages)
    assert len(placed) == 2


def test_builds_from_the_kept_model_keep_their_changes_not_the_whole_model(make_site, build_at,
                                                                           tmp_path, placed):
    root = make_site(posts(40))
    build_at(root)
    kept = model_path(BuildCache.for_output(root, root / "public").path)
    written = kept.stat().st_mtime_ns
    for n in (3, 5, 3):   # the third edit changes a document already changed once
        edited = root / f"content/posts/p{n:04d}.md"
        edited.write_text(edited.read_text() + f"\nMore about {n}.\n")
        age(root / "content")
        build_at(root)
        assert kept.stat().st_mtime_ns == written and len(placed) == 1
    changes = BuildCache.for_output(root, root / "public").get_state("model:changes")
    assert sorted(changes.documents) == ["posts/p0003.md", "posts/p0005.md"]
    placed.clear()
    assert tree(root / "public") == fresh(root, build_at, tmp_path)


def test_once_a_tenth_of_the_documents_changed_the_model_is_kept_whole_again(make_site, build_at,
                                                                             tmp_path, placed):
    root = make_site(posts(40))
    build_at(root)
    kept = model_path(BuildCache.for_output(root, root / "public").path)
    written = kept.stat().st_mtime_ns
    for n in range(5):   # 5 of 40: past a tenth
        edited = root / f"content/posts/p{n:04d}.md"
        edited.write_text(edited.read_text() + "\nMore.\n")
    age(root / "content")
    build_at(root)
    assert len(placed) == 1 and kept.stat().st_mtime_ns != written
    assert BuildCache.for_output(root, root / "public").get_state("model:changes") is None
    placed.clear()
    assert tree(root / "public") == fresh(root, build_at, tmp_path)


def test_a_model_pickled_in_another_format_is_not_used(make_site, build_at, tmp_path, placed):
    root = make_site(posts(40))
    build_at(root)
    kept = model_path(BuildCache.for_output(root, root / "public").path)
    model = pickle.loads(kept.read_bytes())
    model.format -= 1                      # as an older blogengine kept it
    kept.write_bytes(pickle.dumps(model))
    edit_seven(root, "Another body.")
    build_at(root)
    assert len(placed) == 2
    placed.clear()
    assert tree(root / "public") == fresh(root, build_at, tmp_path)


def test_a_body_edit_without_the_objects_digests_makes_every_page_as_from_scratch(
        make_site, build_at, tmp_path, placed):
    # The objects' digests are read only after the kept model is taken (and the edit's
    # index started): lost, the plan has nothing to compare with and makes every file again.
    root = make_site(posts(40))
    build_at(root)
    cache = BuildCache.for_output(root, root / "public").path
    with sqlite3.connect(cache) as db:
        db.execute("DELETE FROM state WHERE name LIKE 'objects%'")
    edit_seven(root, "A body the plan cannot compare.")
    report = build_at(root)
    assert len(placed) == 1 and report.parsed == 1            # from the kept model
    assert report.pages_rendered == len([p for p in tree(root / "public") if p.endswith(".html")])
    placed.clear()
    assert tree(root / "public") == fresh(root, build_at, tmp_path)


def test_an_edit_that_keeps_a_racy_stamp_is_parsed_though_the_model_holds_the_source(
        make_site, build_at, tmp_path, placed):
    # The sources were written just before the first build: their stamps were racy (an edit
    # in the same tick keeps them), so the kept model's documents are not taken on trust.
    root = make_site(posts(40))
    build_at(root)
    edited = root / "content/posts/p0007.md"
    stamp = edited.stat()
    edited.write_text(edited.read_text().replace("Body *7*.", "Body *8*."))   # the same size
    os.utime(edited, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    report = build_at(root)
    assert report.parsed == 1 and len(placed) == 1             # from the kept model
    page = next(p for p in tree(root / "public") if p.endswith("post-7/index.html"))
    assert "Body <em>8</em>." in (root / "public" / page).read_text()
    placed.clear()
    assert tree(root / "public") == fresh(root, build_at, tmp_path)


@pytest.fixture
def cards_unpickled(monkeypatch):
    """How many times a build asked a kept model for its cards' outputs."""
    calls = []
    real = KeptCards.outputs
    def counting(self):
        calls.append(1)
        return real(self)
    monkeypatch.setattr(KeptCards, "outputs", counting)
    return calls


def card_paths(root: Path) -> list[str]:
    return [p for p in tree(root / "public") if p.endswith(".png") and "/cards/" in f"/{p}"]


def test_a_body_edit_keeps_the_cards_without_unpickling_their_outputs(
        make_site, build_at, tmp_path, placed, cards_unpickled):
    root = make_site(posts(40))
    build_at(root)
    cards = card_paths(root)
    assert len(cards) >= 40
    edit_seven(root, "A body no card shows.")
    report = build_at(root)
    assert report.parsed == 1 and len(placed) == 1 and cards_unpickled == []
    assert card_paths(root) == cards
    placed.clear()
    assert tree(root / "public") == fresh(root, build_at, tmp_path)


def test_a_card_whose_record_the_cache_lost_is_planned_as_ever(
        make_site, build_at, tmp_path, placed, cards_unpickled):
    root = make_site(posts(40))
    build_at(root)
    lost = card_paths(root)[3]
    (root / "public" / lost).unlink()
    cache = BuildCache.for_output(root, root / "public")
    with sqlite3.connect(cache.path) as db:
        db.execute("DELETE FROM outputs WHERE rel = ?", (lost,))
    edit_seven(root, "Another body.")
    report = build_at(root)
    assert len(placed) == 1 and cards_unpickled == [1]        # from the kept model still
    assert (root / "public" / lost).is_file() and report.files_written >= 2
    assert lost in cache.outputs()
    placed.clear()
    assert tree(root / "public") == fresh(root, build_at, tmp_path)


def test_a_build_that_cannot_start_from_the_model_compares_with_the_edits_digests(
        make_site, build_at, tmp_path, placed):
    # Builds from the kept model take the last digests from it and save only what they
    # changed: a build placing the documents again (a new post) must find the edits' digests,
    # or a body edited back to its first text would look unchanged and keep the edited page.
    root = make_site(posts(40))
    build_at(root)
    cache = BuildCache.for_output(root, root / "public")
    first = cache.get_dict_state("objects").current
    edited = edit_seven(root, "An edited body.")
    build_at(root)
    other = root / "content/posts/p0008.md"
    other.write_text(other.read_text().replace("Body *8*.", "Body *eight*."))
    age(root / "content")
    build_at(root)
    assert len(placed) == 1                                   # both from the kept model
    saved = cache.get_dict_state("objects").current
    assert saved.keys() == first.keys() and saved != first
    edited.write_text(edited.read_text().replace("An edited body.", "Body *7*."))  # as first
    (root / "content/posts/new.md").write_text(post("New", "2009-01-01", body="New."))
    age(root / "content")
    build_at(root)
    assert len(placed) == 2
    page = next(p for p in tree(root / "public") if p.endswith("post-7/index.html"))
    assert "Body <em>7</em>." in (root / "public" / page).read_text()
    placed.clear()
    assert tree(root / "public") == fresh(root, build_at, tmp_path)
