"""Images in posts and pages (images.py): sizes, lazy loading, resized variants, EXIF."""

from __future__ import annotations

import io
import os
import time

import pytest
from PIL import Image

from blogengine import images
from blogengine.config import load_config
from blogengine.errors import BlogError
from tests.support.site import BASIC_CONFIG, post, read_html

SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 60">'
       b'<rect width="120" height="60"/></svg>')
WIDTHS = BASIC_CONFIG + "\n[images]\nwidths = [300, 600]\n"


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 100, 50)).save(out, "PNG")
    return out.getvalue()


def located_jpeg() -> bytes:
    """A 1200x600 JPEG, turned by EXIF orientation 6 (shown 600x1200), that says where it was
    taken."""
    exif = Image.Exif()
    exif[images.EXIF_ORIENTATION] = 6
    gps = exif.get_ifd(images.EXIF_GPS)
    gps[1], gps[2] = "N", (52.0, 22.0, 1.5)
    out = io.BytesIO()
    Image.new("RGB", (1200, 600), (10, 120, 200)).save(out, "JPEG", exif=exif)
    return out.getvalue()


def page_of(root, slug="pictures"):
    return read_html(next((root / "public").glob(f"*/*/{slug}/index.html")))


def test_images_get_sizes_and_all_but_the_first_load_lazily(make_site, build_at):
    body = ("![First](/images/small.png)\n\nText.\n\n![Second](/images/small.png)\n\n"
            '<img src="/images/shape.svg" alt="A shape">\n')
    root = make_site({"content/posts/pictures.md": post("Pictures", "2024-01-02", body),
                      "content/images/small.png": png(200, 100),
                      "content/images/shape.svg": SVG}, config=WIDTHS)
    build_at(root)
    first, second, shape = page_of(root).select(".post-content img")
    assert (first["width"], first["height"], first["fetchpriority"]) == ("200", "100", "high")
    assert "loading" not in first.attrs and "decoding" not in first.attrs
    assert (second["width"], second["height"]) == ("200", "100")
    assert (second["loading"], second["decoding"]) == ("lazy", "async")
    assert (shape["width"], shape["height"], shape["loading"]) == ("120", "60", "lazy")


