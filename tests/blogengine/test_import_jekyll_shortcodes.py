"""Jekyll includes and plugin tags of the common kinds (videos, figures, gists), from posts of
public sites (tests/data/import/corpora/jekyll-shortcodes, SOURCE.md names each one), become
blogengine shortcode calls; the imported site builds with the calls rendered, no Liquid left,
and no player from YouTube or Vimeo in the page before a click."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
from bs4 import BeautifulSoup

from tests.support.corpora import CORPORA, built_pages, import_and_build
from tests.support.importing import run

CORPUS = CORPORA / "jekyll-shortcodes"


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    return import_and_build(tmp_path_factory.mktemp("jekyll-sc"), "jekyll", CORPUS)


def _post(imported, name: str) -> str:
    return (imported.root / "content/posts" / f"{name}.md").read_text(encoding="utf-8")


def test_jekyll_video_figure_and_gist_includes_become_shortcode_calls(imported):
    assert imported.imported.exit_code == 0, imported.imported.output
    # minimal-mistakes' responsive_video, YouTube and Vimeo
    header = _post(imported, "layout-header-video")
    assert '{{< video youtube="XsxDH4HcOWA" title="YouTube video XsxDH4HcOWA" >}}' in header
    assert '{{< video vimeo="97649261" title="Vimeo video 97649261" >}}' in header
    # its `video` include; the copy inside {% raw %} in a code block stays as written
    tag = _post(imported, "post-video-youtube-video-tag")
    assert '{{< video youtube="lDi9uFcD7XI" title="YouTube video lDi9uFcD7XI" >}}' in tag
    assert '{% include video id="lDi9uFcD7XI" provider="youtube" %}' in tag
    # a youtube.html include and a {% youtube URL %} plugin tag
    assert '{{< video youtube="JLMbpiywVxQ" title="YouTube video JLMbpiywVxQ" >}}' in \
        _post(imported, "welcome-to-jekyll")
    assert '{{< video youtube="zpOULjyy-n8" title="YouTube video zpOULjyy-n8" >}}' in \
        _post(imported, "example_youtube")
    # minimal-mistakes' figure, its caption kept
    chip8 = _post(imported, "write-a-chip-8-emulator")
    assert '{{< figure src="/assets/images/cosmac-vip-keypad.png" ' \
           'caption="The COSMAC VIP keypad" >}}' in chip8
    assert '{{< figure src="/assets/images/chip-8_ibm_logo.png" ' \
           'caption="The grid has been added as a visual aid while debugging" >}}' in chip8
    # jekyll-gist
    assert '{{< gist "parkr" "931c1c8d465a04042403" >}}' in _post(imported, "test-post")
    assert "Liquid left as text" not in imported.imported.output


def test_imported_site_builds_with_the_calls_rendered(imported):
    assert imported.built.exit_code == 0, imported.built.output
    # The only warnings: the two figure images, binaries the corpus does not copy.
    warnings = [line for line in imported.built.output.splitlines() if "warning" in line]
    assert len(warnings) == 2 and all("the built site has no such file" in w for w in warnings)
    pages = built_pages(imported.public)
    found = {}
    for url, path in pages.items():
        soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
        article = soup.find("article")
        if article is None:
            continue
        text = str(article)
        assert "{{&lt;" not in text and "{{<" not in text, url    # every call rendered
        found[url] = article
        outside_code = BeautifulSoup(text, "html.parser")
        for pre in outside_code.find_all("pre"):
            pre.decompose()
        assert "{%" not in outside_code.get_text(), url           # no Liquid outside code
    by_slug = {url.rstrip("/").rsplit("/", 1)[-1]: article for url, article in found.items()}
    videos = by_slug["layout-header-video"].select("figure.sc-video")
    assert [v["data-embed"].split("?")[0] for v in videos] == [
        "https://www.youtube-nocookie.com/embed/XsxDH4HcOWA",
        "https://player.vimeo.com/video/97649261"]
    assert by_slug["welcome-to-jekyll"].select_one("figure.sc-video a")["href"] == \
        "https://www.youtube.com/watch?v=JLMbpiywVxQ"
    captions = [f.figcaption.get_text(" ", strip=True)
                for f in by_slug["write-a-chip-8-emulator"].select("figure.sc-figure")]
    assert captions == ["The COSMAC VIP keypad",
                        "The grid has been added as a visual aid while debugging"]
    gist = by_slug["test-post"].select_one(".sc-gist a")
    assert gist["href"] == "https://gist.github.com/parkr/931c1c8d465a04042403"
    # the code block keeps the include as its author showed it
    assert '{% include video id="lDi9uFcD7XI" provider="youtube" %}' in \
        by_slug["post-video-youtube-video-tag"].find("pre").get_text()


def test_no_player_from_youtube_or_vimeo_is_in_the_built_pages(imported):
    for path in imported.public.rglob("*.html"):
        html = path.read_text(encoding="utf-8")
        soup = BeautifulSoup(html, "html.parser")
        assert soup.find("iframe") is None, path
        for element in soup.find_all(src=True):
            assert not re.match(r"(https?:)?//", element["src"]), (path, element["src"])


def test_imported_video_and_figure_pages_are_valid_html(imported):
    from tests.e2e.test_site_validity import VNU_JAR
    java = shutil.which("java")
    if java is None or not VNU_JAR.is_file():
        pytest.skip(f"needs java and the Nu HTML checker at {VNU_JAR} (npm install vnu-jar)")
    pages = [path for url, path in built_pages(imported.public).items()
             if any(slug in url for slug in ("layout-header-video", "write-a-chip-8-emulator",
                                             "test-post"))]
    assert len(pages) == 3
    result = subprocess.run([java, "-jar", str(VNU_JAR), "--errors-only", "--format", "json",
                             *map(str, pages)], capture_output=True, text=True, timeout=300)
    messages = json.loads(result.stderr or '{"messages": []}')["messages"]
    assert [f"{m.get('url')}:{m.get('lastLine')}: {m.get('message')}" for m in messages
            if m.get("type") == "error"] == []


def test_liquid_in_include_arguments_is_reported_and_kept(tmp_path):
    source = tmp_path / "jekyll"
    (source / "_posts").mkdir(parents=True)
    (source / "_config.yml").write_text("title: T\n")
    (source / "_posts/2020-01-02-vars.md").write_text(
        "---\ntitle: Vars\n---\n"
        '{% include figure image_path=fig_path alt="A graph" caption="Deps" %}\n\n'
        '{% include video id="{{ page.video }}" provider="youtube" %}\n\n'
        '{% include figure image_path="/a.png" caption="Kept *here*" popup=true %}\n',
        encoding="utf-8")
    site = tmp_path / "site"
    assert run("init", str(site)).exit_code == 0
    result = run("import", "jekyll", str(source), "--site", str(site))
    assert result.exit_code == 0, result.output
    body = (site / "content/posts/vars.md").read_text(encoding="utf-8")
    assert '{% include figure image_path=fig_path alt="A graph" caption="Deps" %}' in body
    assert '{% include video id="{{ page.video }}" provider="youtube" %}' in body
    assert '{{< figure src="/a.png" caption="Kept *here*" >}}' in body   # popup dropped
    output = " ".join(result.output.split())
    assert "_posts/2020-01-02-vars.md: Liquid left as text:" in output
    assert "include figure (Liquid in image_path)" in output
    assert "include video (Liquid in id)" in output


@pytest.mark.parametrize(("liquid", "expected"), [
    ('{% include youtube.html video_id="M7lc1UVf-VE" %}',
     '{{< video youtube="M7lc1UVf-VE" title="YouTube video M7lc1UVf-VE" >}}'),
    ("{% include youtube.html M7lc1UVf-VE %}",
     '{{< video youtube="M7lc1UVf-VE" title="YouTube video M7lc1UVf-VE" >}}'),
    ('{% include vimeo.html id="76979871" title="A talk" %}',
     '{{< video vimeo="76979871" title="A talk" >}}'),
    ("{% vimeo 76979871 %}", '{{< video vimeo="76979871" title="Vimeo video 76979871" >}}'),
    ('{% include image.html url="/a.png" description="A *tiny* chart" %}',
     '{{< figure src="/a.png" caption="A *tiny* chart" >}}'),
    ("{% include figure.html src='/b.png' alt='B' caption='Bee' %}",
     '{{< figure src="/b.png" alt="B" caption="Bee" >}}'),
    ('{% include gist.html user="parkr" id="931c1c8d465a04042403" file="a.md" %}',
     '{{< gist "parkr" "931c1c8d465a04042403" "a.md" >}}'),
    ("{% gist parkr/931c1c8d465a04042403 jekyll-private-gist.markdown %}",
     '{{< gist "parkr" "931c1c8d465a04042403" "jekyll-private-gist.markdown" >}}'),
    ("{% gist 931c1c8d465a04042403 %}", "<https://gist.github.com/931c1c8d465a04042403>"),
])
def test_common_include_forms_become_calls(liquid, expected):
    from blogengine.importers.jekyll_text import liquid_to_markdown
    leftover: set[str] = set()
    assert liquid_to_markdown(liquid + "\n", leftover).strip() == expected
    assert leftover == set()


def test_a_video_include_with_no_valid_id_is_left_and_reported():
    from blogengine.importers.jekyll_text import liquid_to_markdown
    leftover: set[str] = set()
    text = '{% include video id="not an id!" provider="youtube" %}\n'
    assert liquid_to_markdown(text, leftover) == text
    assert leftover == {"include"}


def test_a_video_tag_inside_an_inlined_include_becomes_a_call(tmp_path):
    from blogengine.importers.jekyll_text import liquid_to_markdown
    (tmp_path / "talk.html").write_text("<p>Talk</p>\n{% youtube {{ include.v }} %}\n")
    leftover: set[str] = set()
    body = liquid_to_markdown('{% include talk.html v="M7lc1UVf-VE" %}\n', leftover, tmp_path)
    assert body == ('<p>Talk</p>\n'
                    '{{< video youtube="M7lc1UVf-VE" title="YouTube video M7lc1UVf-VE" >}}\n')
    assert leftover == set()
