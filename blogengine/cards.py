"""Social cards: a 1200x630 PNG for each post and page without its own `image:`, drawn with
Pillow in the theme's colours and kept in `.blogengine/cards/` by what it shows."""

from __future__ import annotations

import functools
import hashlib
import io
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import PIL   # (its version alone: the drawing modules are imported where a card is drawn)

from blogengine import parallel
from blogengine.config import SiteConfig
from blogengine.model import Entry, Site
from blogengine.render import Output
from blogengine.stamps import digest
from blogengine.themes import Theme

if TYPE_CHECKING:
    from PIL import Image, ImageFont

# Bump when the drawing changes: every cached card is then drawn again.
CARD_VERSION = 3
WIDTH, HEIGHT = 1200, 630
# Below this count the missing cards are drawn in the main process: forking would cost more.
PARALLEL_CARDS = 40
_MARGIN = 80
_TITLE_SIZES = (72, 64, 56, 50, 44)   # tried in turn until the title fits
_TITLE_LINES = 4
_REGULAR, _BOLD = "DejaVuSans.ttf", "DejaVuSans-Bold.ttf"
_ELLIPSIS = "…"
_MISSING = "\U0010fffd"   # a private-use character no font of ours has: its glyph is "missing"


@dataclass(frozen=True)
class Palette:
    """The card's colours, as CSS hex colours."""

    background: str = "#fdfcf9"
    foreground: str = "#1f2328"
    muted: str = "#57606a"
    accent: str = "#0b5fae"
    border: str = "#d8dee4"


@dataclass(frozen=True)
class CardText:
    """Everything a card shows."""

    site: str
    title: str
    date: str
    author: str


def card_url(entry: Entry) -> str:
    """Where an entry's card is published: /posts/hello/ -> /cards/posts/hello.png."""
    return "/cards/" + (entry.url.strip("/") or "index") + ".png"


def social_card(config: SiteConfig) -> Callable[[Any], str | None]:
    """The template global `social_card(page)`: the page's card URL, or None when it has none."""
    def url(page: Any) -> str | None:
        return card_url(page) if wants_card(page, config) else None
    return url


def wants_card(page: Any, config: SiteConfig) -> bool:
    """Posts and pages get a card, unless they name their own image or cards are off."""
    return (config.social_cards.enabled and isinstance(page, Entry)
            and page.kind in ("post", "page") and not page.image)


def card_outputs(site: Site, chain: list[Theme], cache_dir: Path) -> list[Output]:
    """A card output for each entry that wants one, keyed by what the card shows."""
    config = site.config
    if not config.social_cards.enabled:
        return []
    palette = theme_palette(chain)
    folder = cache_dir / "cards"   # one object for all: a kept model pickles it once
    outputs = []
    for entry in site.entries:
        if not wants_card(entry, config):
            continue
        text = card_text(entry, config)
        key = card_key(text, palette)
        outputs.append(Output(url=card_url(entry), key=key,
                              make=CardFile(folder, key, text, palette)))
    return outputs


def card_text(entry: Entry, config: SiteConfig) -> CardText:
    """What an entry's card shows: site name, title, date (pages may have none), author."""
    date = entry.date.astimezone(config.tz).strftime(config.date_format) if entry.date else ""
    return CardText(site=config.title, title=entry.title, date=date, author=entry.author)


def card_key(text: CardText, palette: Palette) -> str:
    """A digest of everything that decides a card's bytes."""
    return digest(CARD_VERSION, PIL.__version__, text, palette, _font_digest())


@dataclass(frozen=True)
class CardFile:
    """An output's maker: the card's PNG from the cache, drawn (and cached) only when the cache
    lacks it."""

    folder: Path
    key: str
    text: CardText
    palette: Palette

    @property
    def path(self) -> Path:
        return self.folder / f"{self.key}.png"

    def __call__(self) -> bytes:
        try:
            return self.path.read_bytes()
        except OSError:
            pass
        data = draw_card(self.text, self.palette)
        try:  # a cache that cannot be written only costs drawing the card again next time
            self.folder.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_bytes(data)
            os.replace(temporary, self.path)
        except OSError:
            pass
        return data


