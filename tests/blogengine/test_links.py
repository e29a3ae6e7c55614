"""Reading a built page's links and ids back (links.py), as the link check does."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from blogengine import links
from blogengine.build import BuildOptions, build
from blogengine.config import load_config
from blogengine.links import read_page_links

REPO = Path(__file__).resolve().parents[2]


def urls(page: str) -> list[str]:
    return [link[2] for link in read_page_links(page).links]


def test_links_in_order_with_their_tag_attribute_and_text():
    page = ('<p><a href="/a/">First <em>one</em></a> and <img src="/i.png" alt="A cat">'
            '<link rel="stylesheet" href="/s.css"></p>')
    assert read_page_links(page).links == (("a", "href", "/a/", "First one"),
                                           ("img", "src", "/i.png", "A cat"),
                                           ("link", "href", "/s.css", ""))


def test_comments_scripts_styles_and_templates_are_skipped_whatever_their_case():
    page = ('<!-- <a href="/commented/">x</a> --><SCRIPT type="module">var a = "<a href=\'/js/\'>";'
            '</script ><style>a[href="/css/"]{}</STYLE><template><a href="/tpl/">t</a></template>'
            '<a href="/kept/">kept</a><scripts><a href="/not-a-script/">n</a></scripts>')
    assert urls(page) == ["/kept/", "/not-a-script/"]


def test_a_script_ends_only_at_its_own_closing_tag():
    assert urls('<script>"</style><a href=/inside/>"</script><a href="/after/">a</a>') == ["/after/"]


def test_an_unterminated_comment_or_script_hides_nothing_after_it():
    assert urls('<!-- never closed <a href="/a/">a</a>') == ["/a/"]


def test_ids_and_anchor_names_are_targets():
    page = ('<h2 id="intro">Intro</h2><a name="old-anchor"></a><div data-id="no" ID="Upper">'
            '<img name="not-a-target" src="/x.png">')
    assert read_page_links(page).ids == frozenset({"intro", "old-anchor", "Upper"})


def test_srcset_gives_every_candidate_and_entities_are_decoded():
    page = '<img srcset="/s.png 1x, /l.png 2x" src="/m.png?a=1&amp;b=2" alt="">'
    assert urls(page) == ["/m.png?a=1&b=2", "/s.png", "/l.png"]


def test_long_link_text_is_cut_and_a_repeated_tag_gives_the_same_link():
    words = "word " * 40
    page = f'<a href="/x/">{words}</a><a href="/x/">short</a>'
    first, second = read_page_links(page).links
    assert first[3].endswith("…") and len(first[3]) == 80
    assert second == ("a", "href", "/x/", "short")


# Every opening tag, as the scanner once matched them all: the reference for the lookahead.
EVERY_TAG = re.compile(r"<([a-zA-Z][a-zA-Z0-9-]*)(\s[^>]*)?>|</a\s*>", re.IGNORECASE)
TRICKY = ('<p class="x"id="glued">a</p><div/id="slashed"></div><span ID = "spaced">'
          '<abbr title="no id=here">x</abbr><p data-id="not-one"><section\nid="newline">'
          '<IMG SRC="/upper.png" ALT="Up"><a\thref="/tab/">tab</a><area href="/area/">'
          '<abbr><a>bare</a><img/src="/not-a-tag-either.png"><aside id=bare>'
          '<video poster="/p.jpg"><source srcset="/a.webp 1x"></video><object data="/o.svg">')


def pages_nobody_here_wrote() -> list[str]:
    """The demo site's pages built, and the real sites' pages in the test data."""
    out = tempfile.mkdtemp(prefix="links-demo-")
    site = Path(out) / "demo"
    site.mkdir()
    shutil.copy(REPO / "blogengine.toml", site)
    shutil.copytree(REPO / "content", site / "content")
    build(load_config(site), BuildOptions(check_links=False))
    found = [path.read_text(encoding="utf-8") for path in sorted((site / "public").rglob("*.html"))]
    found += [path.read_text(encoding="utf-8", errors="replace")
              for path in sorted((REPO / "tests" / "data").rglob("*.html"))]
    shutil.rmtree(out)
    return found


def test_tags_passed_over_hold_neither_a_url_nor_an_id(monkeypatch):
    """The scanner skips most tags inside the regex; reading every tag finds the same links,
    texts and ids on real pages and on tags written every way HTML allows."""
    pages = [TRICKY, *pages_nobody_here_wrote()]
    assert len(pages) > 20
    fast = [read_page_links(page) for page in pages]
    monkeypatch.setattr(links, "_TAG", EVERY_TAG)
    assert [read_page_links(page) for page in pages] == fast
    assert {"glued", "spaced", "newline", "bare"} <= fast[0].ids
