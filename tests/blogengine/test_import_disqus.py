"""`blogengine import disqus`: threads matched to posts by URL path (or an imported redirect),
nested comments, deleted and spam skipped, moderators' comments as the author's."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from blogengine.config import load_config
from blogengine.importers.redirects import redirect_page
from comments_server.models import State, Status
from tests.support.importing import DATA, LATER, depth, make_site, run, snapshot, storage


EXPORT = DATA / "disqus.xml"
ANSWERING = "/2019/05/answering/"
OLD_STYLE = "/2019/05/old-style/"


@pytest.fixture
def site(tmp_path, db_url):  # noqa: F811
    root = make_site(tmp_path / "site", db_url)
    (root / "content/posts/answering.md").write_text(
        "---\ntitle: On answering\nslug: answering\ndate: 2019-05-17 10:00\n---\n\nI answer.\n", encoding="utf-8")
    (root / "content/posts/old-style.md").write_text(
        "---\ntitle: Old style\nslug: old-style\ndate: 2019-05-20 10:00\n---\n\nOld.\n", encoding="utf-8")
    # What `blogengine import jekyll` leaves for a post whose URL changed.
    redirect = root / "content/2019/05/20/old-style.html"
    redirect.parent.mkdir(parents=True)
    redirect.write_text(redirect_page(load_config(root), OLD_STYLE, "Old style"), encoding="utf-8")
    return root


@pytest.fixture
def imported(site, db_url):  # noqa: F811
    result = run("import", "disqus", str(EXPORT), "--site", str(site), "--moderator", "ann@example.com")
    assert result.exit_code == 0, result.output
    store = storage(db_url)
    yield site, store, result.output
    store.close()


def test_unanswered_queue_holds_exactly_the_reader_nobody_answered(imported):
    _site, store, _output = imported
    assert [(t.comment.thread, t.comment.author_name) for t in store.unanswered(LATER)] == [
        (ANSWERING, "Carol")]


def test_nesting_author_status_and_times_are_kept(imported):
    _site, store, _output = imported
    comments = store.list_thread(ANSWERING, statuses=tuple(Status))
    by_id = {c.id: c for c in comments}
    shape = [(c.author_name, c.is_author, depth(c, by_id), c.body) for c in comments]
    assert shape[:4] == [("Bob Reader", False, 0, "Do you answer every comment?"),
                         ("Ann A.", True, 1, "Always."),
                         ("Bob Reader", False, 2, "Even **now**?"),
                         ("Ann A.", True, 3, "Even now.")]
    assert comments[0].created_at == datetime(2019, 5, 17, 9, 0, tzinfo=UTC)
    states = {t.comment.uid: t.state for t in store.conversation()}
    assert states["disqus:annsblog:2001"] == State.ANSWERED
    assert states["disqus:annsblog:2007"] == State.ANSWERED


def test_deleted_comment_with_replies_is_a_placeholder_and_spam_is_skipped(imported):
    _site, store, output = imported
    comments = {c.uid: c for c in store.all_comments()}
    placeholder = comments["disqus:annsblog:2006"]
    assert placeholder.status == Status.DELETED and placeholder.body == "" and placeholder.author_name == ""
    assert comments["disqus:annsblog:2007"].parent_id == placeholder.id
    for gone in ("2009", "2010", "2013", "2014"):   # spam, deleted, no such post, deleted thread
        assert f"disqus:annsblog:{gone}" not in comments
    assert "1 comment (spam)" in output and "1 comment (deleted)" in output
    assert "1 comment (thread deleted on Disqus)" in output
    assert "1 comment (no post at their thread's URL)" in output
    assert "1 comment(s) of the thread https://old.example.com/2018/gone/: no post at /2018/gone/" in output


def test_thread_found_through_an_imported_redirect_and_flat_reply_rethreaded(imported):
    _site, store, output = imported
    gina, answer = store.list_thread(OLD_STYLE)
    assert answer.is_author and answer.parent_id == gina.id
    assert f"{OLD_STYLE}: Ann A.'s comment of 2019-05-20 10:00 now answers Gina's" in output


def test_without_moderators_nobody_is_the_author(site, db_url):  # noqa: F811
    assert run("import", "disqus", str(EXPORT), "--site", str(site)).exit_code == 0
    store = storage(db_url)
    try:
        assert not any(c.is_author for c in store.all_comments())
    finally:
        store.close()


def test_moderator_matched_by_username_or_name_case_insensitively(site, db_url):  # noqa: F811
    assert run("import", "disqus", str(EXPORT), "--site", str(site), "-m", "ANNWRITES").exit_code == 0
    store = storage(db_url)
    try:
        authors = {c.uid for c in store.all_comments() if c.is_author}
        assert authors == {"disqus:annsblog:2002", "disqus:annsblog:2004", "disqus:annsblog:2008",
                           "disqus:annsblog:2012"}
    finally:
        store.close()


def test_reimport_changes_nothing(imported):
    site, store, _output = imported
    files = snapshot(site)
    before = [(c.uid, c.parent_id, c.is_author) for c in store.all_comments()]
    result = run("import", "disqus", str(EXPORT), "--site", str(site), "--moderator", "ann@example.com")
    assert result.exit_code == 0
    assert "0 added, 10 already there" in result.output
    assert [(c.uid, c.parent_id, c.is_author) for c in store.all_comments()] == before
    assert snapshot(site) == files
