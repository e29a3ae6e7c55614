"""The build: load -> parse -> model -> render -> write, top to bottom."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path, PurePosixPath

import jinja2
from markdown_it import MarkdownIt

from blogengine import parallel
from blogengine.config import SiteConfig
from blogengine.conversations import bake_conversations
from blogengine.errors import BlogError, BuildFailed, ContentError
from blogengine.load import read_source, scan_content
from blogengine.markup import make_markdown
from blogengine.model import Entry, Listing, Site, build_site, output_path
from blogengine.parse import Document, parse_document
from blogengine.render import (data_outputs, prepare_environment, render_pages, site_pages,
                               unique_errors)
from blogengine.themes import loaded_templates, make_environment, theme_chain
from blogengine.write import Staging, check_output_dir, check_paths

Progress = Callable[[int, int], None]
# Below these counts a stage runs in the main process: forking workers would cost more.
PARALLEL_SOURCES = 200
PARALLEL_PAGES = 300


@dataclass(frozen=True)
class BuildOptions:
    output_dir: Path | None = None   # default: public/ beside content/
    drafts: bool = False
    future: bool = False
    now: datetime | None = None      # the clock, for future-dated posts; tests pin it
    explain_templates: bool = False  # report which file each template came from
    jobs: int | None = None          # worker processes; None: one per CPU


@dataclass
class BuildReport:
    output_dir: Path
    files_written: int
    pages_written: int
    posts: int
    seconds: float
    warnings: list[str] = field(default_factory=list)
    template_sources: dict[str, str] = field(default_factory=dict)


def default_output_dir(config: SiteConfig) -> Path:
    return config.root / "public"


def build(config: SiteConfig, options: BuildOptions = BuildOptions(),
          progress: Progress | None = None) -> BuildReport:
    """Build the whole site into the output folder, or raise BuildFailed and leave it untouched."""
    started = time.perf_counter()
    out_dir = options.output_dir or default_output_dir(config)
    check_output_dir(out_dir, config.root)
    jobs = parallel.worker_count(options.jobs)
    chain = theme_chain(config)
    env = make_environment(config, chain)

    scanned = scan_content(config.content_dir)
    errors: list[BlogError] = list(scanned.errors)
    sources = [(path, rel) for path, rel, _stamp in scanned.markdown]
    documents = parse_sources(sources, config, jobs, errors)
    try:
        site = build_site(documents, config, drafts=options.drafts, future=options.future,
                          now=options.now)
    except BuildFailed as exc:
        raise BuildFailed(errors + exc.errors) from None
    if errors:
        raise BuildFailed(errors)

    warnings = _bake_comments(site, config)
    pages = site_pages(site)
    extras = data_outputs(site, chain, scanned.assets)
    check_paths([(output_path(page.url), _origin(page)) for page in pages]
                + [(out.path, str(out.copy_from or out.url)) for out in extras])
    staging = Staging(out_dir)
    try:
        prepare_environment(env, site)
        _render_all(pages, env, staging, jobs, progress)
        for out in extras:
            if out.copy_from is not None:
                staging.copy(out.path, out.copy_from)
            else:
                assert out.make is not None
                staging.write(out.path, out.make())
        staging.commit()
    except BaseException:
        staging.abort()
        raise
    report = BuildReport(output_dir=out_dir, files_written=len(pages) + len(extras),
                         pages_written=len(pages), posts=len(site.posts),
                         seconds=time.perf_counter() - started, warnings=warnings)
    if options.explain_templates:
        report.template_sources = loaded_templates(env)
    return report


def parse_sources(sources: Sequence[tuple[Path, PurePosixPath]], config: SiteConfig, jobs: int,
                  errors: list[BlogError]) -> list[Document]:
    """Read and parse every source, in workers when there are many; documents in source order."""
    found: dict[int, Document] = {}
    numbered = list(enumerate(sources))
    for _count, results in parallel.run_chunks(_parse_slice, numbered, jobs=jobs,
                                               minimum=PARALLEL_SOURCES, config=config):
        for position, result in results:
            if isinstance(result, Document):
                found[position] = result
            else:
                errors.append(result)
    return [found[position] for position in sorted(found)]


def _parse_slice(items: Sequence[tuple[int, tuple[Path, PurePosixPath]]]
                 ) -> list[tuple[int, Document | BlogError]]:
    config: SiteConfig = parallel.shared["config"]
    md = _markdown(not config.escape_html)
    results: list[tuple[int, Document | BlogError]] = []
    for position, (path, rel) in items:
        problems: list[ContentError] = []
        source = read_source(path, rel, problems)
        if source is None:
            results.extend((position, problem) for problem in problems)
            continue
        try:
            results.append((position, parse_document(source, md, config.tz)))
        except BlogError as exc:
            results.append((position, exc))
    return results


@lru_cache(maxsize=2)
def _markdown(allow_html: bool) -> MarkdownIt:
    return make_markdown(allow_html=allow_html)


def _render_all(pages: list[Entry | Listing], env: jinja2.Environment, staging: Staging,
                jobs: int, progress: Progress | None) -> None:
    """Render every page into staging (in workers when there are many); errors all at once."""
    done = 0
    problems: list[BlogError] = []
    for count, errors in parallel.run_chunks(render_pages, range(len(pages)), jobs=jobs,
                                             minimum=PARALLEL_PAGES, env=env, pages=pages,
                                             staging=staging):
        problems.extend(errors)
        done += count
        if progress is not None:
            progress(done, len(pages))
    if problems:
        raise BuildFailed(unique_errors(problems))


def _origin(page: Entry | Listing) -> str:
    return page.source if isinstance(page, Entry) else f"the {page.kind} page"


def _bake_comments(site: Site, config: SiteConfig) -> list[str]:
    """Give every entry with comments on its published conversation; warn when unreadable."""
    open_entries = [entry for entry in site.entries if entry.comments]
    baked = bake_conversations(config, [entry.thread for entry in open_entries])
    for entry in open_entries:
        entry.conversation = baked.by_thread.get(entry.thread)
    return [baked.warning] if baked.warning else []
