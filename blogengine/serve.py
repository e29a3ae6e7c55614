"""`blogengine serve`: build the site, serve it with the comment server on one origin, rebuild
when sources change and reload the open browser tabs (server-sent events)."""

from __future__ import annotations

import dataclasses
import json
import mimetypes
import re
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response
from werkzeug.wsgi import wrap_file

from blogengine.build import BuildOptions, BuildReport
from blogengine.livebuild import LiveBuild
from blogengine.search import IndexJob
from blogengine.comments import development_app, rebuild_on_comment
from blogengine.config import CONFIG_NAME, SiteConfig
from blogengine.errors import BlogError, BuildFailed
from blogengine.serverlink import WEBMENTION_PATH, is_comment_path, webmention_link_header

LIVE_PREFIX = "/__blogengine/"
HEARTBEAT_SECONDS = 15.0
INDEX_QUIET_SECONDS = 2.0   # search indexing waits for this long a pause in the saving

_RELOAD_JS = """(function () {
  var me = document.currentScript;
  var source = new EventSource(me.dataset.events + "?since=" + me.dataset.generation);
  var box = null;
  source.addEventListener("reload", function () { location.reload(); });
  source.addEventListener("build-error", function (event) {
    if (!box) {
      box = document.createElement("div");
      box.setAttribute("role", "alert");
      box.style.cssText = "position:fixed;inset:auto 0 0 0;max-height:60vh;overflow:auto;" +
        "z-index:2147483647;margin:0;padding:1rem 1.25rem;background:#2b0b0b;color:#ffe9e9;" +
        "font:14px/1.5 ui-monospace,monospace;white-space:pre-wrap;border-top:4px solid #ff6b6b";
      document.body.appendChild(box);
    }
    box.textContent = "blogengine: the last build failed; fix it and this page reloads\\n\\n" +
      JSON.parse(event.data).message;
  });
})();
"""


class LiveState:
    """The build generation and the last build error, shared with event-stream clients."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self.generation = 0
        self.error: str | None = None

    def built(self) -> None:
        with self._changed:
            self.generation += 1
            self.error = None
            self._changed.notify_all()

    def failed(self, message: str) -> None:
        with self._changed:
            self.generation += 1
            self.error = message
            self._changed.notify_all()

    def wait(self, seen: int, timeout: float) -> int:
        """Block until the generation passes `seen` (or the timeout); return the generation."""
        with self._changed:
            self._changed.wait_for(lambda: self.generation != seen, timeout=timeout)
            return self.generation


# Files editors write beside the one being saved: swap, backup, lock and safe-write files.
_EDITOR_TEMPORARY = re.compile(r"""
    \.sw[a-p]$ | \.sw[a-z]x?$         # vim swap files (.swp, .swo, .swx, ...)
  | ~$ | \.bak$ | \.orig$               # backups (vim, emacs, nano, merge tools)
  | ^\.\# | ^\#.*\#$                     # emacs lock and auto-save files
  | ___jb_(?:tmp|old|bak)___$            # JetBrains safe write
  | ^\.DS_Store$ | ^\._ | ^Thumbs\.db$ | ^desktop\.ini$   # what file browsers leave
  | \.kate-swp$ | ^\.goutputstream- | ^\.~lock\..*\#$    # Kate, gedit, LibreOffice
  | ^flycheck_ | \.tmp$ | \.crswap$      # flycheck, generic temporaries, Chrome's File System API
