"""Shortcodes: the `{{< name args >}}` syntax (parse stage), the built-in templates and a site's
own (render stage), and errors that name the file, the line and the shortcode."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from blogengine.errors import BuildFailed, ContentError
from blogengine.shortcodes import ShortcodeCall
from tests.blogengine.test_parse import parse_body
from tests.support.site import post, read_html


def calls(doc) -> list[tuple[str, dict[str, str], tuple[str, ...], int, bool]]:
    return [(c.name, dict(c.args), c.positional, c.line, c.block) for c in doc.shortcodes]


# --- Syntax -----------------------------------------------------------------------------------
# FRONT (test_parse) is four lines and a blank one: the body starts on line 6.

def test_inline_call_inside_a_paragraph_keeps_the_paragraph(tmp_path):
    doc = parse_body(tmp_path, 'Look {{< figure src="/a.jpg" >}} here.\n')
    assert calls(doc) == [("figure", {"src": "/a.jpg"}, (), 6, False)]
    assert doc.html == "<p>Look \0sc0\0 here.</p>\n"


def test_call_alone_on_a_line_is_a_block_without_a_paragraph(tmp_path):
    doc = parse_body(tmp_path, "Text.\n\n{{< figure src=/a.jpg >}}\n\nMore.\n")
    assert calls(doc) == [("figure", {"src": "/a.jpg"}, (), 8, False)]
    assert "<p>\0sc0" not in doc.html and "\0sc0\0\n" in doc.html


def test_block_call_wraps_rendered_markdown(tmp_path):
    doc = parse_body(tmp_path, '{{< details summary="More" >}}\nMarkdown **inside**\n'
                               '{{< /details >}}\n')
    assert calls(doc) == [("details", {"summary": "More"}, (), 6, True)]
    assert doc.html == "\0sc0<\0<p>Markdown <strong>inside</strong></p>\n\0sc0>\0\n"


def test_nested_blocks_and_calls_are_numbered_in_document_order(tmp_path):
    doc = parse_body(tmp_path, "{{< details >}}\nA {{< gist u 1 >}}\n\n{{< details >}}\nB\n"
                               "{{< /details >}}\n{{< /details >}}\n")
    assert [(name, line, block) for name, _, _, line, block in calls(doc)] == [
        ("details", 6, True), ("gist", 7, False), ("details", 9, True)]
    assert doc.html.index("\0sc2<\0") > doc.html.index("\0sc0<\0")
    assert doc.html.index("\0sc2>\0") < doc.html.index("\0sc0>\0")


def test_a_block_opener_interrupts_a_paragraph(tmp_path):
    doc = parse_body(tmp_path, "Intro line\n{{< details >}}\nInner\n{{< /details >}}\n")
    assert doc.html.startswith("<p>Intro line</p>\n\0sc0<\0")


def test_arguments_quotes_escapes_and_positional_values(tmp_path):
    doc = parse_body(tmp_path, '{{< x a="double \\"q\\" >}}" b=\'single\' c=bare-1.5 '
                               'pos "two words" d="multi\nline" >}}\n')
    [(name, named, positional, _line, _block)] = calls(doc)
    assert named == {"a": 'double "q" >}}', "b": "single", "c": "bare-1.5", "d": "multi\nline"}
    assert positional == ("pos", "two words")


def test_markdown_inside_argument_values_stays_text(tmp_path):
    doc = parse_body(tmp_path, 'A {{< figure caption="A *caption* with `code`" >}}\n')
    assert dict(doc.shortcodes[0].args)["caption"] == "A *caption* with `code`"
    assert "<em>" not in doc.html


def test_code_spans_and_fenced_code_stay_literal(tmp_path):
    doc = parse_body(tmp_path, 'Inline `{{< figure src="a" >}}` code.\n\n```\n{{< details >}}\n'
                               '{{< /details >}}\n```\n\n    {{< figure >}}\n')
    assert doc.shortcodes == ()
    assert "<code>{{&lt; figure src=&quot;a&quot; &gt;}}</code>" in doc.html
    assert doc.html.count("{{&lt;") == 4


def test_escaped_calls_are_shown_as_written(tmp_path):
    doc = parse_body(tmp_path, 'Write {{</* figure src="a" */>}} or \\{{< figure >}}.\n')
    assert doc.shortcodes == ()
    assert '<p>Write {{&lt; figure src=&quot;a&quot; &gt;}} or {{&lt; figure &gt;}}.</p>' in doc.html


def test_braces_in_prose_are_not_calls(tmp_path):
    doc = parse_body(tmp_path, "The marker {{< 1 >}}, {{<>}} and {{ x }} are text.\n")
    assert doc.shortcodes == ()
    assert "<p>The marker {{&lt; 1 &gt;}}, {{&lt;&gt;}} and {{ x }} are text.</p>" in doc.html


def test_calls_in_the_summary_paragraph_keep_their_numbers(tmp_path):
    doc = parse_body(tmp_path, 'First {{< gist a b >}} para.\n\nSecond {{< gist c d >}}.\n')
    assert doc.summary_html == "<p>First \0sc0\0 para.</p>"
    assert doc.summary_text == "First  para."


@pytest.mark.parametrize("body, line, message", [
    ('Para\n\nText {{< figure src="a" \n', 8, "shortcode 'figure' is not closed"),
    ('{{< figure src="a >}}\n', 6, "cannot read the arguments"),
    ("{{< figure a=1 a=2 >}}\n", 6, "argument 'a' is given twice"),
    ("Text.\n\n{{< /details >}}\n", 8, "closing tag {{< /details >}} without an opening"),
    ("Text {{< /details >}} here.\n", 6, "closing tag {{< /details >}} without an opening"),
    ("{{< /details x=1 >}}\n", 6, "closing tag {{< /details >}} takes no arguments"),
])
def test_malformed_calls_are_errors_with_their_line(tmp_path, body, line, message):
    with pytest.raises(ContentError) as caught:
        parse_body(tmp_path, body)
    assert caught.value.line == line
    assert str(caught.value.path).endswith("posts/x.md")
    assert message in caught.value.message


def test_calls_survive_the_parse_cache_pickle(tmp_path):
    import pickle
    doc = parse_body(tmp_path, "{{< video youtube=abcdefghijk title=T >}}\n")
    assert pickle.loads(pickle.dumps(doc)).shortcodes == (
        ShortcodeCall("video", (("youtube", "abcdefghijk"), ("title", "T")), (), 6, False),)


# --- Rendering ------------------------------------------------------------------------------

ALL_BUILTINS = """\
{{< figure src="/images/a.png" alt="A dot" caption="A *small* [dot](/about/)" credit="Ann" link="/images/a.png" width=10 height=10 >}}

