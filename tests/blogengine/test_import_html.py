"""WordPress post bodies to Markdown, checked on what the generator renders from it. Each case is a
snippet of WordPress/theme-test-data (commit b47acf9, GPL-2.0-or-later), named by its post."""

from __future__ import annotations

import json
import os
import statistics
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from blogengine.importers.html import wordpress_to_markdown
from blogengine.importers.wpautop import shortcode_unautop, wpautop
from blogengine.markup import make_markdown
from tests.support.importing import DATA

MEDIA = "https://wpthemetestdata.files.wordpress.com/2008/06/"
BLUES = MEDIA + "originaldixielandjazzbandwithalbernard-stlouisblues.mp3"


def convert(text, *args, **kwargs):
    """The Markdown, the rendered page (parsed) and what was reported as not carried over."""
    notes = []
    markdown = wordpress_to_markdown(text, *args, leftover=notes.append, **kwargs)
    return markdown, BeautifulSoup(make_markdown().render(markdown), "html.parser"), notes


def visible(soup):
    return soup.get_text()


# --- WordPress's paragraphs ---------------------------------------------------------------

def test_wpautop_wraps_paragraphs_and_leaves_blocks_and_pre_alone():
    text = "Intro line\n<table>\n<tr><td>a</td></tr>\n</table>\nAfter\nnext\n\n<pre>x\n\n  y</pre>"
    assert wpautop(text) == ("<p>Intro line</p>\n<table>\n<tr>\n<td>a</td>\n</tr>\n</table>\n"
                             "<p>After<br />\nnext</p>\n<pre>x\n\n  y</pre>\n")


# Behaviours WordPress pins in its own tests (wordpress-develop tests/phpunit/tests/formatting/wpAutop.php).
@pytest.mark.parametrize("text, shown", [
    ("a<div>b</div>", "<p>a</p>\n<div>b</div>"),                                   # ticket 4857
    ("paragraph1<hr>paragraph2", "<p>paragraph1</p>\n<hr>\n<p>paragraph2</p>"),     # ticket 14674
    ("<blockquote>foo</blockquote>", "<blockquote><p>foo</p></blockquote>"),         # ticket 27268
    ("one<br>\n<br/>\ntwo<br/>\n<br />\n", "<p>one</p>\n<p>two</p>"),             # ticket 33377
    ("one<br>\ntwo<br />\nthree\nfour", "<p>one<br />\ntwo<br />\nthree<br />\nfour</p>"),
    ("Hi <a\nhref='x'>you</a>", "<p>Hi <a\nhref='x'>you</a></p>"),                   # ticket 33106
    ("Hi <!-- a\nb -->", "<p>Hi <!-- a\nb --></p>"),
    ("<figure>\n<img src=\"e.jpg\" />\n<figcaption>C</figcaption>\n</figure>",       # ticket 39307
     "<figure>\n<img src=\"e.jpg\" /><figcaption>C</figcaption></figure>"),
    ("Code\n\n<pre>L1<br />L2\nL3</pre>\n\nDone", "<p>Code</p>\n<pre>L1<br />L2\nL3</pre>\n<p>Done</p>"),
    ("<script>\n var a = 1;\n</script>", "<p><script>\n var a = 1;\n</script></p>"),      # ticket 9437
    ("".join(f"<{b}>x</{b}>" for b in ("table", "dl", "section", "details", "summary", "math")),
     "\n".join(f"<{b}>x</{b}>" for b in ("table", "dl", "section", "details", "summary", "math"))),
])
def test_wpautop_matches_wordpress(text, shown):
    assert wpautop(text).strip() == shown


def test_shortcode_unautop_unwraps_a_lone_shortcode_only():
    text = wpautop('[gallery ids="1,2"]\n\nSee [gallery] here')
    assert shortcode_unautop(text, ["gallery"]) == '[gallery ids="1,2"]\n<p>See [gallery] here</p>\n'