def test_wide_images_get_webp_and_original_format_variants(make_site, build_at):
    body = "Intro.\n\n![Wide](/images/wide.png)\n"
    root = make_site({"content/posts/pictures.md": post("Pictures", "2024-01-02", body),
                      "content/images/wide.png": png(1000, 500)}, config=WIDTHS)
    build_at(root)
    picture = page_of(root).select_one(".post-content picture")
    source, img = picture.select_one("source"), picture.select_one("img")
    assert source["type"] == "image/webp"
    webp = [entry.split() for entry in source["srcset"].split(", ")]
    own = [entry.split() for entry in img["srcset"].split(", ")]
    assert [w for _url, w in webp] == ["300w", "600w", "1000w"]
    assert [w for _url, w in own] == ["300w", "600w", "1000w"]
    assert own[-1][0] == img["src"] == "/images/wide.png"
    for url, width in webp + own[:-1]:
        with Image.open(root / "public" / url.lstrip("/")) as made:
            assert made.format == ("WEBP" if url.endswith(".webp") else "PNG")
            assert made.size == (int(width[:-1]), int(width[:-1]) // 2)


def test_a_rebuild_resizes_nothing(make_site, build_at, tmp_path):
    body = "![Wide](/images/wide.png)\n"
    root = make_site({"content/posts/pictures.md": post("Pictures", "2024-01-02", body),
                      "content/images/wide.png": png(1000, 500)}, config=WIDTHS)
    before = images.resizes
    build_at(root, jobs=1)
    assert images.resizes - before == 5   # 300, 600 and 1000 in WebP, 300 and 600 in PNG
    build_at(root, jobs=1, incremental=False, output_dir=tmp_path / "again")
    assert images.resizes - before == 5
    assert sorted(p.name for p in (tmp_path / "again/_img").iterdir()) == \
        sorted(p.name for p in (root / "public/_img").iterdir())


def test_a_clean_build_measures_known_images_without_decoding_them(make_site, build_at, tmp_path):
    body = "![Wide](/images/wide.png)\n"
    root = make_site({"content/posts/pictures.md": post("Pictures", "2024-01-02", body),
                      "content/images/wide.png": png(1000, 500)}, config=WIDTHS)
    before = images.decodes
    build_at(root, jobs=1)
    assert images.decodes - before == 1
    images._read_cached.cache_clear()          # as a new process would start
    build_at(root, jobs=1, incremental=False, output_dir=tmp_path / "again")
    assert images.decodes - before == 1        # the size kept under the file's digest
    img = read_html(tmp_path / "again/2024/01/pictures/index.html").select_one(".post-content img")
    assert (img["width"], img["height"]) == ("1000", "500")
    (root / "content/images/wide.png").write_bytes(png(800, 600))
    images._read_cached.cache_clear()
    build_at(root, jobs=1, incremental=False, output_dir=tmp_path / "changed")
    assert images.decodes - before == 2        # new bytes, measured anew
    img = read_html(tmp_path / "changed/2024/01/pictures/index.html").select_one(".post-content img")
    assert (img["width"], img["height"]) == ("800", "600")


def test_published_images_are_upright_and_say_nothing_of_where_they_were_taken(
        make_site, build_at):
    body = "![Turned](/images/turned.jpg)\n"
    root = make_site({"content/posts/pictures.md": post("Pictures", "2024-01-02", body),
                      "content/images/turned.jpg": located_jpeg()}, config=WIDTHS)
    build_at(root)
    img = page_of(root).select_one(".post-content img")
    assert (img["width"], img["height"]) == ("600", "1200")
    published = [root / "public/images/turned.jpg",
                 *(root / "public/_img").iterdir()]
    assert len(published) == 4   # the original; WebP at 300 and 600 (its own); JPEG at 300
    for path in published:
        with Image.open(path) as made:
            exif = made.getexif()
            assert not exif.get_ifd(images.EXIF_GPS) and images.EXIF_GPS not in exif, path
            assert made.width * 2 == made.height, path


def test_unreadable_images_are_warnings_naming_the_file(make_site, build_at):
    body = "![Broken](/images/broken.png)\n\n![Cut](/images/cut.png)\n"
    root = make_site({"content/posts/pictures.md": post("Pictures", "2024-01-02", body),
                      "content/images/broken.png": b"this is not a picture",
                      "content/images/cut.png": png(1000, 500)[:300]}, config=WIDTHS)
    report = build_at(root)
    assert len(report.warnings) == 2
    broken, cut = sorted(report.warnings)
    assert broken.startswith("content/posts/pictures.md: image content/images/broken.png "
                             "is not an image")
    assert cut.startswith("content/posts/pictures.md: image content/images/cut.png "
                          "cannot be read")
    assert [img["src"] for img in page_of(root).select(".post-content img")] == \
        ["/images/broken.png", "/images/cut.png"]


def test_images_can_be_turned_off(make_site, build_at):
    body = "![Wide](/images/wide.png)\n"
    root = make_site({"content/posts/pictures.md": post("Pictures", "2024-01-02", body),
                      "content/images/wide.png": png(1000, 500)},
                     config=BASIC_CONFIG + "\n[images]\nenabled = false\n")
    build_at(root)
    img = page_of(root).select_one(".post-content img")
    assert set(img.attrs) == {"src", "alt"}
    assert not (root / "public/_img").exists()


@pytest.mark.parametrize("widths, problem", [
    ("[]", "must be a list of whole numbers of pixels from 16 to 10000, got []"),
    ("[480, 0]", "must be a list of whole numbers of pixels from 16 to 10000, got [480, 0]"),
    ("[960, 480]", "must be in increasing order without repeats, got [960, 480]"),
])
def test_config_rejects_bad_image_widths(make_site, widths, problem):
    root = make_site(config=BASIC_CONFIG + f"\n[images]\nwidths = {widths}\n")
    with pytest.raises(BlogError) as caught:
        load_config(root)
    assert f"'images.widths' {problem}" in str(caught.value)


def test_svg_size_comes_from_width_height_or_viewbox():
    assert images.svg_size(b'<svg width="40px" height="20"/>') == (40, 20)
    assert images.svg_size(b'<svg width="50" viewBox="0 0 100 40"/>') == (50, 20)
    assert images.svg_size(b'<svg viewBox="0,0,30,10"/>') == (30, 10)
    assert images.svg_size(b'<svg width="100%"/>') == (0, 0)
    assert images.svg_size(b"not xml") == (0, 0)


def test_check_reports_unreadable_images_as_problems_even_when_up_to_date(make_site,
                                                                           build_at):
    from click.testing import CliRunner

    from blogengine.cli import main
    body = "![Broken](/images/broken.png)\n"
    root = make_site({"content/posts/pictures.md": post("Pictures", "2024-01-02", body),
                      "content/images/broken.png": b"this is not a picture"})
    past = time.time() - 60
    for path in root.rglob("*"):
        os.utime(path, (past, past))   # stamps old enough to be trusted
    for attempt in range(2):   # the second build has nothing to do, and still says so
        result = CliRunner().invoke(main, ["check", "--source", str(root)])
        assert result.exit_code == 1, result.output
        assert ("warning: content/posts/pictures.md: image content/images/broken.png is not "
                "an image") in result.output
    report = build_at(root, now=None)
    assert report.up_to_date and len(report.warnings) == 1


def test_feeds_carry_sizes_and_absolute_srcsets(make_site, build_at):
    import xml.etree.ElementTree as ET
    body = "![Wide](/images/wide.png)\n"
    root = make_site({"content/posts/pictures.md": post("Pictures", "2024-01-02", body),
                      "content/images/wide.png": png(1000, 500)}, config=WIDTHS)
    build_at(root)
    atom = ET.parse(root / "public/atom.xml").getroot()
    content = atom.find("{http://www.w3.org/2005/Atom}entry/{http://www.w3.org/2005/Atom}content")
    img = read_html_text(content.text).select_one("img")   # feedparser would drop srcset
    assert (img["width"], img["height"]) == ("1000", "500")
    urls = [entry.split()[0] for entry in img["srcset"].split(", ")]
    assert urls and all(url.startswith("https://blog.example.com/") for url in urls)


def read_html_text(text):
    from bs4 import BeautifulSoup
    return BeautifulSoup(text, "html5lib")