{{< video youtube="M7lc1UVf-VE" title="A <talk>" start=30 >}}

{{< video vimeo="76979871" title="Vimeo talk" thumbnail="/images/a.png" >}}

{{< audio src="/files/talk.mp3" title="The talk" >}}

{{< gist alice 0123abcd hello.py >}}

{{< details summary="More *here*" >}}
Inner **bold**, and {{< gist user=bob id=99 title="Nested" >}}
{{< /details >}}
"""


@pytest.fixture
def built(make_site, build_at):
    root = make_site({"content/posts/all.md": post("All", "2024-05-01", ALL_BUILTINS),
                      "content/images/a.png": b"\x89PNG\r\n",
                      "content/files/talk.mp3": b"ID3",
                      "content/pages/about.md": "---\ntitle: About\n---\n\nAbout.\n"})
    build_at(root)
    return root


def page_of(root) -> BeautifulSoup:
    return read_html(root / "public/2024/05/all/index.html")


def test_figure_renders_image_caption_credit_and_link(built):
    figure = page_of(built).select_one("figure.sc-figure")
    assert figure.a["href"] == "/images/a.png"
    img = figure.a.img
    assert (img["src"], img["alt"], img["width"], img["height"]) == ("/images/a.png", "A dot", "10", "10")
    caption = figure.figcaption
    assert caption.em.text == "small" and caption.find("a", href="/about/").text == "dot"
    assert caption.select_one(".sc-credit").text == "Ann"


def test_video_is_a_local_thumbnail_and_a_plain_link_until_clicked(built):
    youtube, vimeo = page_of(built).select("figure.sc-video")
    assert youtube["data-embed"] == "https://www.youtube-nocookie.com/embed/M7lc1UVf-VE?autoplay=1&start=30"
    assert youtube["data-title"] == "A <talk>"
    link = youtube.select_one("a.sc-video-link")
    assert link["href"] == "https://www.youtube.com/watch?v=M7lc1UVf-VE&t=30s"
    assert "Play video: A <talk>" in link.text
    assert link.img["src"] == "/theme/video-placeholder.svg"
    assert vimeo["data-embed"].startswith("https://player.vimeo.com/video/76979871?")
    assert vimeo.select_one("a.sc-video-link")["href"] == "https://vimeo.com/76979871"
    assert vimeo.img["src"] == "/images/a.png"
    # nothing on the page loads from the video sites: no iframe, no remote src
    page = page_of(built)
    assert page.find("iframe") is None
    assert not [tag for tag in page.find_all(src=True) if "://" in tag["src"]]
    assert (built / "public/theme/shortcodes.js").is_file()
    assert (built / "public/theme/video-placeholder.svg").is_file()


def test_video_title_is_escaped(built):
    html = (built / "public/2024/05/all/index.html").read_text()
    assert "A <talk>" not in html and "A &lt;talk&gt;" in html


def test_audio_has_a_player_and_a_download_link(built):
    audio = page_of(built).select_one("figure.sc-audio")
    assert audio.audio["src"] == "/files/talk.mp3" and audio.audio.has_attr("controls")
    assert audio.figcaption.find("a", download=True)["href"] == "/files/talk.mp3"


def test_gist_is_a_link_card_without_scripts(built):
    first, nested = page_of(built).select(".sc-gist a")
    assert first["href"] == "https://gist.github.com/alice/0123abcd#file-hello-py"
    assert "hello.py" in first.text and "by alice" in first.text
    assert nested["href"] == "https://gist.github.com/bob/99" and "Nested" in nested.text
    assert not [s for s in page_of(built).find_all("script") if "gist" in s.get("src", "")]


def test_details_wraps_inner_markdown_with_nested_calls(built):
    details = page_of(built).select_one("details.sc-details")
    assert details.summary.em.text == "here"
    assert details.strong.text == "bold"
    assert details.select_one(".sc-gist") is not None


def test_shortcodes_are_filled_in_feeds(built):
    feed = (built / "public/atom.xml").read_text()
    assert "sc-figure" in feed and "\0" not in feed


def test_no_placeholder_reaches_any_output(built):
    leaked = [p for p in (built / "public").rglob("*") if p.is_file() and b"\0sc" in p.read_bytes()]
    assert leaked == []


def test_site_template_overrides_a_builtin_and_adds_its_own(make_site, build_at):
    root = make_site({
        "content/posts/a.md": post("A", "2024-05-01",
                                   '{{< figure src="/x.png" >}}\n\nHi {{< shout word="<b>" >}}!\n'),
        "templates/shortcodes/figure.html": "<p class=mine>{{ src }} on {{ page.title }} "
                                            "of {{ site.config.title }} ({{ config.title }})</p>",
        "templates/shortcodes/shout.html": "<strong>{{ word | upper }}{{ args.word }}</strong>",
    })
    build_at(root)
    page = page_of_url(root, "2024/05/a")
    assert page.select_one("p.mine").text == "/x.png on A of Test Blog (Test Blog)"
    assert str(page.strong) == "<strong>&lt;B&gt;&lt;b&gt;</strong>"


def page_of_url(root, url):
    return read_html(root / "public" / url / "index.html")


# --- Errors ---------------------------------------------------------------------------------

def build_errors(make_site, build_at, body, files=None):
    root = make_site({"content/posts/bad.md": post("Bad", "2024-05-01", body), **(files or {})})
    with pytest.raises(BuildFailed) as caught:
        build_at(root)
    return [str(error) for error in caught.value.errors]


def test_unknown_shortcode_names_file_line_and_a_close_name(make_site, build_at):
    errors = build_errors(make_site, build_at, "Text.\n\n{{< figur src=a >}}\n")
    assert errors == ["content/posts/bad.md:8: unknown shortcode 'figur' (did you mean 'figure'?)"]


def test_missing_required_argument_is_named(make_site, build_at):
    errors = build_errors(make_site, build_at, "{{< video youtube=abcdefghijk >}}\n", files={
        "content/posts/other.md": post("Other", "2024-05-02", "Text.\n\n{{< figure alt=x >}}\n")})
    assert errors == [
        "content/posts/bad.md:6: shortcode 'video': missing required argument 'title'",
        "content/posts/other.md:8: shortcode 'figure': missing required argument 'src'",
    ]


def test_video_without_an_id_or_with_a_bad_one_is_an_error(make_site, build_at):
    assert build_errors(make_site, build_at, "{{< video title=T >}}\n") == [
        "content/posts/bad.md:6: shortcode 'video': missing required argument 'youtube' "
        "or 'vimeo' (the video's id)"]


def test_video_with_a_bad_id_is_an_error(make_site, build_at):
    errors = build_errors(make_site, build_at, "{{< video vimeo=\"x'><script>\" title=T >}}\n")
    assert errors[0].startswith("content/posts/bad.md:6: shortcode 'video': vimeo:")
    assert "is not a Vimeo video id" in errors[0]


def test_unclosed_block_is_an_error(make_site, build_at):
    errors = build_errors(make_site, build_at, "{{< details summary=S >}}\nInner\n")
    assert errors == ["content/posts/bad.md:6: shortcode 'details' wraps Markdown but is never "
                      "closed (expected {{< /details >}} alone on a line after it)"]


def test_stray_closing_tag_fails_the_build_with_its_line(make_site, build_at):
    errors = build_errors(make_site, build_at, "One.\n\nTwo.\n\n{{< /details >}}\n")
    assert errors == ["content/posts/bad.md:10: closing tag {{< /details >}} without an opening "
                      "{{< details ... >}} before it"]


def test_error_inside_a_shortcode_template_names_the_call_and_the_template(make_site, build_at):
    errors = build_errors(make_site, build_at, "Hi {{< boom >}}\n", files={
        "templates/shortcodes/boom.html": "line one\n{{ 1 // 0 }}\n"})
    assert len(errors) == 1
    assert errors[0].startswith("content/posts/bad.md:6: shortcode 'boom': template error at ")
    assert "templates/shortcodes/boom.html:2" in errors[0] and "by zero" in errors[0]


def test_syntax_error_in_a_shortcode_template_is_named(make_site, build_at):
    errors = build_errors(make_site, build_at, "Hi {{< boom >}}\n", files={
        "templates/shortcodes/boom.html": "{% if %}\n"})
    assert errors[0].startswith("content/posts/bad.md:6: shortcode 'boom': template syntax error in ")
    assert "boom.html:1" in errors[0]


def test_reserved_argument_names_are_refused(make_site, build_at):
    assert build_errors(make_site, build_at, "{{< figure src=a page=x >}}\n") == [
        "content/posts/bad.md:6: shortcode 'figure': argument name 'page' is reserved "
        "(it names one of the template's own variables)"]


def test_bad_shortcode_exits_1_with_the_message_and_no_traceback(make_site, tmp_path):
    import subprocess
    import sys
    root = make_site({"content/posts/bad.md": post("Bad", "2024-05-01", "{{< nope >}}\n")})
    result = subprocess.run([sys.executable, "-m", "blogengine", "build", "--source", str(root)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "content/posts/bad.md:6: unknown shortcode 'nope'" in result.stderr
    assert "Traceback" not in result.stderr


# --- Workers and validity -------------------------------------------------------------------

@pytest.mark.slow
def test_shortcodes_render_the_same_in_build_workers(make_site, build_at, tmp_path, monkeypatch):
    from blogengine import build as build_module
    from tests.blogengine.test_parallel import tree
    files = {f"content/posts/p{i:02d}.md": post(f"P{i}", f"2024-05-{i % 27 + 1:02d}",
                                                f"Intro {{{{< gist ann {i} >}}}}\n\n{ALL_BUILTINS}")
             for i in range(12)}
    root = make_site(files)
    monkeypatch.setattr(build_module, "PARALLEL_SOURCES", 1)
    monkeypatch.setattr(build_module, "PARALLEL_PAGES", 1)
    build_at(root, output_dir=tmp_path / "one", jobs=1)
    build_at(root, output_dir=tmp_path / "two", jobs=2)
    assert tree(tmp_path / "one") == tree(tmp_path / "two")
    (root / "content/posts/p03.md").write_text(post("P3", "2024-05-04", "x\n\n{{< figur >}}\n"))
    with pytest.raises(BuildFailed) as caught:
        build_at(root, output_dir=tmp_path / "three", jobs=2)
    assert [str(e) for e in caught.value.errors] == [
        "content/posts/p03.md:8: unknown shortcode 'figur' (did you mean 'figure'?)"]


@pytest.mark.slow
def test_every_builtin_passes_the_nu_html_checker(built):
    import json
    import shutil
    import subprocess
    from tests.e2e.test_site_validity import VNU_JAR
    java = shutil.which("java")
    if java is None or not VNU_JAR.is_file():
        pytest.skip(f"needs java and the Nu HTML checker at {VNU_JAR} (npm install vnu-jar)")
    page = built / "public/2024/05/all/index.html"
    result = subprocess.run([java, "-jar", str(VNU_JAR), "--errors-only", "--format", "json",
                             str(page)], capture_output=True, text=True, timeout=300)
    messages = json.loads(result.stderr or '{"messages": []}')["messages"]
    assert [f"{m.get('lastLine')}: {m.get('message')}" for m in messages
            if m.get("type") == "error"] == []


def test_captions_follow_escape_html(make_site, build_at):
    body = '{{< figure src="/a.png" caption="<b>bold</b> and *em*" >}}\n'
    root = make_site({"content/posts/a.md": post("A", "2024-05-01", body)},
                     config='title = "T"\nbase_url = "https://x.example/"\nescape_html = true\n')
    build_at(root)
    caption = page_of_url(root, "2024/05/a").select_one("figure figcaption")
    assert caption.find("b") is None and "<b>bold</b>" in caption.text and caption.em.text == "em"
