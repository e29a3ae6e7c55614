"""Reading a Webmention source page (webmention/source.py) in the shapes real blogs publish:
h-feed pages, several entries, authors given as a URL or a name, implied names, odd dates."""

from __future__ import annotations

from datetime import UTC, datetime

from comments_server.webmention.source import normalise_url, parse_time, read_source

POST = "https://blog.example.com/2024/05/a-post/"
SOURCE = "https://remote.example/notes/1"


def about_post(url: str) -> bool:
    return normalise_url(url).split("#")[0].rstrip("/") == POST.rstrip("/")


def test_the_entry_about_the_target_is_chosen_on_an_h_feed_page():
    html = f"""<div class="h-feed">
      <article class="h-entry"><p class="p-name">Unrelated note</p>
        <a class="u-in-reply-to" href="https://elsewhere.example/x">x</a></article>
      <article class="h-entry"><a class="u-like-of" href="{POST}">liked</a>
        <a class="p-author h-card" href="https://remote.example/">Remy</a></article>
    </div>"""
    reading = read_source(html, SOURCE, about_post)
    assert (reading.links_to_target, reading.kind, reading.about, reading.author_name) == (True, "like", POST, "Remy")


def test_author_given_as_a_url_or_as_plain_text():
    by_url = read_source(f"""<div class="h-entry"><a class="u-in-reply-to" href="{POST}">re</a>
        <a class="u-author" href="https://remote.example/me">me</a><p class="e-content">Yes</p></div>""",
                         SOURCE, about_post)
    assert (by_url.kind, by_url.author_name, by_url.author_url) == ("reply", None, "https://remote.example/me")
    by_name = read_source(f"""<div class="h-entry"><a class="u-in-reply-to" href="{POST}">re</a>
        <span class="p-author">Plain Name</span></div>""", SOURCE, about_post)
    assert (by_name.author_name, by_name.author_url) == ("Plain Name", None)


def test_a_reply_to_a_comment_permalink_keeps_its_fragment():
    reading = read_source(f'<div class="h-entry"><a class="u-in-reply-to" href="{POST}#comment-7">re</a></div>',
                          SOURCE, about_post)
    assert (reading.kind, reading.about) == ("reply", POST + "#comment-7")


def test_a_link_only_in_an_image_counts_and_a_link_elsewhere_does_not():
    assert read_source(f'<p><img src="{POST}" alt=""></p>', SOURCE, about_post).links_to_target
    assert not read_source('<p><a href="https://blog.example.com/2024/05/another/">no</a></p>',
                           SOURCE, about_post).links_to_target
    # Relative links resolve against the source page.
    assert read_source('<a href="/2024/05/a-post/">x</a>', "https://blog.example.com/elsewhere",
                       about_post).links_to_target


def test_content_falls_back_to_the_summary_and_text_is_escaped():
    reading = read_source(f"""<div class="h-entry"><a class="u-in-reply-to" href="{POST}">re</a>
        <p class="p-summary">5 &lt; 6 &amp; &lt;b&gt;</p></div>""", SOURCE, about_post)
    assert reading.content_html == "<p>5 &lt; 6 &amp; &lt;b&gt;</p>"


def test_dates_as_blogs_write_them():
    assert parse_time("2026-05-01T10:00:00+0200") == datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
    assert parse_time("2026-05-01 10:00:00Z") == datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
    assert parse_time("2026-05-01T10:00") == datetime(2026, 5, 1, 10, 0, tzinfo=UTC)   # no zone: UTC
    assert parse_time("last Tuesday") is None and parse_time("") is None


def test_normalised_urls_compare_equal():
    assert normalise_url("HTTPS://Blog.Example.com:443/a/?q=1#frag") == "https://blog.example.com/a/?q=1"
    assert normalise_url("http://blog.example.com") == "http://blog.example.com/"
    assert normalise_url("http://blog.example.com:8080/x") == "http://blog.example.com:8080/x"
