"""The site's page shell: `comment-page.html`, which `blogengine build` writes beside threads.json,
is the theme's page (header, footer, styles, dark mode) with two placeholders; the server's own
reader pages (the form, the page after posting, messages) are drawn inside it.

Found beside the manifest and kept fresh the same way: a file is re-read when its mtime or size
changes, a URL re-fetched every THREADS_MANIFEST_TTL seconds. No shell (an older build, a
missing or broken file) means the server's standalone page. No Flask here."""

from __future__ import annotations

import logging
import os
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

from markupsafe import Markup, escape

log = logging.getLogger(__name__)
SHELL_NAME = "comment-page.html"
TITLE = "[[bec:title]]"
CONTENT = "[[bec:content]]"
MAX_SHELL_BYTES = 1 << 20


class ShellError(Exception):
    """The shell exists but cannot be used; the message says why."""


@dataclass(frozen=True)
class Shell:
    """The theme's page split at its content placeholder."""

    before: str
    after: str

    @classmethod
    def parse(cls, text: str, source: str) -> Shell:
        if text.count(CONTENT) != 1:
            raise ShellError(f"{source}: expected the placeholder {CONTENT} once (found it {text.count(CONTENT)} times)")
        before, after = text.split(CONTENT)
        return cls(before, after)

    def fill(self, title: str, content: Markup) -> str:
        """The page: `title` escaped wherever the theme put the title placeholder, `content`
        (the server's own escaped HTML) where it put the content one. The title goes into the
        shell before the content does, so nothing in the content is ever taken for a placeholder."""
        safe_title = str(escape(title))
        return self.before.replace(TITLE, safe_title) + str(content) + self.after.replace(TITLE, safe_title)


def shell_source(manifest_source: str) -> str:
    """Where the shell of a manifest is: the same folder, or the same URL's folder ('' for none)."""
    if not manifest_source:
        return ""
    if manifest_source.startswith(("http://", "https://")):
        return urljoin(manifest_source, SHELL_NAME)
    return str(Path(manifest_source).with_name(SHELL_NAME))


class PageShell:
    """The current shell of a source (a path or an http(s) URL), or None; safe across request threads."""

    def __init__(self, source: str, *, ttl: float = 60.0, timeout: float = 5.0) -> None:
        self.source = source
        self.ttl = ttl
        self.timeout = timeout
        self._lock = threading.Lock()
        self._shell: Shell | None = None
        self._stamp: tuple[int, int] | None = None
        self._fetched_at: float | None = None
        self._is_url = source.startswith(("http://", "https://"))

    def current(self) -> Shell | None:
        """The shell to draw reader pages in; None when there is none."""
        if not self.source:
            return None
        if self._is_url:
            self._refresh_url()
        else:
            self._refresh_file()
        return self._shell

    def _refresh_file(self) -> None:
        try:
            stat = os.stat(self.source)
        except OSError:
            self._shell, self._stamp = None, None   # not built yet, or an older build
            return
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp == self._stamp:
            return
        with self._lock:
            if stamp == self._stamp:
                return
            self._stamp = stamp
            try:
                self._shell = Shell.parse(Path(self.source).read_text(encoding="utf-8"), self.source)
            except (OSError, UnicodeDecodeError, ShellError) as exc:
                self._shell = None
                log.error("no page shell, reader pages are standalone: %s", exc)

    def _refresh_url(self) -> None:
        fetched = self._fetched_at
        if fetched is not None and time.monotonic() - fetched < self.ttl:
            return
        with self._lock:
            if self._fetched_at is not None and time.monotonic() - self._fetched_at < self.ttl:
                return
            # Whether it works or not, wait a full TTL before the next try.
            self._fetched_at = time.monotonic()
            try:
                self._shell = Shell.parse(self._fetch(), self.source)
            except urllib.error.HTTPError as exc:
                self._shell = None
                if exc.code != 404:   # 404: a site built before shells existed
                    log.error("no page shell, reader pages are standalone: %s: %s", self.source, exc)
            except (OSError, UnicodeDecodeError, ShellError) as exc:
                log.error("keeping the previous page shell: %s", exc)

    def _fetch(self) -> str:
        request = urllib.request.Request(self.source, headers={"Accept": "text/html"})
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 (http(s) only)
            body: bytes = response.read(MAX_SHELL_BYTES + 1)
        if len(body) > MAX_SHELL_BYTES:
            raise ShellError(f"{self.source}: larger than {MAX_SHELL_BYTES} bytes")
        return body.decode("utf-8")
