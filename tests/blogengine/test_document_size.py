"""A Markdown file over `max_document_kib` is a content error naming it, not a stalled build."""

from __future__ import annotations

import subprocess
import sys

from tests.support.site import BASIC_CONFIG, post


def limited(kib: int) -> str:
    return BASIC_CONFIG.replace('title = "Test Blog"', f'title = "Test Blog"\nmax_document_kib = {kib}')


def _build(root):
    return subprocess.run([sys.executable, "-m", "blogengine", "build"], cwd=root,
                          capture_output=True, text=True, timeout=120)


def test_a_document_over_the_limit_is_refused_with_its_name(make_site):
    big = post("Huge", "2024-01-02", body="A *dense* [line](https://example.com/) of `text`.\n" * 1500)
    root = make_site({"content/posts/huge.md": big,
                      "content/posts/small.md": post("Small", "2024-01-01", body="Fine.\n")},
                     config=limited(64))
    result = _build(root)
    assert result.returncode == 1
    assert "content/posts/huge.md" in result.stderr
    assert "max_document_kib = 64" in result.stderr and "MiB" in result.stderr
    assert "content/posts/small.md" not in result.stderr
    assert "Traceback" not in result.stderr


def test_the_same_document_builds_under_a_raised_limit(make_site):
    big = post("Huge", "2024-01-02", body="A *dense* [line](https://example.com/) of `text`.\n" * 1500)
    root = make_site({"content/posts/huge.md": big}, config=limited(128))
    result = _build(root)
    assert result.returncode == 0, result.stderr
    assert (root / "public" / "2024" / "01" / "huge" / "index.html").is_file()


def test_a_limit_below_one_is_a_config_error(make_site):
    root = make_site({}, config=limited(0))
    result = _build(root)
    assert result.returncode == 1
    assert "max_document_kib" in result.stderr and "Traceback" not in result.stderr