# Markup: HTML Tags and Formatting
HTML_TAGS = """<strong>Headings</strong>
<h2>Blockquotes</h2>
Single line blockquote:
<blockquote>Stay hungry. Stay foolish.</blockquote>
Multi line blockquote with a cite reference:
<blockquote cite="https://developer.mozilla.org/en-US/docs/Web/HTML/Element/blockquote"><p>The <strong>HTML <code>&lt;blockquote&gt;</code> Element</strong> (or <em>HTML Block Quotation Element</em>) indicates that the enclosed text is an extended quotation.</p></blockquote>
<cite>multiple contributors</cite> - MDN HTML element reference - blockquote
<h2>HTML Tags</h2>
These supported tags come from the WordPress.com code <a title="Code" href="https://en.support.wordpress.com/code/">FAQ</a>.

<strong>Address Tag</strong>

<address>1 Infinite Loop
Cupertino, CA 95014
United States</address><strong>Anchor Tag (aka. Link)</strong>

This is an example of a <a title="WordPress Foundation" href="https://wordpressfoundation.org/">link</a>.

<strong>Abbreviation Tag</strong>

The abbreviation <abbr title="Seriously">srsly</abbr> stands for "seriously".

<strong>Code Tag</strong>

This tag styles blocks of code.
<code>.post-title {
	margin: 0 0 5px;
	font-weight: bold;
}</code>
You will learn later on in these tests that <code>word-wrap: break-word;</code> will be your best friend.

<strong>Strong Tag</strong>

This tag shows <strong>bold<strong> text.</strong></strong>

<strong>Superscript Tag</strong>

Still sticking with science and Albert Einstein's E = MC<sup>2</sup>, which should lift the 2 up."""


def test_html_tags_post_keeps_its_paragraphs():
    _markdown, page, _notes = convert(HTML_TAGS)
    # WordPress's 18 paragraphs (a <p> inside a quote once made the importer skip its paragraph
    # rules: they became 3), plus the address, and the code block splitting its paragraph in two.
    assert len(BeautifulSoup(wpautop(HTML_TAGS), "html.parser").find_all("p")) == 18
    assert len(page.find_all("p")) == 18 + 2
    assert [p.get_text() for p in page.find_all("p")][-2:] == [
        "Superscript Tag", "Still sticking with science and Albert Einstein's E = MC2, which should lift the 2 up."]
    assert page.find("sup").get_text() == "2" and page.find("abbr")["title"] == "Seriously"
    assert page.find("address") is None and "1 Infinite Loop" in visible(page)
    assert len(page.find_all("br")) == 2          # the address's lines
    assert page.find("strong", string="bold text.") is not None
    assert "\\" not in visible(page)


def test_multi_line_code_becomes_a_code_block():
    markdown, page, _notes = convert(HTML_TAGS)
    assert "```\n.post-title {\n\tmargin: 0 0 5px;\n\tfont-weight: bold;\n}\n```" in markdown
    assert page.find("pre").get_text() == ".post-title {\n\tmargin: 0 0 5px;\n\tfont-weight: bold;\n}\n"
    assert page.find("code", string="word-wrap: break-word;").parent.name == "p"


# Markup: HTML Tags and Formatting, "The Road Not Taken"
POEM = """This tag is for preserving whitespace as typed, such as in poetry or ASCII art.
<h2>The Road Not Taken</h2>
<pre>
<cite>Robert Frost</cite>


	Two roads diverged in a yellow wood,
	And sorry I could not travel both          (\\_/)
	And be one traveler, long I stood         (='.'=)
	And looked down one as far as I could     (")_(")
	Though as for that the passing there        ( &gt; º &lt; )
	Had worn them really about the same,         `&gt;&gt;x&lt;&lt;´
</pre>"""


def test_pre_keeps_its_whitespace_exactly():
    _markdown, page, _notes = convert(POEM)
    source = BeautifulSoup(POEM, "html.parser").find("pre").get_text()
    assert page.find("pre").get_text() == source.removeprefix("\n")


# Markup: Title With Special Characters (a table without a header row), and the Employee table of
# Markup: HTML Tags and Formatting (row headers: HTML), then without row headers and with cells
# made to look like Markdown.
SPECIAL = """This is a test to see if the fonts used in this theme support basic Latin characters.
<table>
<tbody>
<tr>
<td>!</td>
<td>"</td>
<td>#</td>
</tr>
<tr>
<td>+</td>
<td>,</td>
<td>-</td>
</tr>
<tr>
<td>:</td>
<td>&gt;</td>
<td>\\</td>
</tr>
</tbody>
</table>"""

EMPLOYEES = """<table>
<thead>
<tr>
<th>Employee</th>
<th>Salary</th>
<th></th>
</tr>
</thead>
<tbody>
<tr>
<th><a href="http://example.org/">John Doe</a></th>
<td>$1</td>
<td># not a heading</td>
</tr>
<tr>
<th><a href="http://example.org/">Jane Doe</a></th>
<td>+ $100K | more</td>
<td>&gt; For all the blogging she does.</td>
</tr>
</tbody>
</table>"""


