"""render_comment: Markdown with raw HTML off, then an allow-list; links get rel and safe schemes only."""

from __future__ import annotations

import pytest

from comments_server.sanitize import count_links, render_comment


@pytest.mark.parametrize(
    ("source", "html"),
    [
        ("plain", "<p>plain</p>"),
        ("*em* **strong** `code`", "<p><em>em</em> <strong>strong</strong> <code>code</code></p>"),
        ("> quoted", "<blockquote>\n<p>quoted</p>\n</blockquote>"),
        ("- a\n- b", "<ul>\n<li>a</li>\n<li>b</li>\n</ul>"),
        ("1. a\n2. b", "<ol>\n<li>a</li>\n<li>b</li>\n</ol>"),
        ("```\n<b>x</b>\n```", "<pre><code>&lt;b&gt;x&lt;/b&gt;\n</code></pre>"),
        ("line\nbreak", "<p>line<br>\nbreak</p>"),
        ("# not a heading", "<p># not a heading</p>"),
        ("a <b>bold</b> try", "<p>a &lt;b&gt;bold&lt;/b&gt; try</p>"),
    ],
)
def test_markdown_subset(source, html):
    assert render_comment(source) == html


def test_links_get_rel_and_keep_title():
    assert render_comment('[site](https://example.com "Title")') == (
        '<p><a href="https://example.com" title="Title" rel="nofollow ugc noopener">site</a></p>'
    )


def test_bare_urls_are_linkified():
    html = render_comment("see https://example.com/x?y=1 and www.example.org")
    assert '<a href="https://example.com/x?y=1" rel="nofollow ugc noopener">' in html
    assert '<a href="http://www.example.org" rel="nofollow ugc noopener">' in html
    assert count_links(html) == 2


def test_mailto_allowed():
    assert 'href="mailto:a@example.com"' in render_comment("[mail](mailto:a@example.com)")


@pytest.mark.parametrize(
    "source",
    ["[x](javascript:alert(1))", "[x](JAVASCRIPT:alert(1))", "[x](data:text/html,hi)", "[x](vbscript:x)",
     "[x](file:///etc/passwd)", "[x](jav&#x61;script:alert(1))", "[x](java%0ascript:alert(1))",
     "<javascript:alert(1)>", "[x](ftp://example.com)"],
)
def test_dangerous_link_schemes_do_not_become_links(source):
    assert "<a" not in render_comment(source)


def test_images_are_not_embedded():
    html = render_comment("![pic](https://example.com/p.png)")
    assert "<img" not in html


def test_count_links():
    assert count_links(render_comment("no links")) == 0
    assert count_links(render_comment("[a](http://a.com) [b](http://b.com)")) == 2
