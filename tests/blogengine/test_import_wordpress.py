"""`blogengine import wordpress`: a WXR export with a threaded conversation, imported into a site
whose comment database is SQLite or PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from blogengine.build import BuildOptions, build
from blogengine.config import load_config
from comments_server.models import State, Status
from tests.support.site import NOW
from tests.support.importing import DATA, LATER, depth, make_site, read_front, run, snapshot, storage


WXR = DATA / "wordpress.xml"
POST = "/2019/06/why-i-answer/"      # 23:30 UTC on May 31 is June 1 in Paris
GUEST_POST = "/2020/01/a-guest-writes/"


@pytest.fixture
def site(tmp_path, db_url):  # noqa: F811
    return make_site(tmp_path / "site", db_url)


@pytest.fixture
def imported(site, db_url):  # noqa: F811
    result = run("import", "wordpress", str(WXR), "--site", str(site))
    assert result.exit_code == 0, result.output
    store = storage(db_url)
    yield site, store, result.output
    store.close()


def test_unanswered_queue_holds_exactly_the_reader_nobody_answered(imported):
    _site, store, _output = imported
    queue = store.unanswered(LATER)
    assert [(t.comment.thread, t.comment.author_name, t.comment.body) for t in queue] == [
        (POST, "Carol", "And what about spam comments?")]


def test_conversation_keeps_nesting_author_status_and_dates(imported):
    _site, store, _output = imported
    comments = store.list_thread(POST, statuses=tuple(Status))
    by_id = {c.id: c for c in comments}
    chain = {c.body: (c.author_name, c.is_author, depth(c, by_id)) for c in comments}
    assert chain["Do you really answer **every** one?\n\nEven on old posts?"] == ("Bob Reader", False, 0)
    assert chain["Yes, every single one."] == ("Ann Author", True, 1)
    assert chain["Even the rude ones?"] == ("Bob Reader", False, 2)
    assert chain["Especially those."] == ("Ann Author", True, 3)
    first = next(c for c in comments if c.body.startswith("Do you really"))
    assert first.created_at == datetime(2019, 6, 1, 8, 0, tzinfo=UTC)
    assert first.author_url == "https://bob.example.net/" and first.author_email == "bob@example.net"
    states = {t.comment.author_name + ": " + " ".join(t.comment.body.split()[:3]): t.state
              for t in store.conversation() if t.comment.thread == POST}
    assert states["Bob Reader: Do you really"] == State.ANSWERED
    assert states["Bob Reader: Even the rude"] == State.ANSWERED
    assert states["Dave: I never get"] == State.ANSWERED
    assert states["Erin: Waiting for moderation,"] == State.HELD
    # Spam and trash were never imported; the pingback is a mention, not a comment.
    names = {c.author_name for c in store.all_comments()}
    assert not names & {"Cheap Pills", "Troll", "Other Blog » On answering"}


def test_flat_author_reply_naming_a_reader_is_threaded_under_them_and_reported(imported):
    _site, store, output = imported
    comments = store.list_thread(POST)
    dave = next(c for c in comments if c.author_name == "Dave")
    answer = next(c for c in comments if c.body.startswith("Dave, I think"))
    assert answer.parent_id == dave.id and answer.is_author
    guest = store.list_thread(GUEST_POST)
    frank = next(c for c in guest if c.author_name == "Frank")
    assert next(c for c in guest if c.body.startswith("@Frank")).parent_id == frank.id
    assert "re-threaded 2 flat author replies:" in output
    assert f"{POST}: Ann Author's comment of 2019-06-02 12:00 now answers Dave's of 2019-06-02 08:00" in output


def test_pingback_is_stored_as_a_mention(imported):
    _site, store, _output = imported
    mentions = store.mentions.list_thread(POST)
    assert [(m.kind, m.source_url, m.title) for m in mentions] == [
        ("pingback", "https://other.example/on-answering/", "Other Blog » On answering")]
    assert mentions[0].excerpt == "[…] Ann explains why she answers […]"


def test_report_counts_what_was_done_and_skipped(imported):
    _site, _store, output = imported
    assert "3 posts written" in output and "2 pages written" in output
    assert "10 comments (4 by the author, 1 held for moderation): 10 added" in output
    assert "1 mention added" in output
    for skipped in ("1 comment (spam)", "1 comment (trash)", "1 post (trash)",
                    "1 comment (on a skipped post)", "1 item of type nav_menu_item (not a post or page)"):
        assert skipped in output
    assert "not carried over: [contact-form-7] left as text" in output


def test_posts_and_pages_have_front_matter_in_the_site_timezone(imported):
    site, _store, _output = imported
    post = (site / "content/posts/why-i-answer.md").read_text(encoding="utf-8")
    assert read_front(site / "content/posts/why-i-answer.md") == (
        "title: Why I answer every comment\n"
        "date: '2019-06-01 01:30:00+02:00'\n"
        "slug: why-i-answer\n"
        "author: Ann Author\n"
        "category: Essays\n"
        "tags: [comments, etiquette]\n"
        "summary: Why every comment deserves an answer.\n")
    # Classic paragraphs and line breaks, [caption], [code], links to attachments kept.
    assert "A blog is a conversation, *not* a broadcast.\\\nSo I answer." in post
    # [caption] is a figure, as WordPress shows it: the linked image and its caption.
    assert ('<figure><a href="https://old.example.com/wp-content/uploads/2019/05/cat.jpg">'
            '<img alt="A sleeping cat" height="200" '
            'src="https://old.example.com/wp-content/uploads/2019/05/cat-300x200.jpg" width="300"/></a>'
            "<figcaption>My cat, who answers nobody</figcaption></figure>") in post
    assert '```python\ndef answer(comment):\n    return "Thank you, " + comment.author\n```' in post
    assert '[contact-form-7 id="3" title="Contact"]' in post
    assert "Read more on [the about page](/about/)." in post   # links to old pages follow them
    draft = read_front(site / "content/posts/unfinished-thoughts.md")
    # No GMT date for a draft: its local date is read in the site's zone.
    assert "date: '2019-07-01 10:00:00+02:00'" in draft and "draft: true" in draft
    assert "author: Gina Guest" in read_front(site / "content/posts/a-guest-writes.md")
    about = (site / "content/pages/about.md").read_text(encoding="utf-8")
    assert "I write about *conversations*.\n\n## Elsewhere\n\n- Mastodon\n- Email" in about
    assert "wp:paragraph" not in about
    assert (site / "content/pages/about/contact.md").is_file()


def test_changed_urls_get_redirect_pages_and_the_site_builds(imported):
    site, _store, _output = imported
    redirect = (site / "content/2019/05/31/why-i-answer/index.html").read_text(encoding="utf-8")
    assert '<meta http-equiv="refresh" content="0; url=/2019/06/why-i-answer/">' in redirect
    assert '<link rel="canonical" href="https://new.example.com/2019/06/why-i-answer/">' in redirect
    # Pages kept their URLs: no redirect needed.
    assert not (site / "content/about/index.html").exists()
    report = build(load_config(site), BuildOptions(now=NOW))
    assert report.warnings == []
    public = site / "public"
    page = (public / "2019/06/why-i-answer/index.html").read_text(encoding="utf-8")
    assert "Especially those." in page        # the conversation is baked into the page
    assert (public / "2019/05/31/why-i-answer/index.html").is_file()
    assert (public / "about/contact/index.html").is_file()
    assert not (public / "2019/07").exists()  # the draft is not published


def test_reimport_changes_nothing(imported, db_url):  # noqa: F811
    site, store, _output = imported
    before_files = snapshot(site)
    before = [(c.uid, c.parent_id, c.status) for c in store.all_comments()]
    result = run("import", "wordpress", str(WXR), "--site", str(site))
    assert result.exit_code == 0, result.output
    assert snapshot(site) == before_files
    assert [(c.uid, c.parent_id, c.status) for c in store.all_comments()] == before
    assert len(store.mentions.list_thread(POST)) == 1
    assert "0 added, 10 already there" in result.output
    assert "Nothing new: everything in it was already imported." in result.output


def test_comment_uids_name_the_old_site_and_comment(imported):
    _site, store, _output = imported
    assert sorted(c.uid for c in store.all_comments())[:2] == ["wordpress:old.example.com:101",
                                                               "wordpress:old.example.com:102"]


def test_a_file_edited_after_import_is_kept(imported):
    site, _store, _output = imported
    path = site / "content/posts/why-i-answer.md"
    path.write_text(path.read_text(encoding="utf-8") + "\nAn afterword.\n", encoding="utf-8")
    result = run("import", "wordpress", str(WXR), "--site", str(site))
    assert result.exit_code == 0
    assert "kept content/posts/why-i-answer.md: a different file is already there" in result.output
    assert path.read_text(encoding="utf-8").endswith("An afterword.\n")


def test_uploads_folder_makes_attachments_local(tmp_path):
    site = make_site(tmp_path / "site", f"sqlite:///{tmp_path / 'comments.sqlite3'}")
    uploads = DATA / "wordpress-uploads"
    args = ("import", "wordpress", str(WXR), "--site", str(site), "--uploads", str(uploads))
    result = run(*args)
    assert result.exit_code == 0, result.output
    assert "2 assets written" in result.output
    post = (site / "content/posts/why-i-answer.md").read_text(encoding="utf-8")
    assert ('<a href="/wp-content/uploads/2019/05/cat.jpg"><img alt="A sleeping cat" height="200" '
            'src="/wp-content/uploads/2019/05/cat-300x200.jpg"') in post
    for name in ("cat.jpg", "cat-300x200.jpg"):
        assert (site / "content/wp-content/uploads/2019/05" / name).read_bytes() == \
            (uploads / "2019/05" / name).read_bytes()
    files = snapshot(site)
    assert "Nothing new" in run(*args).output
    assert snapshot(site) == files
    build(load_config(site), BuildOptions(now=NOW))
    assert (site / "public/wp-content/uploads/2019/05/cat.jpg").is_file()


def test_missing_uploads_folder_is_one_line(tmp_path):
    site = make_site(tmp_path / "site", f"sqlite:///{tmp_path / 'comments.sqlite3'}")
    result = run("import", "wordpress", str(WXR), "--site", str(site), "--uploads", str(tmp_path / "nope"))
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"error: {tmp_path / 'nope'}: no such folder (expected a copy of wp-content/uploads)"]
    assert not (site / "content/posts/why-i-answer.md").exists()


def test_dashboard_api_queue_after_import_and_build(imported, db_url):  # noqa: F811
    from comments_server.app import create_app
    from comments_server.services import services

    site, _store, _output = imported
    build(load_config(site), BuildOptions(now=NOW))
    token = "import-test-author-token-0123456789"
    # No jobs thread: started by the first request, it would outlive the test and its database
    # (and log a traceback every 30 s into whatever test runs next).
    app = create_app({"SECRET_KEY": "import-test-secret-0123456789-abcdefghij", "DATABASE_URL": db_url,
                      "THREADS_MANIFEST": str(site / "public/threads.json"), "AUTHOR_TOKENS": [token],
                      "JOBS_IN_BACKGROUND": False})
    try:
        response = app.test_client().get("/api/unanswered", headers={"Authorization": f"Bearer {token}"})
    finally:
        services(app).storage.close()
    assert response.status_code == 200, response.get_data(as_text=True)
    queue = response.get_json()["comments"]
    assert [(item["thread"], item["author_name"], item["title"]) for item in queue] == [
        (POST, "Carol", "Why I answer every comment")]


# Reading exports as WordPress and WordPress.com write them (no database needed) --------------

def _read(tmp_path, items, channel="", ns="https://wordpress.org/export/1.2/", head=""):
    from blogengine.importers.wordpress import read_wordpress

    path = tmp_path / "export.xml"
    path.write_text(
        f'<?xml version="1.0" encoding="UTF-8"?>\n{head}<rss version="2.0" xmlns:wp="{ns}" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        f'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>T</title>{channel}'
        f'{items}</channel></rss>', encoding="utf-8")
    site = make_site(tmp_path / "site", f"sqlite:///{tmp_path / 'comments.sqlite3'}")
    return read_wordpress(path, load_config(site))


def _item(post_id, extra="", kind="post", title=None):
    return (f"<item><title>{title or f'Item {post_id}'}</title><wp:post_id>{post_id}</wp:post_id>"
            f"<wp:post_type>{kind}</wp:post_type><wp:status>publish</wp:status>"
            f"<content:encoded>Some words</content:encoded>{extra}</item>")


@pytest.mark.parametrize("ns", ["https://wordpress.org/export/1.2/", "http://wordpress.org/export/1.0/",
                                "http://wordpress.org/export/1.1/"])
def test_every_wxr_namespace_is_read(tmp_path, ns):
    plan = _read(tmp_path, _item(1, "<wp:post_date>2020-01-02 03:04:05</wp:post_date>"), ns=ns)
    assert [e.front["title"] for e in plan.entries] == ["Item 1"]


def test_an_item_without_post_date_takes_the_best_date_there_is_and_says_which(tmp_path):
    plan = _read(tmp_path, "".join([
        _item(1, "<wp:post_date>2020-01-02 03:04:05</wp:post_date>"),
        _item(2, "<pubDate>Wed, 05 Jun 2024 16:04:48 +0000</pubDate>"),
        _item(3, "<pubDate>Mon, 30 Nov -0001 00:00:00 +0000</pubDate>"
                 "<wp:post_modified_gmt>2021-03-04 05:06:07</wp:post_modified_gmt>"),
        _item(4)]), channel="<pubDate>Tue, 27 Jan 2015 14:56:57 +0000</pubDate>")
    dates = {e.label: e.front["date"] for e in plan.entries}
    assert dates == {"post 1 'Item 1'": "2020-01-02 03:04:05+01:00",
                     "post 2 'Item 2'": "2024-06-05 18:04:48+02:00",
                     "post 3 'Item 3'": "2021-03-04 06:06:07+01:00",
                     "post 4 'Item 4'": "2015-01-27 15:56:57+01:00"}
    assert plan.notes == [
        "post 2 'Item 2': no usable wp:post_date; dated 2024-06-05 18:04 from its RSS pubDate",
        "post 3 'Item 3': no usable wp:post_date; dated 2021-03-04 06:06 from its wp:post_modified",
        "post 4 'Item 4': no usable wp:post_date; dated 2015-01-27 15:56 from the export's pubDate"]


def test_an_export_without_any_date_uses_its_creation_comment(tmp_path):
    head = '<!-- generator="WordPress/6.5.4" created="2024-06-10 12:29" -->\n'
    plan = _read(tmp_path, _item(1), head=head)
    assert plan.entries[0].front["date"] == "2024-06-10 14:29:00+02:00"
    assert plan.notes == ["post 1 'Item 1': no usable wp:post_date; dated 2024-06-10 14:29 from "
                          "the export's creation date"]


def test_an_item_without_type_is_a_skip_line_naming_it(tmp_path):
    plan = _read(tmp_path, "<item><title>Lost</title><wp:post_id>7</wp:post_id></item>"
                 + _item(1, "<wp:post_date>2020-01-02 03:04:05</wp:post_date>"))
    assert len(plan.entries) == 1
    assert plan.skipped["items (no wp:post_type)"] == 1
    assert plan.skipped_details == ["item 7 'Lost': skipped (no wp:post_type)"]


_ANN = ("<wp:author><wp:author_login>ann</wp:author_login><wp:author_email>Ann@Example.com"
        "</wp:author_email><wp:author_display_name>Ann Author</wp:author_display_name></wp:author>")


def _comment(cid, author, email, user_id="0"):
    return (f"<wp:comment><wp:comment_id>{cid}</wp:comment_id><wp:comment_author>{author}"
            f"</wp:comment_author><wp:comment_author_email>{email}</wp:comment_author_email>"
            f"<wp:comment_date_gmt>2020-01-03 00:00:00</wp:comment_date_gmt>"
            f"<wp:comment_content>Hi {cid}</wp:comment_content><wp:comment_approved>1"
            f"</wp:comment_approved><wp:comment_parent>0</wp:comment_parent>"
            f"<wp:comment_user_id>{user_id}</wp:comment_user_id></wp:comment>")


def test_author_comments_are_known_without_author_ids(tmp_path):
    """WordPress.com exports have no wp:author_id: the author's email, or a logged-in comment
    under the author's name, marks the author's comments; a logged-out namesake is a reader."""
    comments = (_comment(1, "Ann", "ann@example.com") + _comment(2, "Ann Author", "", "42")
                + _comment(3, "Ann Author", "fan@example.net") + _comment(4, "Bob", "bob@example.net", "7"))
    plan = _read(tmp_path, _item(1, "<dc:creator>ann</dc:creator><wp:post_date>2020-01-02 03:04:05"
                                    "</wp:post_date>" + comments), channel=_ANN)
    assert {c.body: c.is_author for c in plan.entries[0].comments} == {
        "Hi 1": True, "Hi 2": True, "Hi 3": False, "Hi 4": False}


def test_with_an_author_id_only_the_users_own_comments_are_the_authors(tmp_path):
    channel = _ANN.replace("<wp:author_login>", "<wp:author_id>42</wp:author_id><wp:author_login>")
    comments = _comment(1, "Ann", "ann@example.com") + _comment(2, "Ann", "ann@example.com", "42")
    plan = _read(tmp_path, _item(1, "<dc:creator>ann</dc:creator><wp:post_date>2020-01-02 03:04:05"
                                    "</wp:post_date>" + comments), channel=channel)
    assert {c.body: c.is_author for c in plan.entries[0].comments} == {"Hi 1": False, "Hi 2": True}


def test_a_parent_page_takes_the_slug_its_childrens_folder_gets(tmp_path):
    date = "<wp:post_date>2020-01-02 03:04:05</wp:post_date>"
    plan = _read(tmp_path, "".join([
        _item(1, date + "<wp:post_name>%ce%b5%cf%80%ce%af%cf%80%ce%b5%ce%b4%ce%bf-2</wp:post_name>",
              kind="page", title="Επίπεδο 2"),
        _item(2, date + "<wp:post_name>%ce%b5%cf%80%ce%af%cf%80%ce%b5%ce%b4%ce%bf-3</wp:post_name>"
                        "<wp:post_parent>1</wp:post_parent>", kind="page", title="Επίπεδο 3")]))
    assert {str(e.rel): e.front["slug"] for e in plan.entries} == {
        "pages/epipedo-2.md": "epipedo-2", "pages/epipedo-2/επίπεδο-3.md": "επίπεδο-3"}


def test_footnotes_post_meta_is_read_as_a_list():
    import xml.etree.ElementTree as ET

    from blogengine.importers.wordpress import _footnotes, _Item

    wp = "http://wordpress.org/export/1.2/"

    def item(value):
        return _Item(ET.fromstring(
            f'<item xmlns:wp="{wp}"><wp:postmeta><wp:meta_key>footnotes</wp:meta_key>'
            f"<wp:meta_value><![CDATA[{value}]]></wp:meta_value></wp:postmeta></item>"), wp)

    assert _footnotes(item('[{"id":"aa48","content":"A note"},{"id":"f51b","content":"Another"}]')) == [
        {"id": "aa48", "content": "A note"}, {"id": "f51b", "content": "Another"}]
    assert _footnotes(item("not json")) == [] and _footnotes(item('{"id": 1}')) == []
    assert _footnotes(_Item(ET.fromstring(f'<item xmlns:wp="{wp}"/>'), wp)) == []
