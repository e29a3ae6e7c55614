"""Publish on comment: keep the baked site in step with its conversations.

Every change readers can see (a comment published, approved, edited or deleted) moves a thread's
version in the same transaction (storage `publish_marker`, the sum of them). A background thread
notices the marker move (woken after each write request, and on a timer for changes made by other
processes), waits until writes have been quiet for PUBLISH_DEBOUNCE_SECONDS, then runs the site's
publish actions once: PUBLISH_COMMAND (e.g. `blogengine deploy`), a POST to PUBLISH_WEBHOOK_URL
(e.g. a CI's dispatch endpoint), and whatever `blogengine serve` adds in-process (its rebuild).

Server processes on one machine share a state file under a lock, so several workers run the
command once per change; a failed run is tried again with a growing wait."""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shlex
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
WEBHOOK_EVENT = "blogengine-comments"
OUTPUT_TAIL = 2000            # characters of a failed command's output kept in the log
MAX_BACKOFF_SECONDS = 600.0


class PublishFailed(Exception):
    """A publish action did not succeed; the message says which and why."""


@dataclass(frozen=True)
class PublishAction:
    name: str                              # for the log: "command", "webhook", "serve rebuild"
    run: Callable[[int], None]             # given the marker it publishes; raises PublishFailed


def command_action(command: str, *, cwd: Path | None, timeout: float) -> PublishAction:
    """Run `command` (split like a shell would, but with no shell) in `cwd`."""
    argv = shlex.split(command)

    def run(marker: int) -> None:
        env = {**os.environ, "BLOGENGINE_COMMENTS_MARKER": str(marker)}
        try:
            done = subprocess.run(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise PublishFailed(f"PUBLISH_COMMAND did not finish in {timeout:.0f} s") from None
        except OSError as exc:
            raise PublishFailed(f"PUBLISH_COMMAND could not start: {exc}") from None
        output = done.stdout.decode("utf-8", "replace")
        if done.returncode != 0:
            raise PublishFailed(f"PUBLISH_COMMAND exited with status {done.returncode}:\n{output[-OUTPUT_TAIL:]}")
        log.info("publish: PUBLISH_COMMAND done\n%s", output[-OUTPUT_TAIL:])

    return PublishAction("command", run)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """urllib would send the Authorization header on to wherever a redirect points: refuse them."""

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> None:
        raise PublishFailed(f"PUBLISH_WEBHOOK_URL answered {code} with a redirect to {newurl}, not followed "
                            "(the token goes only where the setting says); set it to the final address")


def webhook_action(url: str, *, token: str, timeout: float, user_agent: str) -> PublishAction:
    """POST `{"event_type": "blogengine-comments", "client_payload": {...}}` to `url`: the shape
    of GitHub's repository_dispatch, which other CIs' generic webhooks accept as any JSON."""

    def run(marker: int) -> None:
        body = json.dumps({"event_type": WEBHOOK_EVENT, "client_payload": {"marker": marker}}).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json", "User-Agent": user_agent}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.build_opener(_NoRedirects).open(request, timeout=timeout) as response:
                response.read(4096)
        except urllib.error.HTTPError as exc:
            raise PublishFailed(f"PUBLISH_WEBHOOK_URL answered {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise PublishFailed(f"PUBLISH_WEBHOOK_URL could not be reached: {reason}") from None

    return PublishAction("webhook", run)


class PublishState:
    """The marker last published, shared by this machine's server processes through a file
    under an exclusive lock (one per database)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def for_database(cls, database_url: str) -> PublishState:
        digest = hashlib.sha256(database_url.encode()).hexdigest()[:16]
        return cls(Path(tempfile.gettempdir()) / f"blogengine-publish-{os.getuid()}-{digest}")

    @contextmanager
    def locked(self) -> Iterator[None]:
        fd = os.open(self.path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def read(self) -> int | None:
        try:
            return int(self.path.read_text(encoding="ascii").strip())
        except (OSError, ValueError):
            return None

    def write(self, marker: int) -> None:
        partial = self.path.with_suffix(".partial")
        partial.write_text(str(marker), encoding="ascii")
        os.replace(partial, self.path)


@dataclass
class Publisher:
    """The background thread that runs the publish actions after changes; see the module doc.

    Started by the app's first request in each process (threads do not survive a fork), or by
    `start()`."""

    marker: Callable[[], int]                    # the store's publish marker
    state: PublishState
    debounce_seconds: float = 5.0
    poll_seconds: float = 30.0
    actions: list[PublishAction] = field(default_factory=list)
    first_estimate_seconds: float = 5.0          # how long a run takes, until one has been timed
    _wake: threading.Event = field(default_factory=threading.Event, init=False)
    _stop: threading.Event = field(default_factory=threading.Event, init=False)
    _starting: threading.Lock = field(default_factory=threading.Lock, init=False)
    _pid: int | None = field(default=None, init=False)
    _thread: threading.Thread | None = field(default=None, init=False)
    _last_run_seconds: float | None = field(default=None, init=False)
    _published: threading.Condition = field(default_factory=threading.Condition, init=False)
    published_marker: int | None = field(default=None, init=False)
    last_error: str | None = field(default=None, init=False)

    @property
    def enabled(self) -> bool:
        return bool(self.actions)

    def add_action(self, action: PublishAction) -> None:
        """Add an action (`blogengine serve` adds its rebuild) and start the thread."""
        self.actions.append(action)
        self.ensure_started()

    def expected_seconds(self) -> float | None:
        """About how long until a change just made is on the site; None when nothing publishes."""
        if not self.enabled:
            return None
        run = self._last_run_seconds if self._last_run_seconds is not None else self.first_estimate_seconds
        return self.debounce_seconds + run

    def ensure_started(self) -> None:
        """Start the thread unless this process runs it already (a forked worker starts its own)."""
        if not self.enabled or self._pid == os.getpid():
            return
        with self._starting:
            if self._pid != os.getpid():
                self._pid = os.getpid()
                # The first look at the store is taken here, before the request that starts the
                # thread writes: taken in the thread, it could see that request's comment and
                # count it as already published.
                seen = self._first_seen()
                self._thread = threading.Thread(target=self._run, args=(seen,), name="comments-publish",
                                                daemon=True)
                self._thread.start()

    def wake(self) -> None:
        """A write request finished: look at the marker soon."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def wait_published(self, marker: int, timeout: float) -> bool:
        """Block until `marker` (or a later one) is published; for tests and `serve`."""
        with self._published:
            return self._published.wait_for(
                lambda: self.published_marker is not None and self.published_marker >= marker, timeout)

    def _first_seen(self) -> int | None:
        """The marker the site was last published at; on a first start, the store's own."""
        current = self._read_marker()
        with self.state.locked():
            seen = self.state.read()
            if seen is None and current is not None:
                self.state.write(current)  # a first start: the site was built from what is stored now
                seen = current
        return seen

    def _run(self, seen: int | None) -> None:
        backoff = 0.0
        while not self._stop.is_set():
            self._wake.wait(backoff or self.poll_seconds)
            self._wake.clear()
            current = self._read_marker()
            if current is None or (current == seen and not backoff):
                continue
            self._quiet()
            if self._stop.is_set():
                return
            try:
                seen = self._publish()
            except PublishFailed as exc:
                self.last_error = str(exc)
                backoff = min(max(backoff * 2, self.debounce_seconds, 1.0), MAX_BACKOFF_SECONDS)
                log.error("publish: %s; trying again in %.0f s", exc, backoff)
                continue
            backoff = 0.0
            self.last_error = None

    def _quiet(self) -> None:
        """Wait until no write has come for the debounce time (at most ten of them in all)."""
        deadline = time.monotonic() + 10 * self.debounce_seconds
        while time.monotonic() < deadline and self._wake.wait(self.debounce_seconds):
            self._wake.clear()
            if self._stop.is_set():
                return

    def _publish(self) -> int:
        """Run every action for the current marker, unless another process has published it."""
        with self.state.locked():
            marker = self._read_marker()
            if marker is None:
                raise PublishFailed("the comment store could not be read")
            if self.state.read() == marker:
                self._mark_published(marker)
                return marker
            started = time.monotonic()
            for action in list(self.actions):
                action.run(marker)
            self._last_run_seconds = time.monotonic() - started
            self.state.write(marker)
        log.info("publish: comments published to the site in %.1f s", self._last_run_seconds)
        self._mark_published(marker)
        return marker

    def _mark_published(self, marker: int) -> None:
        with self._published:
            self.published_marker = marker
            self._published.notify_all()

    def _read_marker(self) -> int | None:
        try:
            return self.marker()
        except Exception:  # the database may be briefly away; the thread must outlive that
            log.exception("publish: cannot read the comment store; trying again later")
            return None


def build_publisher(config: Mapping[str, Any], marker: Callable[[], int], *, cwd: Path | None,
                    user_agent: str) -> Publisher:
    """The publisher of an app: its actions from PUBLISH_COMMAND and PUBLISH_WEBHOOK_URL (none:
    it does nothing until `serve` adds one)."""
    actions = []
    timeout = float(config["PUBLISH_TIMEOUT"])
    if config["PUBLISH_COMMAND"]:
        actions.append(command_action(config["PUBLISH_COMMAND"], cwd=cwd, timeout=timeout))
    if config["PUBLISH_WEBHOOK_URL"]:
        actions.append(webhook_action(config["PUBLISH_WEBHOOK_URL"], token=config["PUBLISH_WEBHOOK_TOKEN"],
                                      timeout=min(timeout, 30.0), user_agent=user_agent))
    return Publisher(marker, PublishState.for_database(config["DATABASE_URL"]),
                     debounce_seconds=float(config["PUBLISH_DEBOUNCE_SECONDS"]),
                     poll_seconds=float(config["PUBLISH_POLL_SECONDS"]), actions=actions)
