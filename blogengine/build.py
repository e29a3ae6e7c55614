"""The build after its start (start.py: inputs stamped, nothing to do when nothing changed):
parse -> model -> render -> write -> check, one method of a BuildRun each, re-doing only what
changed since the last build (see plan.py, cache.py and deps.py)."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import secrets
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from itertools import chain
from pathlib import Path, PurePosixPath

from markdown_it import MarkdownIt

from blogengine import fastmd, parallel
from blogengine.cache import (CACHE_DIR, RACY_NS, REWRITE_SHARE, BuildCache, KeptDict,
                              OutputRecord, added_states, dict_states)
from blogengine.cards import CardFile, card_outputs, draw_missing_cards
from blogengine.check import CheckMemory, CheckResult, check_site
from blogengine.comments import NO_DATABASE
from blogengine.config import SiteConfig
from blogengine.conversations import BakedConversations, bake_conversations, quiet_conversations
from blogengine.deps import Digests, Recorder, entry_objects, object_digests
from blogengine.errors import BlogError, BuildFailed, ContentError
from blogengine.linkstore import KeptLinks, link_states
from blogengine.keptmodel import (Changes, KeptCards, KeptModel, load_model, model_path, save_model,
                                  swap_bodies)
from blogengine.images import (ImageFile, ImageSite, image_site, make_variants,
                               missing_variants, rewrite_images, shortcode_images)
from blogengine.load import FileStamp, ScannedSource, read_source
from blogengine.locate import CheckInputs
from blogengine.markup import make_markdown
from blogengine.model import THEME_PREFIX, Entry, Listing, Site, build_site, output_path
from blogengine.pagefacts import PageNote, PageStamp, Wanted
from blogengine.parse import Document, parse_document
from blogengine.pluginhost import PluginSet
from blogengine.prescan import OutputListing, OutputScan
from blogengine.plan import Plan, objects_to_keep, plan_outputs, templates_to_keep
from blogengine.render import (Output, RenderedSlice, RenderWork, data_outputs,
                               prepare_environment, render_order, render_page, render_pages, site_pages,
                               unique_errors)
from blogengine.report import BuildOptions as BuildOptions
from blogengine.report import BuildReport as BuildReport
from blogengine.search import (INDEX_FOLDER, EarlyPart, IndexJob, index_needed, remove_index,
                               start_early, start_index)
from blogengine.stamps import LastBuild, parse_fingerprint
from blogengine.start import BuildStart, Progress
from blogengine.start import build as build   # the entry point, where callers have always found it
from blogengine.templating import compiled_templates, loaded_templates, make_environment
from blogengine.themes import template_dirs
from blogengine.write import Staging, check_paths, folder_id, left_staged, output_files

# Below these counts a stage runs in the main process: forking workers would cost more.
PARALLEL_SOURCES = 200
PARALLEL_PAGES = 300
PARALLEL_IMAGES = 4


@dataclass(frozen=True)
class _Outputs:
    """Everything the site is made of, and what of it this build must make again."""

    pages: list[Entry | Listing]
    extras: list[Output]          # every file besides the pages
    objects: dict[str, str]       # a digest per model object (deps.object_digests)
    digests: Digests
    plan: Plan


@dataclass(frozen=True)
class _Written:
    """What the write stage changed in the output folder."""

    files: int                              # files written or removed
    records: dict[str, OutputRecord]        # what the workers could not store themselves
    removed: set[str]                       # outputs of the last build that are gone
    templates: set[str]                     # every template a rendered page used
    pages: int = 0                          # pages written or removed
    changed: set[str] | None = None         # files written or removed (None: a fresh folder)
    notes: dict[str, PageNote] = field(default_factory=dict)     # of the pages written, for
    stamps: dict[str, PageStamp] = field(default_factory=dict)   # the index and the check


@dataclass(frozen=True)
class _Tally:
    """Counted over every document: the drafts and future posts left out, when the first of
    those posts falls due, and the warnings about unreadable images."""

    left_out: tuple[int, int]
    next_due: datetime | None
    image_warnings: list[str]


class BuildRun(BuildStart):
    """One build: its config, options, cache and inputs, with one method per stage."""

    keeps_model = True   # for the next build (keptmodel.py); serve keeps its own in memory

    def __init__(self, config: SiteConfig, options: BuildOptions,
                 progress: Progress | None, start: BuildStart | None = None) -> None:
        if start is None:
            super().__init__(config, options, progress)
        else:   # carry on from the start that found work to do: the inputs stay stamped once
            vars(self).update(vars(start))
        self.jobs = parallel.worker_count(options.jobs)
        # Images, cards and the search index are cached by content under .blogengine/; with
        # --no-cache they are made again in a scratch folder, and the cache is left alone.
        self.scratch = None if options.content_cache else tempfile.TemporaryDirectory(
            prefix="blogengine-no-cache-")
        self.content_caches = config.root / CACHE_DIR if self.scratch is None \
            else Path(self.scratch.name)
        self.env = make_environment(config, self.chain,
                                    compiled_templates(self.content_caches, self.inputs.fingerprint))
        self.env.globals["image_site"] = self.image_site()
        self.parse_key = parse_fingerprint(config, self.chain) + self.plugins.digest()
        self.parsed = self.accelerated = 0
        self.kept_pages: KeptDict | None = None   # the link check's index, as check() read it
        self.kept_links: KeptLinks | None = None  # and its pages' links, read as needed
        self.kept_objects: KeptDict | None = None  # the last build's objects, as read
        self.model_objects: dict[str, str] | None = None   # or as the kept model holds them
        self.warm: KeptModel | None = None        # the last build's model (keptmodel.py)
        self.swapped: list[Entry] = []            # its entries given a fresh document
        self.fresh_documents: list[Document] = []  # the documents that replaced its own
        self._tally: tuple[list[Document], _Tally] | None = None

    def close(self) -> None:
        super().close()
        if self.scratch is not None:
            self.scratch.cleanup()

    def with_objects(self, previous: LastBuild | None, site: Site | None = None
                     ) -> LastBuild | None:
        """The last build's state with its objects' digests, which the cache keeps apart: an
        up-to-date build has no need of them (4 MB to unpickle at 10,000 posts). They are
        saved as the digests changed since they were saved whole (cache.dict_states). A build
        from the kept model (its `site`) takes them from the model, which holds the last
        build's, and the templates' from the state: the cache's are only made sure of, for a
        build that cannot start from the model (0.06 s of an edit at 10,000 posts)."""
        if previous is None or "objects" in previous:
            return previous
        warm, templates = self.warm, previous.get("templates")
        if warm is not None and site is warm.site and isinstance(templates, dict):
            try:
                saved = self.cache.has_state("objects")
            except Exception:  # a broken cache is no cache
                return None
            if saved:
                self.model_objects = objects_to_keep(warm.objects, templates)   # as saved
                return {**previous, "objects": self.model_objects}
        try:
            self.kept_objects = self.cache.get_dict_state("objects")
        except Exception:  # a broken cache is no cache
            self.kept_objects = None
        if self.kept_objects is None:
            return None
        return {**previous, "objects": self.kept_objects.current}

    def execute(self, previous: LastBuild | None) -> BuildReport:
        """The stages after loading, top to bottom (run() skips them when nothing changed)."""
        self.warm = self.warm_model(previous)
        scan = self.scan_output(previous)
        early = None
        try:
            documents, errors = self.parse(previous)
            errors.extend(self.plugins.problems(documents))
            site = self.model(documents, errors)
            self.plugins.run("site_built", site=site)
            early = self.index_early(site, scan)
            warnings = self.bake_comments(site)
            # The objects' digests are read once an edit's index is under way: only the plan
            # and what follows need them (without them, the plan makes every file again).
            previous = self.with_objects(previous, site)
            outputs = self.plan(site, previous)
            written = self.render_and_write(outputs, scan)
            listing = scan.listing(written.changed) \
                if scan is not None and written.changed is not None else None
        except BaseException:
            if early is not None:
                early.discard()
            raise
        finally:
            if scan is not None:
                scan.close()
        indexing = self.index(written, listing, early)
        try:
            checked = self.check(site, outputs, previous,
                                 indexing.files if indexing is not None
                                 else listing.files if listing is not None else None,
                                 listing.pages if listing is not None else None, written.stamps)
            # Saved while Pagefind runs: until the index is published, its pending mark
            # keeps the next build from taking the site as up to date (search.index_pending).
            self.save(site, documents, outputs, written, checked)
        except BaseException:
            if indexing is not None:
                indexing.cancel()
            raise
        if indexing is not None and not (self.options.search_later and self.scratch is None):
            indexing.finish()
            indexing = None
        report = self.report(site, documents, outputs, written, warnings, checked)
        report.indexing = indexing
        return report

    def scan_output(self, previous: LastBuild | None) -> OutputScan | None:
        """The output folder listed beside the stages before the writing (prescan.py), when
        there is one to patch and the search index or the link check will want the listing,
        or a whole build will look for files it no longer makes (strays)."""
        if not (previous is None or self.config.search.enabled or self.options.check_links) \
                or not self.out_dir.is_dir() or left_staged(self.out_dir):
            return None
        return OutputScan(self.out_dir)

    def parse(self, previous: LastBuild | None) -> tuple[list[Document], list[BlogError]]:
        """Parse what changed, take the rest from the cache; documents in source order, and
        every problem met loading or parsing them."""
        unchanged = self.unchanged_in_model(previous)
        known, scan = self.parsed_before(previous, [rel for _path, rel, _stamp
                                                    in self.scanned.markdown
                                                    if rel not in unchanged] if unchanged else None)
        reuse: set[str] = set()
        parse: list[ScannedSource] = []
        for path, rel, stamp in self.scanned.markdown:
            if rel in unchanged:
                continue
            cached = known.get(rel)
            if cached is None:
                parse.append((path, rel, stamp))
            elif cached[0] == stamp and stamp.mtime_ns < scan - RACY_NS:
                reuse.add(rel)
            elif same_content(path, cached[1]):
                reuse.add(rel)   # touched, checked out again, or built with --clean
            else:
                parse.append((path, rel, stamp))
        errors: list[BlogError] = list(self.scanned.errors)
        by_rel = {doc.source.rel: doc for doc in self.parse_sources(parse, errors)}
        cached_docs = self.kept_documents(reuse, known) if reuse else {}
        cached_docs.update(unchanged)
        # A document whose images changed is made again: its HTML holds their sizes.
        stale = {rel for rel, doc in cached_docs.items()
                 if not all(image.still_current() for image in doc.images)}
        again = [item for item in self.scanned.markdown if item[1] in stale]
        by_rel.update({doc.source.rel: doc for doc in self.parse_sources(again, errors)})
        by_rel.update({rel: doc for rel, doc in cached_docs.items() if rel not in stale})
        documents = [by_rel[rel] for _path, rel, _stamp in self.scanned.markdown
                     if rel in by_rel]
        return documents, errors

    def unchanged_in_model(self, previous: LastBuild | None) -> dict[str, Document]:
        """The kept model's documents whose sources are stamped as the last build found them
        (and were not racy then): taken as they are, without asking the cache for the stamps
        of every source (10,000 rows at 10,000 posts)."""
        if self.warm is None or previous is None:
            return {}
        stamps, scan = previous["sources"], previous["scan_ns"]
        trusted = {rel for _path, rel, stamp in self.scanned.markdown
                   if stamp.mtime_ns < scan - RACY_NS and stamps.get(rel) == stamp}
        return {rel: doc for doc in self.warm.documents if (rel := doc.source.rel) in trusted}

    def kept_documents(self, rels: set[str], known: dict[str, tuple[FileStamp, str]]
                       ) -> dict[str, Document]:
        """The cached documents `rels` (`known`: the cache's stamp and digest of each), from
        the kept model where it holds the same (a build killed after parsing leaves newer ones
        in the cache than in the model)."""
        if self.warm is None:
            return self.cache.documents(rels)
        found = {rel: doc for doc in self.warm.documents
                 if (rel := doc.source.rel) in rels and doc.source.digest == known[rel][1]}
        if len(found) < len(rels):
            found.update(self.cache.documents(rels - found.keys()))
        return found

    def warm_model(self, previous: LastBuild | None) -> KeptModel | None:
        """The last build's model, when this build may start from it: only sources changed
        since, none added or removed (nor a template, theme file, asset or the config), the
        same settings and no plugin (a plugin may change the model), the same comments, and no
        post come due. Whether the documents still place the same is warm_site's to tell."""
        if previous is None or not self.keeps_model or self.plugins \
                or not previous.get("model") or previous.get("parse") != self.parse_key \
                or previous.get("files") != self.inputs.files \
                or previous.get("sources", {}).keys() != self.inputs.sources.keys() \
                or not self.inputs.comments or previous.get("comments") != self.inputs.comments:
            return None
        due = previous.get("next_due")
        if due is not None and self.now >= due:
            return None
        try:
            changes = self.cache.get_state("model:changes")
        except Exception:   # a broken cache is no cache
            return None
        return load_model(model_path(self.cache.path), previous["model"], changes,
                          self.cache.html)

    def parsed_before(self, previous: LastBuild | None, rels: list[str] | None = None
                      ) -> tuple[dict[str, tuple[FileStamp, str]], int]:
        """The cached documents this build may reuse (of `rels`, when given), each with its
        source's stamp and digest: documents parsed with the same parse settings, even by a
        build this one does not build upon (--clean, changed settings, a new output folder);
        none with --no-cache. And when the last build saved in the cache scanned the sources
        (0 when unknown): a source stamped as the cache has it, and older than that scan, is
        taken as unchanged (else it is read and digested)."""
        scan = previous["scan_ns"] if previous is not None else 0
        if previous is None:
            if not self.options.content_cache:
                return {}, 0
            try:
                state = self.cache.get_state("build")
            except Exception:  # a broken cache is no cache
                return {}, 0
            if not isinstance(state, dict) or state.get("parse") != self.parse_key:
                return {}, 0
            scan = state.get("scan_ns") if isinstance(state.get("scan_ns"), int) else 0
        try:
            return self.cache.sources(rels), scan
        except Exception:
            return {}, 0

    def parse_sources(self, sources: Sequence[ScannedSource],
                      errors: list[BlogError]) -> list[Document]:
        """Read and parse sources, in workers when there are many; documents in source order.

        The workers store each document in the build cache themselves, and hand back only what
        the model needs: bodies are read back from the cache by the pages that show them."""
        found: dict[int, Document] = {}
        work = ParseWork(config=self.config, cache=self.cache, plugins=self.plugins,
                         images=self.image_site())
        for _count, (results, accelerated) in parallel.run_chunks(
                _parse_slice, list(enumerate(sources)), jobs=self.jobs,
                minimum=PARALLEL_SOURCES, context=work):
            self.parsed += len(results)
            self.accelerated += accelerated
            for position, result in results:
                if isinstance(result, Document):
                    if result.body is None:
                        result = dataclasses.replace(result, loader=functools.partial(
                            self.cache.html, result.source.rel))
                    found[position] = result
                else:
                    errors.append(result)
        return [found[position] for position in sorted(found)]

    def image_site(self) -> ImageSite | None:
        """Where local images are found, or None when [images] is off."""
        if not self.config.images.enabled:
            return None
        return image_site(self.config, [theme.static for theme in self.chain], THEME_PREFIX,
                          self.content_caches)

    def model(self, documents: list[Document], errors: list[BlogError]) -> Site:
        """The site model; every error so far, the model's own included, fails the build."""
        site = self.warm_site(documents, errors)
        if site is not None:
            return site
        try:
            site = build_site(documents, self.config, drafts=self.options.drafts,
                              future=self.options.future, now=self.now)
        except BuildFailed as exc:
            raise BuildFailed(errors + exc.errors) from None
        if errors:
            raise BuildFailed(errors)
        return site

    def warm_site(self, documents: list[Document], errors: list[BlogError]) -> Site | None:
        """The kept model, when the documents differ from its own in their bodies alone: the
        changed ones swapped into their entries (keptmodel.swap_bodies)."""
        warm = self.warm
        if warm is None or errors or len(documents) != len(warm.documents):
            return None
        kept = {doc.source.rel: doc for doc in warm.documents}
        fresh = [doc for doc in documents if kept.get(doc.source.rel) is not doc]
        swapped = swap_bodies(warm.site, kept, fresh)
        if swapped is None:
            return None
        self.swapped, self.fresh_documents = swapped, fresh
        warm.site.config = self.config   # (the same but where to deploy: see stamps.fingerprint)
        return warm.site

    def bake_comments(self, site: Site, entries: list[Entry] | None = None) -> list[str]:
        """Give every entry with comments (of `entries`, when given) its published
        conversation; warn when unreadable."""
        threads = [(entry.thread, entry) for entry in (site.entries if entries is None else entries)
                   if entry.comments]
        baked = self.conversations({thread: entry.author for thread, entry in threads})
        conversation = baked.by_thread.get
        for thread, entry in threads:
            entry.conversation = conversation(thread)
        return [baked.warning] if baked.warning else []

    def conversations(self, bylines: dict[str, str]) -> BakedConversations:
        """Every open thread's published conversation (serve keeps them between builds)."""
        if self.inputs.comments == NO_DATABASE:   # (stamped as this build started)
            return quiet_conversations(bylines)
        return bake_conversations(self.config, bylines)

    def plan(self, site: Site, previous: LastBuild | None) -> _Outputs:
        """Every output, checked before anything is written, and which of them to make again."""
        pages = site_pages(site)
        caches = self.content_caches
        warm = self.warm if self.warm is not None and site is self.warm.site else None
        kept_cards: dict[str, str] = {}
        if warm is not None:   # its digests but the swapped entries', its cards as they are
            objects = dict(warm.objects)
            for entry in self.swapped:
                objects.update(entry_objects(entry))
            if warm.cards.fingerprint == self.inputs.fingerprint:
                kept_cards = warm.cards.records
            cards = [] if kept_cards else warm.cards.outputs()
        else:
            objects = object_digests(site)
            cards = card_outputs(site, self.chain, caches)
        extras = data_outputs(site, self.chain, self.scanned.assets, objects, self.env,
                              caches) + cards
        if warm is None:   # (the kept model's build checked the same paths: same assets too)
            check_paths([(output_path(page.url), _origin(page)) for page in pages]
                         + [(out.path, str(out.copy_from or out.url)) for out in extras])
        prepare_environment(self.env, site)
        digests = Digests(site, self.env)
        # From the kept model, only the swapped entries' objects may have changed (the model
        # holds the last build's digests of all the others).
        candidates = [oid for entry in self.swapped for oid in entry_objects(entry)] \
            if warm is not None else None
        plan = plan_outputs(pages, extras, self.cache, objects, previous, digests,
                            self.inputs.fingerprint, candidates, kept_cards)
        if plan.kept_extras is None and warm is not None:   # the cache lost a card's record
            extras += warm.cards.outputs()
            plan = plan_outputs(pages, extras, self.cache, objects, previous, digests,
                                self.inputs.fingerprint, candidates)
        return _Outputs(pages=pages, extras=extras, objects=objects, digests=digests, plan=plan)

    def render_and_write(self, outputs: _Outputs, scan: OutputScan | None = None) -> _Written:
        """Render the pages and make the files the plan asks for into staging, then publish it
        all at once; on any failure the output folder stays as it was. An output folder that
        is there is patched: only the files whose bytes changed are written, and a whole build
        removes the files it no longer makes (`scan`: the folder's listing, when made)."""
        plan = outputs.plan
        staging = Staging(self.out_dir)
        try:
            self.cache.clear_pending()
            self.resize_images(outputs)
            draw_missing_cards(outputs.extras, plan.extras, self.jobs)
            extras = _ExtraFiles(outputs.extras, plan.extras, staging)
            rendered = self.render(outputs, staging, meanwhile=extras.write)
            current = ({output_path(page.url) for page in outputs.pages}
                       | {out.path for out in outputs.extras} | (plan.kept_extras or set()))
            removed = (strays(self.out_dir, scan) if plan.whole and staging.patch
                       else plan.previous_outputs) - current
            for rel in removed:
                staging.remove(rel)
            staging.commit(candidates=[output_path(outputs.pages[i].url) for i in plan.render]
                           + sorted(plan.extras))
        except BaseException:
            staging.abort()
            raise
        records = dict(rendered.outputs)
        records.update({path: OutputRecord(plan.extra_keys[path]) for path in plan.extras})
        return _Written(files=rendered.written + extras.written + len(removed), records=records,
                        removed=removed, templates=rendered.templates,
                        pages=rendered.written + len(removed), changed=staging.changed,
                        notes=rendered.notes, stamps=rendered.stamps)

    def index_early(self, site: Site, scan: OutputScan | None) -> EarlyPart | None:
        """Start indexing the part of the search index that holds the edited posts' pages,
        rendered here for it, before the plan (search.start_early): one edit's index is then
        under way while the build plans and writes. Only when the kept model took the edits
        in (its site is the last build's, in the same output folder)."""
        warm = self.warm
        if scan is None or not self.config.search.enabled or warm is None \
                or site is not warm.site or not self.swapped:
            return None
        self.bake_comments(site, self.swapped)   # (the others' after: these pages show their own)
        prepare_environment(self.env, site)
        pages = {}
        self.env.recorder = Recorder()   # (thrown away: the render proper records the page)
        try:
            for entry in self.swapped:
                pages[output_path(entry.url)] = render_page(self.env, entry)
        except BlogError:   # the render proper reports it
            return None
        finally:
            self.env.recorder = None
        return start_early(self.out_dir, self.content_caches, pages,
                           part_pages=self.config.search.part_pages)

    def index(self, written: _Written, listing: OutputListing | None = None,
              early: EarlyPart | None = None) -> IndexJob | None:
        """Start making the search index again when a page changed (search.py); the link
        check runs meanwhile. `listing`: the output folder's, when the build has it; `early`:
        a part begun before the writing (index_early)."""
        # (--no-cache makes the index again, as it does every card and image)
        if self.config.search.enabled and (index_needed(self.out_dir, written.pages,
                                                        self.content_caches,
                                                        self.config.search.part_pages)
                                           or self.scratch is not None):
            return start_index(self.out_dir, self.content_caches,
                               part_pages=self.config.search.part_pages, listing=listing,
                               early=early, written=written.notes)
        if early is not None:
            early.discard()
        if not self.config.search.enabled:
            remove_index(self.out_dir, self.content_caches)
        return None

    def resize_images(self, outputs: _Outputs) -> None:
        """Make the resized images the cache lacks, in workers when there are several."""
        if not self.config.images.enabled:
            return
        found = {image.path: image for page in outputs.pages if isinstance(page, Entry)
                 for image in page.doc.images}
        work = ResizeWork(widths=tuple(self.config.images.widths),
                          cache_dir=self.content_caches)
        todo = [found[path] for path in sorted(found)
                if missing_variants(found[path], work.widths, work.cache_dir)]
        for _count, _done in parallel.run_chunks(_resize_slice, todo, jobs=self.jobs,
                                                 minimum=PARALLEL_IMAGES, context=work):
            pass

    def render(self, outputs: _Outputs, staging: Staging,
               meanwhile: Callable[[], None]) -> RenderedSlice:
        """Render the planned pages into staging (in workers when there are many), recording
        what each one read; template errors are raised together."""
        indexes = render_order(outputs.pages, outputs.plan.render)
        work = RenderWork(env=self.env, pages=outputs.pages, staging=staging,
                          digests=outputs.digests, fingerprint=self.inputs.fingerprint,
                          cache=self.cache, plugins=self.plugins,
                          facts=Wanted(notes=self.config.search.enabled,
                                       stamps=self.options.check_links))
        done = 0
        total = RenderedSlice(templates=set(), written=0, errors=[], outputs={})
        for count, part in parallel.run_chunks(render_pages, indexes, jobs=self.jobs,
                                               minimum=PARALLEL_PAGES, context=work,
                                               meanwhile=meanwhile):
            total.outputs.update(part.outputs)
            total.notes.update(part.notes)
            total.stamps.update(part.stamps)
            total.templates.update(part.templates)
            total.errors.extend(part.errors)
            total = dataclasses.replace(total, written=total.written + part.written)
            done += count
            if self.progress is not None:
                self.progress(done, len(indexes))
        if total.errors:
            raise BuildFailed(unique_errors(total.errors))
        return total

    def check(self, site: Site, outputs: _Outputs, previous: LastBuild | None,
              files: set[str] | None = None,
              stats: dict[str, tuple[int, int]] | None = None,
              stamps: dict[str, PageStamp] | None = None) -> CheckResult:
        """Read the published pages back and find the links that lead nowhere; pages unchanged
        since the last check are not read again, nor parsed when only rewritten (--clean:
        the last check's index is keyed on each page's bytes). `files`: the output folder's
        files, when the search index or the prescan has listed them; `stats`: each page's
        (mtime_ns, size), when the prescan has them; `stamps`: the written pages' (pagefacts)."""
        if not self.options.check_links:
            return CheckResult(problems=[], index={})
        known = memory = None
        if previous is not None or self.options.content_cache:
            try:
                self.kept_pages = self.cache.get_dict_state("pages")
                memory = self.cache.get_state("link_check")
            except Exception:  # a broken cache only costs reading every page
                self.kept_pages = memory = None
            known = self.kept_pages.current if self.kept_pages is not None else None
        self.kept_links = KeptLinks(self.cache) if known else None
        origins = {output_path(entry.url): entry.source for entry in site.entries}
        for out in outputs.extras:
            if out.copy_from is not None:
                origins[out.path] = _relative(out.copy_from, self.config.root)
        inputs = CheckInputs(config=self.config, out_dir=self.out_dir, origins=origins,
                             template_dirs=template_dirs(self.config, self.chain))
        memory = memory if isinstance(memory, CheckMemory) else None
        try:
            return check_site(inputs, known, jobs=self.jobs, files=files, stats=stats,
                              links_of=self.kept_links.of if self.kept_links is not None else None,
                              external_links=self.options.external_links, memory=memory,
                              written=stamps)
        except LookupError:   # the cache lost a page's links: every page is read again
            self.kept_pages = self.kept_links = None
            return check_site(inputs, None, jobs=self.jobs, files=files, stats=stats,
                              external_links=self.options.external_links)

    def tally(self, documents: list[Document]) -> _Tally:
        """What the saved state and the report count over every document, in one pass; both
        ask for the same list, so it is counted once (a pass over 10,000 is 5-15 ms)."""
        if self._tally is not None and self._tally[0] is documents:
            return self._tally[1]
        drafts = future = 0
        due: datetime | None = None
        for doc in documents:
            meta = doc.meta
            drafts += meta.draft and not self.options.drafts
            if doc.kind == "post" and meta.date and meta.date > self.now and not self.options.future:
                future += not meta.draft   # a future draft counts once, as a draft
                due = meta.date if due is None else min(due, meta.date)
        tally = _Tally((drafts, future), due, image_warnings(documents, self.config.root))
        self._tally = (documents, tally)
        return tally

    def save(self, site: Site, documents: list[Document], outputs: _Outputs,
             written: _Written, checked: CheckResult) -> None:
        """Remember this build; a cache that cannot be written only costs the next build time."""
        tally = self.tally(documents)
        inputs = self.inputs
        state = {"fingerprint": inputs.fingerprint, "parse": self.parse_key,
                 "sources": inputs.sources,
                 "files": inputs.files, "comments": inputs.comments, "scan_ns": inputs.scan_ns,
                 "output_id": folder_id(self.out_dir), "posts": len(site.posts),
                 "next_due": tally.next_due, "left_out": tally.left_out,
                 "checked": self.options.check_links, "image_warnings": tally.image_warnings,
                 "problems": [(p.path, p.line, p.message) for p in checked.problems]}
        templates = templates_to_keep(outputs.plan, written.templates, outputs.digests)
        state["templates"] = templates   # (apart too, for a build from the kept model)
        objects = objects_to_keep(outputs.objects, templates)
        if self.keeps_model and not self.plugins:
            state["model"], changes = self.keep_model(site, documents, outputs)
        else:
            changes = None
        try:
            last = self.model_objects
            if last is not None:   # what may differ: the swapped entries' digests, the templates'
                added = {oid: objects[oid] for oid in chain(
                    (oid for entry in self.swapped for oid in entry_objects(entry)), templates)
                    if last.get(oid) != objects[oid]}
                object_states = added_states("objects", self.cache.get_dict_changes("objects"),
                                             added, objects)
            else:
                object_states = dict_states("objects", objects, self.kept_objects, by_value=True)
            self.cache.save(state={"build": state, "link_check": checked.memory,
                                   "model:changes": changes, **object_states,
                                   **dict_states("pages", checked.index, self.kept_pages),
                                   **link_states(checked.links, self._gone(checked), self.kept_links)},
                            kept_sources=[doc.source.rel for doc in documents],
                            changed=written.records, removed=written.removed,
                            full=outputs.plan.whole)
        except Exception:  # a full disk or a locked cache: the site itself is already written
            self.cache.reset()

    def _gone(self, checked: CheckResult) -> list[str]:
        """The pages the last check knew that this one did not find."""
        known = self.kept_pages.current if self.kept_pages is not None else {}
        return [rel for rel in known if rel not in checked.index]

    def keep_model(self, site: Site, documents: list[Document], outputs: _Outputs
                   ) -> tuple[str, Changes | None]:
        """Keep this build's model for the next (keptmodel.py): as what it changed in the kept
        model while that is a small share of the documents, else whole; (its token, changes)."""
        warm = self.warm
        if warm is not None and site is warm.site:
            changes = warm.changes.adding(
                self.fresh_documents,
                {oid: digest for entry in self.swapped
                 for oid, digest in entry_objects(entry).items()})
            if len(changes.documents) <= REWRITE_SHARE * len(warm.documents):
                return warm.token, changes
            cards = warm.cards   # (the same cards: they show no body)
        else:
            made = [out for out in outputs.extras if isinstance(out.make, CardFile)]
            cards = KeptCards(made, {out.path: outputs.plan.extra_keys[out.path] for out in made},
                              self.inputs.fingerprint)
        token = secrets.token_hex(8)
        save_model(model_path(self.cache.path), KeptModel(
            token=token, site=site, documents=documents, objects=outputs.objects, cards=cards))
        return token, None

    def report(self, site: Site, documents: list[Document], outputs: _Outputs, written: _Written,
               warnings: list[str], checked: CheckResult) -> BuildReport:
        """What this build did, and with --explain-templates where each template came from."""
        tally = self.tally(documents)
        drafts, future = tally.left_out
        warnings = warnings + tally.image_warnings
        report = BuildReport(output_dir=self.out_dir, files_written=written.files,
                             pages_written=len(outputs.pages), posts=len(site.posts),
                             seconds=time.perf_counter() - self.started, warnings=warnings,
                             pages_rendered=len(outputs.plan.render), problems=checked.problems,
                             external=checked.external, drafts_left_out=drafts,
                             future_left_out=future, parsed=self.parsed,
                             accelerated=self.accelerated)
        if self.options.explain_templates:
            report.template_sources = loaded_templates(self.env)
        return report


class _ExtraFiles:
    """Feeds, sitemap and the other files the plan asks for: made in a thread of the main
    process while the workers render the pages."""

    def __init__(self, outputs: list[Output], stale: set[str], staging: Staging) -> None:
        self.outputs = outputs
        self.stale = stale
        self.staging = staging
        self.written = 0

    def write(self) -> None:
        for out in self.outputs:
            if out.path not in self.stale:
                continue
            if out.copy_from is not None:
                self.written += self.staging.copy(out.path, out.copy_from)
            elif isinstance(out.make, CardFile):
                self.written += self._card(out.path, out.make)
            else:
                assert out.make is not None
                self.written += self.staging.write(out.path, out.make())

    def _card(self, rel: str, card: CardFile) -> bool:
        """A card is the cache's own file under a second name: at 10,000 posts, reading every
        card and its published copy to compare them took about a second of the main process
        while the workers rendered."""
        try:
            return self.staging.link(rel, card.path)
        except OSError:   # the cache lost it, or lies on another file system
            return self.staging.write(rel, card())


def strays(out_dir: Path, scan: OutputScan | None) -> set[str]:
    """The files in the output folder (but its search index, which the index job replaces), as
    the scan found them or else walked now: a whole build that patches the folder removes
    those it does not make, which a fresh folder would lack."""
    found = scan.received() if scan is not None else None
    files = found.files if found is not None else output_files(out_dir)
    return {rel for rel in files if not rel.startswith(INDEX_FOLDER + "/")}


def image_warnings(documents: Sequence[Document], root: Path) -> list[str]:
    """One warning per page and image file that is no readable image, naming both."""
    return [f"{doc.source.display_path}: image {_relative(Path(image.path), root)} "
            f"{image.problem}" for doc in documents for image in doc.images if image.problem]


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def _origin(page: Entry | Listing) -> str:
    return page.source if isinstance(page, Entry) else f"the {page.kind} page"


@dataclass(frozen=True)
class ParseWork:
    """What parsing a source needs besides the source; build workers inherit it by fork."""

    config: SiteConfig
    cache: BuildCache
    plugins: PluginSet = PluginSet()
    images: ImageSite | None = None


def _parse_slice(work: ParseWork, items: Sequence[tuple[int, ScannedSource]]
                 ) -> tuple[list[tuple[int, Document | BlogError]], int]:
    """Read and parse a slice of sources (in a build worker or the main process), store the
    documents in the cache, and hand back each one, without its body when it is stored; and
    how many the Markdown accelerator rendered."""
    md = _markdown(not work.config.escape_html, work.plugins)
    accelerator = _accelerator(work.config.markdown_accelerator, work.plugins)
    used = accelerator.used if accelerator is not None else 0
    results = _parse_sources(work, items, md, accelerator)
    return results, (accelerator.used - used if accelerator is not None else 0)


def _parse_sources(work: ParseWork, items: Sequence[tuple[int, ScannedSource]], md: MarkdownIt,
                   accelerator: fastmd.Accelerator | None
                   ) -> list[tuple[int, Document | BlogError]]:
    results: list[tuple[int, Document | BlogError]] = []
    parsed: list[tuple[Document, FileStamp]] = []
    limit = work.config.max_document_kib * 1024
    for position, (path, rel, stamp) in items:
        if stamp.size > limit:
            results.append((position, too_big(rel, stamp.size, limit)))
            continue
        problems: list[ContentError] = []
        source = read_source(Path(path), PurePosixPath(rel), problems)
        if source is None:
            results.extend((position, problem) for problem in problems)
            continue
        try:
            document = parse_document(source, md, work.config.tz, accelerator)
        except BlogError as exc:
            results.append((position, exc))
            continue
        document = _with_images(document, work.images)
        parsed.append((document, stamp))
        results.append((position, document))
    try:
        work.cache.put_documents(parsed)
    except Exception:  # no cache (read-only, locked): the bodies travel back instead
        return results
    return [(position, dataclasses.replace(result, body=None) if isinstance(result, Document)
             else result) for position, result in results]


def same_content(path: str, digest: str) -> bool:
    """Whether a source still holds the bytes it held when it was parsed (as load.py digests them)."""
    try:
        with open(path, "rb") as source:
            return hashlib.sha256(source.read()).hexdigest() == digest
    except OSError:
        return False


def too_big(rel: str, size: int, limit: int) -> ContentError:
    return ContentError(f"{size / 2**20:.1f} MiB is more than one document may be "
                        f"(max_document_kib = {limit // 1024} in blogengine.toml): split it into "
                        "several posts, or raise the limit", path=f"content/{rel}")


def _with_images(document: Document, site: ImageSite | None) -> Document:
    """The document with its local images sized, lazy but the first, and given variants."""
    if site is None or document.body is None:
        return document
    rel, html = document.source.rel, document.body
    # Shortcodes are filled in at render time, where their images are done (shortcode_render).
    first_image, first_call = html.find("<img"), html.find("\0sc")
    eager = first_image >= 0 and (first_call < 0 or first_image < first_call)
    body, images = rewrite_images(html, rel, site, eager_first=eager)
    summary, _ = rewrite_images(document.summary_html, rel, site, eager_first=False)
    called = shortcode_images([arg for call in document.shortcodes for arg in call.args], rel,
                              site)
    found = {image.path: image for image in [*images, *called]}
    return dataclasses.replace(document, body=body, summary_html=summary,
                               images=tuple(found[path] for path in sorted(found)))


@dataclass(frozen=True)
class ResizeWork:
    """What resizing images needs; build workers inherit it by fork."""

    widths: tuple[int, ...]
    cache_dir: Path


def _resize_slice(work: ResizeWork, images: Sequence[ImageFile]) -> int:
    """Make the missing variants of some images into the image cache."""
    for image in images:
        make_variants(image, missing_variants(image, work.widths, work.cache_dir), work.cache_dir)
    return len(images)


@lru_cache(maxsize=2)
def _accelerator(wanted: bool, plugins: PluginSet) -> fastmd.Accelerator | None:
    """The Markdown accelerator, when installed, wanted, and no plugin adds Markdown rules (it
    cannot run them)."""
    if not wanted or fastmd.unavailable_reason() or plugins.hooks("markdown_setup"):
        return None
    return fastmd.Accelerator()


@lru_cache(maxsize=2)
def _markdown(allow_html: bool, plugins: PluginSet) -> MarkdownIt:
    md = make_markdown(allow_html=allow_html)
    plugins.run("markdown_setup", md=md)
    return md
