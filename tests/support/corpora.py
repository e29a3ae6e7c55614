"""Importing public corpora (exports and sites nobody on this project wrote) into a site made the
way a newcomer makes one (`blogengine init`), building it, and reading the built pages back:
titles, baked comments with their parents, visible text."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

from bs4 import BeautifulSoup
from click.testing import Result

from tests.support.importing import DATA, run

CORPORA = DATA / "corpora"    # each folder's SOURCE.md names the repository, commit and licence


@dataclass
class ImportedSite:
    root: Path
    imported: Result          # `blogengine import ...`
    built: Result             # `blogengine build` after it

    @property
    def public(self) -> Path:
        return self.root / "public"


def import_and_build(tmp_path: Path, kind: str, source: Path, *options: str) -> ImportedSite:
    """`blogengine init`, `blogengine import KIND SOURCE`, `blogengine build`, as a newcomer types
    them (the site's own SQLite comment database)."""
    root = tmp_path / "site"
    made = run("init", str(root))
    assert made.exit_code == 0, made.output
    imported = run("import", kind, str(source), "--site", str(root), *options)
    built = run("build", "--source", str(root))
    return ImportedSite(root=root, imported=imported, built=built)


def _soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def built_pages(public: Path) -> dict[str, Path]:
    """Every built page (a folder's index.html) by its site path, redirect pages left out."""
    pages = {}
    for path in sorted(public.rglob("index.html")):
        text = path.read_text(encoding="utf-8")
        if 'http-equiv="refresh"' in text:
            continue
        url = "/" + str(path.parent.relative_to(public)).strip(".") + "/"
        pages[url.replace("//", "/")] = path
    return pages


def page_title(path: Path) -> str:
    """The `<h1>` of a post or page, whitespace collapsed."""
    heading = _soup(path).find("h1")
    return " ".join(heading.get_text(" ").split()) if heading else ""


def titles(public: Path) -> dict[str, str]:
    """Built post and page titles by site path (listings are left out: they have no article)."""
    found = {}
    for url, path in built_pages(public).items():
        soup = _soup(path)
        if soup.find("article", class_="post") or soup.find("article", class_="page") \
                or soup.select_one("main article h1"):
            found[url] = page_title(path)
    return found


@dataclass(frozen=True)
class BakedComment:
    id: str
    parent: str | None        # the id of the comment it answers, None at the top level
    author: str
    text: str


def baked_comments(page: Path) -> list[BakedComment]:
    """The comments baked into a built page, in page order, each with its parent."""
    found = []
    for item in _soup(page).select("li.bec-comment"):
        parent = item.find_parent("li", class_="bec-comment")
        author = item.select_one(".bec-author")
        body = item.select_one(".bec-text")
        found.append(BakedComment(
            id=str(item.get("id", "")), parent=str(parent.get("id")) if parent else None,
            author=" ".join(author.get_text(" ").split()) if author else "",
            text=" ".join(body.get_text(" ").split()) if body else ""))
    return found


def visible_words(html: str) -> list[str]:
    """The words a reader sees in an HTML fragment (scripts, styles and comments left out)."""
    soup = BeautifulSoup(html, "html.parser")
    for hidden in soup(["script", "style", "template"]):
        hidden.decompose()
    return re.findall(r"\w+", soup.get_text(" ").lower())


def article_words(page: Path) -> list[str]:
    """The words of a built post's or page's body (its title, meta and comments left out)."""
    soup = _soup(page)
    body = soup.select_one(".post-content") or soup.select_one(".page-content") \
        or soup.select_one("article")
    return visible_words(str(body)) if body else []


def similarity(source: list[str], built: list[str]) -> float:
    """How much of the source's text a reader finds in the built page, in order: the share of
    the source's words that line up with the built page's (0 to 1). Words the page adds (a
    player's fallback link, a caption) cost nothing; words it drops or scrambles do."""
    if not source:
        return 1.0
    matcher = difflib.SequenceMatcher(None, source, built, autojunk=False)
    return sum(block.size for block in matcher.get_matching_blocks()) / len(source)
