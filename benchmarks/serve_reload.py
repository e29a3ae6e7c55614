"""Edit-to-reload benchmark: `blogengine serve` against `hugo server` on the same corpus.

For each size it writes the corpus (corpus.py: a blogengine site and a Hugo site from the same
posts), starts `blogengine serve` and `hugo server` each on its own port, waits for the first
build, opens the edited post in each (as the browser tab would be), then, in turn, appends a
sentence to one post of each site and measures from just before the file write to the reload
event reaching a client: blogengine's server-sent events (/__blogengine/events), Hugo's
livereload websocket. After each event the page is fetched and must hold the new sentence, so
only real rebuilds count. Servers run one at a time apart from their idle watchers.

    python benchmarks/serve_reload.py --sizes 1000            # a quick loop
    python benchmarks/serve_reload.py --sizes 1000 10000 --rounds 3 --write benchmarks/SERVE.md
"""

from __future__ import annotations

import argparse
import dataclasses
import base64
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build import machine  # noqa: E402
from corpus import write_corpus  # noqa: E402

BLOGENGINE = [sys.executable, "-m", "blogengine"]
PAUSE_SECONDS = 1.0   # between one edit's reload and the next edit, plus up to JITTER_SECONDS
JITTER_SECONDS = 0.5  # random: Hugo's watcher hands over changes on a 500 ms tick, and a
                      # fixed pause would always catch that tick at the same phase
JITTER = random.Random(15)
HUGO_HELLO = {"command": "hello", "protocols": ["http://livereload.com/protocols/official-7"]}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fetch(url: str, timeout: float = 30.0) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return str(response.read().decode("utf-8"))


def wait_until_up(url: str, process: subprocess.Popen[bytes], limit: float) -> float:
    """Seconds until `url` answers 200 (the first build is done)."""
    started = time.perf_counter()
    while time.perf_counter() - started < limit:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode} before serving {url}")
        try:
            fetch(url, timeout=5.0)
            return time.perf_counter() - started
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {limit:.0f} s")