def test_table_cells_never_become_markdown_syntax():
    markdown, page, _notes = convert(SPECIAL)
    assert markdown.startswith("This is a test") and "\n\n<table>" in markdown   # no header: HTML
    cells = [td.get_text() for td in page.find_all("td")]
    assert cells == ["!", '"', "#", "+", ",", "-", ":", ">", "\\"]
    assert page.find(["h1", "ul", "blockquote"]) is None
    assert page.find("p").get_text() == "This is a test to see if the fonts used in this theme support basic Latin characters."


def test_table_with_row_headers_stays_html():
    markdown, page, _notes = convert(EMPLOYEES)
    assert markdown.startswith("<table>\n<thead>")
    assert [th.get_text() for th in page.select("tbody th")] == ["John Doe", "Jane Doe"]


def test_table_with_one_header_row_becomes_a_gfm_table_with_plain_cells():
    markdown, page, _notes = convert(EMPLOYEES.replace("<th><a", "<td><a").replace("</a></th>", "</a></td>"))
    assert markdown.startswith("| Employee | Salary |  |\n| --- | --- | --- |")
    rows = [[c.get_text() for c in tr.find_all(["td", "th"])] for tr in page.find_all("tr")]
    assert rows == [["Employee", "Salary", ""], ["John Doe", "$1", "# not a heading"],
                    ["Jane Doe", "+ $100K | more", "> For all the blogging she does."]]
    assert "\\" not in visible(page)


def test_code_in_a_table_cell_keeps_its_pipe():
    # Markup: HTML Tags and Formatting's Employee table, a cell holding code
    text = EMPLOYEES.replace("<th><a", "<td><a").replace("</a></th>", "</a></td>")
    markdown, page, _notes = convert(text.replace("<td>$1</td>", "<td><code>a | b</code></td>"))
    assert "| `a \\| b` |" in markdown
    assert page.find("tbody").find_all("td")[1].find("code").get_text() == "a | b"
    assert len(page.find("tbody").find("tr").find_all("td")) == 3


# Edge Case: Nested And Mixed Lists
NESTED = """Nested and mixed lists are an interesting beast. It's a corner case to make sure that
<ul>
	<li>Lists within lists do not break the ordered list numbering order</li>
	<li>Your list styles go deep enough.</li>
</ul>
<h3>Ordered - Unordered - Ordered</h3>
<ol>
	<li>ordered item</li>
	<li>ordered item
<ul>
	<li><strong>unordered</strong></li>
	<li><strong>unordered</strong>
<ol>
	<li>ordered item</li>
	<li>ordered item</li>
</ol>
</li>
</ul>
</li>
	<li>ordered item</li>
	<li>ordered item</li>
</ol>"""


def test_nested_lists_keep_their_nesting_without_backslashes():
    markdown, page, _notes = convert(NESTED)
    assert "1. ordered item\n2. ordered item\n   - **unordered**" in markdown
    assert page.find("h3").get_text() == "Ordered - Unordered - Ordered"
    inner = page.select("ol > li > ul > li > ol > li")
    assert [li.get_text() for li in inner] == ["ordered item", "ordered item"]
    assert len(page.select("body > ol > li, ol:not(li ol) > li")) == 4
    assert "\\" not in visible(page)


# Markup: HTML Tags and Formatting (reversed and start attributes)
def test_list_markdown_cannot_hold_stays_html():
    text = """<ol start="8">
 	<li>List item one -start at 8
<ol reversed="reversed">
 	<li>List item one -reversed attribute</li>
	<li>List item two</li>
</ol>
</li>
	<li>List item two</li>
</ol>"""
    markdown, page, _notes = convert(text)
    assert markdown.startswith('<ol start="8">') and "\n\n" not in markdown
    assert page.find("ol", reversed=True) is not None
    assert page.find("ol")["start"] == "8"


# --- media and shortcodes -----------------------------------------------------------------

