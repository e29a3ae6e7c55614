"""Publish-on-comment latency: from a reader's no-JavaScript post to the static page that shows it.

Two set-ups, on a copy of the demo site (the repository root) with its sample conversations:
- `serve`: `blogengine serve`, which rebuilds in-process after each comment;
- `production`: the comment server (`python -m comments_server serve`) with
  PUBLISH_COMMAND="blogengine build" and the default PUBLISH_DEBOUNCE_SECONDS, beside a plain
  static server on public/.
Each posts the baked form of a post (no form token, as a browser without JavaScript does), then
fetches the static page every 50 ms until the comment is in it. Comments are spaced so that each
is its own publish.

    python benchmarks/publish_latency.py              # 5 comments per set-up, figures printed
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
POST = "/2022/03/a-blog-is-a-conversation-not-a-broadcast/"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return str(response.read().decode())


def wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited: {process.args}")
        try:
            fetch(url)
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not answer")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def post_baked_form(page_url: str, server: str, body: str) -> None:
    """Send the page's own form, as a reader without JavaScript does (no form token)."""
    html = fetch(page_url)
    form = re.search(r'<form class="bec-form bec-form-new"[^>]*action="([^"]+)"(.*?)</form>', html, re.S)
    assert form is not None, "no comment form on the page"
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(2)))
    fields.update(author_name="Latency Reader", body=body)
    request = urllib.request.Request(urllib.parse.urljoin(server + "/", form.group(1)), method="POST",
                                     data=urllib.parse.urlencode(fields).encode(),
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    try:
        urllib.request.build_opener(NoRedirect).open(request, timeout=10)
    except urllib.error.HTTPError as exc:
        if exc.code != 303:
            raise SystemExit(f"post refused: {exc.code} {exc.read()[:300]!r}") from None


def measure(page_url: str, server: str, count: int, gap: float) -> list[float]:
    times = []
    for n in range(count):
        body = f"Latency probe {n} {time.time_ns()}: does this reach the static page?"
        started = time.monotonic()
        post_baked_form(page_url, server, body)
        while body not in fetch(page_url):
            if time.monotonic() - started > 120:
                raise SystemExit("the comment never reached the static page")
            time.sleep(0.05)
        times.append(time.monotonic() - started)
        time.sleep(gap)
    return times


def demo_copy(folder: Path) -> Path:
    site = folder / "site"
    shutil.copytree(REPO / "content", site / "content")
    for name in ("blogengine.toml", "demo-comments.json"):
        shutil.copy(REPO / name, site / name)
    return site


def env(**settings: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("COMMENTS_")}
    return {**clean, **{f"COMMENTS_{k}": v for k, v in settings.items()}}


def run_serve(folder: Path, count: int) -> list[float]:
    site = demo_copy(folder / "serve")
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "blogengine", "serve", "--port", str(port)], cwd=site,
                               env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base + POST, process)
        time.sleep(2)  # the seeded comments' rebuild
        return measure(base + POST, base, count, gap=1.0)
    finally:
        process.terminate()
        process.wait()


def run_production(folder: Path, count: int) -> list[float]:
    site = demo_copy(folder / "production")
    blogengine = [sys.executable, "-m", "blogengine"]
    subprocess.run([*blogengine, "build"], cwd=site, check=True, capture_output=True)
    port, static_port = free_port(), free_port()
    settings = {"SITE": str(site), "SECRET_KEY": "benchmark-secret-" + "x" * 40,
                "SITE_URL": "http://127.0.0.1:8000/", "PUBLISH_COMMAND": " ".join(blogengine + ["build"]),
                "RATE_LIMIT": "off"}
    server = subprocess.Popen([sys.executable, "-m", "comments_server", "serve", "--host", "127.0.0.1", "--port",
                               str(port)], cwd=site, env=env(**settings), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    static = subprocess.Popen([sys.executable, "-m", "http.server", str(static_port), "--bind", "127.0.0.1",
                               "--directory", str(site / "public")], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz", server)
        wait_until_up(f"http://127.0.0.1:{static_port}{POST}", static)
        debounce = 5
        return measure(f"http://127.0.0.1:{static_port}{POST}", f"http://127.0.0.1:{port}", count,
                       gap=debounce + 1.0)
    finally:
        for process in (server, static):
            process.terminate()
            process.wait()


def summary(name: str, times: list[float]) -> str:
    return (f"| {name} | {len(times)} | {statistics.median(times):.2f} | {min(times):.2f} | {max(times):.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=5, help="comments per set-up")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        served = run_serve(Path(folder), args.count)
        produced = run_production(Path(folder), args.count)
    print("| set-up | comments | median s | min s | max s |")
    print("| --- | ---: | ---: | ---: | ---: |")
    print(summary("blogengine serve (in-process rebuild)", served))
    print(summary("comment server + PUBLISH_COMMAND=\"blogengine build\" (debounce 5 s)", produced))


if __name__ == "__main__":
    main()
