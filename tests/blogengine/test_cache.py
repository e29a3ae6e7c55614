"""Incremental builds: after every kind of change, the output equals a clean build byte for byte,
and only what changed is rendered again."""

from __future__ import annotations

import os
import shutil
import time
from datetime import timedelta
from pathlib import Path

import pytest

from blogengine.build import BuildOptions, build
from blogengine.config import load_config
from comments_server.storage import open_storage
from comments_server.transfer import FORMAT, import_document
from tests.support import REPO
from tests.support.site import NOW, post

# Real builds, several per test (1 to 4 s each on two cores): out of the fast loop.
pytestmark = pytest.mark.slow

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def age(root: Path, seconds: float = 60) -> None:
    """Date every source back, so its stamp is trusted (not "racy") on the next build."""
    past = time.time() - seconds
    for path in root.rglob("*"):
        if path.is_file():
            os.utime(path, (past, past))


class Checker:
    """Builds incrementally into public/ and from scratch elsewhere, and compares the two."""

    def __init__(self, root: Path, scratch: Path) -> None:
        self.root = root
        self.scratch = scratch
        self.now = NOW

    def incremental(self):
        return build(load_config(self.root), BuildOptions(now=self.now, jobs=1))

    def check(self):
        report = self.incremental()
        clean_dir = self.scratch / "clean"
        shutil.rmtree(clean_dir, ignore_errors=True)
        build(load_config(self.root), BuildOptions(output_dir=clean_dir, now=self.now, jobs=1,
                                                   incremental=False, content_cache=False))
        incremental, clean = tree(self.root / "public"), tree(clean_dir)
        assert sorted(incremental) == sorted(clean)
        different = [rel for rel in clean if incremental[rel] != clean[rel]]
        assert different == []
        return report


@pytest.fixture
def site(make_site, tmp_path):
    files = {f"content/posts/p{i}.md": post(f"Post {i}", f"2024-0{i % 9 + 1}-1{i % 9}",
                                            tags=f"[t{i % 3}, t{i % 4}]", body=f"Body of post {i}.")
             for i in range(12)}
    files["content/pages/about.md"] = "---\ntitle: About\n---\n\nAbout text.\n"
    files["content/images/dot.png"] = PNG
    root = make_site(files)
    checker = Checker(root, tmp_path)
    first = checker.check()
    assert first.pages_rendered == first.pages_written
    return checker


def test_no_change_rebuild_does_nothing(site):
    age(site.root)
    site.incremental()            # stamps are trusted from here on
    before = {p: p.stat().st_mtime_ns for p in (site.root / "public").rglob("*") if p.is_file()}
    report = site.check()
    assert report.up_to_date and report.files_written == 0
    after = {p: p.stat().st_mtime_ns for p in (site.root / "public").rglob("*") if p.is_file()}
    assert after == before


def test_editing_a_body_renders_few_pages(site):
    path = site.root / "content/posts/p5.md"
    path.write_text(path.read_text().replace("Body of post 5.", "A new body for post 5."))
    report = site.check()
    assert 0 < report.pages_rendered < report.pages_written / 2


def test_editing_a_later_paragraph_reaches_the_page_and_the_feed(site):
    path = site.root / "content/posts/p8.md"
    path.write_text(path.read_text() + "\n\nA second paragraph.\n")
    site.check()
    path.write_text(path.read_text().replace("A second paragraph.", "Second paragraph, edited."))
    site.check()
    assert "Second paragraph, edited." in (site.root / "public/atom.xml").read_text()


def test_adding_a_page_updates_every_pages_navigation(site):
    (site.root / "content/pages/colophon.md").write_text("---\ntitle: Colophon\n---\n\nMade by hand.\n")
    report = site.check()
    assert report.pages_rendered == report.pages_written


def test_editing_a_title_updates_neighbours_listings_and_feeds(site):
    path = site.root / "content/posts/p3.md"
    path.write_text(path.read_text().replace("title: 'Post 3'", "title: 'Post three'"))
    site.check()


