"""Front matter: safe YAML, required fields, dates in the site time zone, errors with file:line."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from blogengine.errors import ContentError
from blogengine.load import load_sources
from blogengine.markup import make_markdown
from blogengine.parse import Document, parse_document

PARIS = ZoneInfo("Europe/Paris")


def parse_file(tmp_path: Path, text: str, rel: str = "posts/x.md",
               tz: ZoneInfo = PARIS) -> Document:
    """Write one file under content/, load it and parse it as the build does."""
    path = tmp_path / "content" / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    loaded = load_sources(tmp_path / "content")
    assert not loaded.errors
    [source] = loaded.sources
    return parse_document(source, make_markdown(), tz)


def parse_error(tmp_path: Path, text: str, rel: str = "posts/x.md") -> ContentError:
    with pytest.raises(ContentError) as info:
        parse_file(tmp_path, text, rel)
    return info.value


def meta(tmp_path: Path, *lines: str, rel: str = "posts/x.md", tz: ZoneInfo = PARIS):
    return parse_file(tmp_path, "---\n" + "\n".join(lines) + "\n---\n\nBody.\n", rel, tz).meta


# --- required fields ------------------------------------------------------------------------

def test_front_matter_requires_title(tmp_path):
    error = parse_error(tmp_path, "---\ndate: 2024-05-01\n---\n\nBody.\n")
    assert error.message.startswith("title: missing")
    assert str(error).startswith("content/posts/x.md:1: ")


def test_front_matter_empty_title_names_its_line(tmp_path):
    error = parse_error(tmp_path, "---\ndate: 2024-05-01\ntitle: ''\n---\n\nBody.\n")
    assert error.message.startswith("title: missing")
    assert (str(error.path), error.line) == ("content/posts/x.md", 3)


def test_front_matter_title_must_be_text(tmp_path):
    error = parse_error(tmp_path, "---\ntitle: [a, b]\ndate: 2024-05-01\n---\n")
    assert error.message.startswith("title: must be text")
    assert error.line == 2


def test_front_matter_requires_date_for_posts(tmp_path):
    error = parse_error(tmp_path, "---\ntitle: Hello\n---\n\nBody.\n")
    assert error.message.startswith("date: missing")
    assert str(error.path) == "content/posts/x.md"


def test_front_matter_page_needs_no_date(tmp_path):
    doc = parse_file(tmp_path, "---\ntitle: About\n---\n\nMe.\n", rel="pages/about.md")
    assert doc.kind == "page"
    assert doc.meta.title == "About"
    assert doc.meta.date is None


def test_front_matter_rejects_impossible_date_naming_file_and_line(tmp_path):
    error = parse_error(tmp_path, "---\ntitle: Hello\ndate: 2024-13-01\n---\n\nBody.\n",
                        rel="posts/hello.md")
    assert str(error) == ('content/posts/hello.md:3: date: "2024-13-01" is not a valid date '
                          "(expected YYYY-MM-DD or YYYY-MM-DD HH:MM)")


def test_front_matter_rejects_impossible_updated_date(tmp_path):
    error = parse_error(tmp_path,
                        "---\ntitle: Hello\ndate: 2024-02-01\nupdated: 2024-02-30\n---\n")
    assert error.message.startswith('updated: "2024-02-30" is not a valid date')
    assert error.line == 4


def test_front_matter_rejects_date_of_wrong_type(tmp_path):
    error = parse_error(tmp_path, "---\ntitle: Hello\ndate: [2024, 5, 1]\n---\n")
    assert error.message.startswith("date: must be a date")
    assert error.line == 3


# --- safe YAML ------------------------------------------------------------------------------

ALIAS_BOMB = """\
---
title: Boom
date: 2024-05-01
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
---

