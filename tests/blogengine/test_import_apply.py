"""What every importer shares when it writes into a site: `--dry-run`, the `init` starter files,
entries that cannot be placed, and comment fields checked by the comment server's own rules."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from tests.support.importing import DATA, make_site, run, snapshot, storage

WXR = DATA / "wordpress.xml"
SOURCES = {
    "wordpress": DATA / "wordpress.xml",
    "jekyll": DATA / "jekyll",
    "hugo": DATA / "hugo",
    "disqus": DATA / "disqus.xml",
}


def wxr(items: str) -> str:
    """A small WordPress export around `items` (one author, ann, id 1)."""
    return f"""<?xml version="1.0" encoding="UTF-8" ?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
 xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">
<channel><title>Old</title><link>https://old.example.com</link>
<wp:base_site_url>https://old.example.com</wp:base_site_url>
<wp:author><wp:author_id>1</wp:author_id><wp:author_login>ann</wp:author_login>
<wp:author_display_name>Ann Author</wp:author_display_name></wp:author>
{items}
</channel></rss>"""


def item(post_id: int, title: str, slug: str, *, kind: str = "post", content: str = "Words.",
         comments: str = "") -> str:
    return f"""<item><title>{title}</title><link>https://old.example.com/{slug}/</link>
<dc:creator>ann</dc:creator><content:encoded><![CDATA[{content}]]></content:encoded>
<wp:post_id>{post_id}</wp:post_id><wp:post_date>2012-01-05 14:30:46</wp:post_date>
<wp:post_date_gmt>2012-01-05 14:30:46</wp:post_date_gmt><wp:post_name>{slug}</wp:post_name>
<wp:status>publish</wp:status><wp:post_parent>0</wp:post_parent><wp:post_type>{kind}</wp:post_type>
{comments}</item>"""


def comment(comment_id: int, author: str, *, email: str = "", url: str = "", body: str = "Hello.") -> str:
    return f"""<wp:comment><wp:comment_id>{comment_id}</wp:comment_id>
