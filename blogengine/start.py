"""A build's start: its inputs stamped and the last build's state read. When they show that
nothing changed, the build ends here, before the engine's stages are even imported (an
author's `blogengine build` of an unchanged 10,000-post site spends most of its time
importing); else BuildRun (build.py) carries on from this start."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from blogengine.cache import BuildCache
from blogengine.comments import conversations_version
from blogengine.config import SiteConfig
from blogengine.heap import collections_paused, leave_to_the_end
from blogengine.load import ScannedContent, scan_content
from blogengine.pluginhost import PluginSet, load_plugins
from blogengine.readahead import read_ahead
from blogengine.report import BuildOptions, BuildReport, LinkProblem
from blogengine.stamps import (Inputs, LastBuild, fingerprint, input_files, read_last_build,
                               search_pending_mark, unchanged)
from blogengine.themes import theme_chain
from blogengine.write import check_output_dir

Progress = Callable[[int, int], None]


def build(config: SiteConfig, options: BuildOptions = BuildOptions(),
          progress: Progress | None = None) -> BuildReport:
    """Build the site into the output folder, or raise BuildFailed and leave it untouched."""
    return BuildStart(config, options, progress).run()


class BuildStart:
    """The light first part of a build: config, theme chain, plugins, stamps, the cache."""

    def __init__(self, config: SiteConfig, options: BuildOptions,
                 progress: Progress | None = None) -> None:
        self.started = time.perf_counter()
        self.config = config
        self.options = options
        self.progress = progress
        self.out_dir = options.output_dir or config.output_dir
        check_output_dir(self.out_dir, config.root)
        self.chain = theme_chain(config)
        self.now = options.now or datetime.now(config.tz)
        self.plugins: PluginSet = load_plugins(config)
        self.scanned, self.inputs = self.load()
        self.cache = BuildCache.for_output(config.root, self.out_dir)

    def run(self) -> BuildReport:
        """The build, then the plugins told; the cache let go of whatever happens."""
        try:
            with collections_paused():
                previous = self.last_build()
                report = self.up_to_date(previous) \
                    if previous is not None and self.stands(previous) else self.execute(previous)
            self.plugins.run("build_finished", report=report, config=self.config)
            return report
        finally:
            self.close()

    def execute(self, previous: LastBuild | None) -> BuildReport:
        """Every stage after loading, by a BuildRun that carries on from this start."""
        self.read_ahead()
        from blogengine.build import BuildRun

        run = BuildRun(self.config, self.options, self.progress, start=self)
        try:
            return run.execute(previous)
        finally:
            run.close()
            leave_to_the_end(run)

    def read_ahead(self) -> None:
        """Have the system read the build cache and the Pagefind binary while the build
        imports its stages and takes the kept model (readahead.py)."""
        files: list[str | Path] = list(self.cache.files())
        if self.config.search.enabled:
            from blogengine.search import pagefind_executable
            binary = pagefind_executable()
            if binary is not None:
                files.append(binary)
        read_ahead(files)

    def close(self) -> None:
        self.cache.close()

    def load(self) -> tuple[ScannedContent, Inputs]:
        """Find the sources and stamp every input (the scan's start bounds what is racy)."""
        scan_ns = time.time_ns()
        scanned = scan_content(self.config.content_dir)
        inputs = Inputs(fingerprint=fingerprint(self.config, self.chain,
                                                drafts=self.options.drafts,
                                                future=self.options.future)
                        + self.plugins.digest(),
                        scan_ns=scan_ns,
                        sources={rel: stamp for _path, rel, stamp in scanned.markdown},
                        files=input_files(self.config, self.chain, scanned),
                        comments=self.comments_version())
        return scanned, inputs

    def comments_version(self) -> str:
        """A cheap version of the comments the pages would carry ("" when they cannot be told)."""
        if not self.config.comments.enabled:
            return "off"
        return conversations_version(self.config)

    def last_build(self) -> LastBuild | None:
        """The last build's state, when this build may build on it."""
        if not self.options.incremental or self.options.explain_templates:
            return None
        return read_last_build(self.cache, self.inputs, self.out_dir)

    def stands(self, previous: LastBuild) -> bool:
        """Whether the last build stands as it is, its search index included. Outside links
        are listed only when asked (`blogengine check`): a site of 10,000 rich posts has
        65,000, too many to keep for builds that never show them."""
        return unchanged(previous, self.inputs, self.now) \
            and bool(previous.get("checked") or not self.options.check_links) \
            and not self.options.external_links and not self.index_pending()

    def index_pending(self) -> bool:
        """Whether the search index started for these pages was never published."""
        return self.config.search.enabled and search_pending_mark(self.out_dir).exists()

    def up_to_date(self, previous: LastBuild) -> BuildReport:
        """The report of a build that had nothing to do: the last build's findings still hold."""
        drafts, future = previous.get("left_out", (0, 0))
        problems = previous.get("problems", []) if self.options.check_links else []
        return BuildReport(output_dir=self.out_dir, files_written=0, pages_written=0,
                           posts=previous["posts"], seconds=time.perf_counter() - self.started,
                           up_to_date=True, drafts_left_out=drafts, future_left_out=future,
                           warnings=list(previous.get("image_warnings", [])),
                           problems=[LinkProblem(*p) for p in problems])
