"""Social cards: a generated 1200x630 PNG as og:image/twitter:image of posts and pages without
their own image, drawn once per content, in the theme's colours, with the shipped font."""

from __future__ import annotations

import io
import struct
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from PIL import Image

from blogengine import cards
from blogengine.cards import CardText, Palette, covered, draw_card, palette_from_css
from tests.support import REPO
from tests.support.site import BASIC_CONFIG, post, read_html

LONG_TITLE = " ".join(["An extraordinarily long title about incremental builds"] * 8)
TITLES = {
    "long": LONG_TITLE,
    "one-word": "Pneumonoultramicroscopicsilicovolcanoconiosis" * 4,
    "greek-cyrillic": "Καλημέρα κόσμε: Привет, мир",
    "cjk": "日本語のタイトル 中文标题",
    "arabic": "مرحبا بالعالم",
    "emoji": "Coffee ☕ and 🍰 cake",
}


def meta(soup, name: str) -> str | None:
    tag = soup.find("meta", property=name) or soup.find("meta", attrs={"name": name})
    return tag["content"] if tag is not None else None


def published_file(root: Path, url: str) -> Path:
    """The file of the built site an absolute URL of https://blog.example.com/ names."""
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}/" == "https://blog.example.com/", url
    return root / "public" / parts.path.lstrip("/")


def png_chunks(data: bytes) -> list[str]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, at = [], 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at:at + 4])
        chunks.append(data[at + 4:at + 8].decode("ascii"))
        at += 12 + length
    return chunks


@pytest.fixture
def site(make_site, build_at):
    root = make_site({
        "content/posts/hello.md": post("Hello, cards", "2024-05-03"),
        "content/posts/pictured.md": post("With a picture", "2024-05-04", image="/images/own.png"),
        "content/pages/about.md": "---\ntitle: About\n---\n\nAbout text.\n",
    })
    build_at(root, jobs=1)
    return root


def test_post_without_image_gets_a_1200x630_png_card_as_og_image(site):
    soup = read_html(site / "public/2024/05/hello-cards/index.html")
    url = meta(soup, "og:image")
    assert url == "https://blog.example.com/cards/2024/05/hello-cards.png"
    card = published_file(site, url)
    with Image.open(card) as image:
        assert image.format == "PNG" and image.size == (1200, 630)
    assert meta(soup, "twitter:image") == url
    assert meta(soup, "twitter:card") == "summary_large_image"
    assert (meta(soup, "og:image:width"), meta(soup, "og:image:height")) == ("1200", "630")
    assert meta(soup, "og:image:alt") == "Hello, cards · Test Blog"


def test_page_without_image_gets_a_card_too(site):
    soup = read_html(site / "public/about/index.html")
    with Image.open(published_file(site, meta(soup, "og:image"))) as image:
        assert image.size == (1200, 630)


def test_post_with_its_own_image_keeps_it_and_gets_no_card(site):
    soup = read_html(site / "public/2024/05/with-a-picture/index.html")
    assert meta(soup, "og:image") == "https://blog.example.com/images/own.png"
    assert meta(soup, "twitter:image") == "https://blog.example.com/images/own.png"
    assert meta(soup, "og:image:width") is None
    assert not (site / "public/cards/2024/05/with-a-picture.png").exists()
    assert sorted(p.relative_to(site / "public/cards").as_posix()
                  for p in (site / "public/cards").rglob("*.png")) == \
        ["2024/05/hello-cards.png", "about.png"]


def test_listings_get_no_card(site):
    soup = read_html(site / "public/index.html")
    assert meta(soup, "og:image") is None and meta(soup, "twitter:card") == "summary"


def test_cards_disabled_writes_none_and_links_none(make_site, build_at):
    root = make_site({"content/posts/hello.md": post("Hello", "2024-05-03")},
                     config=BASIC_CONFIG + "\n[social_cards]\nenabled = false\n")
    build_at(root, jobs=1)
    soup = read_html(root / "public/2024/05/hello/index.html")
    assert meta(soup, "og:image") is None and meta(soup, "twitter:image") is None
    assert meta(soup, "twitter:card") == "summary"
    assert not (root / "public/cards").exists()
    assert not (root / ".blogengine/cards").exists()


def test_rebuild_never_draws_an_unchanged_card_twice(site, build_at, monkeypatch):
    drawn: list[str] = []
    real = cards.draw_card

    def counting(text, palette):
        drawn.append(text.title)
        return real(text, palette)

    monkeypatch.setattr(cards, "draw_card", counting)
    first = {p.name: p.read_bytes() for p in (site / "public/cards").rglob("*.png")}
    build_at(site, jobs=1, incremental=False, output_dir=site / "clean")
    again = {p.name: p.read_bytes() for p in (site / "clean/cards").rglob("*.png")}
    assert drawn == [] and again == first
    path = site / "content/posts/hello.md"
    path.write_text(path.read_text().replace("Hello, cards", "Hello again, cards"))
    build_at(site, jobs=1)
    assert drawn == ["Hello again, cards"]


def _published_cards(root: Path) -> dict[str, Path]:
    return {p.relative_to(root / "public").as_posix(): p for p in (root / "public/cards").rglob("*.png")}