""", re.VERBOSE)


def is_editor_temporary(name: str) -> bool:
    """Whether a file name is an editor's temporary file, not a source (vim also writes files
    named 4913, 5036, ... to test that it may write a folder)."""
    if name.isdigit():
        number = int(name)
        return number >= 4913 and (number - 4913) % 123 == 0
    return bool(_EDITOR_TEMPORARY.search(name))


def source_filter() -> Callable[[Any, str], bool]:
    """The watcher's filter: watchfiles' own (version control, caches), less editor files."""
    from watchfiles import DefaultFilter

    default = DefaultFilter()

    def wanted(change: Any, path: str) -> bool:
        return default(change, path) and not is_editor_temporary(Path(path).name)
    return wanted


def _event(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n"


@dataclass
class SiteApp:
    """WSGI: live-reload endpoints, the comment server under its paths, static files otherwise."""

    root: Path
    base_path: str
    state: LiveState
    comments_app: Callable[..., Iterable[bytes]] | None = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "/") or "/"
        if path.startswith(LIVE_PREFIX):
            return self._live(Request(environ), path)(environ, start_response)
        if self.comments_app is not None and is_comment_path(path):
            return self.comments_app(environ, start_response)
        return self._static(Request(environ), path)(environ, start_response)

    def _live(self, request: Request, path: str) -> Response:
        if path == LIVE_PREFIX + "reload.js":
            return Response(_RELOAD_JS, mimetype="text/javascript", headers=_NO_CACHE)
        if path == LIVE_PREFIX + "events":
            since = request.args.get("since", type=int, default=self.state.generation)
            return Response(self._events(since), mimetype="text/event-stream",
                            headers={**_NO_CACHE, "X-Accel-Buffering": "no"})
        return Response("not found", status=404)

    def _events(self, seen: int) -> Iterator[str]:
        """reload after every good build, build-error after a failed one; a comment line as a
        heartbeat, so a closed tab is noticed and its thread freed."""
        yield "retry: 1000\n\n"
        if self.state.error is not None:
            yield _event("build-error", {"message": self.state.error})
        while True:
            current = self.state.wait(seen, HEARTBEAT_SECONDS)
            if current == seen:
                yield ": still here\n\n"
                continue
            seen = current
            error = self.state.error
            yield _event("build-error", {"message": error}) if error else \
                _event("reload", {"generation": seen})

    def _static(self, request: Request, path: str) -> Response:
        if not path.startswith(self.base_path):
            return self._not_found()
        rel = path[len(self.base_path):]
        target = (self.root / rel).resolve()
        root = self.root.resolve()
        if not target.is_relative_to(root):
            return self._not_found()
        if target.is_dir():
            if not path.endswith("/"):
                return Response(status=301, headers={"Location": path + "/"})
            target = target / "index.html"
        if not target.is_file():
            return self._not_found()
        return self._file(request, target, 200)

    def _not_found(self) -> Response:
        page = self.root / "404.html"
        if page.is_file():
            return self._file(None, page, 404)
        return Response("not found", status=404, mimetype="text/plain")

    def _file(self, request: Request | None, target: Path, status: int) -> Response:
        mimetype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if mimetype == "text/html":
            html = target.read_text(encoding="utf-8")
            script = (f'<script src="{LIVE_PREFIX}reload.js" data-events="{LIVE_PREFIX}events" '
                      f'data-generation="{self.state.generation}"></script>')
            at = html.rfind("</body>")
            html = html[:at] + script + html[at:] if at >= 0 else html + script
            headers = dict(_NO_CACHE)
            if self.comments_app is not None:   # the comment server here takes Webmentions
                headers["Link"] = webmention_link_header(WEBMENTION_PATH)
            return Response(html, status=status, mimetype="text/html", headers=headers)
        assert request is not None
        handle = target.open("rb")
        return Response(wrap_file(request.environ, handle), status=status, mimetype=mimetype,
                        headers=_NO_CACHE, direct_passthrough=True)


_NO_CACHE = {"Cache-Control": "no-store"}


def _check_port(host: str, port: int) -> None:
    """Fail with a BlogError before werkzeug would print its own message and exit."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise BlogError(f"cannot listen on {host}:{port} ({exc.strerror}); "
                            "choose another --port") from None


@dataclass(frozen=True)
class _LaterIndex:
    """A search index waiting for quiet, or on its way (Pagefind started: `started`)."""

    quiet: threading.Event     # set: stop waiting, stop Pagefind
    started: list[IndexJob]
    thread: threading.Thread

    def stop(self) -> None:
        self.quiet.set()
        for job in self.started:
            job.stop()


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    drafts: bool = False
    future: bool = False


