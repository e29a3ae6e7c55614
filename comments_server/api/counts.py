"""GET /api/counts (comment counts for an index page's posts), kept in memory between commits.

Each process keeps the answers it gave, keyed by their thread paths, together with the SQLite data
version they were read at (storage/changes.py): while nothing was committed, the same bytes and ETag
serve again without a query. Where no such version exists (PostgreSQL) every request asks the database.

CountsLane answers these requests in front of Flask when no rate limit applies to them (READ_RATE_LIMIT
off): Flask's request machinery (context, session, limiter and header hooks) cost several times the
answer itself. Anything but a well-formed GET of /api/counts, and any failure, goes on to Flask, so
errors keep their one shape; tests check that both give the same status, headers and body.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import werkzeug.urls  # noqa: F401  (registers the "werkzeug.url_quote" codec error handler used below)
from flask import Response
from werkzeug.http import http_date, parse_date, parse_etags

from comments_server.api.caching import (
    CACHE_CONTROL,
    conditional_response,
    copy_is_current,
    dumps,
    etag_of,
    settled,
)
from comments_server.cors import cors_headers
from comments_server.security import DATA_HEADERS

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from comments_server.service import CommentService

# Bytes of answers kept per process (the least recently asked go first), and how many distinct
# query strings keep their checked paths: index pages ask the same few again and again.
ANSWER_BYTES = 4 * 1024 * 1024
QUERIES = 512
PATH = "/api/counts"


@dataclass(frozen=True)
class CountsAnswer:
    """The JSON for one list of threads, read at `token` (None: not kept)."""

    token: tuple[int, int] | None
    body: bytes
    etag: str
    changed_at: datetime | None


class CountsCache:
    """This process's counts answers and checked query strings; safe across threads."""

    def __init__(self, svc: CommentService, size: int = ANSWER_BYTES) -> None:
        self.svc = svc
        self.size = size
        self.used = 0
        self._answers: OrderedDict[tuple[str, ...], CountsAnswer] = OrderedDict()
        self._queries: OrderedDict[str, tuple[str, ...]] = OrderedDict()
        self._lock = threading.Lock()

    def paths_of_query(self, query_string: str) -> tuple[str, ...]:
        """The checked `thread` parameters of a raw WSGI QUERY_STRING, parsed as Flask's
        request.args would; ApiError (or UnicodeError) as CommentService.count_paths raises."""
        with self._lock:
            known = self._queries.get(query_string)
            if known is not None:
                self._queries.move_to_end(query_string)
                return known
        pairs = parse_qsl(query_string.encode("latin1").decode(), keep_blank_values=True, errors="werkzeug.url_quote")
        paths = self.svc.count_paths([value for key, value in pairs if key == "thread"])
        with self._lock:
            self._queries[query_string] = paths
            while len(self._queries) > QUERIES:
                self._queries.popitem(last=False)
        return paths

    def answer(self, paths: tuple[str, ...]) -> CountsAnswer:
        """The counts of checked `paths`: kept bytes while nothing was committed, else one query."""
        version = self.svc.storage.data_version
        token = version.current() if version is not None else None  # before the read: see DataVersion
        if token is not None:
            with self._lock:
                kept = self._answers.get(paths)
                if kept is not None and kept.token == token:
                    self._answers.move_to_end(paths)
                    return kept
        result = self.svc.storage.thread_counts(paths)
        body = (dumps(result.counts) + "\n").encode()
        fresh = CountsAnswer(token, body, etag_of(body), result.changed_at)
        if token is not None:
            self._keep(paths, fresh)
        return fresh

    def _keep(self, paths: tuple[str, ...], answer: CountsAnswer) -> None:
        cost = len(answer.body) + sum(len(p) for p in paths)
        with self._lock:
            old = self._answers.pop(paths, None)
            if old is not None:
                self.used -= len(old.body) + sum(len(p) for p in paths)
            self._answers[paths] = answer
            self.used += cost
            while self.used > self.size and len(self._answers) > 1:
                dropped_paths, dropped = self._answers.popitem(last=False)
                self.used -= len(dropped.body) + sum(len(p) for p in dropped_paths)

    def clear(self) -> None:
        with self._lock:
            self._answers.clear()
            self._queries.clear()
            self.used = 0


def counts_response(cache: CountsCache, paths: list[Any]) -> Response:
    """GET /api/counts through Flask: ETag (the body's hash), Last-Modified once settled, 304."""
    now = cache.svc.clock()
    answer = cache.answer(cache.svc.count_paths(paths))
    return conditional_response(answer.body, answer.etag, settled(answer.changed_at, now))


class CountsLane:
    """WSGI middleware: a well-formed GET /api/counts answered here, as Flask would answer it
    (validators, 304, security and CORS headers); every other request goes on to `app`."""

    def __init__(self, app: WSGIApplication, cache: CountsCache, allowed_origins: frozenset[str],
                 starters: Iterable[Callable[[], None]] = ()) -> None:
        self.app = app
        self.cache = cache
        self.allowed_origins = allowed_origins
        self.starters = tuple(starters)   # the app's before_request hooks that start background threads

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "GET":
            return self.app(environ, start_response)
        try:
            status, headers, body = self._answer(environ)
        except Exception:  # a bad query, the database away: Flask answers, in its one error shape
            return self.app(environ, start_response)
        start_response(status, headers)
        return [body]

    def _answer(self, environ: WSGIEnvironment) -> tuple[str, list[tuple[str, str]], bytes]:
        paths = self.cache.paths_of_query(environ.get("QUERY_STRING", ""))
        for start in self.starters:
            start()
        now = self.cache.svc.clock()
        answer = self.cache.answer(paths)
        last_modified = settled(answer.changed_at, now)
        current = copy_is_current(parse_etags(environ.get("HTTP_IF_NONE_MATCH")),
                                  parse_date(environ.get("HTTP_IF_MODIFIED_SINCE")), answer.etag, last_modified)
        # The order and the set Flask sends: werkzeug drops the entity headers from a 304.
        if current:
            status, body = "304 NOT MODIFIED", b""
            headers = [("ETag", f'"{answer.etag}"')]
        else:
            status, body = "200 OK", answer.body
            headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                       ("ETag", f'"{answer.etag}"')]
            if last_modified is not None:
                headers.append(("Last-Modified", http_date(last_modified)))
        headers.append(("Cache-Control", CACHE_CONTROL))
        headers.extend(DATA_HEADERS)
        headers.extend(cors_headers(environ.get("HTTP_ORIGIN"), self.allowed_origins))
        headers.append(("Vary", "Origin"))
        return status, headers, body
