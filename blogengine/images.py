"""Images of posts and pages: sizes, lazy loading and resized variants (Pillow), with the
variants cached in .blogengine/images/ by the source's digest and the width."""

from __future__ import annotations

import hashlib
import html
import io
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from blogengine.config import SiteConfig

if TYPE_CHECKING:   # (Pillow is imported where an image is read: most builds read none)
    from PIL import Image

CACHE_FOLDER = "images"
VARIANT_PREFIX = "_img/"
# Formats that get resized variants; GIF (perhaps animated) and others keep their one file.
RESIZABLE = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
RASTER_SUFFIXES = {".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif", ".bmp", ".tif", ".tiff"}
SIZES = "(max-width: 48rem) 100vw, 48rem"   # the default theme's text column
EXIF_ORIENTATION = 0x0112
EXIF_GPS = 0x8825
# Counted so a test can prove a rebuild resizes nothing, and a clean one decodes nothing.
resizes = 0
decodes = 0

_IMG = re.compile(r"<img\b([^>]*?)/?>", re.IGNORECASE)
_ATTR = re.compile(r"""([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
_PICTURE = re.compile(r"<picture\b.*?</picture>", re.IGNORECASE | re.DOTALL)
_LENGTH = re.compile(r"\s*([0-9]*\.?[0-9]+)\s*(px)?\s*")


@dataclass(frozen=True)
class ImageFile:
    """A local image a page shows: where it is, what it published as, and what it holds."""

    path: str             # the source file
    url: str              # its URL on the site (without the base path)
    mtime_ns: int
    size: int
    digest: str           # sha256 of the bytes
    width: int = 0        # as shown (EXIF orientation applied); 0: unknown
    height: int = 0
    format: str = ""      # Pillow's format name, "SVG", or "" when unreadable
    problem: str = ""     # why the file cannot be read as an image

    def still_current(self) -> bool:
        """Whether the file is as it was when this was read."""
        try:
            stat = os.stat(self.path)
        except OSError:
            return False
        return (stat.st_mtime_ns, stat.st_size) == (self.mtime_ns, self.size)


@dataclass(frozen=True)
class Variant:
    """One resized copy of an image, published at `url`."""

    source: ImageFile
    width: int
    format: str           # "WEBP" or the source's format

    @property
    def url(self) -> str:
        stem = PurePosixPath(self.source.url).stem
        return (f"/{VARIANT_PREFIX}{stem}-{self.source.digest[:12]}-{self.width}."
                f"{RESIZABLE[self.format]}")


@dataclass(frozen=True)
class ImageSite:
    """What resolving an image URL needs: where content and theme files live."""

    content_dir: Path
    theme_static: tuple[Path, ...]   # the theme chain's static folders, child first
    theme_prefix: str                # the URL prefix of theme files ("/theme/")
    base_path: str                   # the site's base path ("/" or "/blog/")
    widths: tuple[int, ...]
    cache_dir: Path | None = None    # .blogengine/: images measured once are not decoded again


def image_site(config: SiteConfig, theme_static: Sequence[Path], theme_prefix: str,
               cache_dir: Path | None = None) -> ImageSite:
    """The ImageSite of a configured site."""
    return ImageSite(content_dir=config.content_dir, theme_static=tuple(theme_static),
                     theme_prefix=theme_prefix, base_path=config.base_path,
                     widths=tuple(config.images.widths), cache_dir=cache_dir)


def resolve(src: str, source_rel: str, site: ImageSite) -> tuple[Path, str] | None:
    """The file and site URL a local image src names, the way the build copies files; None for
    remote, data: and missing images."""
    src = html.unescape(src).split("#")[0].split("?")[0]
    if not src or re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:|^//", src):
        return None
    if src.startswith("/"):
        if site.base_path != "/" and src.startswith(site.base_path):
            src = "/" + src[len(site.base_path):]
        url = PurePosixPath(src)
    else:
        url = PurePosixPath("/" + source_rel).parent / src
    parts: list[str] = []
    for part in url.parts[1:]:
        if part == "..":
            if not parts:
                return None
            parts.pop()
        elif part != ".":
            parts.append(part)
    rel = "/".join(parts)
    prefix = site.theme_prefix.strip("/") + "/"
    if rel.startswith(prefix):
        for folder in site.theme_static:
            path = folder / rel[len(prefix):]
            if path.is_file():
                return path, "/" + rel
        return None
    path = site.content_dir / rel
    return (path, "/" + rel) if path.is_file() else None


def read_image(path: Path, url: str, cache_dir: Path | None = None) -> ImageFile:
    """Stat, digest and measure an image file; a file that is no readable image says why.
    Decoding the whole file (the only sure sign it is not truncated) is most of the cost, so
    what it found is kept in the cache under the file's digest, a clean build too reads it."""
    from PIL import Image, UnidentifiedImageError
    stat = path.stat()
    data = path.read_bytes()
    found = ImageFile(path=str(path), url=url, mtime_ns=stat.st_mtime_ns, size=stat.st_size,
                      digest=hashlib.sha256(data).hexdigest())
    if path.suffix.lower() == ".svg":
        width, height = svg_size(data)
        return replace(found, width=width, height=height, format="SVG")
    measured = _measured(found.digest, cache_dir)
    if measured is not None:
        return replace(found, width=measured[0], height=measured[1], format=measured[2])
    global decodes
    decodes += 1
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()   # a truncated file fails here, not in a worker later
            width, height = image.size
            if image.getexif().get(EXIF_ORIENTATION) in (5, 6, 7, 8):
                width, height = height, width
            fmt = image.format or ""
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        what = "is not an image" if isinstance(exc, UnidentifiedImageError) \
            else f"cannot be read as an image ({exc})"
        return replace(found, problem=what)
    if cache_dir is not None:
        _store(_measure_file(found.digest, cache_dir), f"{width} {height} {fmt}".encode())
    return replace(found, width=width, height=height, format=fmt)


def _measure_file(digest: str, cache_dir: Path) -> Path:
    return cache_dir / CACHE_FOLDER / f"{digest}.size"


def _measured(digest: str, cache_dir: Path | None) -> tuple[int, int, str] | None:
    """(width, height, format) kept for these bytes by an earlier read_image, if any."""
    if cache_dir is None:
        return None
    try:
        width, height, fmt = _measure_file(digest, cache_dir).read_text(encoding="ascii").split()
        return int(width), int(height), fmt
    except (OSError, ValueError, UnicodeDecodeError):
        return None


def svg_size(data: bytes) -> tuple[int, int]:
    """An SVG's size from its width/height, else its viewBox; (0, 0) when it gives neither."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError:
        return 0, 0
    width, height = _length(root.get("width")), _length(root.get("height"))
    box = (root.get("viewBox") or "").replace(",", " ").split()
    if len(box) == 4:
        try:
            box_w, box_h = float(box[2]), float(box[3])
        except ValueError:
            box_w = box_h = 0
        if box_w > 0 and box_h > 0:
            if width and not height:
                height = round(width * box_h / box_w)
            elif height and not width:
                width = round(height * box_w / box_h)
            elif not width and not height:
                width, height = round(box_w), round(box_h)
    return (width, height) if width and height else (0, 0)


def _length(value: str | None) -> int:
    match = _LENGTH.fullmatch(value or "")
    return round(float(match[1])) if match else 0


@lru_cache(maxsize=4096)
def _read_cached(path: str, url: str, mtime_ns: int, size: int, cache_dir: Path | None) -> ImageFile:
    return read_image(Path(path), url, cache_dir)


def image_file(path: Path, url: str, cache_dir: Path | None = None) -> ImageFile:
    """read_image, once per file version in a process."""
    stat = path.stat()
    return _read_cached(str(path), url, stat.st_mtime_ns, stat.st_size, cache_dir)


def variants(image: ImageFile, widths: Iterable[int]) -> list[Variant]:
    """The resized copies an image gets: WebP at each width below its own and at its own,
    and the original format at each width below its own (the original is the largest)."""
    if image.format not in RESIZABLE or image.problem:
        return []
    smaller = [w for w in widths if w < image.width]
    if not smaller:
        return []
    found = [Variant(image, w, "WEBP") for w in smaller]
    if image.format != "WEBP":
        found.append(Variant(image, image.width, "WEBP"))
        found.extend(Variant(image, w, image.format) for w in smaller)
    return found


def rewrite_images(page_html: str, source_rel: str, site: ImageSite | None, *,
                   eager_first: bool, resizable: Iterable[str] | None = None
                   ) -> tuple[str, tuple[ImageFile, ...]]:
    """The HTML with each local <img> given its size, lazy loading (but the first when
    `eager_first`) and a srcset of variants (only of the files in `resizable`, when given);
    and the image files it shows. An <img> done before (with `decoding` or `fetchpriority`)
    is left as it is."""
    if site is None or "<img" not in page_html.lower():
        return page_html, ()
    used: dict[str, ImageFile] = {}
    first = [eager_first]
    protected = [(m.start(), m.end()) for m in _PICTURE.finditer(page_html)]
    allowed = set(resizable) if resizable is not None else None

    def one(match: re.Match[str]) -> str:
        eager, first[0] = first[0], False
        if any(start <= match.start() < end for start, end in protected):
            return match[0]   # the author's own <picture>: theirs to size
        attrs = _attributes(match[1])
        names = {name.lower() for name, _ in attrs}
        if names & {"decoding", "fetchpriority"}:
            return match[0]
        found = resolve(dict(attrs).get("src") or "", source_rel, site)
        image = image_file(*found, site.cache_dir) if found is not None else None
        if image is not None:
            used[image.path] = image
        if image is not None and image.width and "width" not in names and "height" not in names:
            attrs += [("width", str(image.width)), ("height", str(image.height))]
        if eager:   # the first image is wanted at once: a theme's loading="lazy" goes too
            attrs = [(n, v) for n, v in attrs if n.lower() != "loading"]
            attrs.append(("fetchpriority", "high"))
        else:
            attrs += [(name, value) for name, value in (("loading", "lazy"),
                                                         ("decoding", "async"))
                      if name not in names]
        made = variants(image, site.widths) if image is not None and "srcset" not in names \
            and (allowed is None or image.path in allowed) else []
        if not made:
            return _tag(attrs)
        own = [v for v in made if v.format == image.format]   # type: ignore[union-attr]
        src = dict(attrs)["src"]
        webp = [v for v in made if v.format == "WEBP"]

        def srcset(items: list[Variant], largest: str | None) -> str:
            entries = [f"{site.base_path}{v.url.lstrip('/')} {v.width}w" for v in items]
            if largest is not None:
                entries.append(f"{largest} {image.width}w")   # type: ignore[union-attr]
            return ", ".join(entries)
        if image.format == "WEBP":   # type: ignore[union-attr]
            return _tag(attrs + [("srcset", srcset(webp, src)), ("sizes", SIZES)])
        img = _tag(attrs + [("srcset", srcset(own, src)), ("sizes", SIZES)])
        return (f'<picture><source type="image/webp" srcset="{srcset(webp, None)}" '
                f'sizes="{SIZES}">{img}</picture>')

    return _IMG.sub(one, page_html), tuple(used[key] for key in sorted(used))


def _attributes(text: str) -> list[tuple[str, str | None]]:
    found: list[tuple[str, str | None]] = []
    for match in _ATTR.finditer(text):
        value = next((v for v in match.groups()[1:] if v is not None), None)
        found.append((match[1], value))
    return found


def _tag(attrs: list[tuple[str, str | None]]) -> str:
    parts = [name if value is None else f'{name}="{value.replace(chr(34), "&quot;")}"'
             for name, value in attrs]
    return "<img " + " ".join(parts) + ">"


def shortcode_images(calls: Iterable[tuple[str, str]], source_rel: str,
                     site: ImageSite) -> list[ImageFile]:
    """The local images shortcode calls name in their `src` or `image` arguments (their HTML
    is made at render time; their variants must be known before)."""
    found = []
    for key, value in calls:
        if key in ("src", "image") and isinstance(value, str):
            where = resolve(value, source_rel, site)
            if where is not None:
                found.append(image_file(*where, site.cache_dir))
    return found


# Publishing: variants (cached) and originals without their location.

def variant_bytes(variant: Variant, cache_dir: Path) -> bytes:
    """A variant's file: from the cache, or resized now and cached."""
    cached = _cached(variant, cache_dir)
    try:
        return cached.read_bytes()
    except OSError:
        pass
    return make_variants(variant.source, [variant], cache_dir)[0]


def missing_variants(image: ImageFile, widths: Iterable[int], cache_dir: Path) -> list[Variant]:
    """The variants of an image not in the cache yet."""
    return [v for v in variants(image, widths) if not _cached(v, cache_dir).is_file()]


def make_variants(image: ImageFile, wanted: Sequence[Variant], cache_dir: Path) -> list[bytes]:
    """Resize an image to each wanted variant, decoding it once, and cache them."""
    from PIL import Image, ImageOps
    global resizes
    made = []
    with Image.open(image.path) as opened:
        upright = ImageOps.exif_transpose(opened)
        upright.load()
        for variant in wanted:
            resized = upright
            if upright.width != variant.width:
                height = max(1, round(upright.height * variant.width / upright.width))
                resized = upright.resize((variant.width, height), Image.Resampling.LANCZOS,
                                         reducing_gap=3.0)
            data = _encode(resized, variant.format)
            resizes += 1
            _store(_cached(variant, cache_dir), data)
            made.append(data)
    return made


def _cached(variant: Variant, cache_dir: Path) -> Path:
    return cache_dir / CACHE_FOLDER / \
        f"{variant.source.digest}-{variant.width}-e{ENCODING}.{RESIZABLE[variant.format]}"


def _store(cached: Path, data: bytes) -> None:
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(cached.suffix + f".{os.getpid()}.part")
        partial.write_bytes(data)
        partial.replace(cached)
    except OSError:
        pass   # no cache: the next build resizes again


# Part of every cached variant's name: bump it when _SAVE_OPTIONS change, so no build publishes
# a variant encoded the old way beside new ones.
ENCODING = 2
# WebP effort 2 rather than libwebp's default 4: measured on photos, files about 4 % larger
# for half the encoding time, which is most of what a first build with photos costs.
_SAVE_OPTIONS: dict[str, dict[str, int | bool]] = {
    "JPEG": {"quality": 85, "optimize": True}, "WEBP": {"quality": 80, "method": 2},
    "PNG": {"optimize": True}}


def _encode(image: Image.Image, fmt: str) -> bytes:
    """Pillow's output without any metadata (no EXIF, so no location)."""
    out = io.BytesIO()
    if fmt == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    options = _SAVE_OPTIONS.get(fmt, {})
    image.info.pop("exif", None)
    image.save(out, format=fmt, **options)
    return out.getvalue()


def has_location(path: Path) -> bool:
    """Whether a raster image carries EXIF GPS data."""
    from PIL import Image, UnidentifiedImageError
    if path.suffix.lower() not in RASTER_SUFFIXES:
        return False
    try:
        with Image.open(path) as image:
            return bool(image.getexif().get_ifd(EXIF_GPS)) or \
                EXIF_GPS in image.getexif()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return False


def without_location(path: Path) -> Callable[[], bytes]:
    """The original re-encoded without EXIF (turned upright first, since the EXIF orientation
    goes with the rest)."""
    def make() -> bytes:
        from PIL import Image, ImageOps
        with Image.open(path) as opened:
            fmt = opened.format or "JPEG"
            image = ImageOps.exif_transpose(opened)
            return _encode(image, fmt if fmt in RESIZABLE else "PNG")
    return make
