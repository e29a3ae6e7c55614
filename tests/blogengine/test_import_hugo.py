"""`blogengine import hugo`: YAML, TOML and JSON front matter, drafts, aliases, permalinks,
bundles, static files, shortcodes, and a Staticman conversation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from blogengine.build import BuildOptions, build
from blogengine.config import load_config
from blogengine.importers.redirects import redirect_target
from tests.support.site import NOW
from tests.support.importing import DATA, LATER, depth, make_site, read_front, run, snapshot, storage


SOURCE = DATA / "hugo"
POST = "/2019/06/answering/"


@pytest.fixture
def imported(tmp_path, db_url):  # noqa: F811
    site = make_site(tmp_path / "site", db_url)
    result = run("import", "hugo", str(SOURCE), "--site", str(site), "--author", "Ann Author")
    assert result.exit_code == 0, result.output
    store = storage(db_url)
    yield site, store, result.output
    store.close()


def test_unanswered_queue_holds_exactly_the_reader_nobody_answered(imported):
    _site, store, _output = imported
    assert [(t.comment.thread, t.comment.author_name) for t in store.unanswered(LATER)] == [
        (POST, "Carol")]


def test_conversation_nesting_and_the_first_name_rethreading(imported):
    _site, store, output = imported
    comments = store.list_thread(POST)
    by_id = {c.id: c for c in comments}
    assert [(c.author_name, c.is_author, depth(c, by_id)) for c in comments[:4]] == [
        ("Bob Reader", False, 0), ("Ann Author", True, 1), ("Bob Reader", False, 2), ("Ann Author", True, 3)]
    assert comments[0].created_at == datetime(2019, 6, 1, 0, 0, tzinfo=UTC)
    dave = next(c for c in comments if c.author_name == "Dave Smith")
    assert next(c for c in comments if c.body.startswith("Dave, I think")).parent_id == dave.id
    assert f"{POST}: Ann Author's comment of 2019-06-01 06:00 now answers Dave Smith's" in output
    assert next(c for c in comments if c.author_name == "Carol").author_url == "https://example.net/"


def test_front_matter_in_toml_yaml_and_json(imported):
    site, _store, _output = imported
    # TOML, with an offset: 08:30 in Tokyo is 01:30 in Paris.
    assert read_front(site / "content/posts/answering.md") == (
        "title: On answering\n"
        "date: '2019-06-01 01:30:00+02:00'\n"
        "slug: answering\n"
        "category: Essays\n"
        "tags: [comments, etiquette]\n")
    # YAML without an offset: read in the Hugo site's zone (Tokyo).
    assert read_front(site / "content/posts/bundle.md") == (
        "title: A bundle\n"
        "date: '2019-07-01 03:00:00+02:00'\n"
        "updated: '2019-07-02 03:00:00+02:00'\n"
        "slug: bundle\n")
    assert "draft: true" in read_front(site / "content/posts/draft.md")
    assert read_front(site / "content/pages/about.md") == (
        "title: About\nslug: about\nsummary: Who writes here\n")


def test_shortcodes_bundles_static_files_and_refs(imported):
    site, _store, output = imported
    answering = (site / "content/posts/answering.md").read_text(encoding="utf-8")
    # Shortcodes with a blogengine built-in become its calls (was: Markdown before shortcodes).
    assert '{{< figure src="/images/logo.png" alt="Logo" caption="Our logo" >}}' in answering
    bundle = (site / "content/posts/bundle.md").read_text(encoding="utf-8")
    assert '```go\nfmt.Println("hi")\n```' in bundle
    assert "See [the answer](/2019/06/answering/)." in bundle   # its new URL
    # Others are escaped, so the page shows them as written (was: left unescaped).
    assert "{{</* newsletter */>}}" in bundle and "shortcodes left as text: newsletter" in output
    # The bundle's photo sits beside the post's new URL, so `photo.jpg` still finds it.
    assert (site / "content/2019/07/bundle/photo.jpg").read_bytes() == \
        (SOURCE / "content/posts/bundle/photo.jpg").read_bytes()
    assert (site / "content/images/logo.png").is_file()
    assert "content/posts/_index.md: a list page" in output


def test_permalinks_and_aliases_get_redirects_and_the_site_builds(imported):
    site, _store, _output = imported
    assert redirect_target((site / "content/blog/2019/06/answering/index.html").read_text()) == POST
    assert redirect_target((site / "content/old-answering/index.html").read_text()) == POST
    assert redirect_target((site / "content/blog/2019/07/a-bundle/index.html").read_text()) == "/2019/07/bundle/"
    assert not (site / "content/about/index.html").exists()
    report = build(load_config(site), BuildOptions(now=NOW))
    assert report.warnings == []
    public = site / "public"
    assert (public / "2019/07/bundle/photo.jpg").is_file() and (public / "2019/07/bundle/index.html").is_file()
    assert (public / "old-answering/index.html").is_file()
    assert not (public / "2019/08").exists()
    answering = (public / "2019/06/answering/index.html").read_text(encoding="utf-8")
    assert '<img src="/images/logo.png" alt="Logo"' in answering and "Our logo</figcaption>" in answering
    assert "{{&lt; newsletter &gt;}}" in (public / "2019/07/bundle/index.html").read_text(encoding="utf-8")


def test_reimport_changes_nothing(imported):
    site, store, _output = imported
    files = snapshot(site)
    comments = [(c.uid, c.parent_id) for c in store.all_comments()]
    result = run("import", "hugo", str(SOURCE), "--site", str(site), "--author", "Ann Author")
    assert result.exit_code == 0
    assert "Nothing new" in result.output
    assert snapshot(site) == files
    assert [(c.uid, c.parent_id) for c in store.all_comments()] == comments


def test_closing_shortcodes_with_spaces_and_unpublished_pages(tmp_path):
    source = tmp_path / "hugo"
    files = {
        "config.toml": 'baseURL = "https://old.example/"\n',
        "content/posts/code.md": ("---\ntitle: Code\ndate: 2019-05-31\n---\n"
                                  "{{< highlight go >}}\nx := 1\n{{< / highlight >}}\n"),
        "content/posts/never.md": "---\ntitle: Never\ndate: 2019-05-31\nbuild:\n  render: never\n---\nX\n",
        "content/shared/index.md": "---\nheadless: true\n---\n",
        "content/shared/part.md": "---\ntitle: Part\n---\nA part.\n",
        "content/shared/logo.png": "png",
    }
    for rel, text in files.items():
        (source / rel).parent.mkdir(parents=True, exist_ok=True)
        (source / rel).write_text(text, encoding="utf-8")
    site = make_site(tmp_path / "site", f"sqlite:///{tmp_path / 'comments.sqlite3'}")
    result = run("import", "hugo", str(source), "--site", str(site))
    assert result.exit_code == 0, result.output
    assert "```go\nx := 1\n```" in (site / "content/posts/code.md").read_text(encoding="utf-8")
    assert not (site / "content/posts/never.md").exists()
    assert "content/posts/never.md: build: {render: never}; Hugo publishes no page" in result.output
    assert ("content/shared/: a headless bundle (headless: true): Hugo publishes no page for it; "
            "its resources (logo.png, part.md)") in result.output
    assert not list((site / "content").rglob("*part*")) and not list((site / "content").rglob("logo.png"))


def test_hugo_shortcodes_with_a_builtin_become_blogengine_calls():
    from blogengine.importers.hugo_text import shortcodes_to_markdown
    leftover: set[str] = set()
    body = shortcodes_to_markdown(
        '{{< figure src="/a.png" title="A &amp; B" attr="Ann" link="/b" >}}\n'
        '{{< youtube id="abc123DEF45" title="Say \\"hi\\"" >}}\n'
        '{{< gist spf13 7896402 "img.html" >}}\n'
        '{{% details summary="More" open=true %}}\nInner\n{{% /details %}}\n'
        '{{< newsletter list="x" >}} and {{</* kept */>}}\n', leftover)
    assert body.splitlines() == [
        '{{< figure src="/a.png" alt="A & B" caption="A & B" credit="Ann" link="/b" >}}',
        '{{< video youtube="abc123DEF45" title="Say \\"hi\\"" >}}',
        '{{< gist "spf13" "7896402" "img.html" >}}',
        '{{< details summary="More" open="true" >}}', "Inner", "{{< /details >}}",
        '{{</* newsletter list="x" */>}} and {{</* kept */>}}']
    assert leftover == {"newsletter"}
