"""Load benchmark of the comment server beside Isso 0.14, both under gunicorn on 127.0.0.1 (SQLite).

Each run starts both servers on fresh copies of the same data (a 200-comment thread, 50 small
threads) with the same gunicorn settings, and measures with wrk: reading the 200-comment thread,
posting comments (every 201 is looked up in the database afterwards), counts for 50 threads, and
reading the thread while a few writers post to it. Limits are off on both (Isso: [guard] off).
wrk runs on the same machine and shares its CPUs with the servers.

Isso is installed on first use with pip into its own venv (``--isso-venv``, default under
~/.cache/blogengine-bench/); wrk is the Debian package ``wrk``.

    python benchmarks/comments_server.py [--runs 3] [--duration 10] [--connections 32] [--no-isso]
    python benchmarks/comments_server.py --scenarios post --runs 1     # one scenario alone
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from comments_server.models import NewComment, Status
from comments_server.sanitize import render_comment
from comments_server.storage import open_storage

ISSO_VERSION = "0.14.0"
BIG = "/bench/big-thread/"
POSTS = "/bench/posting/"
COUNT_THREADS = [f"/bench/post-{n}/" for n in range(50)]
SEED_START = datetime(2026, 1, 1, tzinfo=UTC)


def seed_comments() -> list[dict[str, Any]]:
    """The data both servers get: 200 comments in BIG (every third a reply), 0-4 in each small thread."""
    rows: list[dict[str, Any]] = []
    for n in range(200):
        rows.append({
            "thread": BIG, "key": n, "parent": n // 3 if n % 3 == 2 else None, "author": f"Reader {n}",
            "email": f"r{n}@example.org",
            "body": f"Comment {n} with *some* Markdown, a [link](https://example.com/{n}) and `code`.\n\n> a quote",
            "created": SEED_START + timedelta(minutes=n),
        })
    for i, path in enumerate(COUNT_THREADS):
        for n in range(i % 5):
            rows.append({"thread": path, "key": f"{i}-{n}", "parent": None, "author": "R", "email": None,
                         "body": "hi there", "created": SEED_START})
    return rows


# --- wrk -------------------------------------------------------------------------------------------

WRK_COMMON = r"""
threads = {}
counter = 0
setup = function(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end
init = function(args)
  n = 0
  created = 0
  other = 0
  ids = {}
end
done = function(summary, latency, requests)
  local e = summary.errors
  local all_ids, made, others = {}, 0, 0
  for _, t in ipairs(threads) do
    local got = t:get("ids")
    if got and #got > 0 then table.insert(all_ids, table.concat(got, ",")) end
    made = made + (t:get("created") or 0)
    others = others + (t:get("other") or 0)
  end
  io.write(string.format(
    'RESULT {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,'
    .. '"p50_us":%d,"p99_us":%d,"max_us":%d,"created":%d,"unexpected":%d,"ids":[%s]}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max, made, others, table.concat(all_ids, ",")))
end
"""

WRK_POST = r"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  n = n + 1
  local id = tid .. "-" .. n
  local text = "Posting **benchmark** comment number " .. id .. ", see https://example.com/" .. id
  return wrk.format(nil, PATH, nil, string.format(BODY, "Bench " .. id, text))
end
response = function(status, headers, body)
  if status == 201 then
    created = created + 1
    local id = string.match(body, '"id":%s*(%d+)')
    if id then table.insert(ids, id) end
  else
    other = other + 1
  end
end
"""


@dataclass
class Load:
    """One wrk invocation: a request (method, path, body) or a posting script, and its connections."""

    path: str
    connections: int
    method: str = "GET"
    body: str | None = None
    post_body: str | None = None      # a %s/%s JSON template (name, text): a unique comment per request


def wrk_script(load: Load) -> str:
    script = WRK_COMMON
    if load.post_body is not None:
        script += WRK_POST.replace("PATH", json.dumps(load.path)).replace("BODY", json.dumps(load.post_body))
    elif load.method != "GET":
        script += (f"wrk.method = {json.dumps(load.method)}\nwrk.body = {json.dumps(load.body)}\n"
                   'wrk.headers["Content-Type"] = "application/json"\n')
    return script


def start_wrk(base: str, load: Load, seconds: float, folder: Path) -> subprocess.Popen[str]:
    script = folder / f"load-{os.getpid()}-{time.monotonic_ns()}.lua"
    script.write_text(wrk_script(load))
    threads = max(1, min(2, load.connections))
    command = ["wrk", "-t", str(threads), "-c", str(load.connections), "-d", f"{max(1, round(seconds))}s", "--timeout", "30s",
               "-s", str(script), base + load.path]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wrk_result(process: subprocess.Popen[str]) -> dict[str, Any]:
    out, _ = process.communicate(timeout=600)
    line = next((x for x in out.splitlines() if x.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed:\n{out}")
    data: dict[str, Any] = json.loads(line.removeprefix("RESULT "))
    seconds = data["duration_us"] / 1e6
    data["rps"] = data["requests"] / seconds if seconds else 0.0
    data["errors"] = sum(data[k] for k in ("connect", "read", "write", "status", "timeout", "unexpected"))
    return data


def paced_posts(base: str, load: Load, writers: int, per_second: float, seconds: float) -> dict[str, Any]:
    """`writers` threads, each posting `per_second` comments a second, for `seconds`. wrk's own pacing
    (delay()) opens the connection before the pause, which ties up a sync worker waiting for the
    request: no browser does that, so the writers beside the readers are paced here instead."""
    import http.client
    import threading
    from urllib.parse import urlsplit

    assert load.post_body is not None
    host = urlsplit(base)
    latencies: list[float] = []
    ids: list[int] = []
    unexpected = [0]
    lock = threading.Lock()
    began = time.monotonic()

    def writer(w: int) -> None:
        n = 0
        while True:
            due = began + n / per_second
            if due - began >= seconds:
                return
            time.sleep(max(0.0, due - time.monotonic()))
            n += 1
            text = f"Posting **benchmark** comment number {w}-{n}, see https://example.com/{w}-{n}"
            body = (load.post_body % (f"Writer {w}-{n}", text)).encode()
            conn = http.client.HTTPConnection(host.hostname or "127.0.0.1", host.port, timeout=60)
            start = time.perf_counter()
            try:
                conn.request("POST", load.path, body=body, headers={"Content-Type": "application/json"})
                response = conn.getresponse()
                data = response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                status, data = -1, b""
            finally:
                conn.close()
            elapsed = time.perf_counter() - start
            with lock:
                latencies.append(elapsed)
                if status == 201:
                    ids.append(int(json.loads(data)["id"]))
                else:
                    unexpected[0] += 1

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    duration = time.monotonic() - began
    ordered = sorted(latencies) or [0.0]
    return {
        "requests": len(latencies), "rps": len(latencies) / duration, "created": len(ids), "ids": ids,
        "p50_us": statistics.median(ordered) * 1e6, "p99_us": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1e6,
        "errors": unexpected[0], "unexpected": unexpected[0],
    }


# --- servers ------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"server did not start:\n{log.read_text(errors='replace')}") from None
            time.sleep(0.2)


def drain(url: str, timeout: float = 600) -> float:
    """Wait until the server answers `url`: when wrk stops, the requests it left queued are still
    answered one by one (a sync worker cannot tell that the client left), and would eat into the
    next scenario. Done alike after every load on both servers; returns the seconds it took."""
    began = time.monotonic()
    while True:
        try:
            with urllib.request.urlopen(url, timeout=timeout):
                return time.monotonic() - began
        except urllib.error.HTTPError:
            return time.monotonic() - began
        except OSError:
            if time.monotonic() - began > timeout:
                raise RuntimeError(f"{url} did not answer within {timeout:.0f} s after a load") from None
            time.sleep(0.2)


def gunicorn_options(port: int, args: argparse.Namespace) -> list[str]:
    """The same settings for both servers."""
    return ["--workers", str(args.workers), "--worker-class", args.worker_class, "--threads", str(args.threads),
            "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "--timeout", "120"]


@dataclass
class Server:
    """A peer under test: how to seed it, start it, and what each scenario sends."""

    name: str
    seed: Callable[[Path], None]
    command: Callable[[Path, int], tuple[list[str], dict[str, str]]]
    read_path: str
    health_path: str
    counts: Load
    post: Callable[[str, int], Load]    # (thread, connections)
    stored_ids: Callable[[Path, list[int]], set[int]]
    thread_rows: Callable[[Path, str], int]
    template: Path | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)


def our_server(args: argparse.Namespace) -> Server:
    def seed(folder: Path) -> None:
        (folder / "threads.json").write_text(json.dumps({
            "version": 1, "site": {"title": "Bench", "base_url": "http://bench.example/"},
            "threads": [{"path": p, "title": p, "author": "Ann", "open": True} for p in [BIG, POSTS, *COUNT_THREADS]],
        }))
        storage = open_storage(f"sqlite:///{folder / 'db.sqlite3'}")
        ids: dict[Any, int] = {}
        for row in seed_comments():
            stored = storage.add_comment(NewComment(
                thread=row["thread"], parent_id=ids.get(row["parent"]), status=Status.PUBLISHED,
                author_name=row["author"], author_email=row["email"], author_url=None, is_author=False,
                notify_replies=False, body=row["body"], body_html=render_comment(row["body"]),
                created_at=row["created"], ip="127.0.0.1", edit_token_hash=None,
            ))
            ids[row["key"]] = stored.id
        storage.close()

    def command(folder: Path, port: int) -> tuple[list[str], dict[str, str]]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("COMMENTS_")}
        env.update({
            "COMMENTS_SECRET_KEY": "benchmark-secret-key-0123456789-abcdefghij",
            "COMMENTS_DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
            "COMMENTS_THREADS_MANIFEST": str(folder / "threads.json"),
            "COMMENTS_RATE_LIMIT": "off", "COMMENTS_READ_RATE_LIMIT": "off",
            "COMMENTS_MIN_SUBMIT_SECONDS": "off", "COMMENTS_MAX_LINKS": "off",
            "PYTHONPATH": str(REPO),
        })
        return [sys.executable, "-m", "gunicorn", *gunicorn_options(port, args),
                "comments_server.wsgi:app"], env

    def post(thread: str, connections: int) -> Load:
        template = json.dumps({"thread": thread, "author_name": "%s", "author_email": "b@example.org", "body": "%s"})
        return Load("/api/comments", connections, post_body=template)

    def stored_ids(folder: Path, ids: list[int]) -> set[int]:
        return _ids_in(folder / "db.sqlite3", ids)

    def thread_rows(folder: Path, thread: str) -> int:
        return _count(folder / "db.sqlite3", "SELECT count(*) FROM comments WHERE thread = ?", thread)

    return Server(
        name="blogengine", seed=seed, command=command, read_path="/api/comments?" + urlencode({"thread": BIG}),
        health_path="/healthz",
        counts=Load("/api/counts?" + urlencode([("thread", t) for t in COUNT_THREADS]), args.connections),
        post=post, stored_ids=stored_ids, thread_rows=thread_rows,
    )


ISSO_SEED = r"""
import json, sys
from isso import config
from isso.db import SQLite3
conf = config.load(config.default_file(), sys.argv[1])
db = SQLite3(conf.get("general", "dbpath"), conf)
ids = {}
for path in json.loads(sys.argv[3]):
    db.threads.new(path, path)
for row in json.load(open(sys.argv[2])):
    data = {"text": row["body"], "author": row["author"], "email": row["email"], "website": None,
            "parent": ids.get(str(row["parent"])) if row["parent"] is not None else None,
            "mode": 1, "remote_addr": "127.0.0.1", "created": row["created"], "notification": 0}
    ids[str(row["key"])] = db.comments.add(row["thread"], data)["id"]
"""


def isso_venv(path: Path) -> Path:
    """A venv with Isso and the same gunicorn as ours, made once."""
    python = path / "bin" / "python"
    marker = path / f".isso-{ISSO_VERSION}"
    if not marker.exists():
        print(f"installing isso {ISSO_VERSION} into {path} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(path)], check=True)
        gunicorn = importlib.metadata.version("gunicorn")
        subprocess.run([str(python), "-m", "pip", "install", "-q", f"isso=={ISSO_VERSION}", f"gunicorn=={gunicorn}"],
                       check=True)
        marker.write_text("")
    return python


def isso_server(args: argparse.Namespace) -> Server:
    python = isso_venv(Path(args.isso_venv).expanduser())

    def config(folder: Path) -> Path:
        cfg = folder / "isso.cfg"
        cfg.write_text(f"""[general]
dbpath = {folder / 'isso.db'}
host = http://127.0.0.1:9/
notify = stdout
[moderation]
enabled = false
[guard]
enabled = false
""")
        return cfg

    def seed(folder: Path) -> None:
        rows = [{**r, "created": r["created"].timestamp()} for r in seed_comments()]
        (folder / "rows.json").write_text(json.dumps(rows))
        subprocess.run([str(python), "-c", ISSO_SEED, str(config(folder)), str(folder / "rows.json"),
                        json.dumps([BIG, POSTS, *COUNT_THREADS])], check=True, capture_output=True)

    def command(folder: Path, port: int) -> tuple[list[str], dict[str, str]]:
        env = {**os.environ, "ISSO_SETTINGS": str(config(folder))}
        return [str(python), "-m", "gunicorn", *gunicorn_options(port, args),
                "isso.run:application"], env

    def post(thread: str, connections: int) -> Load:
        template = json.dumps({"author": "%s", "email": "b@example.org", "text": "%s"})
        return Load("/new?uri=" + quote(thread, safe=""), connections, post_body=template)

    def stored_ids(folder: Path, ids: list[int]) -> set[int]:
        return _ids_in(folder / "isso.db", ids)

    def thread_rows(folder: Path, thread: str) -> int:
        return _count(folder / "isso.db", "SELECT count(*) FROM comments JOIN threads ON threads.id = comments.tid"
                      " WHERE threads.uri = ?", thread)

    return Server(
        name=f"Isso {ISSO_VERSION}", seed=seed, command=command, read_path="/?uri=" + quote(BIG, safe=""),
        health_path="/config", counts=Load("/count", args.connections, method="POST", body=json.dumps(COUNT_THREADS)),
        post=post, stored_ids=stored_ids, thread_rows=thread_rows,
    )


def _count(db: Path, sql: str, *params: Any) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute(sql, params).fetchone()[0])


def _ids_in(db: Path, ids: list[int]) -> set[int]:
    found: set[int] = set()
    with sqlite3.connect(db) as conn:
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            found.update(r[0] for r in conn.execute(f"SELECT id FROM comments WHERE id IN ({marks})", chunk))
    return found


# --- one run -----------------------------------------------------------------------------------------

SCENARIOS = ["read 200-comment thread", "post a comment", "counts for 50 threads", "read while 4 post",
             "  (the 4 posting to it)"]
# --scenarios names: each runs the SCENARIOS rows it produces ("mixed" is the last two).
SCENARIO_NAMES = ["read", "post", "counts", "mixed"]


def check_posts(server: Server, folder: Path, thread: str, post: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Post, then check that every 201 is in the database: `lost` counts 201s without a row (rows
    added to the thread, ids missing), `wrong_ids` 201s that named the same comment as another."""
    before = server.thread_rows(folder, thread)
    result = post()
    added = server.thread_rows(folder, thread) - before
    distinct = set(result["ids"])
    missing = len(distinct - server.stored_ids(folder, sorted(distinct)))
    result["lost"] = max(result["created"] - added, missing)
    result["wrong_ids"] = result["created"] - len(distinct)
    return result


def measure(server: Server, args: argparse.Namespace, work: Path) -> dict[str, dict[str, Any]]:
    """Start `server` on a fresh copy of its data, run every scenario, stop it."""
    folder = work / f"{server.name.split()[0].lower()}-{time.monotonic_ns()}"
    assert server.template is not None
    shutil.copytree(server.template, folder)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command, env = server.command(folder, port)
    log = folder / "server.log"
    with log.open("wb") as handle:
        process = subprocess.Popen(command, env=env, cwd=folder, stdout=handle, stderr=subprocess.STDOUT)
    try:
        wait_until_up(base + server.health_path, process, log)
        seconds = args.duration
        reads = Load(server.read_path, args.connections)
        health = base + server.health_path
        # Warm-up: imports, connections, caches.
        for load in (reads, server.counts, server.post(POSTS, 2)):
            wrk_result(start_wrk(base, load, 1, folder))
            drain(health)
        results: dict[str, dict[str, Any]] = {}
        with urllib.request.urlopen(base + server.read_path, timeout=60) as response:
            results["_size"] = {"bytes": len(response.read())}
        drained: list[float] = []
        if "read" in args.scenarios:
            results[SCENARIOS[0]] = wrk_result(start_wrk(base, reads, seconds, folder))
            drained.append(drain(health))
        if "post" in args.scenarios:
            results[SCENARIOS[1]] = check_posts(server, folder, POSTS, lambda: wrk_result(
                start_wrk(base, server.post(POSTS, args.connections), seconds, folder)))
            drained.append(drain(health))
        if "counts" in args.scenarios:
            results[SCENARIOS[2]] = wrk_result(start_wrk(base, server.counts, seconds, folder))
            drained.append(drain(health))
        if "mixed" in args.scenarios:
            writers = 4
            readers = start_wrk(base, Load(server.read_path, args.connections - writers), seconds, folder)
            results[SCENARIOS[4]] = check_posts(server, folder, BIG, lambda: paced_posts(
                base, server.post(BIG, writers), writers, args.writer_rate, seconds))
            results[SCENARIOS[3]] = wrk_result(readers)
            drained.append(drain(health))
        print(f"  (queued requests drained after each scenario in {', '.join(f'{d:.1f}' for d in drained)} s)",
              file=sys.stderr)
        return results
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


# --- report -------------------------------------------------------------------------------------------


def spread(values: Sequence[float], fmt: str) -> str:
    med = statistics.median(values)
    if len(values) == 1:
        return format(med, fmt)
    return f"{format(med, fmt)} ({format(min(values), fmt)}-{format(max(values), fmt)})"


def report(runs: dict[str, list[dict[str, dict[str, Any]]]], args: argparse.Namespace) -> None:
    print()
    print(f"gunicorn {args.workers} {args.worker_class} workers x {args.threads} thread(s), SQLite, limits off, {args.connections} "
          f"connections, {args.duration:g} s per scenario, {args.runs} run(s): median (min-max); "
          f"wrk shares the {os.cpu_count()} CPUs")
    header = f"{'scenario':26} {'server':12} {'req/s':>18} {'p50 ms':>18} {'p99 ms':>20} {'errors':>7} {'lost':>5}"
    print(header)
    print("-" * len(header))
    names = list(runs)
    for scenario in SCENARIOS:
        if scenario not in runs[names[0]][0]:
            continue
        for name in names:
            rows = [run[scenario] for run in runs[name]]
            rps = spread([r["rps"] for r in rows], ".0f")
            p50 = spread([r["p50_us"] / 1000 for r in rows], ".1f")
            p99 = spread([r["p99_us"] / 1000 for r in rows], ".1f")
            errors = sum(r["errors"] for r in rows)
            lost = sum(r.get("lost", 0) for r in rows) if "lost" in rows[0] else ""
            wrong = sum(r.get("wrong_ids", 0) for r in rows)
            note = f"  ({wrong} 201s named another request's comment)" if wrong else ""
            print(f"{scenario:26} {name:12} {rps:>18} {p50:>18} {p99:>20} {errors:7d} {lost!s:>5}{note}")
    if len(names) == 2:
        ours, theirs = names
        print()
        for scenario in SCENARIOS[:3]:
            if scenario not in runs[ours][0]:
                continue
            ratios = [a[scenario]["rps"] / b[scenario]["rps"] for a, b in zip(runs[ours], runs[theirs], strict=True)
                      if b[scenario]["rps"]]
            if ratios:
                print(f"{scenario}: {ours} / {theirs} requests/s = {spread(ratios, '.1f')} x")
    for name in names:
        print(f"{name}: the 200-comment thread is {runs[name][0]['_size']['bytes']} bytes of JSON")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="full runs (both servers each time)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per scenario")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", default="sync", help="gunicorn worker class: sync (default) or gthread")
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker")
    parser.add_argument("--writer-rate", type=float, default=5,
                        help="posts a second by each of the 4 writers beside the readers (to the read thread)")
    parser.add_argument("--no-isso", action="store_true", help="measure blogengine alone")
    parser.add_argument("--isso-venv", default="~/.cache/blogengine-bench/isso-venv")
    parser.add_argument("--scenarios", type=lambda v: v.split(","), default=SCENARIO_NAMES,
                        help=f"comma-separated, from {','.join(SCENARIO_NAMES)} (default: all)")
    parser.add_argument("--keep", action="store_true", help="keep each run's folder (databases, logs)")
    args = parser.parse_args()
    unknown = sorted(set(args.scenarios) - set(SCENARIO_NAMES))
    if unknown:
        parser.error(f"unknown scenario(s) {', '.join(unknown)}; choose from {', '.join(SCENARIO_NAMES)}")
    if shutil.which("wrk") is None:
        print("wrk is needed: apt-get install wrk", file=sys.stderr)
        return 1

    servers = [our_server(args)] + ([] if args.no_isso else [isso_server(args)])
    with tempfile.TemporaryDirectory(prefix="comments-bench-") as tmp:
        work = Path(tmp)
        for server in servers:
            server.template = work / f"template-{server.name.split()[0].lower()}"
            server.template.mkdir()
            server.seed(server.template)
        runs: dict[str, list[dict[str, dict[str, Any]]]] = {s.name: [] for s in servers}
        for n in range(args.runs):
            for server in servers:
                print(f"run {n + 1}/{args.runs}: {server.name} (load average {os.getloadavg()[0]:.2f})",
                      file=sys.stderr)
                result = measure(server, args, work)
                runs[server.name].append(result)
                for scenario in SCENARIOS:
                    if scenario not in result:
                        continue
                    r = result[scenario]
                    print(f"  {scenario:26} {r['rps']:8.0f} req/s  p50 {r['p50_us'] / 1000:7.1f} ms  "
                          f"p99 {r['p99_us'] / 1000:7.1f} ms  errors {r['errors']}"
                          + (f"  lost {r['lost']}" if "lost" in r else ""), file=sys.stderr)
        report(runs, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
