"""Load and loss check: real comment servers under gunicorn, concurrent readers and writers for
a bounded time, then every acknowledged comment looked up in the database (zero lost).

Two set-ups, in one run:
  sqlite    one gunicorn (2 workers) on a SQLite file
  postgres  two gunicorn instances (2 workers each) on one PostgreSQL, rate limits in Redis

    python benchmarks/load.py                       # both, 15 s each
    python benchmarks/load.py --setups sqlite --seconds 5
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
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text

REPO = Path(__file__).resolve().parent.parent
THREADS = [f"/load/post-{n}/" for n in range(20)]
SECRET = "load-benchmark-secret-0123456789"


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    acked: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, seconds: float, ok: bool, comment_id: int | None = None) -> None:
        with self.lock:
            self.latencies.append(seconds)
            if not ok:
                self.errors += 1
            if comment_id is not None:
                self.acked.append(comment_id)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_gunicorn(env: dict[str, str], folder: Path, name: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    log = (folder / f"{name}.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", "2", "--bind",
                                f"127.0.0.1:{port}", "comments_server.wsgi:app"],
                               env=env, cwd=folder, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{name} did not start: see {folder / f'{name}.log'}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return process, port
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{name} did not answer")


def server_env(database_url: str, manifest: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMMENTS_")}
    env.update({"COMMENTS_SECRET_KEY": SECRET, "COMMENTS_DATABASE_URL": database_url,
                "COMMENTS_THREADS_MANIFEST": str(manifest), "COMMENTS_MIN_SUBMIT_SECONDS": "off",
                "COMMENTS_MAIL_SEND_IN_BACKGROUND": "false",
                "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")})
    env.update({f"COMMENTS_{key}": value for key, value in extra.items()})
    return env


def reader(port: int, stop: threading.Event, tally: Tally, seed: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    n = seed
    while not stop.is_set():
        n += 1
        started = time.perf_counter()
        try:
            connection.request("GET", f"/api/comments?thread={THREADS[n % len(THREADS)]}")
            response = connection.getresponse()
            response.read()
            tally.add(time.perf_counter() - started, response.status == 200)
        except (OSError, http.client.HTTPException):
            tally.add(time.perf_counter() - started, False)
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)


def writer(port: int, stop: threading.Event, tally: Tally, seed: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    n = 0
    while not stop.is_set():
        n += 1
        body = json.dumps({"thread": THREADS[(seed + n) % len(THREADS)], "author_name": f"Load {seed}",
                           "body": f"Comment {n} from writer {seed}, written under load."})
        started = time.perf_counter()
        try:
            connection.request("POST", "/api/comments", body, {"Content-Type": "application/json"})
            response = connection.getresponse()
            data = response.read()
            ok = response.status in (201, 202)
            comment_id = json.loads(data).get("id") if response.status == 201 else None
            tally.add(time.perf_counter() - started, ok, comment_id)
        except (OSError, http.client.HTTPException, ValueError):
            tally.add(time.perf_counter() - started, False)
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)


def drive(ports: list[int], seconds: float, readers: int, writers: int) -> tuple[Tally, Tally]:
    stop = threading.Event()
    reads, writes = Tally(), Tally()
    threads = [threading.Thread(target=reader, args=(ports[i % len(ports)], stop, reads, i))
               for i in range(readers)]
    threads += [threading.Thread(target=writer, args=(ports[i % len(ports)], stop, writes, i))
                for i in range(writers)]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    return reads, writes


def summary(name: str, tally: Tally, seconds: float) -> str:
    values = sorted(tally.latencies)
    if not values:
        return f"| {name} | 0 | - | - | {tally.errors} |"
    p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
    return (f"| {name} | {len(values) / seconds:.0f} | {statistics.median(values) * 1000:.1f} | "
            f"{p99 * 1000:.1f} | {tally.errors} |")


def stored_ids(url: str) -> set[int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {int(row[0]) for row in conn.execute(text("SELECT id FROM comments"))}
    finally:
        engine.dispose()


def run_setup(setup: str, args: argparse.Namespace, folder: Path) -> tuple[list[str], int]:
    manifest = folder / "threads.json"
    manifest.write_text(json.dumps({"version": 1, "site": {"title": "Load", "base_url": "http://x/"},
                                    "threads": [{"path": t, "title": t, "author": "A", "open": True}
                                                for t in THREADS]}))
    processes = []
    admin = None
    schema = ""
    try:
        if setup == "sqlite":
            url = f"sqlite:///{folder / 'load.sqlite3'}"
            env = server_env(url, manifest, RATE_LIMIT="off", READ_RATE_LIMIT="off")
            process, port = start_gunicorn(env, folder, "sqlite")
            processes.append(process)
            ports = [port]
        else:
            schema = f"load_{uuid.uuid4().hex[:10]}"
            admin = create_engine(args.postgres)
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            sep = "&" if "?" in args.postgres else "?"
            url = f"{args.postgres}{sep}options=-csearch_path%3D{schema}"
            # Limits on, shared through Redis, high enough for the load: they are part of the path.
            env = server_env(url, manifest, RATE_LIMIT="100000/minute", READ_RATE_LIMIT="1000000/minute",
                             RATE_LIMIT_STORAGE_URL=args.redis, RATE_LIMIT_KEY_PREFIX=schema)
            ports = []
            for name in ("postgres-one", "postgres-two"):
                process, port = start_gunicorn(env, folder, name)
                processes.append(process)
                ports.append(port)
        reads, writes = drive(ports, args.seconds, args.readers, args.writers)
        lost = len(set(writes.acked) - stored_ids(url))
        rows = [summary(f"{setup}: read a thread", reads, args.seconds),
                summary(f"{setup}: post a comment", writes, args.seconds)]
        rows.append(f"| {setup}: acknowledged (201) | {len(writes.acked)} | | | lost: {lost} |")
        return rows, lost
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=20)
        if admin is not None:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setups", nargs="+", default=["sqlite", "postgres"])
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--readers", type=int, default=16)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--postgres", default=os.environ.get(
        "COMMENTS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--redis", default=os.environ.get("COMMENTS_TEST_REDIS_URL",
                                                          "redis://127.0.0.1:6379/15"))
    args = parser.parse_args()
    rows = ["| set-up and load | req/s | p50 ms | p99 ms | errors |", "| --- | ---: | ---: | ---: | ---: |"]
    total_lost = 0
    with tempfile.TemporaryDirectory(prefix="blogengine-load-") as tmp:
        for setup in args.setups:
            folder = Path(tmp) / setup
            folder.mkdir()
            setup_rows, lost = run_setup(setup, args, folder)
            rows += setup_rows
            total_lost += lost
    print(f"{args.readers} readers and {args.writers} writers for {args.seconds:.0f} s per set-up "
          "(a Python load generator on the same 2 CPUs):\n")
    print("\n".join(rows))
    print(f"\nlost acknowledged comments: {total_lost}")
    return 1 if total_lost else 0


if __name__ == "__main__":
    sys.exit(main())