def test_audio_shortcode_and_block_become_players():
    # Post Format: Audio
    _markdown, page, _notes = convert(f"Audio shortcode:\n\n[audio {BLUES}]")
    assert page.find("audio")["src"] == BLUES and page.find("audio").find("a")["href"] == BLUES
    # Audio (block editor)
    block = ('<!-- wp:audio {"id":821} -->\n<figure class="wp-block-audio"><audio controls src="'
             f'{BLUES}"></audio><figcaption class="wp-element-caption">St. Louis Blues, by Original '
             "Dixieland Jazz Band with Al Bernard (public domain)</figcaption></figure>\n<!-- /wp:audio -->")
    _markdown, page, notes = convert(block)
    assert page.find("audio").has_attr("controls") and page.find("audio")["src"] == BLUES
    assert page.find("figcaption").get_text().startswith("St. Louis Blues") and notes == []


def test_video_block_becomes_a_player():
    # Video
    video = MEDIA.replace("2008/06", "2013/12") + "2014-slider-mobile-behavior.mov"
    block = (f'<!-- wp:video {{"id":1690}} -->\n<figure class="wp-block-video"><video controls src="{video}">'
             '</video><figcaption class="wp-element-caption">With custom caption</figcaption></figure>\n'
             "<!-- /wp:video -->")
    markdown, page, _notes = convert(block)
    assert markdown.startswith("<figure><video controls")
    assert page.find("video")["src"] == video and page.find("figcaption").get_text() == "With custom caption"


def test_caption_shortcode_becomes_a_figure():
    # Post Format: Image (Caption)
    text = ('[caption id="attachment_754" align="alignnone" width="604"]<a href="' + MEDIA + '100_5478.jpg">'
            '<img class="wp-image-754 size-large" src="' + MEDIA + '100_5478.jpg?w=604" alt="Bell on Wharf" '
            'width="604" height="453" /></a> Bell on wharf in San Francisco[/caption]')
    _markdown, page, _notes = convert(text)
    figure = page.find("figure")
    assert figure.find("img")["alt"] == "Bell on Wharf"
    assert figure.find("figcaption").get_text() == "Bell on wharf in San Francisco"


def test_gallery_shortcode_shows_the_posts_images_and_page_breaks_are_reported():
    # Post Format: Gallery
    own = [(MEDIA + "canola2.jpg", "canola"), (MEDIA + "cep00032.jpg", "Sunburst Over River")]
    text = ("[gallery]\n\n<!--nextpage-->\n\nYou can use this page to test the Theme's handling of the "
            "gallery shortcode, including the <code>columns</code> parameter.")
    _markdown, page, notes = convert(text, {}, own)
    assert [img["src"] for img in page.find("figure", class_="gallery").find_all("img")] == [u for u, _t in own]
    assert notes == ["<!--nextpage--> page breaks dropped: the pages are joined into one"]


def test_gallery_without_its_images_is_reported():
    # Post Format: Gallery, exported without its attachments
    _markdown, page, notes = convert('[gallery columns="1"]')
    assert page.find("img") is None
    assert notes == ["[gallery] dropped: none of its images are in the export"]


def test_embed_block_becomes_a_link_with_its_caption():
    # Block category: Embeds
    text = ('<!-- wp:core-embed/twitter {"url":"https://twitter.com/WordPress/status/1057136472321613824"} -->\n'
            '<figure class="wp-block-embed-twitter alignwide wp-block-embed is-type-rich is-provider-twitter">'
            '<div class="wp-block-embed__wrapper">\nhttps://twitter.com/WordPress/status/1057136472321613824\n'
            "</div><figcaption>Twitter,&nbsp; wide width</figcaption></figure>\n<!-- /wp:core-embed/twitter -->")
    _markdown, page, _notes = convert(text)
    assert page.find("a")["href"] == "https://twitter.com/WordPress/status/1057136472321613824"
    assert "Twitter" in page.find_all("p")[-1].get_text()


def test_cover_block_keeps_its_background_image_and_text():
    # Block: Cover
    text = ('<!-- wp:cover {"url":"' + MEDIA + 'dsc20050102_192118_51.jpg","align":"left","id":761} -->\n'
            '<div class="wp-block-cover has-background-dim alignleft" style="background-image:url(' + MEDIA
            + 'dsc20050102_192118_51.jpg)"><p class="wp-block-cover-text">This is a left aligned cover block '
            "with a background image.</p></div>\n<!-- /wp:cover -->")
    _markdown, page, _notes = convert(text)
    assert page.find("img")["src"] == MEDIA + "dsc20050102_192118_51.jpg"
    assert "This is a left aligned cover block with a background image." in visible(page)