Body.
"""


def test_front_matter_refuses_yaml_alias_bomb(tmp_path):
    error = parse_error(tmp_path, ALIAS_BOMB)
    assert "aliases" in error.message
    assert (str(error.path), error.line) == ("content/posts/x.md", 5)   # the first *a


def test_front_matter_refuses_even_a_single_alias(tmp_path):
    error = parse_error(tmp_path, "---\ntitle: &t Hello\ndate: 2024-05-01\nsummary: *t\n---\n")
    assert "aliases" in error.message
    assert error.line == 4


@pytest.mark.parametrize("tagged", [
    "!!python/object/apply:os.system ['touch {marker}']",
    "!!python/object/new:os.system ['touch {marker}']",
    "!!python/name:os.system",
    "!!python/object:builtins.dict {{}}",
    "!custom thing",
])
def test_front_matter_refuses_object_tags(tmp_path, tagged):
    marker = tmp_path / "PWNED"
    text = f"---\ntitle: Hello\ndate: 2024-05-01\nextra: {tagged.format(marker=marker)}\n---\n"
    error = parse_error(tmp_path, text)
    assert error.message.startswith("invalid YAML front matter")
    assert error.line == 4
    assert not marker.exists()


def test_front_matter_reports_broken_yaml_with_line(tmp_path):
    error = parse_error(tmp_path, "---\ntitle: Hello\ndate: 2024-05-01\nsummary: a: b\n---\n")
    # libyaml and PyYAML's own parser word this slightly differently
    assert error.message.startswith("invalid YAML front matter: mapping values are not allowed")
    assert (str(error.path), error.line) == ("content/posts/x.md", 4)


def test_front_matter_rejects_a_list_instead_of_a_mapping(tmp_path):
    error = parse_error(tmp_path, "---\n- title\n- date\n---\n")
    assert "must be a mapping" in error.message
    assert error.line == 2


def test_front_matter_rejects_empty_front_matter(tmp_path):
    error = parse_error(tmp_path, "---\n---\n\nBody.\n")
    assert "empty" in error.message
    assert str(error.path) == "content/posts/x.md"


def test_front_matter_never_closed_names_file_and_line(tmp_path):
    error = parse_error(tmp_path, "---\ntitle: Hello\ndate: 2024-05-01\n\nBody, no closing line.\n")
    assert "never closed" in error.message
    assert str(error).startswith("content/posts/x.md:1: ")


def test_front_matter_missing_entirely(tmp_path):
    error = parse_error(tmp_path, "# Just Markdown\n\nNo front matter.\n")
    assert "no front matter" in error.message
    assert error.line == 1


# --- dates ----------------------------------------------------------------------------------

def test_front_matter_date_only_is_midnight_in_site_timezone(tmp_path):
    when = meta(tmp_path, "title: T", "date: 2024-05-01").date
    assert when == datetime(2024, 5, 1, 0, 0, tzinfo=PARIS)
    assert when.utcoffset() == timedelta(hours=2)


def test_front_matter_quoted_date_equals_bare_date(tmp_path):
    bare = meta(tmp_path / "a", "title: T", "date: 2024-05-01").date
    quoted = meta(tmp_path / "b", "title: T", "date: '2024-05-01'").date
    assert bare == quoted


@pytest.mark.parametrize("value", ["2024-05-01 10:30", "2024-05-01T10:30:00", "2024-05-01 10:30:00"])
def test_front_matter_datetime_without_offset_is_in_site_timezone(tmp_path, value):
    when = meta(tmp_path, "title: T", f"date: {value}").date
    assert when == datetime(2024, 5, 1, 10, 30, tzinfo=PARIS)
    assert when.astimezone(timezone.utc) == datetime(2024, 5, 1, 8, 30, tzinfo=timezone.utc)


@pytest.mark.parametrize("value", ["2024-05-01T10:30:00+09:00", "2024-05-01 10:30:00 +09:00",
                                   "2024-05-01T01:30:00Z"])
def test_front_matter_datetime_with_offset_keeps_its_instant(tmp_path, value):
    when = meta(tmp_path, "title: T", f"date: {value}").date
    assert when.astimezone(timezone.utc) == datetime(2024, 5, 1, 1, 30, tzinfo=timezone.utc)


def test_front_matter_winter_date_uses_winter_offset(tmp_path):
    when = meta(tmp_path, "title: T", "date: 2024-01-15 09:00").date
    assert when.utcoffset() == timedelta(hours=1)


def test_front_matter_reads_updated(tmp_path):
    fm = meta(tmp_path, "title: T", "date: 2024-05-01", "updated: 2024-06-02 18:00")
    assert fm.updated == datetime(2024, 6, 2, 18, 0, tzinfo=PARIS)


def test_front_matter_updated_defaults_to_none(tmp_path):
    assert meta(tmp_path, "title: T", "date: 2024-05-01").updated is None


# --- tags, slug, flags, other fields --------------------------------------------------------

def test_front_matter_tags_list_and_comma_string_agree(tmp_path):
    as_list = meta(tmp_path / "a", "title: T", "date: 2024-05-01",
                   "tags: [python, 'web dev', python]").tags
    as_string = meta(tmp_path / "b", "title: T", "date: 2024-05-01",
                     "tags: 'python, web dev,, python '").tags
    assert as_list == ("python", "web dev")
    assert as_string == ("python", "web dev")


def test_front_matter_single_tag_string(tmp_path):
    assert meta(tmp_path, "title: T", "date: 2024-05-01", "tags: notes").tags == ("notes",)


def test_front_matter_numeric_tag_becomes_text(tmp_path):
    assert meta(tmp_path, "title: T", "date: 2024-05-01", "tags: [2024, x]").tags == ("2024", "x")


@pytest.mark.parametrize("value", ["{a: 1}", "[[a, b]]", "[{a: 1}]", "[true]"])
def test_front_matter_rejects_tags_that_are_not_text(tmp_path, value):
    error = parse_error(tmp_path, f"---\ntitle: T\ndate: 2024-05-01\ntags: {value}\n---\n")
    assert error.message.startswith("tags:")
    assert error.line == 4


@pytest.mark.parametrize("slug", ["a/b", "../escape", "has space", "/abs", ".hidden"])
def test_front_matter_rejects_bad_slug(tmp_path, slug):
    error = parse_error(tmp_path, f"---\ntitle: T\ndate: 2024-05-01\nslug: '{slug}'\n---\n")
    assert error.message.startswith("slug:")
    assert (str(error.path), error.line) == ("content/posts/x.md", 4)


def test_front_matter_accepts_plain_slug(tmp_path):
    assert meta(tmp_path, "title: T", "date: 2024-05-01", "slug: my-post_2.0").slug == "my-post_2.0"


def test_front_matter_reads_draft_and_comments(tmp_path):
    fm = meta(tmp_path, "title: T", "date: 2024-05-01", "draft: true", "comments: false")
    assert fm.draft is True
    assert fm.comments is False


def test_front_matter_draft_and_comments_defaults(tmp_path):
    fm = meta(tmp_path, "title: T", "date: 2024-05-01")
    assert fm.draft is False
    assert fm.comments is None   # unset: the site's setting decides


@pytest.mark.parametrize("key", ["draft", "comments"])
def test_front_matter_rejects_non_boolean_flags(tmp_path, key):
    error = parse_error(tmp_path, f"---\ntitle: T\ndate: 2024-05-01\n{key}: maybe\n---\n")
    assert error.message.startswith(f"{key}: must be true or false")
    assert error.line == 4


def test_front_matter_reads_text_fields(tmp_path):
    fm = meta(tmp_path, "title: '  Spaced  '", "date: 2024-05-01", "category: Essays",
              "summary: A short one.", "author: Bo", "image: /img/x.png")
    assert fm.title == "Spaced"
    assert (fm.category, fm.summary, fm.author, fm.image) == ("Essays", "A short one.", "Bo",
                                                              "/img/x.png")


def test_front_matter_keeps_unknown_fields_in_extra(tmp_path):
    fm = meta(tmp_path, "title: T", "date: 2024-05-01", "layout: wide", "rating: 5",
              "series: {name: Intro, part: 2}")
    assert fm.extra == {"layout": "wide", "rating": 5, "series": {"name": "Intro", "part": 2}}


def test_front_matter_extra_dates_stay_text(tmp_path):
    # Implicit YAML timestamps are off: only `date` and `updated` are parsed as dates.
    assert meta(tmp_path, "title: T", "date: 2024-05-01", "event: 2024-06-01").extra == \
        {"event": "2024-06-01"}


# --- the two YAML mistakes everyone makes -------------------------------------------------------

def test_front_matter_unclosed_list_is_reported_on_the_line_that_opened_it(tmp_path):
    error = parse_error(tmp_path, "---\ntitle: T\ndate: 2024-01-01\ntags: [a, b\n---\nBody\n")
    assert error.line == 4
    assert str(error) == ("content/posts/x.md:4: invalid YAML front matter: the list opened with "
                          "'[' is never closed (expected ',' or ']'; end it with ']' on this line)")


def test_front_matter_unclosed_list_followed_by_keys_names_its_own_line(tmp_path):
    error = parse_error(tmp_path, "---\ntitle: T\ntags: [a, b\ndate: 2024-01-01\n---\nBody\n")
    assert error.line == 3
    assert "the list opened with '[' is never closed" in error.message


def test_front_matter_colon_in_a_value_suggests_quoting_it(tmp_path):
    error = parse_error(tmp_path, "---\ntitle: Colons: are tricky\ndate: 2024-01-01\n---\nBody\n")
    assert error.line == 2
    assert error.message.endswith(
        "the value of 'title' holds ': ', which YAML reads as another key; put the value in "
        'quotes: title: "Colons: are tricky"')


def test_front_matter_reads_the_fediverse_announcement(tmp_path):
    fm = meta(tmp_path, "title: T", "date: 2024-05-01", "fediverse: https://mastodon.example/@ann/123")
    assert fm.fediverse == "https://mastodon.example/@ann/123"
    assert meta(tmp_path / "other", "title: T", "date: 2024-05-01").fediverse is None


@pytest.mark.parametrize("value", ["mastodon.example/@ann/123", "javascript:alert(1)", "ftp://m.example/1",
                                   "https://", "'https://m.example/@a/1 x'", "[https://m.example/@a/1]"])
def test_front_matter_rejects_a_fediverse_value_that_is_not_a_url(tmp_path, value):
    error = parse_error(tmp_path, f"---\ntitle: T\ndate: 2024-05-01\nfediverse: {value}\n---\n")
    assert error.message.startswith("fediverse:")
    assert (str(error.path), error.line) == ("content/posts/x.md", 4)
