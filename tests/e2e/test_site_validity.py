"""The demo site in this repository builds, and every page passes the Nu HTML checker."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import feedparser
import pytest

from blogengine.build import BuildOptions, build
from blogengine.config import load_config
from tests.support import REPO
from tests.support.site import read_html

VNU_JAR = Path(os.environ.get("VNU_JAR", REPO / "node_modules/vnu-jar/build/dist/vnu.jar"))


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "public"
    build(load_config(REPO), BuildOptions(output_dir=out))
    return out


def test_demo_site_has_every_page_type(demo_site):
    config = load_config(REPO)
    assert len(list(demo_site.glob("20*/*/*/index.html"))) >= 8
    for rel in ["index.html", "page/2/index.html", "about/index.html", "tags/index.html",
                "archive/index.html", "404.html", "sitemap.xml", "robots.txt", "threads.json",
                "images/coffee-table.png"]:
        assert (demo_site / rel).is_file(), rel
    assert any(demo_site.glob("tags/*/index.html")) and any(demo_site.glob("categories/*/index.html"))
    assert read_html(demo_site / "index.html").title.get_text().strip() == config.title
    feed = feedparser.parse((demo_site / "atom.xml").read_bytes())
    assert not feed.bozo and len(feed.entries) >= 8
    threads = json.loads((demo_site / "threads.json").read_text())
    assert {t["open"] for t in threads["threads"]} == {True, False}


def test_demo_site_pages_pass_the_nu_html_checker(demo_site):
    java = shutil.which("java")
    if java is None or not VNU_JAR.is_file():
        pytest.skip(f"needs java and the Nu HTML checker at {VNU_JAR} (npm install vnu-jar)")
    pages = sorted(demo_site.rglob("*.html"))
    assert len(pages) > 30
    result = subprocess.run(
        [java, "-jar", str(VNU_JAR), "--errors-only", "--format", "json", *map(str, pages)],
        capture_output=True, text=True, timeout=300)
    messages = json.loads(result.stderr or '{"messages": []}')["messages"]
    errors = [f"{m.get('url')}:{m.get('lastLine')}: {m.get('message')}" for m in messages
              if m.get("type") == "error"]
    assert errors == [], "\n".join(errors)
    assert result.returncode == 0
