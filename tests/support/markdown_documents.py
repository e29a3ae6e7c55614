"""Every Markdown document the repository holds, for the accelerator's differential tests
(tests/blogengine/test_fastmd.py): the demo content, the test data's corpora (raw, and as the
importers write them), the benchmark corpus in both styles, the documents the test suite's own
code writes, and a seeded mix of the constructs where two Markdown parsers are likeliest to
part ways."""

from __future__ import annotations

import ast
import random
from pathlib import Path

from tests.support import REPO

MARKDOWN_SUFFIXES = {".md", ".markdown"}
Documents = list[tuple[str, str]]   # (where it comes from, its text)


def files_under(root: Path, label: str) -> Documents:
    return [(f"{label}/{path.relative_to(root).as_posix()}", path.read_text(encoding="utf-8"))
            for path in sorted(root.rglob("*")) if path.suffix in MARKDOWN_SUFFIXES
            and path.is_file()]


def repository_files() -> Documents:
    """content/ (the demo site), themes/ and tests/data/ as they are on disk."""
    return (files_under(REPO / "content", "content") + files_under(REPO / "themes", "themes")
            + files_under(REPO / "tests" / "data", "tests/data"))


def test_suite_documents() -> Documents:
    """The Markdown documents written as string literals in the test suite: every constant that
    starts with a front matter line, and every constant `body=` (tests/support/site.py's post()
    and its kin), given a front matter."""
    found: Documents = []
    for path in sorted((REPO / "tests").rglob("*.py")):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and node.value.startswith("---\n"):
                found.append((f"{path.relative_to(REPO).as_posix()}:{node.lineno}", node.value))
            elif isinstance(node, ast.keyword) and node.arg == "body" \
                    and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                found.append((f"{path.relative_to(REPO).as_posix()}:{node.value.lineno}",
                              f"---\ntitle: Body\ndate: 2024-01-02\n---\n{node.value.value}"))
    return found


def benchmark_documents(root: Path, posts: int) -> Documents:
    """benchmarks/corpus.py's posts, both styles."""
    from benchmarks.corpus import write_corpus
    found: Documents = []
    for style in ("rich", "plain"):
        write_corpus(posts, root / style, style=style)
        found += files_under(root / style / "site" / "content", f"bench-{style}")
    return found


# Snippets where CommonMark implementations differ most often: emphasis runs, entities and
# escapes, Unicode, link forms, lists and their tightness, headings and their ids, tables, code.
SNIPPETS = [
    "Plain *emphasis* and **strong** and ***both*** and _under_ and __strong__.",
    "Intra*word*emph, snake_case_name, 2*3*4, a * b * c, **bold**text, *a **b** c*.",
    "Entities: &copy; &amp; &lt; &#35; &#x22; &nbsp; &bogus; &amp;copy; AT&T.",
    "Escapes: \\* \\_ \\` \\\\ \\[ \\# \\> \\! \\& \\~ and a trailing backslash\\",
    "Unicode: café, naïve, 日本語, emoji 🎉, ’curly’ “quotes”, Ω≈ç√, «guillemets».",
    "Punctuation emphasis: *“quoted”* and **¿qué?** and _(paren)_ and *—dash—*.",
    "Links: [text](http://example.com), [t](</space url>) [t](u \"title\"), [t][ref], [ref].",
    "[ref]: http://example.com/ref  'Ref Title'",
    "[Ünï Cödé]: /unicode\n\nSee [ünï cödé] and [ÜNÏ CÖDÉ].",
    "Images: ![alt *text*](a.png) and ![](b.png \"t\") and ![x][ref].",
    "Autolinks: <http://example.com/a_b> and <mail@example.com> and www.example.com.",
    "URL autolinks: <https://example.com/caf%C3%A9?q=1&r=2>, <HTTP://EXAMPLE.COM/Ü>, <ftp://x.y/a_b*c*>.",
    "<https://example.com/a%20b> alone",
    "Code: `x`, `` a ` b ``, ` spaced `, `<tag>` and `&amp;`.",
    "Line one  \nline two\\\nline three\nline four",
    "~~strike~~ and ~single~ and ~~**mixed**~~.",
    "# Heading one",
    "## Heading `code` and *em*",
    "## Heading one",
    "### Same\n\n### Same\n\n### Same-1",
    "#### &amp; entity & heading",
    "Setext one\n==========",
    "Setext two\n----------",
    "##### Trailing hashes ##",
    "###### [Linked](http://x) heading",
    "# ",
    "## 日本語の見出し",
    "- one\n- two\n- three",
    "1. first\n2. second\n\n3. loose third",
    "- outer\n  - inner\n    - deeper\n- back",
    "* star\n+ plus\n- minus",
    "- item\n\n  continued paragraph\n\n- next",
    "3) paren start\n4) next",
    "> quote\n> > nested\n\n> ## heading in quote",
    "- ## heading in list\n- text",
    "| a | b |\n|---|:-:|\n| 1 | `2` |\n| *x* | [l](u) |",
    "| left | right |\n|:-----|------:|\n| 1 | 2 | 3 |\n| only |",
    "```python\ndef f(x):\n    return x < 1 and \"s\" & 'q'\n```",
    "```js\nconst a = `t${b}`;\n```",
    "~~~ruby\nputs 'hi'\n~~~",
    "```nosuchlanguage\nplain & text\n```",
    "```\nno language\n```",
    "    indented code\n    block",
    "```\n\n  leading blank and indent\n```",
    "Paragraph then\n\n    indented after a paragraph\n\n```\nthen a bare fence\n```",
    "- list\n\n      indented in a list\n\n- ```\n  fence in a list\n  ```",
    "```python title=\"x.py\"\nprint(1)\n```",
    "```c++\nint main() {}\n```",
    "***\n\n---\n\n___",
    "Hard<br>html and <span>inline</span> html",
    "<div>\nblock html\n</div>",
    "<!-- more -->",
    "<!--more-->",
    "<!-- More: the rest -->",
    "Text\n<!-- more -->",
    "Text with a footnote[^1].\n\n[^1]: The note.",
    "- [ ] task\n- [x] done",
    "Term\n: definition",
    "!!! note\n    admonition",
    "{{< figure src=\"/a.jpg\" >}}",
    "A paragraph\nwith a soft break and 'apostrophes' and don't-stop words.",
    "Numbers 1,000 and 3.14 and 2024-01-02 and well-known co-op.",
    "Tabs\tinside\ttext and trailing spaces   ",
    "\\# not a heading and 1\\. not a list",
    "+ list after\n\nparagraph",
    "Empty link [](http://x) and [link with `code`](y) and [**bold link**](z).",
    "Nested [link [brackets]](http://x) and [a](b)[c](d).",
    "*unclosed emphasis and **unclosed strong",
    "> quote with\nlazy continuation",
    "1. list\n\n   ```python\n   x = 1\n   ```",
    "Final paragraph.",
]


def generated_documents(count: int, seed: int = 15) -> Documents:
    """Seeded documents of 1-8 snippets each, with and without a front matter summary."""
    rng = random.Random(seed)
    found: Documents = []
    for n in range(count):
        parts = rng.sample(SNIPPETS, rng.randint(1, 8))
        summary = "summary: Given summary\n" if n % 7 == 0 else ""
        text = f"---\ntitle: Generated {n}\ndate: 2024-01-02\n{summary}---\n" + "\n\n".join(parts) + "\n"
        found.append((f"generated/{n}", text))
    return found
