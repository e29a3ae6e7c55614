"""Parse stage: the Markdown dialect, summaries, table of contents, word count and reading time."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

from bs4 import BeautifulSoup

from blogengine.load import load_sources
from blogengine.markup import make_markdown
from blogengine.parse import Document, TocEntry, parse_document
from tests.support.site import post, read_html

FRONT = "---\ntitle: Test\ndate: 2024-05-01\n---\n\n"


def parse_body(tmp_path: Path, body: str, *, front: str = FRONT, allow_html: bool = True,
               rel: str = "posts/x.md") -> Document:
    """Write a post under tmp_path/content, load and parse it as the build does."""
    path = tmp_path / "content" / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(front + body, encoding="utf-8")
    loaded = load_sources(tmp_path / "content")
    assert not loaded.errors
    [source] = loaded.sources
    return parse_document(source, make_markdown(allow_html=allow_html), ZoneInfo("UTC"))


def soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html5lib")


# --- Markdown features ----------------------------------------------------------------------

def test_markdown_renders_tables(tmp_path):
    doc = parse_body(tmp_path, "| Name | Qty |\n|------|----:|\n| tea  | 2   |\n| cake | 1   |\n")
    table = soup(doc.html).find("table")
    assert table is not None
    assert [th.get_text() for th in table.select("thead th")] == ["Name", "Qty"]
    assert [[td.get_text() for td in tr.find_all("td")] for tr in table.select("tbody tr")] == \
        [["tea", "2"], ["cake", "1"]]


def test_markdown_renders_footnotes(tmp_path):
    doc = parse_body(tmp_path, "A claim.[^src]\n\n[^src]: The source.\n")
    page = soup(doc.html)
    ref = page.select_one("sup.footnote-ref a")
    assert ref is not None
    target = page.find(id=ref["href"].lstrip("#"))
    assert target is not None and target.name == "li"
    assert "The source." in target.get_text()
    back = target.select_one("a.footnote-backref")
    assert back is not None and back["href"] == "#" + ref["id"]
    # The footnote list is a labelled region.
    section = page.select_one("section.footnotes")
    assert section is not None and page.find(id=section["aria-labelledby"]) is not None


def test_markdown_renders_task_lists(tmp_path):
    doc = parse_body(tmp_path, "- [x] written\n- [ ] published\n")
    boxes = soup(doc.html).select("li input[type=checkbox]")
    assert [box.has_attr("checked") for box in boxes] == [True, False]
    assert all(box.has_attr("disabled") for box in boxes)
    assert [box.find_parent("li").get_text(strip=True) for box in boxes] == ["written",
                                                                              "published"]


def test_markdown_renders_definition_lists(tmp_path):
    doc = parse_body(tmp_path, "Permalink\n: The lasting URL of a post.\n\nSlug\n: Its last part.\n")
    dl = soup(doc.html).find("dl")
    assert dl is not None
    assert [dt.get_text() for dt in dl.find_all("dt")] == ["Permalink", "Slug"]
    assert [dd.get_text(strip=True) for dd in dl.find_all("dd")] == ["The lasting URL of a post.",
                                                                     "Its last part."]


def test_markdown_renders_admonitions(tmp_path):
    doc = parse_body(tmp_path, '!!! warning "Mind the gap"\n    Step carefully.\n')
    box = soup(doc.html).select_one("div.admonition.warning")
    assert box is not None
    assert box.select_one(".admonition-title").get_text() == "Mind the gap"
    assert "Step carefully." in box.get_text()


def test_markdown_renders_strikethrough_and_links(tmp_path):
    doc = parse_body(tmp_path, "~~old~~ see <https://example.com/x> and https://example.com/y\n")
    page = soup(doc.html)
    assert page.find("s").get_text() == "old"
    # CommonMark autolinks only: bare URLs stay text (linkify is off for posts, for speed)
    assert [a["href"] for a in page.find_all("a")] == ["https://example.com/x"]


def test_heading_ids_are_slugs_and_unique(tmp_path):
    doc = parse_body(tmp_path, "## Getting started\n\n## Getting started\n\n### Café & *Crème*\n\n"
                               "## Getting started\n\nText[^1].\n\n[^1]: Note.\n")
    page = soup(doc.html)
    assert [h["id"] for h in page.find_all(["h2", "h3"]) if "visually-hidden" not in
            h.get("class", [])] == ["getting-started", "getting-started-1", "cafe-creme",
                                    "getting-started-2"]
    ids = Counter(tag["id"] for tag in page.find_all(id=True))
    assert [i for i, n in ids.items() if n > 1] == []


def test_heading_ids_are_stable(tmp_path):
    first = parse_body(tmp_path / "a", "## Why\n\n## How\n")
    again = parse_body(tmp_path / "b", "## Why\n\n## How\n")
    edited = parse_body(tmp_path / "c", "## Why\n\nMore words here.\n\n## How\n\n## Added later\n")
    assert [e.anchor for e in first.toc] == ["why", "how"]
    assert [e.anchor for e in again.toc] == ["why", "how"]
    assert [e.anchor for e in edited.toc][:2] == ["why", "how"]


def test_fenced_code_with_language_gets_pygments_classes(tmp_path):
    doc = parse_body(tmp_path, "```python\ndef greet(name):\n    return 'hi ' + name\n```\n")
    pre = soup(doc.html).find("pre")
    assert "highlight" in pre["class"]
    code = pre.find("code")
    assert "language-python" in code["class"]
    keywords = [span.get_text() for span in code.find_all("span", class_="k")]
    assert keywords == ["def", "return"]
    assert code.find("span", class_="nf").get_text() == "greet"
    assert code.get_text() == "def greet(name):\n    return 'hi ' + name\n"


def test_fenced_code_with_unknown_language_is_escaped_plain(tmp_path):
    doc = parse_body(tmp_path, "```nosuchlang\n<b>bold?</b> & <script>x()</script>\n```\n")
    code = soup(doc.html).find("pre").find("code")
    assert code.find_all(True) == []          # no spans, no <b>, no <script>
    assert code.get_text() == "<b>bold?</b> & <script>x()</script>\n"


def test_fenced_code_without_language_is_escaped_plain(tmp_path):
    doc = parse_body(tmp_path, "```\nif a < b && c > d: pass\n```\n")
    code = soup(doc.html).find("pre").find("code")
    assert code.find_all(True) == []
    assert not code.has_attr("class")
    assert code.get_text() == "if a < b && c > d: pass\n"


def test_raw_html_is_kept_by_default(tmp_path):
    doc = parse_body(tmp_path, '<div class="callout">Hand <em>made</em></div>\n\nAnd <kbd>Ctrl</kbd>.\n')
    page = soup(doc.html)
    assert page.select_one("div.callout em").get_text() == "made"
    assert page.find("kbd").get_text() == "Ctrl"


def test_raw_html_is_escaped_when_switched_off(tmp_path):
    doc = parse_body(tmp_path, '<div class="callout">Hand</div>\n\nAnd <kbd>Ctrl</kbd>.\n',
                     allow_html=False)
    page = soup(doc.html)
    assert page.select_one("div.callout") is None
    assert page.find("kbd") is None
    assert '<div class="callout">Hand</div>' in page.get_text()
    assert "<kbd>Ctrl</kbd>" in page.get_text()


def test_escape_html_config_escapes_raw_html_in_built_post(make_site, build_at):
    body = '<div class="callout">Hand</div>\n\n<script>alert(1)</script>\n'
    config = 'title = "T"\nescape_html = true\n'
    root = make_site({"content/posts/raw.md": post("Raw", "2024-05-01", body=body)}, config=config)
    page = read_html(build_at(root).output_dir / "2024" / "05" / "raw" / "index.html")
    content = page.select_one(".post-content")
    assert content.select_one("div.callout") is None
    assert content.find("script") is None
    assert '<div class="callout">Hand</div>' in content.get_text()


# --- summary, toc, reading time -------------------------------------------------------------

def test_summary_comes_from_summary_field_escaped(tmp_path):
    doc = parse_body(tmp_path, "First paragraph.\n",
                     front="---\ntitle: T\ndate: 2024-05-01\nsummary: 'Less <b>than</b> & more'\n---\n\n")
    assert doc.summary_text == "Less <b>than</b> & more"
    page = soup(doc.summary_html)
    assert page.find("b") is None
    assert page.find("p").get_text() == "Less <b>than</b> & more"


def test_summary_is_first_paragraph_without_footnote_ref(tmp_path):
    doc = parse_body(tmp_path, "# Heading first\n\nOpening with *style*[^1] and [a link](/x/).\n\n"
                               "Second paragraph.\n\n[^1]: A note.\n")
    page = soup(doc.summary_html)
    assert page.find("sup") is None
    assert page.find("em").get_text() == "style"
    assert page.find("a")["href"] == "/x/"
    assert page.get_text() == "Opening with style and a link."
    assert doc.summary_text == "Opening with style and a link."
    assert "Second paragraph" not in doc.summary_html


def test_summary_skips_paragraphs_nested_in_lists_and_quotes(tmp_path):
    doc = parse_body(tmp_path, "> Quoted first.\n\n- listed\n\nThe real opening.\n")
    assert doc.summary_text == "The real opening."


def test_summary_is_everything_before_a_more_line(tmp_path):
    doc = parse_body(tmp_path, "First *paragraph*[^1].\n\n- a listed point\n\n<!--more-->\n\n"
                               "After the break.\n\n[^1]: A note.\n")
    page = soup(doc.summary_html)
    assert [p.get_text() for p in page.find_all("p")] == ["First paragraph."]
    assert page.find("li").get_text() == "a listed point"
    assert page.find("sup") is None
    assert doc.summary_text == "First paragraph. a listed point"
    assert "After the break" not in doc.summary_html
    assert "After the break" in doc.html
    assert "more" not in doc.html.replace("After", "")   # the marker itself is not published


def test_more_line_with_a_label_is_a_break_too_and_escaped_html_does_not_show_it(tmp_path):
    doc = parse_body(tmp_path, "Opening.\n\nStill the opening.\n\n<!--more Read on-->\n\nRest.\n",
                     allow_html=False)
    assert doc.summary_text == "Opening. Still the opening."
    assert "&lt;!--more" not in doc.html
    assert soup(doc.html).get_text().split() == ["Opening.", "Still", "the", "opening.", "Rest."]


def test_front_matter_summary_wins_over_a_more_line(tmp_path):
    doc = parse_body(tmp_path, "Body.\n\n<!--more-->\n\nRest.\n",
                     front="---\ntitle: T\ndate: 2024-05-01\nsummary: Chosen words\n---\n\n")
    assert doc.summary_text == "Chosen words"


def test_summary_empty_when_there_is_no_paragraph(tmp_path):
    doc = parse_body(tmp_path, "## Only a heading\n")
    assert (doc.summary_html, doc.summary_text) == ("", "")


def test_toc_lists_headings_with_level_anchor_and_title(tmp_path):
    doc = parse_body(tmp_path, "Intro.\n\n## First *part*\n\n### A `detail`\n\n## Second\n\n"
                               "> ## Quoted heading is not in the toc\n")
    assert doc.toc == (TocEntry(level=2, anchor="first-part", title="First part"),
                       TocEntry(level=3, anchor="a-detail", title="A detail"),
                       TocEntry(level=2, anchor="second", title="Second"))
    ids = {h["id"] for h in soup(doc.html).find_all(["h2", "h3"])}
    assert {e.anchor for e in doc.toc} <= ids


def test_reading_time_rounds_up_at_220_words_a_minute(tmp_path):
    short = parse_body(tmp_path / "a", "Just a few words here.\n")
    exact = parse_body(tmp_path / "b", " ".join(["word"] * 220) + "\n")
    longer = parse_body(tmp_path / "c", " ".join(["word"] * 221) + "\n")
    assert (short.word_count, short.reading_time) == (5, 1)
    assert (exact.word_count, exact.reading_time) == (220, 1)
    assert (longer.word_count, longer.reading_time) == (221, 2)


def test_reading_time_of_empty_post_is_one_minute(tmp_path):
    doc = parse_body(tmp_path, "")
    assert doc.word_count == 0
    assert doc.reading_time == 1


def test_word_count_includes_code_and_headings_not_markup(tmp_path):
    doc = parse_body(tmp_path, "## Two words\n\n**Three** plain *words*.\n\n```\nfour code words here\n```\n"
                               "<div>\n</div>\n")
    assert doc.word_count == 2 + 3 + 4


def test_document_kind_follows_folder(tmp_path):
    assert parse_body(tmp_path / "a", "x\n", rel="posts/2024/x.md").kind == "post"
    page = parse_body(tmp_path / "b", "x\n", front="---\ntitle: About\n---\n\n", rel="pages/about.md")
    assert page.kind == "page"
    top = parse_body(tmp_path / "c", "x\n", front="---\ntitle: Top\n---\n\n", rel="colophon.md")
    assert top.kind == "page"


def test_front_matter_is_not_rendered_into_the_body(tmp_path):
    doc = parse_body(tmp_path, "Body only.\n")
    assert "title" not in soup(doc.html).get_text()
    assert soup(doc.html).find("hr") is None