<wp:comment_author><![CDATA[{author}]]></wp:comment_author>
<wp:comment_author_email>{email}</wp:comment_author_email>
<wp:comment_author_url>{url}</wp:comment_author_url>
<wp:comment_date_gmt>2012-01-06 10:00:00</wp:comment_date_gmt>
<wp:comment_content><![CDATA[{body}]]></wp:comment_content>
<wp:comment_approved>1</wp:comment_approved><wp:comment_parent>0</wp:comment_parent>
<wp:comment_user_id>0</wp:comment_user_id></wp:comment>"""


@pytest.fixture
def site(tmp_path):
    return make_site(tmp_path / "site", f"sqlite:///{tmp_path / 'site' / 'comments.sqlite3'}")


@pytest.fixture
def started(tmp_path):
    """A site as `blogengine init` writes it: a starter post and about page."""
    root = tmp_path / "started"
    assert run("init", str(root)).exit_code == 0
    return root


def counts(output: str) -> dict[str, int]:
    """The numbers of a report: '3 posts written' and '3 posts to write' both give posts: 3."""
    found = {noun: int(n) for n, noun in re.findall(r"^  (\d+) (\w+?)s? (?:written|to write)", output, re.M)}
    added = re.search(r"comments?(?: \([^)]*\))?: (\d+) (?:added|to add)", output)
    found["comments"] = int(added.group(1)) if added else 0
    return found


# --- --dry-run ---------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", sorted(SOURCES))
def test_dry_run_writes_nothing_for_every_importer(site, kind):
    if kind == "disqus":   # Disqus brings comments for posts already there
        assert run("import", "wordpress", str(WXR), "--site", str(site)).exit_code == 0
    before = snapshot(site)
    result = run("import", kind, str(SOURCES[kind]), "--site", str(site), "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Dry run: importing {SOURCES[kind]} ({kind})")
    assert result.output.strip().splitlines()[-1] == "Dry run: nothing was written."
    assert snapshot(site) == before
    assert not list(site.glob(".blogengine-import-*"))


def test_dry_run_reports_exactly_what_the_import_then_does(site):
    dry = run("import", "wordpress", str(WXR), "--site", str(site), "--dry-run")
    assert not (site / "comments.sqlite3").exists()   # not even an empty database
    real = run("import", "wordpress", str(WXR), "--site", str(site))
    assert real.exit_code == 0, real.output
    assert counts(dry.output) == counts(real.output)
    assert counts(real.output)["comments"] > 0 and counts(real.output)["post"] > 0
    strip = [line for line in dry.output.splitlines()[1:-1]]
    assert [line.replace(" to write", " written").replace(" to add", " added") for line in strip] \
        == real.output.splitlines()[1:]


def test_dry_run_after_an_import_counts_what_is_already_there_and_stores_nothing(site):
    assert run("import", "wordpress", str(WXR), "--site", str(site)).exit_code == 0
    store = storage(f"sqlite:///{site / 'comments.sqlite3'}")
    stored = len(store.all_comments())
    store.close()
    before = snapshot(site)
    result = run("import", "wordpress", str(WXR), "--site", str(site), "--dry-run")
    assert f": 0 to add, {stored} already there" in result.output
    assert snapshot(site) == before
    store = storage(f"sqlite:///{site / 'comments.sqlite3'}")
    assert len(store.all_comments()) == stored
    store.close()


# --- the starter post and page of `blogengine init` -----------------------------------------------

def test_an_untouched_starter_gives_way_to_the_imported_post_and_page(started, tmp_path):
    export = tmp_path / "export.xml"
    export.write_text(wxr(item(1, "Hello world!", "hello-world", comments=comment(5, "Mr WordPress"))
                          + item(2, "About", "about", kind="page", content="The old about page.")))
    result = run("import", "wordpress", str(export), "--site", str(started))
    assert result.exit_code == 0, result.output
    assert "replaces the starter content/posts/hello-world.md" in result.output
    assert "replaces the starter content/pages/about.md" in result.output
    assert "title: Hello world!" in (started / "content/posts/hello-world.md").read_text()
    assert "The old about page." in (started / "content/pages/about.md").read_text()
    store = storage(f"sqlite:///{started / 'comments.sqlite3'}")
    assert [c.thread for c in store.all_comments()] == ["/2012/01/hello-world/"]
    store.close()
    assert run("build", "--source", str(started)).exit_code == 0
    assert not (started / "public/2026").exists() and not any(
        "Hello, world" in p.read_text() for p in (started / "public").rglob("index.html"))
    again = run("import", "wordpress", str(export), "--site", str(started))
    assert again.output.strip().splitlines()[-1] == "Nothing new: everything in it was already imported."


def test_an_edited_starter_is_kept_and_the_import_written_beside_it(started, tmp_path):
    about = started / "content/pages/about.md"
    about.write_text(about.read_text() + "\nI edited this.\n")
    edited = about.read_text()
    export = tmp_path / "export.xml"
    export.write_text(wxr(item(2, "About", "about", kind="page", content="The old about page.")))
    result = run("import", "wordpress", str(export), "--site", str(started))
    assert result.exit_code == 0, result.output
    assert ("content/pages/about.md is `blogengine init`'s starter, edited since, so it is kept; "
            "the import is content/pages/about-imported.md") in result.output
    assert "imported with slug 'about-2' at /about-2/" in result.output
    assert about.read_text() == edited
    assert "The old about page." in (started / "content/pages/about-imported.md").read_text()
    assert run("build", "--source", str(started)).exit_code == 0
    assert "The old about page." in (started / "public/about-2/index.html").read_text()
    assert "I edited this." in (started / "public/about/index.html").read_text()


def test_a_failed_comment_store_puts_the_replaced_starter_back(started, tmp_path):
    starter = (started / "content/posts/hello-world.md").read_text()
    store = storage(f"sqlite:///{started / 'comments.sqlite3'}")
    with store.engine.begin() as conn:
        conn.execute(text("CREATE TRIGGER refuse BEFORE INSERT ON comments "
                          "BEGIN SELECT RAISE(ABORT, 'database is full'); END"))
    store.close()
    before = snapshot(started)
    export = tmp_path / "export.xml"
    export.write_text(wxr(item(1, "Hello world!", "hello-world", comments=comment(5, "Mr WordPress"))))
    result = run("import", "wordpress", str(export), "--site", str(started))
    assert result.exit_code == 1
    assert snapshot(started) == before
    assert (started / "content/posts/hello-world.md").read_text() == starter


# --- one entry that cannot be placed ------------------------------------------------------------

def test_a_broken_file_where_an_entry_would_go_leaves_out_that_entry_only(site, tmp_path):
    (site / "content/posts/first.md").write_text("---\ntitle: [unclosed\n---\n")
    export = tmp_path / "export.xml"
    export.write_text(wxr(item(1, "First", "first") + item(2, "Second", "second")))
    result = run("import", "wordpress", str(export), "--site", str(site))
    assert result.exit_code == 0, result.output
    assert "1 post (would not build)" in result.output
    assert ("post 1 'First': not imported: content/posts/first.md is already there but does not "
            "build") in result.output
    assert (site / "content/posts/second.md").is_file()


# --- comment fields: the comment server's own checks ---------------------------------------------

def test_comment_fields_the_server_refuses_are_mended_and_reported(site, tmp_path):
    long_name = "Very Long Name " * 8
    export = tmp_path / "export.xml"
    export.write_text(wxr(item(1, "First", "first", comments=(
        comment(7, long_name, email="not-an-address", url="javascript:alert(1)")
        + comment(8, "Bea", email="Bea@Example.com", url="https://bea.example.org/")))))
    result = run("import", "wordpress", str(export), "--site", str(site))
    assert result.exit_code == 0, result.output
    store = storage(f"sqlite:///{site / 'comments.sqlite3'}")
    mended, kept = sorted(store.all_comments(), key=lambda c: c.uid)
    store.close()
    assert mended.author_name == long_name.strip()[:80].strip() and len(mended.author_name) <= 80
    assert (mended.author_email, mended.author_url) == (None, None)
    assert (kept.author_email, kept.author_url) == ("bea@example.com", "https://bea.example.org/")
    notes = [line for line in result.output.splitlines() if "'s comment: " in line]
    assert [note.split("'s comment: ")[1].split(" (")[0] for note in notes] == [
        "author_name shortened", "author_email left out", "author_url left out"]
    assert all(note.startswith("  note: /2012/01/first/: Very Long Name") for note in notes)


# --- nothing lands outside content/ --------------------------------------------------------------

def test_the_stage_refuses_places_outside_content(tmp_path):
    from blogengine.importers.stage import Stage, StageLog

    root = tmp_path / "site"
    (root / "content").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    (root / "content" / "link").symlink_to(tmp_path / "elsewhere")
    log = StageLog()
    stage = Stage(root, log)
    for rel in ("content/../escaped.txt", "/etc/escaped.txt", "blogengine.toml",
                "content/link/escaped.txt", "content/fine.txt"):
        stage.add(rel, b"x", "assets")
    stage.move_in()
    stage.discard()
    assert [line.split(":")[0] for line in log.kept] == [
        "content/../escaped.txt", "/etc/escaped.txt", "blogengine.toml", "content/link/escaped.txt"]
    assert (root / "content/fine.txt").read_bytes() == b"x"
    assert not (tmp_path / "escaped.txt").exists() and not list((tmp_path / "elsewhere").iterdir())
