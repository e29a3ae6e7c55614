"""Load benchmark of the comment server under gunicorn (SQLite, limits off) on 127.0.0.1.

Seeds a 200-comment thread, then measures requests/s and p50/p99 latency for reading that thread,
for posting comments, and for counts of 50 threads. The load generator runs in this process
(threads + http.client), so on a small machine it competes with the server for CPU.

    python benchmarks/comments_server.py [--workers 2] [--clients 8] [--requests 2000]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from comments_server.models import NewComment, Status  # noqa: E402
from comments_server.sanitize import render_comment  # noqa: E402
from comments_server.storage import open_storage  # noqa: E402

BIG = "/bench/big-thread/"
POSTS = "/bench/posting/"
COUNT_THREADS = [f"/bench/post-{n}/" for n in range(50)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_manifest(path: Path) -> None:
    threads = [{"path": p, "title": p, "author": "Ann", "open": True} for p in [BIG, POSTS, *COUNT_THREADS]]
    path.write_text(json.dumps({"version": 1, "site": {"title": "Bench", "base_url": "http://bench.example/"},
                                "threads": threads}))


def seed(db_url: str) -> None:
    """200 comments in BIG (a third of them replies), and a few in each of the 50 count threads."""
    storage = open_storage(db_url)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    ids: list[int] = []
    for n in range(200):
        body = f"Comment {n} with *some* Markdown, a [link](https://example.com/{n}) and `code`.\n\n> a quote"
        parent = ids[n // 3] if n % 3 == 2 and ids else None
        stored = storage.add_comment(NewComment(
            thread=BIG, parent_id=parent, status=Status.PUBLISHED, author_name=f"Reader {n}",
            author_email=f"r{n}@example.org", author_url=None, is_author=False, notify_replies=False,
            body=body, body_html=render_comment(body), created_at=start + timedelta(minutes=n),
            ip="127.0.0.1", edit_token_hash=None,
        ))
        ids.append(stored.id)
    for i, path in enumerate(COUNT_THREADS):
        for n in range(i % 5):
            storage.add_comment(NewComment(
                thread=path, parent_id=None, status=Status.PUBLISHED, author_name="R", author_email=None,
                author_url=None, is_author=False, notify_replies=False, body="hi", body_html="<p>hi</p>",
                created_at=start, ip=None, edit_token_hash=None,
            ))
    storage.close()


def run_load(port: int, clients: int, total: int, make_request: Callable[[int], tuple[str, str, bytes | None]],
             expect: int) -> dict[str, float]:
    """`total` requests over `clients` threads, each with its own keep-alive connection."""
    latencies: list[float] = []
    errors: list[int] = []
    lock = threading.Lock()
    counter = iter(range(total))

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        local: list[float] = []
        while True:
            with lock:
                n = next(counter, None)
            if n is None:
                break
            method, path, body = make_request(n)
            headers = {"Content-Type": "application/json"} if body is not None else {}
            began = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                status = -1
            local.append(time.perf_counter() - began)
            if status != expect:
                with lock:
                    errors.append(status)
        conn.close()
        with lock:
            latencies.extend(local)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "errors": len(errors),
        "rps": len(ordered) / elapsed,
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker")
    parser.add_argument("--clients", type=int, default=8, help="concurrent load-generator connections")
    parser.add_argument("--requests", type=int, default=2000, help="requests per scenario")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="comments-bench-") as tmp:
        root = Path(tmp)
        db_url = f"sqlite:///{root / 'bench.sqlite3'}"
        manifest = root / "threads.json"
        write_manifest(manifest)
        seed(db_url)
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("COMMENTS_")}
        env.update({
            "COMMENTS_SECRET_KEY": "benchmark-secret-key-0123456789",
            "COMMENTS_DATABASE_URL": db_url,
            "COMMENTS_THREADS_MANIFEST": str(manifest),
            "COMMENTS_RATE_LIMIT": "off", "COMMENTS_READ_RATE_LIMIT": "off",
            "COMMENTS_MIN_SUBMIT_SECONDS": "off", "COMMENTS_MAX_LINKS": "off",
            "PYTHONPATH": str(REPO),
        })
        log = (root / "gunicorn.log").open("wb")
        command = [sys.executable, "-m", "gunicorn", "--workers", str(args.workers), "--threads", str(args.threads),
                   "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "comments_server.wsgi:app"]
        server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                        break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        print((root / "gunicorn.log").read_text(), file=sys.stderr)
                        return 1
                    time.sleep(0.2)

            read_path = "/api/comments?" + urlencode({"thread": BIG})
            counts_path = "/api/counts?" + urlencode([("thread", t) for t in COUNT_THREADS])
            scenarios: list[tuple[str, Callable[[int], tuple[str, str, bytes | None]], int]] = [
                ("read 200-comment thread", lambda n: ("GET", read_path, None), 200),
                ("post a comment", lambda n: ("POST", "/api/comments", json.dumps({
                    "thread": POSTS, "author_name": f"Bench {n}", "author_email": "b@example.org",
                    "body": f"Posting **benchmark** comment number {n}, see https://example.com/{n}",
                }).encode()), 201),
                ("counts for 50 threads", lambda n: ("GET", counts_path, None), 200),
            ]
            for _, make, expect in scenarios:  # warm-up: imports, connections, caches
                run_load(port, 2, 20, make, expect)
            print(f"gunicorn {args.workers} workers x {args.threads} threads, SQLite, limits off; "
                  f"{args.clients} client connections, {args.requests} requests per scenario "
                  f"({os.cpu_count()} CPUs shared with the load generator)")
            print(f"{'scenario':26} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
            for name, make, expect in scenarios:
                result = run_load(port, args.clients, args.requests, make, expect)
                print(f"{name:26} {result['rps']:8.0f} {result['p50_ms']:8.1f} {result['p99_ms']:8.1f} "
                      f"{result['errors']:7d}")
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{read_path}") as resp:
                size = len(resp.read())
            print(f"(thread response: {size} bytes)")
        finally:
            server.terminate()
            server.wait(timeout=30)
            log.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