def test_editing_an_author_or_title_redraws_the_social_card(site):
    card = site.root / "public/cards/2024/04/post-3.png"
    before = card.read_bytes()
    path = site.root / "content/posts/p3.md"
    path.write_text(path.read_text().replace("date:", "author: Someone Else\ndate:"))
    site.check()
    assert card.read_bytes() != before
    path.write_text(path.read_text().replace("title: 'Post 3'", "title: 'Post three'"))
    site.check()   # the slug follows the title: the card moves with the page
    assert not card.exists() and (site.root / "public/cards/2024/04/post-three.png").is_file()


def test_turning_social_cards_off_and_on_again(site):
    config = site.root / "blogengine.toml"
    text = config.read_text()
    config.write_text(text + "\n[social_cards]\nenabled = false\n")
    site.check()
    assert not (site.root / "public/cards").exists()
    config.write_text(text)
    site.check()
    assert len(list((site.root / "public/cards").rglob("*.png"))) == 13


def test_adding_a_post(site):
    (site.root / "content/posts/new.md").write_text(post("Brand new", "2024-09-30", tags="[t1, t9]"))
    site.check()


def test_adding_an_old_post_to_a_big_site_patches_it(make_site, tmp_path):
    files = {f"content/posts/p{i}.md": post(f"Post {i}", f"2023-{i % 12 + 1:02d}-{i % 28 + 1:02d}",
                                            tags=f"[t{i % 7}]") for i in range(120)}
    checker = Checker(make_site(files, name="big"), tmp_path)
    checker.check()
    (checker.root / "content/posts/old.md").write_text(post("An old one", "2019-01-01", tags="[t3]"))
    report = checker.check()
    assert 0 < report.pages_rendered < report.pages_written * 0.3


def test_deleting_a_post_removes_its_page(site):
    (site.root / "content/posts/p7.md").unlink()
    site.check()
    assert not list((site.root / "public").glob("*/*/post-7/index.html"))


def test_renaming_a_post_file_and_changing_its_slug(site):
    old = site.root / "content/posts/p2.md"
    text = old.read_text()
    old.unlink()
    (site.root / "content/posts/renamed.md").write_text(text.replace("---\n\n", "slug: moved\n---\n\n", 1))
    site.check()


def test_changing_tags_and_category(site):
    path = site.root / "content/posts/p4.md"
    path.write_text(path.read_text().replace("tags: [t1, t0]", "tags: [t2, new-tag]\ncategory: Notes"))
    site.check()


def test_template_change_and_override(site):
    templates = site.root / "templates"
    templates.mkdir()
    (templates / "partials").mkdir()
    meta = (REPO / "themes/default/templates/partials/post_meta.html").read_text()
    (templates / "partials/post_meta.html").write_text(meta.replace("min read", "minutes to read"))
    site.check()
    (templates / "partials/post_meta.html").write_text(meta.replace("min read", "min. read"))
    site.check()
    shutil.rmtree(templates)
    site.check()


def test_assets_added_changed_and_removed(site):
    (site.root / "content/images/new.txt").write_text("one")
    site.check()
    (site.root / "content/images/new.txt").write_text("two, longer")
    site.check()
    (site.root / "content/images/dot.png").unlink()
    site.check()


def test_config_change_rebuilds_everything(site):
    config = site.root / "blogengine.toml"
    config.write_text(config.read_text().replace('title = "Test Blog"', 'title = "Renamed Blog"'))
    report = site.check()
    assert report.pages_rendered == report.pages_written


def test_a_future_post_appears_when_its_day_comes(site):
    (site.root / "content/posts/later.md").write_text(post("Later post", "2026-06-10"))
    age(site.root)
    site.check()
    assert not list((site.root / "public").glob("2026/06/later-post/index.html"))
    site.now = NOW + timedelta(days=30)
    site.check()
    assert list((site.root / "public").glob("2026/06/later-post/index.html"))


