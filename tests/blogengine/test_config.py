"""Site configuration: blogengine.toml read into SiteConfig, defaults, and every kind of bad value."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from blogengine.config import (AuthorConfig, CommentsConfig, DeployConfig, FediverseConfig, ImagesConfig,
                               SearchConfig, SiteConfig, SocialCardsConfig, WebmentionConfig, check_permalink,
                               load_config)
from blogengine.errors import BlogError, BuildFailed, ConfigError
from tests.support.site import post, read_html


def write_config(root: Path, text: str | bytes) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    path = root / "blogengine.toml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return root


def config_errors(root: Path) -> list[BlogError]:
    """Load the config expecting failure; every error it reports, flattened."""
    with pytest.raises(BlogError) as info:
        load_config(root)
    error = info.value
    return list(error.errors) if isinstance(error, BuildFailed) else [error]


def only_error(root: Path) -> BlogError:
    errors = config_errors(root)
    assert len(errors) == 1, [str(e) for e in errors]
    assert isinstance(errors[0], ConfigError)
    return errors[0]


# --- defaults -------------------------------------------------------------------------------

EXPECTED_DEFAULTS = {
    "title": "Only a title",
    "description": "",
    "base_url": "http://localhost:8000/",
    "language": "en",
    "timezone": "UTC",
    "permalink": "/{year}/{month}/{slug}/",
    "page_permalink": "/{slug}/",
    "posts_per_page": 10,
    "theme": "default",
    "date_format": "%B %-d, %Y",
    "feed_items": 20,
    "related_posts": 3,
    "escape_html": False,
    "pygments_style": "default",
    "pygments_dark_style": "github-dark",
    "max_document_kib": 1024,
    "markdown_accelerator": True,
    "author": AuthorConfig(name="", email=""),
    "comments": CommentsConfig(enabled=True, url="", database_url="", server={}),
    "search": SearchConfig(enabled=True, comments=False),
    "social_cards": SocialCardsConfig(enabled=True),
    "deploy": DeployConfig(),
    "images": ImagesConfig(enabled=True, widths=[480, 960, 1600]),
    "webmention": WebmentionConfig(send_on_deploy=False, allow_hosts=[]),
    "fediverse": FediverseConfig(account=""),
    "plugins": {},
}


def test_config_has_a_default_for_every_key(tmp_path):
    root = write_config(tmp_path / "site", 'title = "Only a title"\n')
    config = load_config(root)
    keys = {f.name for f in dataclasses.fields(SiteConfig)} - {"root"}
    # A new key must get a default checked here.
    assert keys == set(EXPECTED_DEFAULTS)
    for key, expected in EXPECTED_DEFAULTS.items():
        assert getattr(config, key) == expected, key
    assert config.root == root
    assert config.content_dir == root / "content"
    assert config.base_path == "/"


def test_config_site_with_only_a_title_builds(make_site, build_at):
    root = make_site({"content/posts/hello.md": post("Hello", "2024-05-03")},
                     config='title = "Only a title"\n')
    report = build_at(root)
    index = read_html(report.output_dir / "index.html")
    assert index.title is not None and "Only a title" in index.title.get_text()
    assert (report.output_dir / "2024" / "05" / "hello" / "index.html").is_file()
    assert report.posts == 1


def test_config_reads_every_key(tmp_path):
    root = write_config(tmp_path / "site", """\
title = "Full"
description = "All the keys"
base_url = "https://example.com/blog"
language = "fr"
timezone = "Europe/Paris"
permalink = "/{category}/{year}/{month}/{day}/{slug}/"
page_permalink = "/pages/{slug}/"
posts_per_page = 5
theme = "themes/mine"
date_format = "%d/%m/%Y"
feed_items = 7
related_posts = 0
escape_html = true
pygments_style = "friendly"
pygments_dark_style = "native"

[author]
name = "Ann"
email = "ann@example.com"

[comments]
enabled = false
url = "https://comments.example.com/"
database_url = "sqlite:///c.db"