def draw_missing_cards(outputs: list[Output], wanted: set[str], jobs: int) -> None:
    """Draw into the cache, in workers when there are many, the cards among the `wanted`
    outputs that it lacks: the write stage then only reads them."""
    missing = [out.make for out in outputs if out.path in wanted
               and isinstance(out.make, CardFile) and not out.make.path.exists()]
    for _count, _done in parallel.run_chunks(_draw_slice, missing, jobs=jobs,
                                             minimum=PARALLEL_CARDS, context=None):
        pass


def _draw_slice(_context: None, makers: Sequence[CardFile]) -> int:
    for make in makers:
        make()
    return len(makers)


def draw_card(text: CardText, palette: Palette) -> bytes:
    """Draw a card: the site name on top, the title as large as fits, date and author below.
    A title with characters the font lacks is left out (the site name takes its place) rather
    than drawn as boxes. The PNG carries no metadata: the same text always gives the same bytes."""
    from PIL import Image, ImageDraw
    layers = {name: Image.new("L", (WIDTH, HEIGHT), 0) for name in _INKS}
    draws = {name: ImageDraw.Draw(layer) for name, layer in layers.items()}
    width = WIDTH - 2 * _MARGIN
    draws["accent"].rectangle((0, 0, WIDTH, 14), fill=255)
    title, site = (text.title, text.site) if covered(text.title) else (text.site, "")
    site_font = _font(_BOLD, 34)
    if site:
        draws["accent"].text((_MARGIN, 70), _fit_line(site, site_font, width), font=site_font,
                             fill=255)
    title_font, lines = _title_lines(title, width)
    line_height = round(title_font.size * 1.25)
    # The title block is centred between the site name (bottom ~115) and the rule (500).
    top = 115 + (385 - len(lines) * line_height) // 2
    for number, line in enumerate(lines):
        draws["foreground"].text((_MARGIN, top + number * line_height), line, font=title_font,
                                 fill=255)
    draws["border"].line((_MARGIN, HEIGHT - 130, WIDTH - _MARGIN, HEIGHT - 130), fill=255,
                         width=2)
    footer = " · ".join(part for part in (text.date, text.author) if part)
    meta_font = _font(_REGULAR, 32)
    draws["muted"].text((_MARGIN, HEIGHT - 100), _fit_line(footer, meta_font, width),
                        font=meta_font, fill=255)
    return _indexed_png(layers, palette)


# Each ink is one colour drawn at 256 levels of coverage; the card keeps 64 of them, as a ramp
# from the background to that colour in a PNG palette: a quarter of the bytes of RGB to
# compress, which is most of the time a card takes.
_INKS = ("accent", "foreground", "muted", "border")
_LEVELS = 64


def _indexed_png(layers: dict[str, Image.Image], palette: Palette) -> bytes:
    """Layers of coverage, one per ink, as one palette PNG."""
    from PIL import Image
    indexes = Image.new("L", (WIDTH, HEIGHT), 0)
    for number, name in enumerate(_INKS):
        box = layers[name].getbbox()
        if box is None:
            continue
        coverage = layers[name].crop(box)   # the inked part only: the rest stays background
        indexes.paste(coverage.point(_ramp(number)), box[:2], mask=coverage.point(_INKED))
    card = Image.frombytes("P", (WIDTH, HEIGHT), indexes.tobytes())
    card.putpalette(_colours(palette))
    out = io.BytesIO()
    # zlib level 2: measured, a third of level 6's time for a file about 25 % larger (24 KB
    # instead of 19): the cards of a 10,000-post site cost half as much CPU.
    card.save(out, format="PNG", optimize=False, compress_level=2)
    return out.getvalue()


_INKED = [255 if value else 0 for value in range(256)]


@functools.lru_cache(maxsize=len(_INKS))
def _ramp(number: int) -> tuple[int, ...]:
    """Coverage 0-255 -> this ink's palette index."""
    return tuple(number * _LEVELS + round(v * (_LEVELS - 1) / 255) for v in range(256))


@functools.lru_cache(maxsize=4)
def _colours(palette: Palette) -> list[int]:
    """The PNG palette: for each ink, a ramp from the background to its colour."""
    from PIL import ImageColor
    colours: list[int] = []
    background = ImageColor.getrgb(palette.background)
    for name in _INKS:
        ink = ImageColor.getrgb(getattr(palette, name))
        for level in range(_LEVELS):
            colours.extend(round(b + (i - b) * level / (_LEVELS - 1))
                           for b, i in zip(background[:3], ink[:3]))
    return colours