class EventStream:
    """A raw client of blogengine's server-sent events."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=120)
        self.sock.sendall(b"GET /__blogengine/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          b"Accept: text/event-stream\r\n\r\n")
        self.buffer = b""
        self._until(b"retry:")   # connected: the stream has started

    def _until(self, *markers: bytes) -> bytes:
        while True:
            for marker in markers:
                at = self.buffer.find(marker)
                if at >= 0:
                    self.buffer = self.buffer[at + len(marker):]
                    return marker
            chunk = self.sock.recv(65536)
            if not chunk:
                raise SystemExit("the event stream closed")
            self.buffer += chunk

    def wait_reload(self) -> None:
        if self._until(b"event: reload", b"event: build-error") != b"event: reload":
            raise SystemExit(f"blogengine reported a build error: {self.buffer[:400]!r}")

    def close(self) -> None:
        self.sock.close()


class LiveReload:
    """A raw websocket client of Hugo's livereload endpoint."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=120)
        key = base64.b64encode(os.urandom(16))
        self.sock.sendall(b"GET /livereload HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                          b"Connection: Upgrade\r\nSec-WebSocket-Key: " + key +
                          b"\r\nSec-WebSocket-Version: 13\r\n\r\n")
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self._recv()
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise SystemExit(f"no websocket from Hugo: {head[:200]!r}")
        self._send(json.dumps(HUGO_HELLO, separators=(",", ":")).encode())  # Hugo matches it byte for byte
        while self.message().get("command") != "hello":
            pass

    def _recv(self) -> bytes:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise SystemExit("Hugo closed the livereload websocket")
        return chunk

    def _take(self, count: int) -> bytes:
        while len(self.buffer) < count:
            self.buffer += self._recv()
        taken, self.buffer = self.buffer[:count], self.buffer[count:]
        return taken

    def _send(self, payload: bytes) -> None:
        mask = os.urandom(4)
        size = len(payload)
        header = bytes([0x81]) + (bytes([0x80 | size]) if size < 126
                                  else bytes([0x80 | 126]) + size.to_bytes(2, "big"))
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def message(self) -> dict[str, object]:
        """The next text message, as JSON (pings and other frames skipped)."""
        while True:
            first, second = self._take(2)
            size = second & 0x7F
            if size == 126:
                size = int.from_bytes(self._take(2), "big")
            elif size == 127:
                size = int.from_bytes(self._take(8), "big")
            payload = self._take(size)
            if first & 0x0F == 1:
                found = json.loads(payload)
                return found if isinstance(found, dict) else {}

    def wait_reload(self) -> None:
        while self.message().get("command") != "reload":
            pass

    def close(self) -> None:
        self.sock.close()


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    page_url: str
    post: Path
    listen: Callable[[], EventStream | LiveReload]
    first_build: float = 0.0
    reloads: list[float] = field(default_factory=list)
    rss_mib: float = 0.0     # resident memory after the round's edits

    def measure_memory(self) -> None:
        try:
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    self.rss_mib = int(line.split()[1]) / 1024
        except OSError:
            pass

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_blogengine(site: Path, post: str, log: Path) -> Server:
    port = free_port()
    process = subprocess.Popen([*BLOGENGINE, "serve", "--source", str(site), "--port", str(port)],
                               stdout=log.open("wb"), stderr=subprocess.STDOUT, cwd=site)
    server = Server("blogengine serve", process, "", site / "content/posts" / f"{post}.md",
                    lambda: EventStream(port))
    try:
        server.first_build = wait_until_up(f"http://127.0.0.1:{port}/", process, 3600)
        served = site / ".blogengine/serve/public"
        found = sorted(served.glob(f"*/*/{post}-*/index.html"))   # /YYYY/MM/slug/
        if not found:
            raise SystemExit(f"no page for {post} in blogengine's serve folder")
    except BaseException:
        server.stop()
        raise
    rel = found[0].parent.relative_to(served).as_posix()
    server.page_url = f"http://127.0.0.1:{port}/{rel}/"
    return server


def start_hugo(hugo_site: Path, post: str, log: Path) -> Server:
    port = free_port()
    process = subprocess.Popen(["hugo", "server", "--bind", "127.0.0.1", "--port", str(port),
                                "--baseURL", f"http://127.0.0.1:{port}/"],
                               stdout=log.open("wb"), stderr=subprocess.STDOUT, cwd=hugo_site)
    server = Server("hugo server", process, f"http://127.0.0.1:{port}/posts/{post}/",
                    hugo_site / "content/posts" / f"{post}.md", lambda: LiveReload(port))
    try:
        server.first_build = wait_until_up(f"http://127.0.0.1:{port}/", process, 3600)
    except BaseException:
        server.stop()
        raise
    return server


def edit_once(server: Server, token: str) -> float:
    """Append a sentence, wait for the reload event; seconds from the write to the event."""
    client = server.listen()
    try:
        time.sleep(PAUSE_SECONDS + JITTER.uniform(0, JITTER_SECONDS))   # saving about once a second
        text = server.post.read_text(encoding="utf-8")
        started = time.perf_counter()
        with server.post.open("w", encoding="utf-8") as handle:
            handle.write(f"{text}\nOne more sentence, {token}.\n")
        client.wait_reload()
        seconds = time.perf_counter() - started
    finally:
        client.close()
    if token not in fetch(server.page_url):
        raise SystemExit(f"{server.name}: the reloaded page lacks the new sentence ({token})")
    return seconds


