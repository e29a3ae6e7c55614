"""Site search in a real browser: the demo built with its Pagefind index, served as static files."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest
from playwright.sync_api import expect

from blogengine.build import BuildOptions, build
from blogengine.config import load_config
from tests.support import REPO
from tests.support.browser import axe_violations
from tests.support.live import serve_folder

# Only in the body of "My Weekly Reply Routine" (content/posts/weekly-reply-routine.md).
WORD = "Wednesday"
POST_URL = "/2023/04/practice-my-weekly-reply-routine/"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("search") / "public"
    build(load_config(REPO), BuildOptions(output_dir=out))
    with serve_folder(out) as url:
        yield url


@pytest.fixture(scope="module")
def demo_in_parts(tmp_path_factory: pytest.TempPathFactory):
    """The demo with its index in parts of two pages, as a big site's would be."""
    out = tmp_path_factory.mktemp("search-parts") / "public"
    config = load_config(REPO)
    build(replace(config, search=replace(config.search, part_pages=2)), BuildOptions(output_dir=out))
    assert len(json.loads((out / "pagefind" / "parts.json").read_text(encoding="utf-8"))["parts"]) > 2
    with serve_folder(out) as url:
        yield url


def results_for(browser, site: str, query: str) -> tuple[str, list[str]]:
    page = browser.new_page()
    page.goto(f"{site}/search/?q={query}")
    status = page.get_by_role("status")
    expect(status).to_have_text(re.compile("result"))
    links = [link.get_attribute("href") for link in page.locator(".search-results li a").all()]
    text = status.text_content()
    page.close()
    return text, links


@pytest.mark.parametrize("query", [
    "reader",                 # in every page (9)
    WORD, "wedn",             # in one page, whole and begun; the other parts have only "we"
    "replies", "replying",    # stemmed: "reply" matches
    "reader replies", "python", "zzyzxqq",
    "wednesdayz",             # in no page: one index matches its longest prefix it has
])
def test_an_index_in_parts_finds_what_the_whole_index_finds(browser, demo, demo_in_parts, query):
    """Every part holding the page's language is merged, and a part's stand-in matches (the
    longest prefix it has of a word it lacks) are left out where another part has the word."""
    whole_status, whole = results_for(browser, demo, query)
    parts_status, parts = results_for(browser, demo_in_parts, query)
    assert parts_status == whole_status
    assert sorted(link.removeprefix(demo_in_parts) for link in parts) == \
        sorted(link.removeprefix(demo) for link in whole)


def test_typing_a_word_from_a_post_finds_it_and_the_result_leads_there(browser, demo):
    page = browser.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(demo + "/")
    page.get_by_label("Search this site").fill(WORD)
    page.get_by_label("Search this site").press("Enter")
    expect(page).to_have_url(re.compile(r"/search/\?q=Wednesday$"))
    expect(page.get_by_role("status")).to_have_text("1 result for \u201cWednesday\u201d.")
    results = page.locator(".search-results li")
    expect(results).to_have_count(1)
    expect(results.locator("mark").first).to_have_text(re.compile("wednesday", re.I))

    query = page.get_by_label("Search the posts and pages")
    query.fill("")
    query.press_sequentially(WORD.lower(), delay=20)     # typing searches as you go
    expect(results).to_have_count(1)
    results.get_by_role("link").click()
    expect(page).to_have_url(demo + POST_URL)
    expect(page.locator("h1")).to_have_text("Practice: My Weekly Reply Routine")
    assert all(url.startswith(demo) for url in requests)   # nothing from anywhere else
    page.close()


def test_a_word_found_nowhere_says_so(browser, demo):
    page = browser.new_page()
    page.goto(demo + "/search/?q=zzyzxqq")
    expect(page.get_by_role("status")).to_have_text("No results for \u201czzyzxqq\u201d.")
    page.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_search_page_with_results_has_no_axe_violations(browser, demo, scheme):
    page = browser.new_page(color_scheme=scheme)
    page.goto(demo + "/search/?q=comment")
    expect(page.locator(".search-results li").first).to_be_visible()
    assert axe_violations(page) == []
    page.close()


def test_search_page_without_javascript_points_to_the_archive(browser, demo):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(demo + "/search/")
    expect(page.locator(".search-noscript")).to_contain_text("Search needs JavaScript")
    page.locator(".search-noscript").get_by_role("link", name="archive").click()
    expect(page).to_have_url(demo + "/archive/")
    context.close()


def test_the_index_of_every_part_loads_as_the_page_opens_before_a_query(browser, demo_in_parts):
    """A reader's first query then fetches only the words it asks for: each part's entry and
    metadata are in before a key is pressed."""
    page = browser.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(demo_in_parts + "/search/")
    parts = 1 + len(json.loads(page.request.get(demo_in_parts + "/pagefind/parts.json").text())
                    ["parts"])
    metadata = 0
    for _ in range(200):   # the worker's requests: each part's metadata, the first's with it
        metadata = sum(url.endswith(".pf_meta") for url in requests)
        if metadata == parts:
            break
        page.wait_for_timeout(50)
    assert metadata == parts
    assert not any(url.endswith(".pf_index") for url in requests)   # no word asked yet
    query = page.get_by_label("Search the posts and pages")
    query.fill(WORD)
    query.press("Enter")
    expect(page.get_by_role("status")).to_have_text("1 result for \u201cWednesday\u201d.")
    assert sum(url.endswith(".pf_meta") for url in requests) == parts   # none loaded again
    page.close()
