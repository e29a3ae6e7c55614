"""Bad input for `blogengine import`: one clear line, exit status 1, and nothing half-written."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from sqlalchemy import text

from tests.support import REPO
from tests.support.importing import DATA, make_site, run, snapshot, storage

WXR = DATA / "wordpress.xml"
BOMB = """<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>
<rss><channel><title>&c;</title></channel></rss>
"""
XXE = """<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<rss><channel><title>&secret;</title></channel></rss>
"""


@pytest.fixture
def site(tmp_path):
    return make_site(tmp_path / "site", f"sqlite:///{tmp_path / 'site' / 'comments.sqlite3'}")


def assert_one_line_error(site, args, *, expect: str) -> None:
    before = snapshot(site)
    result = run(*args, "--site", str(site))
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert expect in lines[0], lines[0]
    assert snapshot(site) == before
    assert not (site / "comments.sqlite3").exists()
    assert not [p for p in site.iterdir() if p.name.startswith(".blogengine-import-")]


def test_truncated_export_is_one_line_and_writes_nothing(site, tmp_path):
    truncated = tmp_path / "truncated.xml"
    data = WXR.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    assert_one_line_error(site, ["import", "wordpress", str(truncated)],
                          expect="truncated.xml:187: not well-formed XML (unclosed token); "
                                 "is the file complete?")


@pytest.mark.parametrize("content", [b"\x89PNG\r\n\x1a\n\x00\x00binary", b'{"comments": []}', b""],
                         ids=["binary", "json", "empty"])
def test_non_xml_is_one_line(site, tmp_path, content):
    path = tmp_path / "export.xml"
    path.write_bytes(content)
    assert_one_line_error(site, ["import", "wordpress", str(path)], expect="not well-formed XML")
    assert_one_line_error(site, ["import", "disqus", str(path)], expect="not well-formed XML")


def test_wrong_format_is_named(site):
    assert_one_line_error(site, ["import", "wordpress", str(DATA / "disqus.xml")],
                          expect="not a WordPress export: found <disqus>")
    assert_one_line_error(site, ["import", "disqus", str(WXR)],
                          expect="not a Disqus export: the document is <rss>")
    assert_one_line_error(site, ["import", "jekyll", str(DATA / "hugo")],
                          expect="not a Jekyll site: no _config.yml and no _posts/ folder")
    assert_one_line_error(site, ["import", "hugo", str(DATA / "jekyll")],
                          expect="not a Hugo site: no hugo.toml, config.toml")


def test_missing_input_is_one_line(site, tmp_path):
    missing = tmp_path / "nowhere"
    assert_one_line_error(site, ["import", "wordpress", str(missing)], expect="no such file")
    assert_one_line_error(site, ["import", "disqus", str(tmp_path)], expect="not a file")
    assert_one_line_error(site, ["import", "jekyll", str(missing)], expect="no such folder")
    assert_one_line_error(site, ["import", "hugo", str(WXR)], expect="not a folder")


@pytest.mark.parametrize("document", [BOMB, XXE], ids=["billion-laughs", "xxe"])
def test_entity_declarations_are_refused(site, tmp_path, document):
    path = tmp_path / "export.xml"
    path.write_text(document, encoding="utf-8")
    assert_one_line_error(site, ["import", "wordpress", str(path)],
                          expect="refused: the XML declares entities or external references")


def test_bad_front_matter_is_a_skip_line_naming_file_and_line(site, tmp_path):
    # One bad post of a site is not a reason to leave the others behind.
    source = tmp_path / "jekyll"
    shutil.copytree(DATA / "jekyll", source)
    (source / "_posts/2019-06-10-second-thoughts.markdown").write_text(
        "---\ntitle: Second thoughts\ntags: [unclosed\n---\n\nText.\n", encoding="utf-8")
    result = run("import", "jekyll", str(source), "--site", str(site))
    assert result.exit_code == 0, result.output
    assert "_posts/2019-06-10-second-thoughts.markdown:4: invalid YAML" in result.output
    assert not (site / "content/posts/second-thoughts.md").exists()
    assert (site / "content/posts/answering.md").is_file()


def test_not_a_site_is_one_line(tmp_path):
    result = run("import", "wordpress", str(WXR), "--site", str(tmp_path))
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"error: {tmp_path}/blogengine.toml: no blogengine.toml here; run `blogengine init {tmp_path}` "
        "to start a site, or pass --source DIR"]


def test_unusable_comment_database_stops_before_anything_is_written(site):
    url = f"sqlite:///{site / 'comments.sqlite3'}"
    store = storage(url)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    store.close()
    before = snapshot(site)
    result = run("import", "wordpress", str(WXR), "--site", str(site))
    assert result.exit_code == 1
    assert result.output.startswith("error: comment database: the database is at revision 9999")
    assert snapshot(site) == before


def test_failing_comment_transaction_removes_the_files_it_moved_in(site):
    url = f"sqlite:///{site / 'comments.sqlite3'}"
    store = storage(url)
    with store.engine.begin() as conn:   # the database itself refuses the writes
        conn.execute(text("CREATE TRIGGER refuse BEFORE INSERT ON comments "
                          "BEGIN SELECT RAISE(ABORT, 'database is full'); END"))
    store.close()
    before = snapshot(site)
    result = run("import", "wordpress", str(WXR), "--site", str(site))
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "error: comment database: storing the comments failed (database is full); nothing was imported"]
    assert snapshot(site) == before
    assert not (site / "content/pages").exists()
    store = storage(url)
    assert store.all_comments() == [] and store.mentions.list_thread("/2019/06/why-i-answer/") == []
    store.close()


def test_comments_off_imports_posts_only(tmp_path):
    site = make_site(tmp_path / "site", "sqlite:///unused.sqlite3")
    config = site / "blogengine.toml"
    config.write_text(config.read_text().replace("[comments]\n", "[comments]\nenabled = false\n"))
    result = run("import", "wordpress", str(WXR), "--site", str(site))
    assert result.exit_code == 0, result.output
    assert "comments: not imported (comments are off for this site)" in result.output
    assert (site / "content/posts/why-i-answer.md").is_file()
    assert not (site / "unused.sqlite3").exists()


@pytest.mark.slow
def test_real_process_exits_1_with_one_line_on_stderr(site, tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_text("<rss><channel>", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "blogengine", "import", "wordpress", str(bad),
                           "--site", str(site)], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.strip().splitlines() == [
        f"error: {bad}:1: not well-formed XML (no element found); is the file complete? "
        "(expected a WordPress export (WXR) from Tools > Export)"]


def test_a_post_landing_on_an_existing_url_gets_a_numbered_slug_and_a_report_line(site):
    mine = "---\ntitle: Mine\nslug: why-i-answer\ndate: 2019-06-20 10:00\n---\n\nMine.\n"
    (site / "content/posts/mine.md").write_text(mine, encoding="utf-8")
    result = run("import", "wordpress", str(WXR), "--site", str(site))
    assert result.exit_code == 0, result.output
    assert ("content/posts/mine.md already has its URL; imported with slug 'why-i-answer-2' at "
            "/2019/06/why-i-answer-2/") in result.output
    assert (site / "content/posts/mine.md").read_text(encoding="utf-8") == mine
    assert "slug: why-i-answer-2" in (site / "content/posts/why-i-answer.md").read_text(encoding="utf-8")
    store = storage(f"sqlite:///{site / 'comments.sqlite3'}")
    assert {c.thread for c in store.all_comments()} >= {"/2019/06/why-i-answer-2/"}
    assert "/2019/06/why-i-answer/" not in {c.thread for c in store.all_comments()}
    store.close()
    again = run("import", "wordpress", str(WXR), "--site", str(site))
    assert again.output.strip().splitlines()[-1] == "Nothing new: everything in it was already imported."