def test_new_comments_reach_the_pages(site):
    age(site.root)
    site.incremental()
    storage = open_storage(f"sqlite:///{site.root / 'comments.sqlite3'}")
    import_document(storage, '{"format": "%s", "version": 1, "comments": [{"uid": "c1", '
                             '"thread": "/2024/06/post-5/", "author_name": "Reader", '
                             '"body": "A fresh comment", "created_at": "2024-07-01T00:00:00Z"}]}' % FORMAT)
    storage.close()
    report = site.check()
    assert not report.up_to_date
    page = (site.root / "public/2024/06/post-5/index.html").read_text()
    assert "A fresh comment" in page


def test_deleting_the_output_or_the_cache_falls_back_to_a_full_build(site):
    shutil.rmtree(site.root / "public")
    report = site.check()
    assert report.pages_rendered == report.pages_written
    shutil.rmtree(site.root / ".blogengine")
    report = site.check()
    assert report.pages_rendered == report.pages_written


def test_a_broken_cache_is_rebuilt(site):
    for cache in (site.root / ".blogengine").glob("*.sqlite3"):
        cache.write_bytes(b"not a database at all")
    report = site.check()
    assert report.pages_rendered == report.pages_written


def test_failed_incremental_build_keeps_the_previous_output(site):
    before = tree(site.root / "public")
    (site.root / "content/posts/p1.md").write_text("---\ntitle: [broken\n---\n")
    with pytest.raises(Exception):
        site.incremental()
    assert tree(site.root / "public") == before


def test_a_build_that_fails_midway_leaves_nothing_half_remembered(site):
    templates = site.root / "templates/partials"
    templates.mkdir(parents=True)
    meta = (REPO / "themes/default/templates/partials/post_meta.html").read_text()
    # Some pages render (and their records reach the cache's pending list), one fails.
    broken = meta.replace("min read", "min read{% if post.title == 'Post 6' %}{{ nope.x }}{% endif %}")
    (templates / "post_meta.html").write_text(broken)
    with pytest.raises(Exception):
        site.incremental()
    (templates / "post_meta.html").write_text(meta.replace("min read", "minutes"))
    site.check()


def test_shortcode_template_change_rerenders_exactly_the_pages_using_it(site):
    figure_call = '\n\n{{< figure src="/images/dot.png" caption="A *dot*" >}}\n'
    for n in (3, 4):
        path = site.root / f"content/posts/p{n}.md"
        path.write_text(path.read_text() + figure_call)
    path = site.root / "content/posts/p7.md"   # a call in the summary reaches the listings too
    path.write_text(path.read_text().replace(
        "Body of post 7.", 'Body of post 7 {{< gist ann 42 >}}\n\n{{< details >}}\nIn *it*\n'
                           '{{< /details >}}'))
    site.check()
    templates = site.root / "templates/shortcodes"
    templates.mkdir(parents=True)
    figure = (REPO / "themes/default/templates/shortcodes/figure.html").read_text()
    (templates / "figure.html").write_text(figure.replace('"sc-figure"', '"sc-figure mine"'))
    report = site.check()
    assert report.pages_rendered == 2          # the posts p3 and p4, nothing else
    pages = [p.read_text() for p in (site.root / "public").rglob("index.html")]
    assert sum("sc-figure mine" in page for page in pages) == 2
    assert "sc-figure mine" in (site.root / "public/atom.xml").read_text()
    (templates / "figure.html").write_text(figure.replace('"sc-figure"', '"sc-figure yours"'))
    assert site.check().pages_rendered == 2
    (templates / "gist.html").write_text("<p>gist {{ positional[0] }}</p>")
    assert site.check().pages_rendered > 1     # p7 and the listings that show its summary
    shutil.rmtree(templates)
    assert site.check().pages_rendered > 2


