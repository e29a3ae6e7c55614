"""The Markdown accelerator (blogengine/fastmd.py) against the reference (markdown-it-py): every
document it accepts, of every corpus the repository holds, parses to exactly the same Document,
and whole sites build to the same bytes with and without it."""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
import sys
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from zoneinfo import ZoneInfo

import pytest

from blogengine import fastmd
from blogengine.build import BuildOptions, build
from blogengine.config import load_config
from blogengine.errors import BlogError
from blogengine.load import SourceFile
from blogengine.markup import make_markdown
from blogengine.parse import Document, parse_document
from tests.support import REPO
from tests.support import markdown_documents as corpus
from tests.support.importing import DATA, run

pytestmark = pytest.mark.skipif(fastmd.unavailable_reason() is not None,
                                reason=str(fastmd.unavailable_reason()))
TZ = ZoneInfo("UTC")
NOW = datetime(2030, 1, 1, tzinfo=timezone.utc)


def _source(name: str, text: str) -> SourceFile:
    return SourceFile(path=Path("/nowhere") / name, rel=PurePosixPath("posts/doc.md"), text=text,
                      digest=hashlib.sha256(text.encode()).hexdigest())


def _parse(text: str, allow_html: bool, accelerated: bool) -> Document | str:
    """The Document, or the error a build would report."""
    accelerator = fastmd.Accelerator() if accelerated else None
    try:
        return parse_document(_source("doc", text), make_markdown(allow_html=allow_html), TZ,
                              accelerator)
    except BlogError as exc:
        return f"{type(exc).__name__}: {exc}"


def check_documents(documents: corpus.Documents) -> int:
    """Assert every document the accelerator accepts parses identically with it, for raw HTML
    allowed and escaped; returns how many it accepted (each way counted)."""
    accelerator = fastmd.Accelerator()
    accepted = 0
    mismatches = []
    for allow_html in (True, False):
        reference_md = make_markdown(allow_html=allow_html)
        for name, text in documents:
            if accelerator.render(text) is None:
                continue
            accepted += 1
            source = _source(name, text)
            try:
                expected: Document | str = parse_document(source, reference_md, TZ)
            except BlogError as exc:
                expected = f"{type(exc).__name__}: {exc}"
            try:
                got: Document | str = parse_document(source, reference_md, TZ, accelerator)
            except BlogError as exc:
                got = f"{type(exc).__name__}: {exc}"
            if got != expected:
                mismatches.append((name, allow_html, expected, got))
    assert not mismatches, _describe(mismatches[0]) + f"\n({len(mismatches)} documents differ)"
    return accepted


def _describe(mismatch: tuple[str, bool, Document | str, Document | str]) -> str:
    name, allow_html, expected, got = mismatch
    if isinstance(expected, Document) and isinstance(got, Document):
        fields = [f.name for f in dataclasses.fields(Document)
                  if getattr(expected, f.name) != getattr(got, f.name)]
        detail = "\n".join(f"{field}:\n  reference   {getattr(expected, field)!r}\n"
                           f"  accelerator {getattr(got, field)!r}" for field in fields)
    else:
        detail = f"reference {expected!r}\naccelerator {got!r}"
    return f"{name} (allow_html={allow_html}) differs:\n{detail}"


# The differential tests, one per corpus -------------------------------------------------------

def test_repository_documents_render_identically():
    documents = corpus.repository_files()
    assert len(documents) > 60
    assert check_documents(documents) > 40


def test_test_suite_documents_render_identically():
    documents = corpus.test_suite_documents()
    assert len(documents) > 300
    assert check_documents(documents) > 400


def test_generated_documents_render_identically():
    documents = corpus.generated_documents(3000)
    accepted = check_documents(documents)
    # Most mixes hold a construct it leaves to the reference; enough do not.
    assert accepted > 1500


def test_benchmark_corpus_renders_identically_and_all_of_it_accelerated(tmp_path):
    sys.path.insert(0, str(REPO))
    try:
        documents = corpus.benchmark_documents(tmp_path, 300)
    finally:
        sys.path.remove(str(REPO))
    accepted = check_documents(documents)
    assert accepted == 2 * len(documents)   # every benchmark document, both HTML settings