def covered(text: str) -> bool:
    """Whether the shipped font has a glyph for every character of `text`."""
    return all(_has_glyph(char) for char in set(text))


@functools.lru_cache(maxsize=4096)
def _has_glyph(char: str) -> bool:
    if char.isspace() or not char.isprintable():
        return True
    font = _font(_BOLD, 40)
    return _glyph(font, char) != _glyph(font, _MISSING)


def _glyph(font: ImageFont.FreeTypeFont, char: str) -> tuple[tuple[int, int], bytes]:
    mask = font.getmask(char)
    return mask.size, bytes(mask)


def theme_palette(chain: list[Theme]) -> Palette:
    """The light colours of the first style.css in the theme chain (its first `:root` block);
    what it does not set keeps the default theme's colour."""
    for theme in chain:
        css = theme.static / "style.css"
        if css.is_file():
            return palette_from_css(css.read_text(encoding="utf-8", errors="replace"))
    return Palette()


_ROOT = re.compile(r":root\s*{([^}]*)}")
_PROPERTY = re.compile(r"--([a-z-]+)\s*:\s*(#[0-9a-fA-F]{3}(?:[0-9a-fA-F]{3})?)\s*;")
_NAMES = {"bg": "background", "fg": "foreground", "muted": "muted", "accent": "accent",
          "border": "border"}


def palette_from_css(css: str) -> Palette:
    """A palette from the custom properties --bg, --fg, --muted, --accent and --border."""
    root = _ROOT.search(css)
    if root is None:
        return Palette()
    found = {_NAMES[name]: value for name, value in _PROPERTY.findall(root.group(1))
             if name in _NAMES}
    return Palette(**found)


def _title_lines(title: str, width: int) -> tuple[ImageFont.FreeTypeFont, list[str]]:
    """The title wrapped at the largest size that fits; at the smallest, cut with an ellipsis
    (after the last whole word that fits, when there is one)."""
    for size in _TITLE_SIZES:
        font = _font(_BOLD, size)
        lines = _wrap(title, font, width)
        if len(lines) <= _TITLE_LINES:
            return font, lines
    kept = lines[:_TITLE_LINES]
    last = kept[-1]
    while " " in last and font.getlength(last + _ELLIPSIS) > width:
        last = last.rsplit(" ", 1)[0]
    kept[-1] = _fit_line(last.rstrip(" ,;:.-–—") + _ELLIPSIS, font, width)
    return font, kept


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Lines no wider than `width`: broken between words, inside a word only when it is too
    long on its own (as in scripts written without spaces)."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if font.getlength(candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = ""
        for char in word:
            if line and font.getlength(line + char) > width:
                lines.append(line)
                line = ""
            line += char
    if line:
        lines.append(line)
    return lines


def _fit_line(text: str, font: ImageFont.FreeTypeFont, width: int) -> str:
    """One line within `width`, shortened with an ellipsis when it is too long."""
    if font.getlength(text) <= width:
        return text
    stem = text.removesuffix(_ELLIPSIS).rstrip()
    while stem and font.getlength(stem + _ELLIPSIS) > width:
        stem = stem[:-1]
    return stem.rstrip() + _ELLIPSIS


@functools.lru_cache(maxsize=16)
def _font(name: str, size: int) -> ImageFont.FreeTypeFont:
    from PIL import ImageFont
    # The basic layout engine, not raqm: cards must not depend on which libraries Pillow found.
    return ImageFont.truetype(io.BytesIO(font_bytes(name)), size,
                              layout_engine=ImageFont.Layout.BASIC)


@functools.lru_cache(maxsize=4)
def font_bytes(name: str) -> bytes:
    """A font shipped in the package (blogengine/fonts/)."""
    return (resources.files("blogengine") / "fonts" / name).read_bytes()


@functools.lru_cache(maxsize=1)
def _font_digest() -> str:
    return hashlib.sha256(font_bytes(_REGULAR) + font_bytes(_BOLD)).hexdigest()
