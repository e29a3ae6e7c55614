"""The thread manifest (`threads.json` from `blogengine build`): which posts exist and take comments.

Loaded from a file (re-read when its mtime or size changes) or an http(s) URL (re-fetched every
THREADS_MANIFEST_TTL seconds). A manifest that turns bad after a good one keeps the good one.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from comments_server.models import Thread

log = logging.getLogger(__name__)
MANIFEST_VERSION = 1


class ManifestError(Exception):
    """The manifest exists but cannot be used; the message says why."""


@dataclass(frozen=True)
class Manifest:
    """A parsed manifest: site title, URL, language and time zone, and threads by path."""

    site_title: str
    site_url: str
    threads: dict[str, Thread]
    site_language: str = ""      # a language tag; "" (older manifests) reads as English
    site_timezone: str = ""      # an IANA zone name (blogengine.toml timezone); "" (older manifests): UTC
    fediverse_account: str = ""  # the author's fediverse profile URL (blogengine.toml [fediverse] account)

    @property
    def zone(self) -> ZoneInfo:
        """The site's time zone, in which the dashboard shows times and days (UTC if none)."""
        return ZoneInfo(self.site_timezone or "UTC")


EMPTY = Manifest(site_title="", site_url="", threads={})


def parse_manifest(text: str, source: str) -> Manifest:
    """Parse and check threads.json; ManifestError names the source and the bad entry."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ManifestError(f"{source}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ManifestError(f"{source}: expected a JSON object")
    if data.get("version") != MANIFEST_VERSION:
        raise ManifestError(f"{source}: version {data.get('version')!r} is not supported (expected {MANIFEST_VERSION})")
    site = data.get("site") or {}
    if not isinstance(site, dict):
        raise ManifestError(f"{source}: site: expected an object")
    entries = data.get("threads")
    if not isinstance(entries, list):
        raise ManifestError(f"{source}: threads: expected a list")
    threads: dict[str, Thread] = {}
    for index, entry in enumerate(entries):
        where = f"{source}: threads[{index}]"
        if not isinstance(entry, dict):
            raise ManifestError(f"{where}: expected an object")
        path = entry.get("path")
        if not isinstance(path, str) or not path.startswith("/"):
            raise ManifestError(f"{where}: path: expected a site path starting with '/' (got {path!r})")
        title, author, is_open = entry.get("title", ""), entry.get("author", ""), entry.get("open", True)
        if not isinstance(title, str) or not isinstance(author, str) or not isinstance(is_open, bool):
            raise ManifestError(f"{where}: title and author must be strings, open a boolean")
        announcement = entry.get("fediverse", "")
        if not isinstance(announcement, str) or (announcement and not _is_http_url(announcement)):
            raise ManifestError(f"{where}: fediverse: expected an http(s) URL (got {announcement!r})")
        threads[path] = Thread(path=path, title=title, author=author, open=is_open, fediverse=announcement)
    title, url, language = site.get("title", ""), site.get("base_url", ""), site.get("language", "")
    zone = site.get("timezone", "")
    if not isinstance(zone, str):
        raise ManifestError(f"{source}: site: timezone: expected a time zone name (got {zone!r})")
    if zone:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ManifestError(f"{source}: site: timezone: {zone!r} is not a known time zone "
                                "(expected a name like 'Europe/London')") from None
    account = site.get("fediverse_account", "")
    if not isinstance(account, str) or (account and not _is_http_url(account)):
        raise ManifestError(f"{source}: site: fediverse_account: expected an http(s) URL (got {account!r})")
    return Manifest(
        site_title=title if isinstance(title, str) else "",
        site_url=url if isinstance(url, str) else "",
        threads=threads,
        site_language=language if isinstance(language, str) else "",
        site_timezone=zone,
        fediverse_account=account,
    )


def _is_http_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


class ThreadIndex:
    """Answers "which thread is this path?" from a manifest kept fresh; safe across request threads."""

    def __init__(self, source: str, *, ttl: float = 60.0, timeout: float = 5.0) -> None:
        self.source = source
        self.ttl = ttl
        self.timeout = timeout
        self._lock = threading.Lock()
        self._manifest = EMPTY
        self._stamp: tuple[int, int] | None = None
        self._fetched_at = 0.0
        self._is_url = source.startswith(("http://", "https://"))

    def load(self) -> None:
        """First load: a manifest that exists but is broken is an error; a missing one is empty."""
        if not self.source:
            return
        if self._is_url:
            self._manifest = parse_manifest(self._fetch(), self.source)
            self._fetched_at = time.monotonic()
            return
        try:
            stat = os.stat(self.source)
        except OSError:
            log.warning("thread manifest %s does not exist yet; run `blogengine build`", self.source)
            return
        self._manifest = parse_manifest(Path(self.source).read_text(encoding="utf-8"), self.source)
        self._stamp = (stat.st_mtime_ns, stat.st_size)

    @property
    def manifest(self) -> Manifest:
        self._refresh()
        return self._manifest

    def reload(self) -> Manifest:
        """Read the manifest again now, whatever the TTL (`POST /api/threads/reload`, after a deploy).

        A manifest that cannot be read or parsed raises, and the previous one stays."""
        if not self.source:
            raise ManifestError("no THREADS_MANIFEST is configured")
        with self._lock:
            if self._is_url:
                self._manifest = parse_manifest(self._fetch(), self.source)
                self._fetched_at = time.monotonic()
            else:
                stat = os.stat(self.source)
                self._manifest = parse_manifest(Path(self.source).read_text(encoding="utf-8"), self.source)
                self._stamp = (stat.st_mtime_ns, stat.st_size)
            return self._manifest

    def get(self, path: str) -> Thread | None:
        return self.manifest.threads.get(path)

    def all(self) -> list[Thread]:
        """Every thread of the manifest, in its order."""
        return list(self.manifest.threads.values())

    def _fetch(self) -> str:
        request = urllib.request.Request(self.source, headers={"Accept": "application/json"})
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 (http(s) only)
            body: bytes = response.read()
        return body.decode("utf-8")

    def _refresh(self) -> None:
        if not self.source:
            return
        if self._is_url:
            if time.monotonic() - self._fetched_at < self.ttl:
                return
            with self._lock:
                if time.monotonic() - self._fetched_at < self.ttl:
                    return
                # Whether it works or not, wait a full TTL before the next try.
                self._fetched_at = time.monotonic()
                try:
                    self._manifest = parse_manifest(self._fetch(), self.source)
                except (OSError, UnicodeDecodeError, ManifestError) as exc:
                    log.error("keeping the previous thread manifest: %s", exc)
            return
        try:
            stat = os.stat(self.source)
        except OSError:
            return
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp == self._stamp:
            return
        with self._lock:
            if stamp == self._stamp:
                return
            try:
                text = Path(self.source).read_text(encoding="utf-8")
                self._manifest = parse_manifest(text, self.source)
                self._stamp = stamp
            except (OSError, UnicodeDecodeError, ManifestError) as exc:
                # Mid-write or broken: keep serving the last good manifest, retry on the next change.
                self._stamp = stamp
                log.error("keeping the previous thread manifest: %s", exc)
