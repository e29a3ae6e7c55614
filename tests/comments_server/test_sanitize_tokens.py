"""A comment body sanitised on its Markdown tokens (sanitize.render_from_tokens) against the
reference, bleach's pass over the rendered HTML: byte for byte the same on inputs nobody here wrote
(markdown-it-py's CommonMark and fixture inputs, OWASP's and others' hostile payloads, the
repository's documents and a seeded mix of Markdown's sharp edges); anything the token pass may not
judge goes through bleach."""

from __future__ import annotations

import json
import random

import pytest

from comments_server import sanitize
from comments_server.sanitize import render_comment, render_from_tokens, render_through_bleach
from tests.support import REPO
from tests.support import markdown_documents as corpus

DATA = REPO / "tests" / "data"


def markdown_it_py_inputs() -> list[str]:
    """tests/data/markdown/markdown-it-py-inputs.json (its header names the source and licence)."""
    data = json.loads((DATA / "markdown" / "markdown-it-py-inputs.json").read_text(encoding="utf-8"))
    return [item["markdown"] for item in data["inputs"]]


def hostile_payloads() -> list[str]:
    data = json.loads((DATA / "hostile" / "payloads.json").read_text(encoding="utf-8"))
    return [item["payload"] for item in data["payloads"]]


def demo_comment_bodies() -> list[str]:
    data = json.loads((REPO / "demo-comments.json").read_text(encoding="utf-8"))
    return [comment["body"] for comment in data["comments"]]


# Pieces a reader's comment is made of where a Markdown renderer and an HTML parser are likeliest
# to disagree: delimiters, entities, raw tags, URL forms, controls and odd code points.
FRAGMENTS = [
    "*", "**", "_", "__", "`", "```", "~~~", "\n", "\n\n", "  \n", "\\", "> ", "- ", "1. ", "7) ",
    "    ", "\t", "[", "]", "(", ")", "<", ">", "&", "&amp;", "&quot;", "&#0;", "&#x1F600;",
    "&nbsp;", "&copy", "\"", "'", "=", "#", "!", "|", "https://example.com/a_b?c=1&d=<e>",
    "www.example.org", "mailto:a@example.com", "me@example.com", "javascript:alert(1)",
    "[t](https://example.com \"ti&tle\")", "[r]", "[r]: https://example.com/ref", "<https://x.y/z>",
    "<b>", "</p>", "<!--", "-->", "<script>", "word", "café", "日本", "🎉", "\u00a0", "\u200b", "\r\n",
]
ODD_CHARACTERS = ["&#12;", "\x00", "\x0c", "\x01", "\x7f", "\x85", "\r", "&#x0D;", "\ufdd0", "\ufffe", "\U0001fffe"]


def seeded_mix(count: int, seed: int = 15) -> list[str]:
    """`count` bodies of 1-40 fragments, one in a hundred of them an odd character."""
    rng = random.Random(seed)
    return ["".join(rng.choice(ODD_CHARACTERS if rng.random() < 0.01 else FRAGMENTS)
                    for _ in range(rng.randint(1, 40))) for _ in range(count)]


CORPORA = {
    "markdown-it-py": markdown_it_py_inputs,
    "hostile payloads": hostile_payloads,
    "demo comments": demo_comment_bodies,
    "repository documents": lambda: [text for _, text in corpus.repository_files()],
    "snippets": lambda: list(corpus.SNIPPETS) + [text for _, text in corpus.generated_documents(200)],
    "seeded mix": lambda: seeded_mix(3000),
}


@pytest.mark.parametrize("name", [pytest.param(name, marks=pytest.mark.slow) if name == "seeded mix" else name
                                  for name in CORPORA])   # the seeded mix takes about 3 s
def test_tokens_render_what_bleach_renders(name):
    inputs = CORPORA[name]()
    mismatches = []
    judged = 0
    for text in inputs:
        fast = render_from_tokens(text)
        if fast is None:
            continue
        judged += 1
        reference = render_through_bleach(text)
        if fast != reference:
            mismatches.append((text, fast, reference))
    assert not mismatches, f"{len(mismatches)} of {len(inputs)} differ; first: {mismatches[0]!r}"
    # Most inputs must take the token path, or this proves little: only control characters and
    # the like go to bleach.
    assert judged >= len(inputs) * 0.8, (judged, len(inputs))


def test_characters_html5lib_rewrites_go_through_bleach():
    # "&#12;" is a form feed that markdown-it keeps and html5lib turns into "?".
    for text in ["form\x0cfeed", "a &#12; b", "nul\x01x", "non\ufdd0char", "a &#x0D; b"]:
        assert render_from_tokens(text) is None
        assert render_comment(text) == render_through_bleach(text)
    assert render_comment("a &#12; b") == "<p>a ? b</p>"


def test_a_token_outside_the_allow_list_goes_through_bleach(monkeypatch):
    # Images are off in the comment Markdown; turned on, their token is one the pass does not know.
    md = sanitize._markdown().enable("image")
    monkeypatch.setattr(sanitize, "_MD", md)
    text = "![pic](https://example.com/p.png) and <b>raw</b>"
    assert render_from_tokens(text) is None
    assert render_comment(text) == "<p> and &lt;b&gt;raw&lt;/b&gt;</p>"


def test_links_from_tokens_keep_only_safe_targets_and_get_rel():
    html = render_from_tokens('[a](https://example.com/?q=1&r=2 "T") <mailto:me@example.com> www.example.org')
    assert html == ('<p><a href="https://example.com/?q=1&amp;r=2" title="T" rel="nofollow ugc noopener">a</a> '
                    '<a href="mailto:me@example.com" rel="nofollow ugc noopener">mailto:me@example.com</a> '
                    '<a href="http://www.example.org" rel="nofollow ugc noopener">www.example.org</a></p>')


def test_fence_language_and_list_start_are_dropped():
    assert render_from_tokens("```python\nx = 1\n```\n\n3. three") == (
        "<pre><code>x = 1\n</code></pre>\n<ol>\n<li>three</li>\n</ol>")


def test_an_allowed_token_with_another_tag_goes_through_bleach(monkeypatch):
    # A rule that renames tags (as a plugin might) makes paragraph tokens render as <div>.
    md = sanitize._markdown()

    def paragraphs_as_divs(state):
        for token in state.tokens:
            if token.type.startswith("paragraph_"):
                token.tag = "div"

    md.core.ruler.push("paragraphs_as_divs", paragraphs_as_divs)
    monkeypatch.setattr(sanitize, "_MD", md)
    assert render_from_tokens("hello *there*") is None
    assert render_comment("hello *there*") == "hello <em>there</em>"