[comments.server]
SECRET_KEY = "x"
""")
    config = load_config(root)
    assert config.title == "Full"
    assert config.description == "All the keys"
    assert config.base_url == "https://example.com/blog/"   # a trailing slash is added
    assert config.base_path == "/blog/"
    assert config.language == "fr"
    assert config.timezone == "Europe/Paris"
    assert config.tz.key == "Europe/Paris"
    assert config.permalink == "/{category}/{year}/{month}/{day}/{slug}/"
    assert config.page_permalink == "/pages/{slug}/"
    assert config.posts_per_page == 5
    assert config.theme == "themes/mine"
    assert config.date_format == "%d/%m/%Y"
    assert config.feed_items == 7
    assert config.related_posts == 0
    assert config.escape_html is True
    assert config.pygments_style == "friendly"
    assert config.pygments_dark_style == "native"
    assert config.author == AuthorConfig(name="Ann", email="ann@example.com")
    assert config.comments == CommentsConfig(enabled=False, url="https://comments.example.com/",
                                             database_url="sqlite:///c.db",
                                             server={"SECRET_KEY": "x"})


def test_config_author_as_a_string_is_the_name(tmp_path):
    root = write_config(tmp_path / "site", 'title = "T"\nauthor = "Ann Author"\n')
    assert load_config(root).author == AuthorConfig(name="Ann Author", email="")


# --- unknown keys ---------------------------------------------------------------------------

def test_config_rejects_unknown_key_with_hint(tmp_path):
    root = write_config(tmp_path / "site", 'title = "T"\nbase_ulr = "https://x.example/"\n')
    error = only_error(root)
    assert "unknown key 'base_ulr'" in error.message
    assert "did you mean 'base_url'?" in error.message
    assert error.line == 2
    assert str(error).startswith(f"{root / 'blogengine.toml'}:2: ")


def test_config_rejects_unknown_key_in_table_with_hint(tmp_path):
    root = write_config(tmp_path / "site",
                        'title = "T"\n\n[comments]\nenabeld = false\n\n[author]\nmail = "a@b.c"\n')
    errors = sorted(config_errors(root), key=lambda e: e.line or 0)
    assert [e.line for e in errors] == [4, 7]
    assert "unknown key 'comments.enabeld'" in errors[0].message
    assert "did you mean 'comments.enabled'?" in errors[0].message
    assert "unknown key 'author.mail'" in errors[1].message
    assert "did you mean 'author.email'?" in errors[1].message


def test_config_names_the_line_of_an_unknown_table(tmp_path):
    root = write_config(tmp_path / "site", 'title = "T"\n\n[autor]\nname = "Ann"\n')
    error = only_error(root)
    assert error.line == 3
    assert error.message == "unknown table [autor] (did you mean [author]?)"


def test_config_names_the_line_of_an_unknown_nested_table(tmp_path):
    root = write_config(tmp_path / "site", 'title = "T"\n[deploy]\ntarget = "dir"\n'
                                           '[deploy.ftp]\nhost = "x"\n')
    error = only_error(root)
    assert (error.line, error.message) == (4, "unknown table [deploy.ftp]")


def test_config_says_a_top_level_key_landed_in_the_table_above_it(tmp_path):
    root = write_config(tmp_path / "site",
                        'title = "T"\n\n[comments]\nenabled = true\ntheme = "x"\n')
    error = only_error(root)
    assert error.line == 5
    assert error.message == (
        "unknown key 'comments.theme': 'theme' is a top-level setting, but it is written below "
        "[comments] on line 3, so TOML puts it in that table (move it above the first [table])")


def test_config_says_a_key_landed_in_a_subtable_below_its_own(tmp_path):
    root = write_config(tmp_path / "site", 'title = "T"\n[deploy]\n[deploy.s3]\nbucket = "b"\n'
                                           'target = "s3"\n')
    error = only_error(root)
    assert error.line == 5
    assert error.message == (
        "unknown key 'deploy.s3.target': 'target' is a setting of [deploy], but it is written "
        "below [deploy.s3] on line 3, so TOML puts it in that table (move it up, among the keys "
        "of [deploy])")


def test_config_rejects_unknown_key_without_a_close_match(tmp_path):
    root = write_config(tmp_path / "site", 'title = "T"\nzzqx = 1\n')
    error = only_error(root)
    assert "unknown key 'zzqx'" in error.message
    assert "did you mean" not in error.message
    assert error.line == 2


def test_config_root_is_not_a_settable_key(tmp_path):
    root = write_config(tmp_path / "site", 'title = "T"\nroot = "/etc"\n')
    assert "unknown key 'root'" in only_error(root).message


# --- wrong types ----------------------------------------------------------------------------

@pytest.mark.parametrize(("toml", "key", "wanted", "line"), [
    ('posts_per_page = "ten"', "'posts_per_page'", "an integer", 2),
    ("posts_per_page = 2.5", "'posts_per_page'", "an integer", 2),
    ("related_posts = true", "'related_posts'", "an integer", 2),
    ("description = 5", "'description'", "a string", 2),
    ('escape_html = "yes"', "'escape_html'", "true or false", 2),
    ("author = 5", "'author'", "a table", 2),
    ("comments = true", "'comments'", "a table", 2),
    ('[author]\nname = 5', "'author.name'", "a string", 3),
    ('[comments]\nenabled = "no"', "'comments.enabled'", "true or false", 3),
    ('[social_cards]\nenabled = "no"', "'social_cards.enabled'", "true or false", 3),
    ("social_cards = false", "'social_cards'", "a table", 2),
])
def test_config_rejects_wrong_type_naming_key_and_line(tmp_path, toml, key, wanted, line):
    root = write_config(tmp_path / "site", f'title = "T"\n{toml}\n')
    error = only_error(root)
    assert key in error.message
    assert wanted in error.message
    assert error.line == line
    assert error.path == root / "blogengine.toml"


def test_config_reports_every_error_at_once(tmp_path):
    root = write_config(tmp_path / "site",
                        'title = 1\nposts_per_page = "x"\nthemee = "default"\n')
    errors = config_errors(root)
    assert sorted(e.line for e in errors) == [1, 2, 3]
    text = " ".join(e.message for e in errors)
    assert "'title'" in text and "'posts_per_page'" in text and "'themee'" in text


# --- bad values -----------------------------------------------------------------------------

def test_config_rejects_unknown_timezone(tmp_path):
    root = write_config(tmp_path / "site", 'title = "T"\ntimezone = "Mars/Olympus_Mons"\n')
    error = only_error(root)
    assert "'timezone'" in error.message
    assert "Mars/Olympus_Mons" in error.message
    assert error.line == 2


@pytest.mark.parametrize("url", ["blog.example.com", "ftp://example.com/", "https://", "/blog/",
                                 ""])
def test_config_rejects_bad_base_url(tmp_path, url):
    root = write_config(tmp_path / "site", f'title = "T"\n\nbase_url = "{url}"\n')
    error = only_error(root)
    assert "'base_url'" in error.message
    assert "absolute http(s) URL" in error.message
    assert error.line == 3


def test_config_rejects_bad_comments_url(tmp_path):
    root = write_config(tmp_path / "site", 'title = "T"\n[comments]\nurl = "comments.example"\n')
    error = only_error(root)
    assert "'comments.url'" in error.message
    assert error.line == 3


@pytest.mark.parametrize(("key", "value", "problem"), [
    ("posts_per_page", "0", "at least 1"),
    ("feed_items", "0", "at least 1"),
    ("related_posts", "-1", "0 or more"),
])
def test_config_rejects_out_of_range_numbers(tmp_path, key, value, problem):
    root = write_config(tmp_path / "site", f'title = "T"\n{key} = {value}\n')
    error = only_error(root)
    assert f"'{key}'" in error.message and problem in error.message
    assert error.line == 2


@pytest.mark.parametrize(("pattern", "problem"), [
    ("{year}/{slug}/", "start and end with '/'"),
    ("/{year}/{slug}", "start and end with '/'"),
    ("/{year}/{month}/", "must contain {slug}"),
    ("/{year}/{title}/", "unknown field {title}"),
    ("/{slug!r}/", "unknown field"),
    ("/../{slug}/", "climb out"),
    ("/{slug}/{/", "'/{slug}/{/'"),     # a lone brace would crash str.format at build time
    ("/{slug}}/", "'/{slug}}/'"),
])
def test_config_rejects_bad_permalink_patterns(tmp_path, pattern, problem):
    root = write_config(tmp_path / "site", f'title = "T"\npermalink = "{pattern}"\n')
    error = only_error(root)
    assert "'permalink'" in error.message
    assert problem in error.message
    assert error.line == 2


def test_config_rejects_date_fields_in_page_permalink(tmp_path):
    root = write_config(tmp_path / "site", 'title = "T"\npage_permalink = "/{year}/{slug}/"\n')
    error = only_error(root)
    assert "'page_permalink'" in error.message
    assert "unknown field {year}" in error.message


def test_check_permalink_accepts_every_documented_field():
    assert check_permalink("/{category}/{year}/{month}/{day}/{slug}/") is None
    assert check_permalink("/posts/{slug}/") is None
    assert check_permalink("/{slug}/", page=True) is None


def test_config_rejects_unknown_pygments_style(tmp_path):
    root = write_config(tmp_path / "site", 'title = "T"\npygments_style = "no-such-style"\n')
    error = only_error(root)
    assert "'pygments_style'" in error.message
    assert "no-such-style" in error.message
    assert error.line == 2


# --- unreadable files -----------------------------------------------------------------------

def test_config_rejects_invalid_toml_with_line(tmp_path):
    root = write_config(tmp_path / "site", 'title = "T"\n\nbase_url = \n')
    error = only_error(root)
    assert error.message.startswith("invalid TOML:")
    assert error.line == 3
    assert "(at line" not in error.message   # the position is in error.line, not repeated
    assert str(error).startswith(f"{root / 'blogengine.toml'}:3: invalid TOML")


def test_config_rejects_duplicate_key_as_invalid_toml(tmp_path):
    root = write_config(tmp_path / "site", 'title = "T"\ntitle = "U"\n')
    error = only_error(root)
    assert error.message.startswith("invalid TOML:")
    assert error.line == 2


def test_config_rejects_non_utf8(tmp_path):
    root = write_config(tmp_path / "site", b'title = "Caf\xe9"\n')
    error = only_error(root)
    assert "UTF-8" in error.message
    assert error.path == root / "blogengine.toml"


def test_config_missing_file_says_what_to_do(tmp_path):
    error = only_error(tmp_path)
    assert "no blogengine.toml" in error.message
    assert "blogengine init" in error.message


@pytest.mark.parametrize("url", ["http://comments.example.com/", "HTTP://10.0.0.5:8000", "ftp://comments.example.com/"])
def test_config_refuses_a_comments_url_without_https(tmp_path, url):
    """Issue 13 item 7: over plain http anyone on the way answers the build's comment requests
    (and reads the deploy's author token)."""
    root = write_config(tmp_path / "site", f'title = "T"\n[comments]\nurl = "{url}"\n')
    error = only_error(root)
    assert "'comments.url'" in error.message and "https" in error.message


@pytest.mark.parametrize("url", ["https://comments.example.com/", "http://127.0.0.1:8000", "http://localhost:8000/",
                                 "http://[::1]:8000"])
def test_config_takes_https_or_a_local_comments_url(tmp_path, url):
    root = write_config(tmp_path / "site", f'title = "T"\n[comments]\nurl = "{url}"\n')
    assert load_config(root).comments.url == url


def test_config_reads_the_fediverse_account(tmp_path):
    root = write_config(tmp_path / "site", 'title = "T"\n[fediverse]\naccount = "https://mastodon.example/@ann"\n')
    assert load_config(root).fediverse.account == "https://mastodon.example/@ann"


@pytest.mark.parametrize("account", ["@ann@mastodon.example", "https://mastodon.example/", "mastodon.example/@ann",
                                     "https://mastodon.example/@ann/123"])
def test_config_rejects_a_fediverse_account_that_is_not_a_profile_url(tmp_path, account):
    root = write_config(tmp_path / "site", f'title = "T"\n[fediverse]\naccount = "{account}"\n')
    error = only_error(root)
    assert "'fediverse.account'" in error.message and "https://mastodon.social/@you" in error.message
    assert error.line == 3
