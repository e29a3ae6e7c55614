"""Reading a built page's links and ids back (links.py), as the link check does."""

from __future__ import annotations

from blogengine.links import read_page_links


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