IMPORTS = [("jekyll", "corpora/jekyll-minima"), ("jekyll", "corpora/jekyll-shortcodes"),
           ("hugo", "corpora/hugo-basic"), ("jekyll", "corpora/staticman-made-mistakes"),
           ("hugo", "corpora/staticman-goparker"), ("jekyll", "jekyll"), ("hugo", "hugo"),
           ("wordpress", "wordpress.xml")]


@pytest.mark.slow
def test_imported_corpora_render_identically(tmp_path):
    documents: corpus.Documents = []
    for n, (kind, source) in enumerate(IMPORTS):
        root = tmp_path / f"site{n}"
        assert run("init", str(root)).exit_code == 0
        imported = run("import", kind, str(DATA / source), "--site", str(root))
        assert imported.exit_code == 0, imported.output
        documents += corpus.files_under(root / "content", f"imported-{source}")
    assert len(documents) > 30
    assert check_documents(documents) > 0


# What it leaves to the reference --------------------------------------------------------------

@pytest.mark.parametrize("body", [
    "Text[^1].\n\n[^1]: note", "- [ ] task", "Term\n: definition", "!!! note\n    body",
    '{{< figure src="/a.jpg" >}}', "<div>html</div>", "before\n<!-- more -->\n\nafter", "before\n\n<!-- more -->\nafter",
    "```py\nx\n```\n\n<!-- more -->\n\nafter", "a\n\n<!-- more -->\n\n<!-- more -->\n",
    "<mail@example.com>", "<https://example.com/caf%C3%A9>", "<https://example.com/Ü>", "Setext\nover two lines\n===", "```py{.x}\ncode\n```",
    "Windows\r\nline ends",
])
def test_features_it_does_not_render_identically_go_the_reference_way(body):
    assert fastmd.Accelerator().render(f"---\ntitle: T\n---\n{body}\n") is None


@pytest.mark.parametrize("text", [
    "no front matter\n", "---\ntitle: never closed\n", "----\ntitle: T\n----\nbody\n",
    "---\ntitle: T\n...\nbody\n",
])
def test_front_matter_it_is_unsure_of_goes_the_reference_way(text):
    assert fastmd.Accelerator().render(text) is None


def test_accepted_document_has_ids_toc_summary_words_and_highlighting():
    text = ("---\ntitle: T\ndate: 2024-01-02\n---\n# Intro\n\nFirst *para* with `code`.\n\n"
            "## Intro\n\n> ## Quoted\n\n```python\nx = 1\n```\n")
    document = _parse(text, True, accelerated=True)
    assert isinstance(document, Document)
    assert '<h1 id="intro">' in document.html and '<h2 id="intro-1">' in document.html
    assert '<h2 id="quoted">' in document.html          # an id, but not in the toc
    assert [(e.level, e.anchor, e.title) for e in document.toc] == [(1, "intro", "Intro"),
                                                                      (2, "intro-1", "Intro")]
    assert document.summary_html == "<p>First <em>para</em> with <code>code</code>.</p>"
    assert document.summary_text == "First para with code."
    assert document.word_count == 9   # Intro, First para with code, Intro, Quoted, x 1
    assert '<pre class="highlight" tabindex="0"><code class="language-python">' in document.html
    assert document == _parse(text, True, accelerated=False)


@pytest.mark.parametrize("body", [
    "    indented code", "```\nno language\n```", "```\nfence\n```\n\n    indented\n\n```py\nx\n```",
    "    indented\n\n```\nfence\n```", "<https://example.com/a_b?a=1&b=2> autolink",
])
def test_code_without_language_and_url_autolinks_render_identically(body):
    text = f"---\ntitle: T\n---\nIntro.\n\n{body}\n"
    assert fastmd.Accelerator().render(text) is not None
    assert _parse(text, True, accelerated=True) == _parse(text, True, accelerated=False)