def bench_size(posts: int, root: Path, edits: int, rounds: int) -> list[dict[str, Server]]:
    """On a fresh corpus, one server at a time (the other is not running, so neither one's
    background work slows the other): start it, open the edited post, then `rounds` rounds
    of `edits` edits. Each round's figures are kept apart."""
    write_corpus(posts, root)
    post = f"post-{posts // 2:05d}"
    starts: dict[str, Callable[[], Server]] = {
        "blogengine": lambda: start_blogengine(root / "site", post, root / "blogengine.log")}
    if shutil.which("hugo"):
        starts["hugo"] = lambda: start_hugo(root / "hugo", post, root / "hugo.log")
    results: list[dict[str, Server]] = [{} for _ in range(rounds)]
    for name, start in starts.items():
        server = start()
        try:
            fetch(server.page_url)   # the open tab (Hugo's fast render re-renders visited pages)
            for round_number in range(1, rounds + 1):
                server.reloads = []
                for n in range(edits):
                    token = f"benchmark edit {name} {round_number} {n} {time.time_ns()}"
                    server.reloads.append(edit_once(server, token))
                    print(f"{posts:>6} posts  round {round_number}  {server.name:<17} edit "
                          f"{n + 1}: {server.reloads[-1] * 1000:.0f} ms", flush=True)
                server.measure_memory()
                results[round_number - 1][name] = dataclasses.replace(
                    server, reloads=list(server.reloads))
        finally:
            server.stop()
    return results


def spread(values: list[float]) -> str:
    return (f"{statistics.median(values) * 1000:.0f} ms "
            f"({min(values) * 1000:.0f}–{max(values) * 1000:.0f})")


def report(results: list[tuple[int, int, dict[str, Server]]], edits: int) -> str:
    lines = [f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {machine()}.", "",
             "Rich corpus (corpus.py), default configuration. The servers run one after the other "
             "on the same fresh corpus (each edits its own copy), alone on the machine: after the "
             "first build the edited post is opened (the browser tab), then each round edits it "
             f"{edits} times, {PAUSE_SECONDS:.0f}–{PAUSE_SECONDS + JITTER_SECONDS:.1f} s (random) "
             "after the last reload (blogengine's search index waits for a 2 s pause, so it stays "
             "out of the way): appending a sentence, "
             "timed from just before the "
             "write to the reload event reaching a client (blogengine: server-sent events; Hugo: "
             "its livereload websocket), after which the page must show the sentence. Hugo runs "
             "`hugo server` as it comes (in memory, fast render). Median of a round's edits "
             "(lowest–highest); the ratio is of the medians within the round. RSS: the server "
             "process's resident memory after the round.", "",
             "| posts | round | blogengine first build s | Hugo first build s "
             "| blogengine save → reload | Hugo save → reload | blogengine / Hugo "
             "| blogengine RSS MiB | Hugo RSS MiB |",
             "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for posts, round_number, servers in results:
        ours, theirs = servers["blogengine"], servers.get("hugo")
        ratio = (f"{statistics.median(ours.reloads) / statistics.median(theirs.reloads):.2f} ×"
                 if theirs else "n/a")
        lines.append(f"| {posts:,} | {round_number} | {ours.first_build:.1f} | "
                     f"{theirs.first_build if theirs else float('nan'):.1f} | "
                     f"{spread(ours.reloads)} | {spread(theirs.reloads) if theirs else 'n/a'} | "
                     f"{ratio} | {ours.rss_mib:.0f} | {theirs.rss_mib if theirs else float('nan'):.0f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--edits", type=int, default=7, help="edits per server and round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of edits per size")
    parser.add_argument("--dir", type=Path, default=None, help="where to write the corpora")
    parser.add_argument("--write", type=Path, default=None, help="also write the table to this file")
    args = parser.parse_args()
    base = args.dir or Path(tempfile.mkdtemp(prefix="blogengine-serve-bench-"))
    results = []
    try:
        for posts in args.sizes:
            for round_number, servers in enumerate(
                    bench_size(posts, base / f"corpus-{posts}", args.edits, args.rounds), 1):
                results.append((posts, round_number, servers))
    finally:
        if args.dir is None:
            shutil.rmtree(base, ignore_errors=True)
    table = report(results, args.edits)
    print(table)
    if args.write:
        args.write.write_text(table, encoding="utf-8")


if __name__ == "__main__":
    main()