class SiteServer:
    """The pieces of `blogengine serve`, startable and stoppable (the CLI and tests use this)."""

    def __init__(self, config: SiteConfig, options: ServeOptions,
                 report: Callable[[str], None] = lambda line: None) -> None:
        self.options = options
        self.report = report
        self.state = LiveState()
        self.output = config.serve_output_dir
        self.source_config = config
        self.demo_login: tuple[str, str] | None = None   # (email, password) of a sample site's author
        self._stop = threading.Event()
        self._builds = 0
        self._building = threading.Lock()
        self._indexing: _LaterIndex | None = None
        self._build_seconds = 1.0   # the last good build's, for "on the post in about N seconds"
        self._stop_publishing: Callable[[], None] = lambda: None
        self._watcher: threading.Thread | None = None
        self.live = LiveBuild()
        _check_port(options.host, options.port)
        self.http: BaseWSGIServer = make_server(options.host, options.port, self._app_placeholder,
                                                threaded=True)
        port = self.http.server_port
        base = dataclasses.replace(config, base_url=f"http://{options.host}:{port}{config.base_path}",
                                   comments=dataclasses.replace(config.comments, url=""))
        self.config = base
        self.url = base.base_url
        self.app = SiteApp(root=self.output, base_path=base.base_path, state=self.state)
        self.http.app = self.app

    @staticmethod
    def _app_placeholder(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
        return [b"starting"]

    def rebuild(self, changes: Iterable[str] | None = None) -> BuildReport | None:
        """Build into the serve folder (`changes`: the files the watcher saw change; None:
        none, the comments may have); on failure keep serving the last good build.

        Only the first build may fork workers: later ones run while the server's and the
        watcher's threads are alive, and forking a threaded process is unsafe. They are
        incremental anyway, and start from the site kept in memory (livebuild.py)."""
        with self._building:  # the watcher and a new comment may both ask at once
            return self._rebuild(changes)

    def _rebuild(self, changes: Iterable[str] | None) -> BuildReport | None:
        jobs = None if self._builds == 0 else 1
        self._builds += 1
        self._stop_indexing()
        options = BuildOptions(output_dir=self.output, drafts=self.options.drafts,
                               future=self.options.future, jobs=jobs, search_later=True)
        reloaded = False

        def published() -> None:   # the pages are in place: reload before the bookkeeping
            nonlocal reloaded
            reloaded = True
            self.state.built()
        try:
            report = self.live.build(self.config, options, changes, published)
        except BuildFailed as exc:
            message = "\n".join(str(error) for error in exc.errors)
            self.state.failed(message)
            self.report(f"build failed:\n{message}")
            return None
        except BlogError as exc:
            self.state.failed(str(exc))
            self.report(f"build failed: {exc}")
            return None
        if not reloaded:   # nothing to write (the folder was up to date)
            self.state.built()
        self._build_seconds = report.seconds
        for warning in [*report.warnings, *report.problems]:
            self.report(f"warning: {warning}")
        self.report(f"built {report.pages_written} pages in {report.seconds:.2f} s")
        self._index_later()
        return report

    def _index_later(self) -> None:
        """Make the search index once the sources have been quiet for INDEX_QUIET_SECONDS:
        a saved post shows at once, and search finds its new words a few seconds later
        (Pagefind reads every page; while someone is saving, it would only be stopped)."""
        quiet = threading.Event()
        started: list[IndexJob] = []

        def index() -> None:
            # No lock: the next build stops this (and waits for it) before it writes.
            if quiet.wait(INDEX_QUIET_SECONDS):
                return
            try:
                job = self.live.start_index(self.config, self.output, quiet.is_set)
            except BlogError as exc:
                if not quiet.is_set():
                    self.report(f"warning: {exc}")
                return
            if job is None:
                return
            started.append(job)
            if quiet.is_set():   # stopped while Pagefind was starting
                job.stop()
            try:
                job.finish()
            except BlogError as exc:
                self.report(f"warning: {exc}")
        thread = threading.Thread(target=index, name="search-index", daemon=True)
        self._indexing = _LaterIndex(quiet, started, thread)
        thread.start()

    def _stop_indexing(self) -> None:
        """A newer build makes a new index: stop the one waiting or on its way, which leaves
        no index."""
        if self._indexing is not None:
            self._indexing.stop()
            self._indexing.thread.join()
            self._indexing = None

    def mount_comments(self) -> str | None:
        """Start the comment server on this origin (after a first build wrote its thread
        manifest); returns the dashboard URL, or None when comments are off."""
        if not self.config.comments.enabled:
            return None
        try:
            mounted = development_app(self.config, output_dir=self.output, site_url=self.url)
        except BlogError as exc:  # the site still serves; comments say why they are missing
            self.report(f"warning: comments are off for this session: {exc}")
            return None
        self.app.comments_app = mounted.app
        if mounted.demo_login is not None:
            self.demo_login = (mounted.demo_login.email, mounted.demo_login.password)
        seeded = mounted.imported
        if seeded:
            self.report(f"imported {seeded} demo comments from {self.config.comments.seed}")
        if seeded or self.live.comments_changed(self.config):
            # So the pages carry the conversations just imported, and a first start (which
            # made the database) costs the first saved post nothing.
            self.rebuild()
        self._stop_publishing = rebuild_on_comment(mounted.app, self._rebuild_for_comments, self._build_seconds)
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}/dashboard/"

    def _rebuild_for_comments(self) -> None:
        """A comment was published, approved, edited or deleted: bake it into the pages now."""
        self.report("comments changed")
        self.rebuild()

    def watch(self) -> None:
        """Rebuild whenever content/, templates/, themes/ or the config change."""
        from watchfiles import watch

        root = self.config.root
        paths = [p for p in (root / "content", root / "templates", root / "themes") if p.is_dir()]
        paths.append(root / CONFIG_NAME)

        def loop() -> None:
            for changes in watch(*paths, stop_event=self._stop, debounce=200, step=50,
                                 watch_filter=source_filter()):
                names = sorted({Path(p).name for _, p in changes})
                self.report(f"changed: {', '.join(names[:5])}{' …' if len(names) > 5 else ''}")
                if any(Path(p).name == CONFIG_NAME for _, p in changes):
                    self._reload_config()
                self.rebuild([p for _, p in changes])

        self._watcher = threading.Thread(target=loop, name="blogengine-watch", daemon=True)
        self._watcher.start()

    def _reload_config(self) -> None:
        from blogengine.config import load_config
        try:
            fresh = load_config(self.config.root)
        except BlogError as exc:
            self.report(f"config error: {exc}")
            return
        self.config = dataclasses.replace(
            fresh, base_url=self.config.base_url,
            comments=dataclasses.replace(fresh.comments, url=""))

    def serve_forever(self) -> None:
        try:
            self.http.serve_forever()
        finally:
            self.stop()

    def stop(self) -> None:
        self._stop.set()
        self._stop_publishing()
        indexing = self._indexing
        if indexing is not None:
            indexing.stop()   # no orphan Pagefind after the server stops
        self.http.server_close()

    def shutdown(self) -> None:
        """Stop serve_forever from another thread."""
        self.http.shutdown()
