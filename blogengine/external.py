"""`blogengine check --external`: links to other sites, checked politely (a few requests at a
time, one at a time per host with a pause between, HEAD before GET, short timeouts) and
remembered in .blogengine/ for a while, so a second run asks nobody."""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import IO, Any
from urllib.parse import urljoin, urlsplit

from blogengine import __version__
from blogengine.cache import CACHE_DIR
from blogengine.check import ExternalLink
from blogengine.locate import LinkProblem, locate_links
from blogengine.config import SiteConfig

CACHE_NAME = "external-links.json"
USER_AGENT = f"blogengine/{__version__} (link check)"
# Refusals of HEAD that a GET may not share.
HEAD_REFUSED = (400, 403, 405, 501)


@dataclass(frozen=True)
class ExternalOptions:
    workers: int = 4              # requests in flight at once, across all hosts
    host_delay: float = 1.0       # seconds between two requests to one host
    timeout: float = 10.0         # seconds to wait for an answer
    ttl: float = 24 * 3600        # seconds a result is trusted before it is asked again


@dataclass(frozen=True)
class Answer:
    """What a URL answered: a status (None: no answer), why not, and where it redirects."""

    status: int | None
    error: str = ""
    location: str = ""
    checked: float = 0.0


@dataclass
class ExternalResult:
    problems: list[LinkProblem] = field(default_factory=list)   # dead links (exit 1)
    redirects: list[LinkProblem] = field(default_factory=list)  # moved links (worth updating)
    requests: int = 0
    cached: int = 0


def check_external(config: SiteConfig, out_dir: Path, links: list[ExternalLink],
                   options: ExternalOptions = ExternalOptions()) -> ExternalResult:
    """Ask each outside URL once (unless a recent answer is cached) and report the dead ones
    and the redirected ones where they were written."""
    cache_path = config.root / CACHE_DIR / CACHE_NAME
    cache = _read_cache(cache_path)
    now = time.time()
    answers: dict[str, Answer] = {}
    wanted: list[str] = []
    for link in links:
        known = cache.get(link.url)
        if known is not None and now - known.checked < options.ttl:
            answers[link.url] = known
        else:
            wanted.append(link.url)
    result = ExternalResult(cached=len(answers))
    checker = _Checker(options)
    with ThreadPoolExecutor(max_workers=max(1, options.workers)) as pool:
        for url, answer in zip(wanted, pool.map(checker.ask, wanted)):
            answers[url] = answer
            cache[url] = answer
    result.requests = checker.requests
    _write_cache(cache_path, cache, now, options.ttl)
    for link in links:
        answer = answers[link.url]
        verdict = _verdict(answer)
        if verdict is None:
            continue
        moved, message = verdict
        for spot in locate_links(config, out_dir, link.places):
            text = f' "{spot.message}"' if spot.message else ""
            problem = LinkProblem(spot.path, spot.line, f"link{text} -> {link.url}: {message}")
            (result.redirects if moved else result.problems).append(problem)
    result.problems.sort(key=LinkProblem.sort_key)
    result.redirects.sort(key=LinkProblem.sort_key)
    return result


def _verdict(answer: Answer) -> tuple[bool, str] | None:
    """(is a redirect, what to say), or None for a link that works."""
    if answer.status is None:
        return False, answer.error
    if answer.status in (301, 302, 303, 307, 308):
        how = "moved permanently" if answer.status in (301, 308) else "redirects"
        return True, f"{how} ({answer.status}) to {answer.location}"
    if answer.status >= 400:
        return False, f"answers {answer.status}"
    return None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects are reported, not followed."""

    def redirect_request(self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str,
                         headers: Message, newurl: str) -> None:
        return None


class _Checker:
    """Requests with a cap per host: one at a time, `host_delay` apart."""

    def __init__(self, options: ExternalOptions) -> None:
        self.options = options
        self.opener = urllib.request.build_opener(_NoRedirect)
        self.requests = 0
        self._lock = threading.Lock()
        self._hosts: dict[str, tuple[threading.Lock, list[float]]] = {}

    def ask(self, url: str) -> Answer:
        """HEAD, then GET when HEAD is refused."""
        answer = self._request(url, "HEAD")
        if answer.status in HEAD_REFUSED:
            answer = self._request(url, "GET")
        return answer

    def _request(self, url: str, method: str) -> Answer:
        host = (urlsplit(url).hostname or "").lower()
        with self._lock:
            lock, last = self._hosts.setdefault(host, (threading.Lock(), [0.0]))
        with lock:
            wait = last[0] + self.options.host_delay - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            try:
                return self._send(url, method)
            finally:
                last[0] = time.monotonic()

    def _send(self, url: str, method: str) -> Answer:
        with self._lock:
            self.requests += 1
        request = urllib.request.Request(url, method=method, headers={
            "User-Agent": USER_AGENT, "Accept": "*/*"})
        now = time.time()
        try:
            with self.opener.open(request, timeout=self.options.timeout) as response:
                if method == "GET":
                    response.read(1024)     # enough to know it answers; not the whole page
                return Answer(status=response.status, checked=now)
        except urllib.error.HTTPError as exc:
            location = exc.headers.get("Location", "") if exc.headers else ""
            exc.close()
            return Answer(status=exc.code, location=urljoin(url, location) if location else "",
                          checked=now)
        except TimeoutError:
            return Answer(status=None, error=f"no answer within {self.options.timeout:g} s",
                          checked=now)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, TimeoutError):
                return Answer(status=None, error=f"no answer within {self.options.timeout:g} s",
                              checked=now)
            return Answer(status=None, error=f"cannot connect ({reason})", checked=now)


def _read_cache(path: Path) -> dict[str, Answer]:
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
        return {url: Answer(status=entry["status"], error=entry.get("error", ""),
                            location=entry.get("location", ""), checked=float(entry["checked"]))
                for url, entry in data.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}     # no cache, or a broken one: ask again


def _write_cache(path: Path, cache: dict[str, Answer], now: float, ttl: float) -> None:
    fresh = {url: {"status": a.status, "error": a.error, "location": a.location,
                   "checked": a.checked} for url, a in sorted(cache.items())
             if now - a.checked < ttl}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(fresh, indent=1), encoding="utf-8")
        os.replace(temporary, path)
    except OSError:
        pass          # the next run asks again
