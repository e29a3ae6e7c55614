"""What a build is asked to do (BuildOptions) and what it did (BuildReport): light, so that
the command line and an up-to-date build need none of the engine's stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from blogengine.check import ExternalLink
    from blogengine.search import IndexJob


@dataclass(frozen=True)
class LinkProblem:
    """A link that leads nowhere, at the file and line that wrote it."""

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"

    def sort_key(self) -> tuple[str, int, str]:
        return (self.path, self.line or 0, self.message)


@dataclass(frozen=True)
class BuildOptions:
    output_dir: Path | None = None   # default: public/ beside content/
    drafts: bool = False
    future: bool = False
    now: datetime | None = None      # the clock, for future-dated posts; tests pin it
    explain_templates: bool = False  # report which file each template came from
    jobs: int | None = None          # worker processes; None: one per CPU
    incremental: bool = True         # build on the last build (False: from scratch; the cache
                                     # is then written anew)
    content_cache: bool = True       # reuse what is keyed on content alone even when not
                                     # incremental: parsed documents, images, cards, search index
    check_links: bool = True         # report local links that lead nowhere (check.py)
    external_links: bool = False     # list the links to other sites (BuildReport.external),
                                     # even when nothing changed (`blogengine check`)
    search_later: bool = False       # leave the search index to finish after the build
                                     # (BuildReport.indexing; serve reloads the pages first)


@dataclass
class BuildReport:
    output_dir: Path
    files_written: int
    pages_written: int
    posts: int
    seconds: float
    warnings: list[str] = field(default_factory=list)
    template_sources: dict[str, str] = field(default_factory=dict)
    pages_rendered: int = 0
    up_to_date: bool = False
    problems: list[LinkProblem] = field(default_factory=list)   # links that lead nowhere
    external: list[ExternalLink] = field(default_factory=list)  # outside links, for --external
    drafts_left_out: int = 0
    future_left_out: int = 0
    indexing: IndexJob | None = None   # with search_later: the index still on its way
    parsed: int = 0                    # Markdown documents parsed (not taken from the cache)
    accelerated: int = 0               # of them, rendered by the Markdown accelerator

    def accelerator_note(self) -> str:
        """ "; 998 of 1000 Markdown documents by markdown-it-pyrs 0.4.0" ("": none of them)."""
        if not self.accelerated:
            return ""
        from blogengine.fastmd import version

        return (f"; {self.accelerated} of {self.parsed} Markdown documents by "
                f"markdown-it-pyrs {version()}")

    def left_out(self) -> str:
        """ "2 drafts and 1 future post left out; --drafts / --future include them" ("": none)."""
        drafts, future = self.drafts_left_out, self.future_left_out
        parts = ([f"{drafts} draft{'s' if drafts != 1 else ''}"] if drafts else []) + \
            ([f"{future} future post{'s' if future != 1 else ''}"] if future else [])
        flags = (["--drafts"] if drafts else []) + (["--future"] if future else [])
        if not parts:
            return ""
        verb = "includes it" if drafts + future == 1 else "include them"
        return f"{' and '.join(parts)} left out; {' / '.join(flags)} {verb}"
