"""How faithfully WordPress post bodies survive `wordpress_to_markdown`: for each post of a WXR
file, the words a reader sees on WordPress against the words of the Markdown we render.

Run `python -m tests.support.wpfidelity FILE.xml ...` for the median and minimum per file."""

from __future__ import annotations

import json
import re
import statistics
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from bs4 import BeautifulSoup

from blogengine.importers import html as wphtml
from blogengine.importers.wpautop import wpautop
from blogengine.markup import make_markdown
from tests.support.corpora import similarity, visible_words

CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"
# A (registered) shortcode's own brackets are never shown by WordPress (what they enclose is).
_SHORTCODE = re.compile(r"\[/?(?:caption|wp_caption|gallery|audio|video|playlist|embed)\b[^\]]*\]")


@dataclass(frozen=True)
class Post:
    title: str
    content: str
    footnotes: list[dict[str, str]] | None
    attachments: dict[str, tuple[str, str]]        # every attachment of the export, by id
    own: list[tuple[str, str]]                     # this post's attachments


# The text blocks a reader tells apart. Media are left out: the source side cannot show what a
# [gallery] or [caption] would become without WordPress itself (the tests check media one by one).
_BLOCKS = ["p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "td", "th", "blockquote", "pre", "table",
           "ul", "ol", "dl", "dt", "dd", "hr"]


@dataclass(frozen=True)
class Score:
    title: str
    ratio: float          # visible words, in order
    structure: float      # block elements, in order
    backslashes: int      # backslashes a reader sees that the source did not show


def read_posts(path: Path) -> list[Post]:
    """The posts and pages of a WXR file with their bodies and footnotes meta."""
    channel = ET.parse(path).getroot().find("channel")
    assert channel is not None
    posts = []
    attachments: dict[str, tuple[str, str]] = {}
    by_parent: dict[str, list[tuple[str, str]]] = {}
    items = [(item, {el.tag.rsplit("}", 1)[-1]: (el.text or "").strip() for el in item})
             for item in channel.findall("item")]
    for item, fields in items:
        if fields.get("post_type") == "attachment":
            found = (fields.get("attachment_url", ""), fields.get("title", ""))
            attachments[fields.get("post_id", "")] = found
            by_parent.setdefault(fields.get("post_parent", ""), []).append(found)
    for item, fields in items:
        if fields.get("post_type", "") not in ("post", "page"):
            continue
        footnotes = None
        for meta in item:
            if meta.tag.endswith("}postmeta") and \
                    (meta.findtext("{*}meta_key") or "").strip() == "footnotes":
                footnotes = json.loads(meta.findtext("{*}meta_value") or "[]")
        posts.append(Post(item.findtext("title") or "", item.findtext(CONTENT) or "", footnotes,
                          attachments, by_parent.get(fields.get("post_id", ""), [])))
    return posts


def source_html(post: Post) -> str:
    """What WordPress shows: paragraphs added to classic posts, shortcode brackets hidden, the
    footnotes block filled in from the post's meta."""
    content = post.content
    shown = content if "<!-- wp:" in content else wpautop(content)
    shown = re.sub(r"\[caption\b[^\]]*?caption=\"([^\"]*)\"[^\]]*\]", r" \1 ", shown)
    if "<!-- wp:footnotes" in shown and post.footnotes:
        shown += "<ol>" + "".join(f"<li>{n['content']}</li>" for n in post.footnotes) + "</ol>"
    return _SHORTCODE.sub(" ", shown)


def rendered_html(post: Post) -> str:
    """What blogengine shows after the import: the converted Markdown rendered to HTML."""
    try:
        markdown = wphtml.wordpress_to_markdown(post.content, post.attachments, post.own,
                                                footnotes=post.footnotes)  # type: ignore[call-arg]
    except TypeError:       # before `footnotes` was a keyword
        markdown = wphtml.wordpress_to_markdown(post.content, post.attachments, post.own)
    return str(make_markdown().render(markdown))


def words(html: str) -> list[str]:
    """The words a reader sees; what is inside a player only shows where there is no player."""
    soup = BeautifulSoup(html, "html.parser")
    for player in soup.find_all(["audio", "video"]):
        player.clear()
    return visible_words(str(soup))


def blocks(html: str) -> list[str]:
    """The block elements of an HTML fragment, in document order."""
    return [el.name for el in BeautifulSoup(html, "html.parser").find_all(_BLOCKS)]


def _backslashes(html: str) -> int:
    return BeautifulSoup(html, "html.parser").get_text().count("\\")


def score(post: Post) -> Score:
    """How much of one post a reader finds after the import, three ways."""
    source, rendered = source_html(post), rendered_html(post)
    return Score(post.title, similarity(words(source), words(rendered)),
                 similarity(blocks(source), blocks(rendered)),
                 max(0, _backslashes(rendered) - _backslashes(source)))


def scores(path: Path) -> list[Score]:
    """One score per post of a WXR file (posts without a body left out)."""
    return [score(post) for post in read_posts(path) if post.content.strip()]


def main(paths: list[str]) -> None:
    for name in paths:
        found = scores(Path(name))
        print(f"{Path(name).name}: {len(found)} posts")
        for field in ("ratio", "structure"):
            values = [getattr(s, field) for s in found]
            worst = min(found, key=lambda s: getattr(s, field))
            print(f"  {field}: median {statistics.median(values):.3f}, "
                  f"minimum {min(values):.3f} ({worst.title!r})")
        print(f"  posts showing backslashes: {sum(1 for s in found if s.backslashes)}"
              f" ({sum(s.backslashes for s in found)} in all)")
        for each in sorted(found, key=lambda s: s.ratio + s.structure)[:10]:
            print(f"    words {each.ratio:.3f} blocks {each.structure:.3f} \\ {each.backslashes}  {each.title}")


if __name__ == "__main__":
    main(sys.argv[1:])
