"""The flat-reply rule and the HTML conversion the importers share."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from blogengine.importers.html import wordpress_to_markdown
from blogengine.importers.plan import CommentItem
from blogengine.importers.rethread import rethread

T0 = datetime(2020, 1, 1, tzinfo=UTC)


def comment(uid: str, name: str, body: str, minutes: int, *, author: bool = False,
            parent: str | None = None) -> CommentItem:
    return CommentItem(uid=uid, parent_uid=parent, author_name=name, author_email=None,
                       author_url=None, is_author=author, body=body,
                       created_at=T0 + timedelta(minutes=minutes))


def parents(items: list[CommentItem]) -> dict[str, str | None]:
    ordered, _moves = rethread(items)
    return {c.uid: c.parent_uid for c in ordered}


@pytest.mark.parametrize("body", ["Bob, I think so.", "@Bob yes.", "**Bob**: yes.", "bob — indeed",
                                  "@bob: yes", "Bob Reader, thanks!"])
def test_author_reply_opening_with_a_reader_name_goes_under_their_latest_comment(body):
    items = [comment("r1", "Bob Reader" if "Reader" in body else "Bob", "First", 0),
             comment("r2", "Bob Reader" if "Reader" in body else "Bob", "Second", 5),
             comment("a1", "Ann", body, 10, author=True)]
    assert parents(items)["a1"] == "r2"


@pytest.mark.parametrize("body", ["Bobby, no.", "I agree with Bob.", "Thanks all!", "@Bobcat hi",
                                  "Bob is right"])
def test_other_openings_are_left_alone(body):
    items = [comment("r1", "Bob", "Hi", 0), comment("a1", "Ann", body, 10, author=True)]
    assert parents(items)["a1"] is None


def test_only_earlier_reader_comments_count_and_replies_keep_their_parent():
    items = [comment("a0", "Ann", "Carol, welcome.", 0, author=True),   # Carol writes later
             comment("r1", "Carol", "Hello", 5),
             comment("r2", "Dave", "Hi", 6),
             comment("a1", "Ann", "Dave, hi.", 7, author=True, parent="r1"),   # threaded already
             comment("a2", "Ann", "@Ann talking to myself", 8, author=True),   # authors are not readers
             comment("r3", "Eve", "Dave, I disagree.", 9)]                     # readers are not moved
    assert parents(items) == {"a0": None, "r1": None, "r2": None, "a1": "r1", "a2": None, "r3": None}


def test_a_first_name_shared_by_two_readers_is_not_enough():
    items = [comment("r1", "Dave Smith", "A", 0), comment("r2", "Dave Jones", "B", 1),
             comment("a1", "Ann", "Dave, which one?", 2, author=True),
             comment("a2", "Ann", "Dave Jones, you.", 3, author=True)]
    assert parents(items) == {"r1": None, "r2": None, "a1": None, "a2": "r2"}


def test_moves_are_reported_with_both_sides():
    _ordered, moves = rethread([comment("r1", "Bob", "Hi", 0),
                                comment("a1", "Ann", "Bob, hello", 1, author=True)])
    assert [(m.comment.uid, m.comment.parent_uid, m.reader.uid) for m in moves] == [("a1", "r1", "r1")]


def test_classic_wordpress_text_becomes_paragraphs_and_breaks():
    assert wordpress_to_markdown("One\ntwo\n\nThree <em>x</em>") == "One\\\ntwo\n\nThree *x*"


def test_shortcodes_become_markdown_or_stay_readable():
    names: set[str] = set()
    text = ('[audio mp3="https://a.example/x.mp3"][/audio]\n\n[youtube=https://youtu.be/abc]\n\n'
            '[embed]https://vimeo.com/1[/embed]\n\n[gallery]\n\n[pullquote]Said[/pullquote]')
    converted = wordpress_to_markdown(text, {}, [("https://o.example/p.jpg", "P")], names.add)
    # [audio] is a player (with a link for browsers without one), as WordPress shows it.
    assert converted == ('<figure><audio controls preload="metadata" src="https://a.example/x.mp3">'
                         '<a href="https://a.example/x.mp3">https://a.example/x.mp3</a></audio></figure>\n\n'
                         "<https://youtu.be/abc>\n\n<https://vimeo.com/1>\n\n"
                         "![P](https://o.example/p.jpg)\n\n[pullquote]Said[/pullquote]")
    assert names == {"[pullquote] left as text"}


def test_embedded_frames_become_links():
    assert wordpress_to_markdown('<p>Watch:</p><iframe src="https://www.youtube.com/embed/abc"></iframe>') == \
        "Watch:\n\n<https://www.youtube.com/embed/abc>"