def test_a_published_card_is_the_cache_s_own_file_and_a_clean_build_reads_no_card(
        site, build_at, monkeypatch):
    cache = {p.stat().st_ino: p for p in (site / ".blogengine/cards").glob("*.png")}
    published = _published_cards(site)
    assert len(published) == 2 and all(p.stat().st_ino in cache for p in published.values())
    read: list[str] = []
    real = cards.CardFile.__call__

    def reading(self):
        read.append(self.key)
        return real(self)

    monkeypatch.setattr(cards.CardFile, "__call__", reading)
    build_at(site, jobs=1, incremental=False)
    assert read == []
    assert {rel: p.stat().st_ino for rel, p in _published_cards(site).items()} \
        == {rel: p.stat().st_ino for rel, p in published.items()}
    path = site / "content/posts/hello.md"
    path.write_text(path.read_text().replace("Hello, cards", "Hello again, cards"))
    build_at(site, jobs=1)
    assert len(read) == 1   # drawn into the cache (draw_missing_cards), then linked
    [card] = [p for rel, p in _published_cards(site).items() if "hello" in rel]
    drawn = {p.stat().st_ino: p for p in (site / ".blogengine/cards").glob("*.png")}
    assert len(drawn) == 3 and card.stat().st_ino in drawn.keys() - cache.keys()


def test_a_card_the_cache_cannot_lend_is_written_from_its_bytes(make_site, build_at, monkeypatch):
    from blogengine import write

    def other_file_system(source, target):
        raise OSError(18, "Invalid cross-device link")

    monkeypatch.setattr(write.os, "link", other_file_system)
    root = make_site({"content/posts/hello.md": post("Hello, cards", "2024-05-03")})
    build_at(root, jobs=1)
    [card] = _published_cards(root).values()
    [cached] = (root / ".blogengine/cards").glob("*.png")
    assert card.stat().st_ino != cached.stat().st_ino and card.read_bytes() == cached.read_bytes()


def test_long_and_non_latin_titles_render_without_error(make_site, build_at):
    files = {f"content/posts/{name}.md": post(title, "2024-05-03", slug=name)
             for name, title in TITLES.items()}
    root = make_site(files)
    build_at(root, jobs=1)
    for name in TITLES:
        soup = read_html(root / f"public/2024/05/{name}/index.html")
        with Image.open(published_file(root, meta(soup, "og:image"))) as image:
            assert image.size == (1200, 630), name


def test_long_title_is_wrapped_shrunk_and_ellipsised():
    font, lines = cards._title_lines(LONG_TITLE, 1040)
    assert len(lines) == 4 and lines[-1].endswith("…")
    assert font.size == min(cards._TITLE_SIZES)
    assert all(font.getlength(line) <= 1040 for line in lines)
    short_font, short = cards._title_lines("Hello", 1040)
    assert short == ["Hello"] and short_font.size == max(cards._TITLE_SIZES)


def test_font_coverage_decides_whether_a_title_is_drawn():
    assert covered("Καλημέρα κόσμε: Привет, мир. Ça va?")
    assert not covered("日本語")
    # A title the font lacks is left out (not drawn as boxes): any such title gives one card.
    assert draw_card(CardText("Site", "日本語", "May 3, 2024", "Ann"), Palette()) == \
        draw_card(CardText("Site", "中文标题", "May 3, 2024", "Ann"), Palette()) != \
        draw_card(CardText("Site", "Hello", "May 3, 2024", "Ann"), Palette())


def test_card_png_is_deterministic_and_carries_no_metadata():
    text = CardText("Test Blog", "Same title", "May 3, 2024", "Ann Author")
    first, second = draw_card(text, Palette()), draw_card(text, Palette())
    assert first == second
    chunks = png_chunks(first)   # no tIME, tEXt, iTXt, eXIf: nothing but the picture
    assert chunks == ["IHDR", "PLTE"] + ["IDAT"] * (len(chunks) - 3) + ["IEND"]


def test_card_colours_are_the_default_themes_light_colours():
    palette = palette_from_css((REPO / "themes/default/static/style.css").read_text())
    assert palette == Palette(background="#fdfcf9", foreground="#1f2328", muted="#57606a",
                              accent="#0b5fae", border="#d8dee4")
    with Image.open(io.BytesIO(draw_card(CardText("S", "T", "D", "A"), palette))) as image:
        rgb = image.convert("RGB")
        assert rgb.getpixel((600, 5)) == (0x0b, 0x5f, 0xae)        # the accent bar
        assert rgb.getpixel((1190, 620)) == (0xfd, 0xfc, 0xf9)     # the background


def test_a_theme_sets_card_colours_through_its_custom_properties():
    css = ":root { --bg: #000000; --accent: #ff0000; --measure: 42rem; }\n" \
          "@media (prefers-color-scheme: dark) { :root { --bg: #ffffff; } }"
    assert palette_from_css(css) == Palette(background="#000000", accent="#ff0000")
    assert palette_from_css("body { color: red; }") == Palette()


def test_font_and_its_licence_ship_inside_the_package():
    fonts = resources.files("blogengine") / "fonts"
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"):
        assert (fonts / name).read_bytes()[:4] == b"\x00\x01\x00\x00", name
    assert "Bitstream Vera" in (fonts / "LICENSE").read_text(encoding="utf-8")


def test_cards_drawn_in_workers_equal_cards_drawn_in_one_process(make_site, build_at):
    files = {f"content/posts/p{i}.md": post(f"Post number {i}", f"2024-05-{i % 28 + 1:02d}")
             for i in range(cards.PARALLEL_CARDS + 5)}
    one, two = make_site(files, name="one"), make_site(files, name="two")
    build_at(one, jobs=1)
    build_at(two, jobs=2)
    drawn = {p.relative_to(one / "public").as_posix(): p.read_bytes()
             for p in (one / "public/cards").rglob("*.png")}
    assert len(drawn) == cards.PARALLEL_CARDS + 5
    assert drawn == {p.relative_to(two / "public").as_posix(): p.read_bytes()
                     for p in (two / "public/cards").rglob("*.png")}
    assert len(list((two / ".blogengine/cards").glob("*.png"))) == len(drawn)