@pytest.mark.parametrize("body", [
    "# Title\n\nBefore the *break*.\n\n- a\n- b\n\n<!-- more -->\n\nAfter.",
    "<!--more-->\n\nFirst paragraph after a leading break.",
    "Before.\n\n<!-- MORE please -->  \n\n## After\n\n```\ncode\n```",
    "Before.\n\n```\n<!-- more -->\n```\n\nAfter.",
])
@pytest.mark.parametrize("allow_html", [True, False])
def test_summary_break_renders_identically(body, allow_html):
    text = f"---\ntitle: T\n---\n{body}\n"
    expected = _parse(text, allow_html, accelerated=False)
    assert _parse(text, allow_html, accelerated=True) == expected


def test_summary_break_is_accelerated():
    text = "---\ntitle: T\n---\nIntro *here*.\n\n<!-- more -->\n\nRest.\n"
    rendered = fastmd.Accelerator().render(text)
    assert rendered is not None and rendered.summary_html == "<p>Intro <em>here</em>.</p>"
    assert rendered.html == "<p>Intro <em>here</em>.</p>\n<p>Rest.</p>\n"


def test_bad_front_matter_is_the_same_error_either_way():
    text = "---\ntitle: T\ndate: 2024-13-01\n---\nBody.\n"
    error = _parse(text, True, accelerated=True)
    assert isinstance(error, str) and "date" in error
    assert error == _parse(text, True, accelerated=False)


# Whole sites, byte for byte ------------------------------------------------------------------

def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def _build_both(site: Path, tmp_path: Path, jobs: int) -> tuple[dict[str, bytes],
                                                                 dict[str, bytes], int]:
    config = load_config(site)
    trees = []
    accelerated = 0
    for on in (True, False):
        out = tmp_path / f"out-{on}"
        report = build(dataclasses.replace(config, markdown_accelerator=on),
                       BuildOptions(output_dir=out, now=NOW, incremental=False, jobs=jobs,
                                    check_links=False))
        accelerated += report.accelerated
        shutil.rmtree(site / ".blogengine", ignore_errors=True)
        trees.append(_tree(out))
    return trees[0], trees[1], accelerated


@pytest.mark.slow
def test_demo_site_builds_byte_identical_with_and_without_accelerator(tmp_path):
    site = tmp_path / "demo"
    shutil.copytree(REPO / "content", site / "content")
    shutil.copy(REPO / "blogengine.toml", site / "blogengine.toml")
    if (REPO / "themes").is_dir():
        shutil.copytree(REPO / "themes", site / "themes")
    with_it, without, accelerated = _build_both(site, tmp_path, jobs=1)
    assert accelerated > 0 and len(with_it) > 20
    assert with_it == without


@pytest.mark.slow
def test_benchmark_corpus_builds_byte_identical_with_and_without_accelerator(tmp_path):
    sys.path.insert(0, str(REPO))
    try:
        from benchmarks.corpus import write_corpus
    finally:
        sys.path.remove(str(REPO))
    write_corpus(250, tmp_path / "bench")   # over PARALLEL_SOURCES: the workers parse
    with_it, without, accelerated = _build_both(tmp_path / "bench" / "site", tmp_path, jobs=2)
    assert accelerated >= 250 and len(with_it) > 250
    assert with_it == without


def test_build_report_says_how_many_documents_the_accelerator_rendered(tmp_path):
    site = tmp_path / "site"
    (site / "content" / "posts").mkdir(parents=True)
    (site / "blogengine.toml").write_text('title = "T"\n')
    (site / "content/posts/plain.md").write_text("---\ntitle: A\ndate: 2024-01-02\n---\nHi.\n")
    (site / "content/posts/notes.md").write_text(
        "---\ntitle: B\ndate: 2024-01-03\n---\nText[^1].\n\n[^1]: A note.\n")
    result = run("build", "--source", str(site))
    assert result.exit_code == 0, result.output
    assert "1 of 2 Markdown documents by markdown-it-pyrs" in result.output
    (site / "blogengine.toml").write_text('title = "T"\nmarkdown_accelerator = false\n')
    result = run("build", "--source", str(site))
    assert result.exit_code == 0 and "markdown-it-pyrs" not in result.output
