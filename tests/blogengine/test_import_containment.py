"""Attacks on the importers' file handling: an old site (or an export) that tries to make the
import publish a file from elsewhere on the machine, or write outside the new site's content/."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.importing import make_site, run

SECRET = "SECRET-TOKEN-1234"


@pytest.fixture
def secret(tmp_path) -> Path:
    """A file outside every site, as /etc/passwd or /proc/self/environ would be."""
    path = tmp_path / "outside" / "secret.md"
    path.parent.mkdir()
    path.write_text(f"---\ntitle: Leaked\ndate: 2024-01-01\n---\n\n{SECRET}\n", encoding="utf-8")
    return path


@pytest.fixture
def site(tmp_path):
    return make_site(tmp_path / "site", f"sqlite:///{tmp_path / 'site' / 'comments.sqlite3'}")


def leaked(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and SECRET in p.read_text(errors="replace")]


def test_hugo_bundle_and_static_links_to_outside_files_are_not_published(tmp_path, site, secret):
    old = tmp_path / "hugo"
    (old / "content/posts/trip").mkdir(parents=True)
    (old / "static").mkdir()
    (old / "hugo.toml").write_text('baseURL = "https://old.example/"\ntitle = "Old"\n')
    (old / "content/posts/trip/index.md").write_text("---\ntitle: Trip\ndate: 2024-01-02\n---\n\nHi.\n")
    (old / "content/posts/trip/notes.txt").symlink_to(secret)
    (old / "static/environ.txt").symlink_to(secret)
    (old / "content/posts/leak.md").symlink_to(secret)
    result = run("import", "hugo", str(old), "--site", str(site))
    assert result.exit_code == 0, result.output
    assert (site / "content/posts/trip.md").is_file()
    assert leaked(site) == []


def test_jekyll_post_asset_and_comment_links_to_outside_files_are_not_published(tmp_path, site, secret):
    old = tmp_path / "jekyll"
    for folder in ("_posts", "_drafts", "assets", "_data/comments/ok"):
        (old / folder).mkdir(parents=True)
    (old / "_config.yml").write_text("title: Old\n")
    (old / "_posts/2024-01-02-ok.md").write_text("---\ntitle: Ok\n---\n\nHi.\n")
    (old / "_posts/2024-01-01-leak.md").symlink_to(secret)
    (old / "_drafts/leak.md").symlink_to(secret)
    (old / "assets/environ.txt").symlink_to(secret)
    comment = secret.with_name("comment.yml")
    comment.write_text(f"_id: c1\nname: Eve\nmessage: {SECRET}\ndate: 2024-01-03\n")
    (old / "_data/comments/ok/c1.yml").symlink_to(comment)
    result = run("import", "jekyll", str(old), "--site", str(site))
    assert result.exit_code == 0, result.output
    assert (site / "content/posts/ok.md").is_file()
    assert leaked(site) == []
    assert SECRET not in result.output


def test_wordpress_uploads_cannot_reach_outside_the_uploads_folder(tmp_path, site, secret):
    uploads = tmp_path / "uploads"
    (uploads / "2024/01").mkdir(parents=True)
    (uploads / "2024/01/cat.jpg").write_bytes(b"a real upload")
    (uploads / "2024/01/linked.txt").symlink_to(secret)
    links = " ".join(f'<a href="https://old.example.com/wp-content/uploads/{rel}">x</a>' for rel in (
        "2024/01/cat.jpg", "2024/01/linked.txt", "../outside/secret.md",
        "2024/%2e%2e/%2e%2e/../outside/secret.md", "2024/01/../../../../site/blogengine.toml"))
    export = tmp_path / "export.xml"
    export.write_text(f"""<?xml version="1.0"?>
<rss xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/"
 xmlns:wp="http://wordpress.org/export/1.2/"><channel><title>Old</title>
<wp:base_site_url>https://old.example.com</wp:base_site_url>
<item><title>Post</title><link>https://old.example.com/post/</link><dc:creator>ann</dc:creator>
<content:encoded><![CDATA[<p>{links}</p>]]></content:encoded><wp:post_id>1</wp:post_id>
<wp:post_date_gmt>2024-01-05 10:00:00</wp:post_date_gmt><wp:post_name>post</wp:post_name>
<wp:status>publish</wp:status><wp:post_type>post</wp:post_type></item></channel></rss>""")
    before = {p for p in tmp_path.rglob("*") if "site" not in p.relative_to(tmp_path).parts[:1]}
    result = run("import", "wordpress", str(export), "--site", str(site), "--uploads", str(uploads))
    assert result.exit_code == 0, result.output
    assert (site / "content/wp-content/uploads/2024/01/cat.jpg").read_bytes() == b"a real upload"
    assert leaked(site) == []
    assert "4 upload links lead out of" in result.output
    after = {p for p in tmp_path.rglob("*") if "site" not in p.relative_to(tmp_path).parts[:1]}
    assert after == before   # nothing written beside the site


def test_the_stage_copies_no_link_and_nothing_from_outside_its_source(tmp_path, secret):
    from blogengine.importers.stage import Stage, StageLog

    root = tmp_path / "site"
    (root / "content").mkdir(parents=True)
    old = tmp_path / "old"
    old.mkdir()
    (old / "fine.txt").write_text("fine")
    (old / "link.txt").symlink_to(secret)
    log = StageLog()
    stage = Stage(root, log)
    stage.copy("content/fine.txt", old / "fine.txt", "assets", within=old)
    stage.copy("content/link.txt", old / "link.txt", "assets", within=old)
    stage.copy("content/direct.txt", secret, "assets", within=old)
    stage.copy("content/no-root.txt", old / "fine.txt", "assets", within=None)
    stage.move_in()
    stage.discard()
    assert sorted(p.name for p in (root / "content").iterdir()) == ["fine.txt"]
    assert [line.split(":")[0] for line in log.kept] == [
        "content/link.txt", "content/direct.txt", "content/no-root.txt"]
