"""HTTP caching for the API's reads: each process keeps threads serialised, keyed by their version
(a ThreadCache, one of the app's services); responses carry ETag and Last-Modified, and a matching
If-None-Match / If-Modified-Since gets 304."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Response, request
from werkzeug.datastructures import ETags

from comments_server.manifest import Manifest, ThreadIndex
from comments_server.models import Thread
from comments_server.service import CommentService
from comments_server.serialize import mention_json, tree_json

# Readers revalidate every time (a new comment shows at once); a 304 costs one primary-key lookup.
CACHE_CONTROL = "no-cache"
# Bytes of serialised threads kept per process; the least recently read go first.
CACHE_BYTES = 32 * 1024 * 1024
# Last-Modified is sent only for changes at least this old. A write still in flight when a reader
# looked (its time taken up to a second earlier) then lands in a later second than the date sent,
# so If-Modified-Since cannot hide it. Browsers send If-None-Match, which is exact, anyway.
SETTLED = timedelta(seconds=2)


def dumps(value: Any) -> str:
    """Compact JSON, as jsonify writes it."""
    return json.dumps(value, separators=(",", ":"))


def etag_of(body: bytes) -> str:
    return hashlib.blake2b(body, digest_size=12).hexdigest()


@dataclass(frozen=True)
class CachedThread:
    """One thread's response body, for one version of its comments and one manifest entry."""

    version: int
    changed_at: datetime | None
    count: int
    head: tuple[str, bool, int | None]       # title, open, author_reply_median_seconds
    body: bytes
    tree: slice                              # where the serialised comments and mentions lie in `body`
    etag: str

    @classmethod
    def build(cls, thread: Thread, version: int, changed_at: datetime | None, count: int, tree: bytes,
              median: int | None) -> CachedThread:
        """The GET /api/comments body around the already serialised comment tree (and mentions)."""
        start = dumps({"thread": thread.path, "title": thread.title, "open": thread.open, "count": count})
        before = f'{start[:-1]},"comments":'.encode()
        body = before + tree + f',"author_reply_median_seconds":{dumps(median)}}}\n'.encode()
        return cls(version, changed_at, count, (thread.title, thread.open, median), body,
                   slice(len(before), len(before) + len(tree)), etag_of(body))


class ThreadCache:
    """Serialised threads of this process, least recently read dropped first; safe across threads."""

    def __init__(self, size: int = CACHE_BYTES) -> None:
        self.size = size
        self.used = 0
        self._entries: OrderedDict[str, CachedThread] = OrderedDict()
        self._lock = threading.Lock()
        self._manifest_seen: tuple[Manifest, datetime] | None = None

    def clear(self) -> None:
        """Forget every thread, as a process that never served one."""
        with self._lock:
            self._entries.clear()
            self.used = 0
            self._manifest_seen = None

    def get(self, path: str) -> CachedThread | None:
        with self._lock:
            entry = self._entries.get(path)
            if entry is not None:
                self._entries.move_to_end(path)
            return entry

    def put(self, path: str, entry: CachedThread) -> None:
        with self._lock:
            old = self._entries.pop(path, None)
            self.used -= len(old.body) if old is not None else 0
            self._entries[path] = entry
            self.used += len(entry.body)
            while self.used > self.size and len(self._entries) > 1:
                _, dropped = self._entries.popitem(last=False)
                self.used -= len(dropped.body)

    def manifest_time(self, threads: ThreadIndex) -> datetime | None:
        """When the manifest (titles, open or closed) last changed: a file's mtime, else when this
        process first saw the manifest it holds (later than the truth, so never a wrong 304)."""
        if not threads.source:
            return None
        if not threads.source.startswith(("http://", "https://")):
            try:
                return datetime.fromtimestamp(os.stat(threads.source).st_mtime, UTC)
            except OSError:
                return None
        manifest = threads.manifest
        with self._lock:
            if self._manifest_seen is None or self._manifest_seen[0] is not manifest:
                self._manifest_seen = (manifest, datetime.now(UTC))
            return self._manifest_seen[1]


def thread_response(svc: CommentService, cache: ThreadCache, path: Any,
                    median_of: Callable[[Thread], int | None]) -> Response:
    """GET /api/comments: one query for the thread's version (and its comments only if they changed
    since this process cached them), then the cached bytes or a 304."""
    now = svc.clock()
    entry = cache.get(path) if isinstance(path, str) else None  # read_thread checks the path
    view = svc.read_thread(path, entry.version if entry is not None else None)
    thread = view.thread
    median = median_of(view.thread)
    head = (view.thread.title, view.thread.open, median)
    if view.comments is not None or entry is None:
        mentions = [mention_json(m) for m in svc.storage.mentions.list_thread(thread.path)] \
            if view.has_mentions else []
        tree = f'{dumps(tree_json(view.comments or []))},"mentions":{dumps(mentions)}'.encode()
        entry = CachedThread.build(view.thread, view.version, view.changed_at, view.count, tree, median)
        cache.put(thread.path, entry)
    elif entry.head != head:
        entry = CachedThread.build(view.thread, entry.version, entry.changed_at, entry.count,
                                   entry.body[entry.tree], median)
        cache.put(thread.path, entry)
    changed = [t for t in (view.changed_at, cache.manifest_time(svc.threads)) if t is not None]
    return conditional_response(entry.body, entry.etag, settled(max(changed, default=None), now))


def settled(changed_at: datetime | None, now: datetime) -> datetime | None:
    """The Last-Modified to send for a change at `changed_at`: whole seconds, and only once settled."""
    if changed_at is None or changed_at > now - SETTLED:
        return None
    return changed_at.replace(microsecond=0)


def not_modified(etag: str, last_modified: datetime | None) -> bool:
    """Whether the client's copy is current. If-None-Match, when sent, decides alone (RFC 9110 13.2.2)."""
    return copy_is_current(request.if_none_match, request.if_modified_since, etag, last_modified)


def copy_is_current(if_none_match: ETags, if_modified_since: datetime | None, etag: str,
                    last_modified: datetime | None) -> bool:
    """not_modified() on headers already parsed (werkzeug.http.parse_etags, parse_date)."""
    if if_none_match:
        return if_none_match.contains_weak(etag)
    return last_modified is not None and if_modified_since is not None and last_modified <= if_modified_since


def conditional_response(body: bytes, etag: str, last_modified: datetime | None) -> Response:
    """200 with `body`, or 304 with no body when the client's copy is current; both with validators."""
    if not_modified(etag, last_modified):
        # Sent without its type (werkzeug drops it), but typed, so it gets the data's security headers.
        response = Response(status=304, mimetype="application/json")
    else:
        response = Response(body, mimetype="application/json")
    response.set_etag(etag)
    if last_modified is not None:
        response.last_modified = last_modified
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response
