"""Real servers for tests, the one place that starts them: a process on a free port (waited for
until it answers, its output shown when it does not, always stopped), and HTTP or WSGI servers run
in a thread of the test process.

Tests ask for a process through the fixtures `live_server` (the comment server with the test
settings), `live_servers` and `module_live_servers` (any command or settings, stopped at the end of
the test or the module); the conftest marks every test that uses them `live`.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import socket
import socketserver
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.support import REPO
from tests.support.server import AUTHOR_TOKEN, SECRET

HOST = "127.0.0.1"

# The comment server as most tests want it; a test overrides what it exercises.
TEST_SETTINGS: dict[str, str] = {
    "SECRET_KEY": SECRET,
    "RATE_LIMIT": "off",
    "READ_RATE_LIMIT": "off",
    "MIN_SUBMIT_SECONDS": "off",
    "CORS_ORIGINS": "https://blog.example.com",
    "AUTHOR_TOKENS": AUTHOR_TOKEN,
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def server_env(**config: str) -> dict[str, str]:
    """This process's environment for a server: its COMMENTS_ settings are `config` (and the
    COMMENTS_TEST_ variables), and the repository is importable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMMENTS_") or k.startswith("COMMENTS_TEST_")}
    env.update({f"COMMENTS_{k}": v for k, v in config.items()})
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def serve_command(port: int) -> list[str]:
    """The comment server's development server on 127.0.0.1:PORT."""
    return [sys.executable, "-m", "comments_server", "serve", "--host", HOST, "--port", str(port)]


class LiveServer:
    """A server process: its URL, its output (in a log file), requests to it, and stopping it."""

    def __init__(self, command: list[str], url: str, process: subprocess.Popen[bytes], log: Path,
                 db_url: str) -> None:
        self.command = command
        self.url = url
        self.process = process
        self.log = log
        self.db_url = db_url

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
                raw: bytes | None = None) -> tuple[int, dict[str, str], bytes]:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        hdrs = {"Content-Type": "application/json"} if body is not None else {}
        hdrs.update(headers or {})
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, dict(resp.headers), resp.read()
        except urllib.error.HTTPError as err:
            return err.code, dict(err.headers), err.read()

    def answers(self, path: str) -> bool:
        try:
            with urllib.request.urlopen(self.url + path, timeout=2) as resp:
                return bool(resp.status == 200)
        except OSError:
            return False

    def stop(self, timeout: float = 15.0) -> None:
        """Terminate, wait, kill if it will not go; nothing to do if it has already ended."""
        self.process.terminate()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@contextmanager
def live_process(command: list[str], *, port: int, log: Path, cwd: Path, env: dict[str, str] | None = None,
                 db_url: str = "", health: str = "/healthz", timeout: float = 30.0) -> Iterator[LiveServer]:
    """Run `command` (which listens on 127.0.0.1:PORT) until the block ends. It must answer 200 at
    `health` within `timeout` seconds, or the test fails with the process's output."""
    with log.open("wb") as handle:
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=handle, stderr=subprocess.STDOUT)
    server = LiveServer(command, f"http://{HOST}:{port}", process, log, db_url)
    try:
        deadline = time.monotonic() + timeout
        while not server.answers(health):
            if process.poll() is not None or time.monotonic() > deadline:
                server.stop()
                pytest.fail(f"server did not start ({' '.join(command)}):\n{server.output()}")
            time.sleep(0.1)
        yield server
    finally:
        server.stop()


@contextmanager
def comment_server(folder: Path, *, port: int | None = None, name: str = "server",
                   **settings: str | None) -> Iterator[LiveServer]:
    """`python -m comments_server serve` run in `folder` with TEST_SETTINGS, a SQLite file in the
    folder and the manifest at folder/public/threads.json; `settings` override those (None leaves
    one out). On a free port unless given one; its output goes to folder/NAME.log."""
    config = {"DATABASE_URL": f"sqlite:///{folder / 'comments.sqlite3'}",
              "THREADS_MANIFEST": str(folder / "public" / "threads.json"), **TEST_SETTINGS, **settings}
    env = server_env(**{key: value for key, value in config.items() if value is not None})
    port = port or free_port()
    with live_process(serve_command(port), port=port, log=folder / f"{name}.log", cwd=folder, env=env,
                      db_url=env["COMMENTS_DATABASE_URL"]) as server:
        yield server


class LiveServers:
    """Starts servers for a test (or a module); every one is stopped when it is done."""

    def __init__(self, stack: ExitStack) -> None:
        self._stack = stack
        self.started: list[LiveServer] = []

    def process(self, command: list[str], **options: Any) -> LiveServer:
        """A process as `live_process` runs it."""
        return self._started(self._stack.enter_context(live_process(command, **options)))

    def comments(self, folder: Path, **options: Any) -> LiveServer:
        """The comment server as `comment_server` runs it."""
        return self._started(self._stack.enter_context(comment_server(folder, **options)))

    def _started(self, server: LiveServer) -> LiveServer:
        self.started.append(server)
        return server

    def stop_all(self, show_output: bool) -> None:
        """Stop every server; print the output of each (captured, shown with a failure) if asked
        or if it printed a traceback."""
        for server in self.started:
            server.stop()
            if show_output or "Traceback" in server.output():
                print(f"--- output of {' '.join(server.command)} ---\n{server.output()}")


def _test_failed(request: pytest.FixtureRequest) -> bool:
    report = getattr(request.node, "rep_call", None)  # set by tests/conftest.py
    return bool(report is not None and report.failed)


@pytest.fixture
def live_servers(request: pytest.FixtureRequest) -> Iterator[LiveServers]:
    """Servers started by one test, stopped at its end (their output shown if it failed)."""
    with ExitStack() as stack:
        servers = LiveServers(stack)
        yield servers
        servers.stop_all(show_output=_test_failed(request))


@pytest.fixture(scope="module")
def module_live_servers() -> Iterator[LiveServers]:
    """Servers shared by the tests of one module, stopped after the last of them."""
    with ExitStack() as stack:
        servers = LiveServers(stack)
        yield servers
        servers.stop_all(show_output=False)


@pytest.fixture
def live_server(tmp_path: Path, manifest: Path, live_servers: LiveServers) -> LiveServer:
    """The comment server with the test settings on a free port: SQLite in tmp_path (live.sqlite3,
    not the `app` fixture's file), the `manifest` fixture's threads, limits off."""
    return live_servers.comments(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'live.sqlite3'}",
                                 THREADS_MANIFEST=str(manifest))


# --- servers in a thread of the test process ------------------------------------------------


@contextmanager
def serve_in_thread(server: socketserver.BaseServer) -> Iterator[str]:
    """Run a bound HTTP or WSGI server (port 0 for a free one) in a daemon thread until the block
    ends; yields its base URL."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://{HOST}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the stdlib's name)
        pass


@contextmanager
def serve_folder(folder: Path) -> Iterator[str]:
    """Serve a folder (a built site) over HTTP on a free local port; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    with serve_in_thread(http.server.ThreadingHTTPServer((HOST, 0), handler)) as url:
        yield url


@contextmanager
def serve_wsgi(app: Any) -> Iterator[str]:
    """Serve a WSGI app (a Flask app from create_app) with werkzeug on a free local port."""
    from werkzeug.serving import make_server

    with serve_in_thread(make_server(HOST, 0, app, threaded=True)) as url:
        yield url