def test_footnotes_become_linked_markdown_footnotes():
    # Footnotes (the text lives in the post's `footnotes` meta)
    meta = ('[{"id":"aa484441-9ea2-470c-a0a3-218ede0c6b05","content":"A note"},'
            '{"id":"f51b5ea0-388d-4673-ae03-1fc47853970f","content":"Another note"}]')
    text = """<!-- wp:paragraph -->
<p>A paragraph<sup data-fn="aa484441-9ea2-470c-a0a3-218ede0c6b05" class="fn"><a href="#aa484441-9ea2-470c-a0a3-218ede0c6b05" id="aa484441-9ea2-470c-a0a3-218ede0c6b05-link">1</a></sup></p>
<!-- /wp:paragraph -->

<!-- wp:paragraph -->
<p>Another paragraph<sup data-fn="f51b5ea0-388d-4673-ae03-1fc47853970f" class="fn"><a href="#f51b5ea0-388d-4673-ae03-1fc47853970f" id="f51b5ea0-388d-4673-ae03-1fc47853970f-link">2</a></sup></p>
<!-- /wp:paragraph -->

<!-- wp:footnotes /-->"""
    markdown, page, notes = convert(text, footnotes=json.loads(meta))
    assert markdown == "A paragraph[^1]\n\nAnother paragraph[^2]\n\n[^1]: A note\n[^2]: Another note"
    ref = page.find("sup").find("a")
    assert page.find(id=ref["href"].lstrip("#")).get_text(" ", strip=True).startswith("A note")
    assert notes == []


def test_footnotes_without_their_meta_are_reported():
    _markdown, page, notes = convert('<!-- wp:paragraph -->\n<p>A paragraph<sup data-fn="x" class="fn">'
                                     '<a href="#x" id="x-link">1</a></sup></p>\n<!-- /wp:paragraph -->')
    assert page.find("sup").get_text() == "1" and len(notes) == 1 and "footnote" in notes[0]


def test_more_tag_stays_as_the_summary_break():
    # Template: More Tag
    text = ('This content is before the <a title="The More Tag" href="https://en.support.wordpress.com/'
            'splitting-content/more-tag/" target="_blank">more tag</a>.\n\n<!--more-->\n\nAnd this content '
            "is after the more tag.")
    markdown, page, _notes = convert(text)
    assert "[more tag](https://en.support.wordpress.com/splitting-content/more-tag/ \"The More Tag\").\n\n" \
        "<!--more-->\n\nAnd this content" in markdown
    assert len(page.find_all("p")) == 2
    assert convert("Teaser <!--more Read on-->rest")[0] == "Teaser\n\n<!--more-->\n\nrest"


def test_blocks_wordpress_fills_in_are_reported():
    # WP 6.1 Widgets block category
    text = ("<!-- wp:paragraph -->\n<p>Archives block:</p>\n<!-- /wp:paragraph -->\n\n<!-- wp:archives /-->\n\n"
            '<!-- wp:rss {"feedURL":"https://wordpress.org/news/feed/"} /-->\n\n<!-- wp:shortcode /-->')
    markdown, _page, notes = convert(text)
    assert markdown == "Archives block:"
    assert notes == ["wp:archives, wp:rss blocks dropped (WordPress fills them in when showing the page)"]


def test_unknown_shortcode_is_left_as_text_and_reported():
    # Block category: Formatting ("[simple boat]" in its text), and a [playlist]
    markdown, page, notes = convert("[playlist ids=\"1,2\"]")
    assert markdown == '[playlist ids="1,2"]' and notes == ["[playlist] left as text"]


# --- the whole corpus ---------------------------------------------------------------------

WXR = DATA / "corpora" / "wordpress"
# The whole theme test data files (the repository keeps trimmed copies), when a folder is named.
FULL = Path(os.environ.get("BLOGENGINE_WP_CORPUS", "/nonexistent"))
CORPUS = sorted(p for p in WXR.rglob("*.xml") if not p.name.startswith(("malformed", "crazy-cdata.")))
CORPUS += sorted(FULL.glob("*.xml")) if FULL.is_dir() else []


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_corpus_text_survives(path):
    """Each post's words, in order, as WordPress shows them and as the generator renders the
    import; no backslash a reader did not see before."""
    from tests.support.wpfidelity import scores

    found = scores(path)
    assert all(s.ratio >= 0.95 for s in found), [(s.title, s.ratio) for s in found if s.ratio < 0.95]
    assert not [s.title for s in found if s.backslashes]
    if found:
        assert statistics.median(s.ratio for s in found) == 1.0