PLUGIN_CONFIG = '\n[plugins]\nenabled = ["mark", "footer"]\n[plugins.footer]\nnote = "first"\n'
FOOTER_PLUGIN = '''
from pathlib import Path
from blogengine.hookspecs import hookimpl

SETTINGS = {"note": "", "file": "footer.txt"}

@hookimpl
def plugin_inputs(settings):
    return [Path(settings["file"])]

@hookimpl
def page_html(html, settings):
    text = Path(__file__).parent.parent.joinpath(settings["file"]).read_text().strip()
    return html.replace("</body>", "<p>%s %s VERSION</p></body>" % (settings["note"], text))
'''


@pytest.fixture
def plugin_site(make_site, tmp_path):
    from tests.support.site import BASIC_CONFIG
    files = {f"content/posts/p{i}.md": post(f"Post {i}", f"2024-0{i + 1}-01", body=f"==Post {i}==")
             for i in range(5)}
    files["plugins/footer.py"] = FOOTER_PLUGIN.replace("VERSION", "v1")
    files["footer.txt"] = "from a file"
    root = make_site(files, config=BASIC_CONFIG + PLUGIN_CONFIG)
    checker = Checker(root, tmp_path)
    checker.check()
    age(root)
    checker.incremental()
    assert "<p>first from a file v1</p>" in (root / "public/index.html").read_text()
    assert "<mark>Post 1</mark>" in (root / "public/2024/02/post-1/index.html").read_text()
    return checker


def test_a_site_with_plugins_builds_incrementally_as_from_scratch(plugin_site):
    report = plugin_site.check()
    assert report.up_to_date
    path = plugin_site.root / "content/posts/p2.md"
    path.write_text(path.read_text().replace("==Post 2==", "==Post two=="))
    report = plugin_site.check()
    assert 0 < report.pages_rendered < report.pages_written


@pytest.mark.parametrize("change", ["source", "settings", "declared input"])
def test_changing_a_plugin_renders_every_page_again(plugin_site, change):
    root = plugin_site.root
    if change == "source":
        (root / "plugins/footer.py").write_text(FOOTER_PLUGIN.replace("VERSION", "v2"))
        expected = "<p>first from a file v2</p>"
    elif change == "settings":
        config = root / "blogengine.toml"
        config.write_text(config.read_text().replace('note = "first"', 'note = "second"'))
        expected = "<p>second from a file v1</p>"
    else:
        (root / "footer.txt").write_text("from an edited file")
        expected = "<p>first from an edited file v1</p>"
    report = plugin_site.check()
    assert report.pages_rendered == report.pages_written
    assert all(expected in page.read_text() for page in (root / "public").rglob("*.html")
               if "</body>" in page.read_text())


def _png(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    import io

    from PIL import Image
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


def test_a_site_with_raster_images_builds_incrementally_as_from_scratch(make_site, tmp_path):
    body = ("Intro.\n\n![Photo](/images/photo{}.png)\n\n"
            '{{{{< figure src="/images/wide.png" alt="Wide" >}}}}\n')
    files = {f"content/posts/p{i}.md": post(f"Post {i}", f"2024-0{i + 1}-01",
                                            body=body.format(i % 2)) for i in range(4)}
    files.update({"content/images/photo0.png": _png(700, 350, (200, 0, 0)),
                  "content/images/photo1.png": _png(300, 200, (0, 200, 0)),
                  "content/images/wide.png": _png(1700, 400, (0, 0, 200))})
    checker = Checker(make_site(files, name="pictures"), tmp_path)
    checker.check()
    age(checker.root)
    # A resized image: the pages that show it get its new size and variants, as from scratch.
    (checker.root / "content/images/photo1.png").write_bytes(_png(1000, 400, (0, 200, 0)))
    checker.check()
    page = next((checker.root / "public").glob("*/*/post-1/index.html")).read_text()
    assert 'width="1000" height="400"' in page
    # Another post shows an image; one is removed from a post.
    path = checker.root / "content/posts/p3.md"
    path.write_text(path.read_text().replace("photo1", "photo0"))
    checker.check()
