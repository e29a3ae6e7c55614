"""`blogengine import jekyll`: posts with filename dates, categories and permalinks, pages,
assets, redirects for changed URLs, and a Staticman conversation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from blogengine.build import BuildOptions, build
from blogengine.config import load_config
from blogengine.importers.redirects import redirect_target
from comments_server.models import State
from tests.support.site import NOW
from tests.support.importing import DATA, LATER, depth, make_site, read_front, run, snapshot, storage


SOURCE = DATA / "jekyll"
POST = "/2019/06/answering/"   # 20:00 in New York on May 31 is June 1 in Paris


@pytest.fixture
def imported(tmp_path, db_url):  # noqa: F811
    site = make_site(tmp_path / "site", db_url)
    result = run("import", "jekyll", str(SOURCE), "--site", str(site), "--author", "ann@example.com")
    assert result.exit_code == 0, result.output
    store = storage(db_url)
    yield site, store, result.output
    store.close()


def test_unanswered_queue_holds_exactly_the_reader_nobody_answered(imported):
    _site, store, _output = imported
    assert [(t.comment.thread, t.comment.author_name) for t in store.unanswered(LATER)] == [
        (POST, "Carol")]


def test_staticman_conversation_keeps_nesting_author_and_times(imported):
    _site, store, output = imported
    comments = store.list_thread(POST)
    by_id = {c.id: c for c in comments}
    assert [(c.author_name, c.is_author, depth(c, by_id)) for c in comments[:4]] == [
        ("Bob Reader", False, 0), ("Ann Author", True, 1), ("Bob Reader", False, 2), ("Ann Author", True, 3)]
    assert comments[0].created_at == datetime(2019, 6, 1, 8, 0, tzinfo=UTC)    # unix seconds
    assert comments[1].created_at == datetime(2019, 6, 1, 9, 0, tzinfo=UTC)    # RFC 3339
    dave = next(c for c in comments if c.author_name == "Dave")
    assert next(c for c in comments if c.body.startswith("@Dave")).parent_id == dave.id
    assert {t.comment.author_name: t.state for t in store.conversation()
            if not t.comment.is_author}["Dave"] == State.ANSWERED
    assert "1 comment (no post with their folder's name)" in output


def test_posts_keep_dates_categories_tags_and_drafts(imported):
    site, _store, _output = imported
    assert read_front(site / "content/posts/answering.md") == (
        "title: On answering\n"
        "date: '2019-06-01 02:00:00+02:00'\n"
        "slug: answering\n"
        "category: essays\n"
        "tags: [comments, etiquette]\n"
        "summary: Why every comment deserves an answer.\n")
    # The date comes from the file name, at midnight in the Jekyll site's time zone.
    assert "date: '2019-06-10 06:00:00+02:00'" in read_front(site / "content/posts/second-thoughts.md")
    assert "draft: true" in read_front(site / "content/posts/hidden.md")
    idea = read_front(site / "content/posts/idea.md")
    assert "draft: true" in idea and "date: '2019-08-01 15:00:00+02:00'" in idea
    body = (site / "content/posts/answering.md").read_text(encoding="utf-8")
    assert "![A cat](/assets/cat.png)" in body
    assert '```ruby\ndef answer(comment) = "Thank you, #{comment.author}"\n```' in body
    assert "{% include note.html %}" in body   # left as text, and reported


def test_pages_assets_and_what_was_skipped(imported):
    site, _store, output = imported
    assert (site / "content/pages/about.md").is_file()
    assert "Write to [me](mailto:ann@example.com)." in (site / "content/pages/contact.md").read_text()
    assert (site / "content/assets/cat.png").read_bytes() == (SOURCE / "assets/cat.png").read_bytes()
    assert not (site / "content/Gemfile").exists() and not (site / "content/feed.xml").exists()
    assert not (site / "content/css").exists()
    assert "index.html: blogengine writes its own index page" in output
    assert "_posts/2019-05-31-answering.md: Liquid left as text: include" in output


def test_every_changed_url_gets_a_redirect_and_the_site_builds(imported):
    site, _store, _output = imported
    redirects = {
        "content/essays/2019/05/31/answering.html": POST,           # Jekyll's default "date" style
        "content/second-thoughts/index.html": "/2019/06/second-thoughts/",   # its own permalink
        "content/contact.html": "/contact/",
    }
    for rel, target in redirects.items():
        assert redirect_target((site / rel).read_text(encoding="utf-8")) == target, rel
    assert not (site / "content/about/index.html").exists()   # permalink /about/ is unchanged
    report = build(load_config(site), BuildOptions(now=NOW))
    assert report.warnings == []
    assert (site / "public/essays/2019/05/31/answering.html").is_file()
    assert "Even now." in (site / "public/2019/06/answering/index.html").read_text(encoding="utf-8")


def test_reimport_changes_nothing(imported):
    site, store, _output = imported
    files = snapshot(site)
    comments = [(c.uid, c.parent_id) for c in store.all_comments()]
    result = run("import", "jekyll", str(SOURCE), "--site", str(site), "--author", "ann@example.com")
    assert result.exit_code == 0
    assert "Nothing new" in result.output and "0 added, 7 already there" in result.output
    assert snapshot(site) == files
    assert [(c.uid, c.parent_id) for c in store.all_comments()] == comments


def test_tags_that_cannot_make_a_url_are_dropped_so_the_site_builds(tmp_path):
    import shutil

    source = tmp_path / "jekyll"
    shutil.copytree(SOURCE, source)
    (source / "_posts/2019-09-01-symbols.md").write_text(
        "---\ntitle: Symbols\ncategories: ['???']\ntags: ['!!', ok]\n---\n\nText.\n", encoding="utf-8")
    site = make_site(tmp_path / "site", f"sqlite:///{tmp_path / 'comments.sqlite3'}")
    result = run("import", "jekyll", str(source), "--site", str(site))
    assert result.exit_code == 0, result.output
    assert "_posts/2019-09-01-symbols.md: dropped tags or categories without letters or digits: !!, ???" \
        in result.output
    assert "tags: [ok]" in read_front(site / "content/posts/symbols.md")
    assert build(load_config(site), BuildOptions(now=NOW)).warnings == []


def _write(root, files):
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def _import(tmp_path, files):
    source = _write(tmp_path / "jekyll", files)
    site = make_site(tmp_path / "site", f"sqlite:///{tmp_path / 'comments.sqlite3'}")
    return site, run("import", "jekyll", str(source), "--site", str(site))


def test_config_aliases_are_read_and_an_alias_bomb_is_refused(tmp_path):
    site, result = _import(tmp_path / "ok", {
        "_config.yml": "logo: &logo /logo.png\nauthor:\n  uri: &uri https://x.example/\n"
                       "  url: *uri\nimage: *logo\npermalink: pretty\n",
        "_posts/2019-05-31-one.md": "---\ntitle: One\n---\nText.\n"})
    assert result.exit_code == 0, result.output
    assert "content/2019/05/31/one/index.html" in {
        str(p.relative_to(site)) for p in (site / "content").rglob("*.html")}   # pretty, read
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{n}: &{n} [{', '.join(['*' + p] * 10)}]\n" for p, n in zip("abcdefg", "bcdefgh"))
    _site, refused = _import(tmp_path / "bomb", {"_config.yml": bomb, "_posts/.keep": ""})
    assert refused.exit_code == 1
    assert "aliases (*name) expand it to more than 200,000 values" in refused.output


def test_kramdown_toc_and_attribute_lists_do_not_show(tmp_path):
    site, result = _import(tmp_path, {"_config.yml": "title: T\n", "_posts/2019-05-31-one.md": (
        "---\ntitle: One\n---\n* TOC\n{:toc}\n\n## First\n{: .lead}\n\nA [link](/x/){:target=\"_blank\"}.\n"
        "{: .notice}\n\n```\n{: kept in code}\n```\n")})
    assert result.exit_code == 0, result.output
    body = (site / "content/posts/one.md").read_text(encoding="utf-8").split("---\n", 2)[2].lstrip()
    assert body == "## First\n\nA [link](/x/).\n\n```\n{: kept in code}\n```\n"
    assert "_posts/2019-05-31-one.md: Kramdown's table of contents marker ({:toc}) removed" \
        in result.output


def test_post_url_and_link_point_at_the_new_urls(tmp_path):
    site, result = _import(tmp_path, {"_config.yml": "permalink: /:categories/:title/\n",
                                      "_posts/2019-05-31-one.md": "---\ntitle: One\n---\nFirst.\n",
                                      "_posts/2019-06-01-two.md": (
        "---\ntitle: Two\n---\nSee [one]({% post_url 2019-05-31-one %}), "
        "[again]({{ site.baseurl }}{% link _posts/2019-05-31-one.md %}) "
        "and [gone]({% post_url 2001-01-01-gone %}).\n")})
    assert result.exit_code == 0, result.output
    body = (site / "content/posts/two.md").read_text(encoding="utf-8")
    assert "[one](/2019/05/one/), [again](/2019/05/one/) and [gone](2001-01-01-gone)" in body
    assert "{% post_url 2001-01-01-gone %} names no published imported post" in result.output


def test_a_bad_file_is_a_skip_line_and_the_rest_is_imported(tmp_path):
    site, result = _import(tmp_path, {
        "_config.yml": "title: T\n",
        "_posts/2019-05-31-bad.md": "---\ntitle: [unclosed\n---\nText.\n",
        "_posts/2019-06-01-good.md": "---\ntitle: Good\n---\nText.\n",
        "notes.md": "# No front matter\n",
        "_data/comments/good/broken.yml": "name: [x\n",
        "_data/comments/good/ok.yml": "name: Bo\nmessage: Hi\ndate: 2019-06-02T10:00:00Z\n"})
    assert result.exit_code == 0, result.output
    assert (site / "content/posts/good.md").is_file()
    assert "_posts/2019-05-31-bad.md:3: invalid YAML" in result.output
    assert "notes.md: no front matter, Jekyll copies it as a static file; not imported" \
        in result.output
    assert "comments/good/broken.yml: invalid YAML" in result.output
    assert "1 added" in result.output
    assert not list((site / "content").rglob("*.yml"))


def test_includes_are_put_in_place_and_raw_text_is_left_alone(tmp_path):
    site, result = _import(tmp_path, {
        "_config.yml": "title: T\n",
        "_includes/boilerplate/tools.md": "#### Tools used\n\n- {{ include.pen }}\n",
        "_posts/2019-05-31-one.md": (
            "---\ntitle: One\n---\nA drawing.\n\n{% include_cached boilerplate/tools.md pen=\"Pogo\" %}\n\n"
            "{% youtube gpz8aPXwd18 %}\n\n{% raw %}{% include tools.md %}{% endraw %}\n"
            "{% include missing.html %}\n")})
    assert result.exit_code == 0, result.output
    body = (site / "content/posts/one.md").read_text(encoding="utf-8")
    assert "#### Tools used\n\n- Pogo\n" in body
    # A video tag becomes the click-to-load shortcode (was: a plain link before shortcodes).
    assert '{{< video youtube="gpz8aPXwd18" title="YouTube video gpz8aPXwd18" >}}' in body
    assert "{% include tools.md %}\n{% include missing.html %}" in body
    assert "_posts/2019-05-31-one.md: Liquid left as text: include" in result.output
