"""Site model stage: URLs, drafts and future posts, conflicts, tags, pagination, archives, links."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from blogengine.config import load_config
from blogengine.errors import BuildFailed
from blogengine.load import load_sources
from blogengine.markup import make_markdown
from blogengine.model import Site, build_site
from blogengine.parse import parse_document
from tests.support.site import NOW, post

CONFIG = 'title = "Model"\nbase_url = "https://blog.example.com/"\ntimezone = "UTC"\n'


def make_model(root: Path, **options) -> Site:
    """Load, parse and place a site written by make_site, with the test clock."""
    config = load_config(root)
    loaded = load_sources(config.content_dir)
    assert loaded.errors == []
    md = make_markdown(allow_html=not config.escape_html)
    documents = [parse_document(source, md, config.tz) for source in loaded.sources]
    options.setdefault("now", NOW)
    return build_site(documents, config, **options)


def model_of(make_site, files, config: str = CONFIG, **options) -> Site:
    return make_model(make_site(files, config=config), **options)


def conflicts(make_site, files, config: str = CONFIG) -> list[str]:
    with pytest.raises(BuildFailed) as info:
        model_of(make_site, files, config)
    return [str(error) for error in info.value.errors]


def page(title: str, body: str = "Text.", **fields: str) -> str:
    lines = [f"title: {title!r}"] + [f"{k}: {v}" for k, v in fields.items()]
    return "---\n" + "\n".join(lines) + "\n---\n\n" + body + "\n"


def by_url(site: Site) -> dict:
    return {listing.url: listing for listing in site.listings}


# --- permalinks and slugs -------------------------------------------------------------------

def test_default_permalink_is_year_month_slug(make_site):
    site = model_of(make_site, {"content/posts/hello.md": post("Hello World", "2024-05-03")})
    [entry] = site.posts
    assert entry.url == "/2024/05/hello-world/"
    assert entry.slug == "hello-world"


def test_permalink_fields_year_month_day_slug_category(make_site):
    config = CONFIG + 'permalink = "/{category}/{year}/{month}/{day}/{slug}/"\n'
    site = model_of(make_site, {
        "content/posts/a.md": post("Alpha", "2024-05-03", category="'Web Dev'"),
        "content/posts/b.md": post("Beta", "2023-01-09"),
    }, config)
    assert sorted(p.url for p in site.posts) == ["/uncategorized/2023/01/09/beta/",
                                                 "/web-dev/2024/05/03/alpha/"]


def test_permalink_date_is_taken_in_site_timezone(make_site):
    # 23:30 UTC on 31 December is already 08:30 on 1 January in Tokyo.
    config = CONFIG.replace('"UTC"', '"Asia/Tokyo"') + \
        'permalink = "/{year}/{month}/{day}/{slug}/"\n'
    site = model_of(make_site, {"content/posts/nye.md": post("New Year", "2024-12-31T23:30:00Z")},
                    config)
    [entry] = site.posts
    assert entry.url == "/2025/01/01/new-year/"
    listings = by_url(site)
    assert entry in listings["/2025/"].posts
    assert entry in listings["/2025/01/"].posts
    assert "/2024/" not in listings and "/2024/12/" not in listings


def test_permalink_of_local_datetime_stays_on_its_day(make_site):
    config = CONFIG.replace('"UTC"', '"America/New_York"')
    site = model_of(make_site, {"content/posts/late.md": post("Late", "2024-12-31 23:30")}, config)
    assert site.posts[0].url == "/2024/12/late/"


def test_archive_page_groups_posts_by_year_in_site_timezone(make_site):
    config = CONFIG.replace('"UTC"', '"Asia/Tokyo"')
    site = model_of(make_site, {"content/posts/nye.md": post("New Year", "2024-12-31T23:30:00Z")},
                    config)
    archive = by_url(site)["/archive/"]
    assert [(year, [p.title for p in posts]) for year, posts in archive.groups] == \
        [(2025, ["New Year"])]


@pytest.mark.parametrize(("title", "slug"), [
    ("Hello, World!", "hello-world"),
    ("Café crème & croissants", "cafe-creme-croissants"),
    ("  Spaces   everywhere  ", "spaces-everywhere"),
    ("Ünïcödé Straße", "unicode-strasse"),
])
def test_slug_is_made_from_title(make_site, title, slug):
    site = model_of(make_site, {"content/posts/x.md": post(title, "2024-05-03")})
    assert site.posts[0].slug == slug
    assert site.posts[0].url == f"/2024/05/{slug}/"


def test_slug_field_wins_over_title(make_site):
    site = model_of(make_site, {"content/posts/x.md": post("Long Title", "2024-05-03", slug="short")})
    assert site.posts[0].url == "/2024/05/short/"


def test_slug_falls_back_to_file_name_when_title_has_no_letters(make_site):
    site = model_of(make_site, {"content/posts/punctuation.md": post("?!…", "2024-05-03")})
    assert site.posts[0].url == "/2024/05/punctuation/"


def test_pages_get_urls_from_their_folders(make_site):
    site = model_of(make_site, {
        "content/pages/about.md": page("About"),
        "content/pages/docs/setup.md": page("Setting Up"),
        "content/pages/My Docs/faq.md": page("FAQ"),
        "content/colophon.md": page("Colophon"),
        "content/extra/thanks.md": page("Thanks", slug="thank-you"),
    })
    assert sorted(p.url for p in site.pages) == ["/about/", "/colophon/", "/docs/setting-up/",
                                                 "/extra/thank-you/", "/my-docs/faq/"]
    assert site.posts == []


def test_page_permalink_pattern_applies(make_site):
    config = CONFIG + 'page_permalink = "/p/{slug}/"\n'
    site = model_of(make_site, {"content/pages/docs/setup.md": page("Setup")}, config)
    assert site.pages[0].url == "/p/docs/setup/"


# --- drafts and future posts ----------------------------------------------------------------

DRAFTS = {
    "content/posts/done.md": post("Done", "2024-05-01"),
    "content/posts/wip.md": post("Work in progress", "2024-05-02", draft="true"),
    "content/pages/secret.md": page("Secret", draft="true"),
}


def test_drafts_are_left_out_by_default(make_site):
    site = model_of(make_site, DRAFTS)
    assert [p.title for p in site.posts] == ["Done"]
    assert site.pages == []


def test_drafts_are_included_on_request(make_site):
    site = model_of(make_site, DRAFTS, drafts=True)
    assert [p.title for p in site.posts] == ["Work in progress", "Done"]
    assert [p.title for p in site.pages] == ["Secret"]


FUTURE = {   # NOW is 2026-06-01 12:00 UTC
    "content/posts/past.md": post("Past", "2026-06-01 11:59"),
    "content/posts/now.md": post("Exactly now", "2026-06-01 12:00"),
    "content/posts/soon.md": post("Soon", "2026-06-01 12:01"),
    "content/posts/later.md": post("Later", "2027-01-01"),
}


def test_future_posts_are_left_out_relative_to_now(make_site):
    site = model_of(make_site, FUTURE)
    assert [p.title for p in site.posts] == ["Exactly now", "Past"]
    assert "/2027/" not in by_url(site)


def test_future_posts_are_included_on_request(make_site):
    site = model_of(make_site, FUTURE, future=True)
    assert [p.title for p in site.posts] == ["Later", "Soon", "Exactly now", "Past"]


def test_future_is_judged_against_the_given_clock(make_site):
    site = model_of(make_site, FUTURE, now=datetime(2030, 1, 1, tzinfo=timezone.utc))
    assert len(site.posts) == 4


def test_future_dated_page_is_still_published(make_site):
    site = model_of(make_site, {"content/pages/plan.md": page("Plan", date="2099-01-01")})
    assert [p.title for p in site.pages] == ["Plan"]


# --- URL conflicts --------------------------------------------------------------------------

def test_two_posts_at_one_url_fail_naming_both_files(make_site):
    errors = conflicts(make_site, {
        "content/posts/a.md": post("Same Title", "2024-05-01"),
        "content/posts/b.md": post("Same title!", "2024-05-20"),
    })
    assert len(errors) == 1
    assert "content/posts/a.md" in errors[0]
    assert "content/posts/b.md" in errors[0]
    assert "/2024/05/same-title/" in errors[0]


def test_every_url_conflict_is_reported(make_site):
    errors = conflicts(make_site, {
        "content/posts/a.md": post("One", "2024-05-01"),
        "content/posts/b.md": post("One", "2024-05-02"),
        "content/posts/c.md": post("Two", "2024-06-01"),
        "content/posts/d.md": post("Two", "2024-06-02"),
    })
    assert len(errors) == 2
    assert "content/posts/a.md" in " ".join(errors) and "content/posts/b.md" in " ".join(errors)
    assert "content/posts/c.md" in " ".join(errors) and "content/posts/d.md" in " ".join(errors)


def test_page_colliding_with_year_archive_fails(make_site):
    errors = conflicts(make_site, {
        "content/posts/a.md": post("A post", "2024-05-01"),
        "content/pages/year.md": page("The Year", slug="2024"),
    })
    [error] = errors
    assert error.startswith("content/pages/year.md")
    assert "/2024/" in error and "archive" in error


@pytest.mark.parametrize(("rel", "slug", "url"), [
    ("content/pages/archive.md", "archive", "/archive/"),
    ("content/pages/tags.md", "tags", "/tags/"),
    ("content/pages/page/two.md", "'2'", "/page/2/"),
])
def test_page_colliding_with_a_generated_listing_fails(make_site, rel, slug, url):
    config = CONFIG + "posts_per_page = 1\n"
    errors = conflicts(make_site, {
        "content/posts/a.md": post("A", "2024-05-01"),
        "content/posts/b.md": post("B", "2024-05-02"),
        rel: page("Clash", slug=slug),
    }, config)
    [error] = errors
    assert error.startswith(rel)
    assert url in error


def test_page_colliding_with_a_post_fails_naming_both(make_site):
    config = CONFIG + 'permalink = "/{slug}/"\n'
    errors = conflicts(make_site, {
        "content/posts/about.md": post("About", "2024-05-01"),
        "content/pages/about.md": page("About"),
    }, config)
    [error] = errors
    assert "content/posts/about.md" in error and "content/pages/about.md" in error


# --- tags and categories --------------------------------------------------------------------

def test_tags_with_one_slug_merge(make_site):
    site = model_of(make_site, {
        "content/posts/a.md": post("A", "2024-05-01", tags="[Python, Web Dev]"),
        "content/posts/b.md": post("B", "2024-05-02", tags="python, web-dev"),
        "content/posts/c.md": post("C", "2024-05-03", tags="[PYTHON]"),
    })
    assert [(t.slug, t.url) for t in site.tags] == [("python", "/tags/python/"),
                                                    ("web-dev", "/tags/web-dev/")]
    python, web = site.tags
    assert [p.title for p in python.posts] == ["C", "B", "A"]
    assert [p.title for p in web.posts] == ["B", "A"]
    a = next(p for p in site.posts if p.title == "A")
    assert a.tags == [python, web]


def test_post_with_one_tag_in_two_spellings_is_listed_once(make_site):
    site = model_of(make_site, {
        "content/posts/a.md": post("A", "2024-05-01", tags="[Web Dev, web-dev]"),
        "content/posts/b.md": post("B", "2024-05-02", tags="[web dev]"),
    })
    [web] = site.tags
    assert [p.title for p in web.posts] == ["B", "A"]
    a = next(p for p in site.posts if p.title == "A")
    assert a.tags == [web]
    [listing] = [l for l in site.listings if l.kind == "tag"]
    assert [p.title for p in listing.posts] == ["B", "A"]


def test_categories_have_pages(make_site):
    site = model_of(make_site, {
        "content/posts/a.md": post("A", "2024-05-01", category="Essays"),
        "content/posts/b.md": post("B", "2024-05-02", category="essays"),
        "content/posts/c.md": post("C", "2024-05-03"),
    })
    [essays] = site.categories
    assert (essays.slug, essays.url) == ("essays", "/categories/essays/")
    assert [p.title for p in essays.posts] == ["B", "A"]
    assert by_url(site)["/categories/essays/"].term is essays
    c = next(p for p in site.posts if p.title == "C")
    assert c.category is None


def test_tag_without_letters_is_an_error(make_site):
    errors = conflicts(make_site, {"content/posts/a.md": post("A", "2024-05-01", tags="['!!!']")})
    [error] = errors
    assert error.startswith("content/posts/a.md")
    assert "'!!!'" in error


# --- order, pagination, archives ------------------------------------------------------------

def five_posts() -> dict[str, str]:
    return {f"content/posts/p{n}.md": post(f"Post {n}", date, tags="[common]")
            for n, date in enumerate(["2023-11-05", "2024-01-10", "2024-01-20", "2024-05-01",
                                      "2024-05-02 09:00"], start=1)}


def test_posts_are_newest_first(make_site):
    site = model_of(make_site, five_posts())
    assert [p.title for p in site.posts] == ["Post 5", "Post 4", "Post 3", "Post 2", "Post 1"]


def test_index_pagination_counts_and_urls(make_site):
    site = model_of(make_site, five_posts(), CONFIG + "posts_per_page = 2\n")
    index = [l for l in site.listings if l.kind == "index"]
    assert [l.url for l in index] == ["/", "/page/2/", "/page/3/"]
    assert [[p.title for p in l.posts] for l in index] == [["Post 5", "Post 4"],
                                                           ["Post 3", "Post 2"], ["Post 1"]]
    assert [(l.pagination.number, l.pagination.count) for l in index] == [(1, 3), (2, 3), (3, 3)]
    assert [(l.pagination.prev_url, l.pagination.next_url) for l in index] == \
        [(None, "/page/2/"), ("/", "/page/3/"), ("/page/2/", None)]


def test_tag_pages_are_paginated(make_site):
    site = model_of(make_site, five_posts(), CONFIG + "posts_per_page = 2\n")
    pages = [l for l in site.listings if l.kind == "tag"]
    assert [l.url for l in pages] == ["/tags/common/", "/tags/common/page/2/",
                                      "/tags/common/page/3/"]
    assert sum(len(l.posts) for l in pages) == 5


def test_pagination_exact_multiple_has_no_empty_page(make_site):
    posts = {f"content/posts/p{n}.md": post(f"P{n}", f"2024-05-0{n}") for n in range(1, 5)}
    site = model_of(make_site, posts, CONFIG + "posts_per_page = 2\n")
    assert [l.url for l in site.listings if l.kind == "index"] == ["/", "/page/2/"]


def test_empty_site_has_one_index_page(make_site):
    site = model_of(make_site, {})
    [index] = [l for l in site.listings if l.kind == "index"]
    assert index.url == "/" and index.posts == []
    assert index.pagination.count == 1


def test_archives_by_year_and_month(make_site):
    site = model_of(make_site, five_posts())
    listings = by_url(site)
    assert [y.url for y in site.archive_years] == ["/2024/", "/2023/"]
    assert [p.title for p in listings["/2024/"].posts] == ["Post 5", "Post 4", "Post 3", "Post 2"]
    assert [p.title for p in listings["/2023/"].posts] == ["Post 1"]
    months = [l.url for l in site.listings if l.month is not None]
    assert months == ["/2024/05/", "/2024/01/", "/2023/11/"]
    assert [p.title for p in listings["/2024/01/"].posts] == ["Post 3", "Post 2"]
    archive = listings["/archive/"]
    assert [(year, len(posts)) for year, posts in archive.groups] == [(2024, 4), (2023, 1)]
    assert "/404.html" in listings


def test_previous_and_next_link_neighbours_by_date(make_site):
    site = model_of(make_site, five_posts())
    newest, *_, oldest = site.posts
    assert newest.next is None and newest.previous.title == "Post 4"
    assert oldest.previous is None and oldest.next.title == "Post 2"
    middle = next(p for p in site.posts if p.title == "Post 3")
    assert (middle.previous.title, middle.next.title) == ("Post 2", "Post 4")


def test_related_posts_rank_by_shared_tags_then_date(make_site):
    site = model_of(make_site, {
        "content/posts/a.md": post("A", "2024-05-01", tags="[x, y, z]"),
        "content/posts/b.md": post("B", "2024-04-01", tags="[x, y]"),
        "content/posts/c.md": post("C", "2024-03-01", tags="[x]"),
        "content/posts/d.md": post("D", "2024-06-01", tags="[z]"),
        "content/posts/e.md": post("E", "2024-07-01", tags="[other]"),
    }, CONFIG + "related_posts = 2\n")
    posts = {p.title: p for p in site.posts}
    assert [p.title for p in posts["A"].related] == ["B", "D"]    # 2 shared, then newest of 1
    assert [p.title for p in posts["C"].related] == ["A", "B"]    # 1 shared each: newest first
    assert posts["E"].related == []


def test_related_posts_can_be_turned_off(make_site):
    site = model_of(make_site, five_posts(), CONFIG + "related_posts = 0\n")
    assert all(p.related == [] for p in site.posts)


# --- authors and comments -------------------------------------------------------------------

def test_author_defaults_to_site_author(make_site):
    config = CONFIG + '[author]\nname = "Site Author"\n'
    site = model_of(make_site, {
        "content/posts/a.md": post("A", "2024-05-01"),
        "content/posts/b.md": post("B", "2024-05-02", author="Guest"),
    }, config)
    assert {p.title: p.author for p in site.posts} == {"A": "Site Author", "B": "Guest"}


def test_comments_on_posts_by_default_and_on_pages_by_request(make_site):
    site = model_of(make_site, {
        "content/posts/a.md": post("A", "2024-05-01"),
        "content/posts/b.md": post("B", "2024-05-02", comments="false"),
        "content/pages/about.md": page("About"),
        "content/pages/guestbook.md": page("Guestbook", comments="true"),
    })
    assert {e.title: e.comments for e in site.entries} == \
        {"A": True, "B": False, "About": False, "Guestbook": True}


def test_comments_switched_off_site_wide(make_site):
    config = CONFIG + "[comments]\nenabled = false\n"
    site = model_of(make_site, {
        "content/posts/a.md": post("A", "2024-05-01"),
        "content/pages/guestbook.md": page("Guestbook", comments="true"),
    }, config)
    assert {e.title: e.comments for e in site.entries} == {"A": False, "Guestbook": False}
