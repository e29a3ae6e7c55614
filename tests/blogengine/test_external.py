"""`blogengine check --external` against a real local HTTP server that counts what it is asked."""

from __future__ import annotations

import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner

from blogengine.cli import main
from blogengine.config import load_config
from blogengine.external import USER_AGENT, ExternalOptions, check_external
from tests.support.site import post

FAST = ExternalOptions(workers=4, host_delay=0.05, timeout=0.5)


class Handler(BaseHTTPRequestHandler):
    """/ok 200, /gone 404, /moved 301 to /ok, /nohead 405 to HEAD and 200 to GET, /slow
    answers after two seconds."""

    counts: Counter[tuple[str, str]]
    agents: set[str]
    times: list[float]

    def log_message(self, *args):   # quiet
        pass

    def answer(self, method: str) -> None:
        self.counts[(method, self.path)] += 1
        self.agents.add(self.headers.get("User-Agent", ""))
        self.times.append(time.monotonic())
        if self.path == "/slow":
            time.sleep(2)
        status, headers = {"/ok": (200, {}), "/gone": (404, {}),
                           "/moved": (301, {"Location": "/ok"}),
                           "/nohead": (405 if method == "HEAD" else 200, {})}.get(
                               self.path, (200, {}))
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "2")
            self.end_headers()
            if method == "GET":
                self.wfile.write(b"ok")
        except OSError:
            pass       # the checker gave up on /slow

    def do_HEAD(self):
        self.answer("HEAD")

    def do_GET(self):
        self.answer("GET")


@pytest.fixture
def server():
    handler = type("Counting", (Handler,), {"counts": Counter(), "agents": set(), "times": []})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield handler, f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def linked_site(make_site, server):
    _handler, base = server
    body = "\n".join(f"[{name} link]({base}/{name})" + "\n" for name in
                     ("ok", "gone", "moved", "nohead", "slow"))
    return make_site({"content/posts/links.md": post("Links", "2024-05-01", body=body)})


def test_external_check_reports_dead_slow_and_moved_links_politely(linked_site, server,
                                                                  build_at):
    handler, base = server
    report = build_at(linked_site, external_links=True)
    result = check_external(load_config(linked_site), report.output_dir, report.external, FAST)
    assert [str(p) for p in result.problems] == [
        f'content/posts/links.md:8: link "gone link" -> {base}/gone: answers 404',
        f'content/posts/links.md:14: link "slow link" -> {base}/slow: no answer within 0.5 s']
    assert [str(p) for p in result.redirects] == [
        f'content/posts/links.md:10: link "moved link" -> {base}/moved: moved permanently '
        f"(301) to {base}/ok"]
    assert handler.counts == Counter({("HEAD", "/ok"): 1, ("HEAD", "/gone"): 1,
                                      ("HEAD", "/moved"): 1, ("HEAD", "/nohead"): 1,
                                      ("GET", "/nohead"): 1, ("HEAD", "/slow"): 1})
    assert result.requests == 6 and result.cached == 0
    assert handler.agents == {USER_AGENT} and "blogengine" in USER_AGENT
    gaps = [b - a for a, b in zip(handler.times, handler.times[1:])]
    assert min(gaps) >= FAST.host_delay * 0.9      # one host: one request at a time, spaced


def test_external_check_answers_a_second_run_from_its_cache(linked_site, server, build_at):
    handler, _base = server
    report = build_at(linked_site, external_links=True)
    config = load_config(linked_site)
    first = check_external(config, report.output_dir, report.external, FAST)
    asked = sum(handler.counts.values())
    second = check_external(config, report.output_dir, report.external, FAST)
    assert sum(handler.counts.values()) == asked            # nobody was asked again
    assert (second.requests, second.cached) == (0, 5)
    assert [str(p) for p in second.problems] == [str(p) for p in first.problems]
    stale = check_external(config, report.output_dir, report.external,
                           ExternalOptions(host_delay=0.05, timeout=0.5, ttl=0))
    assert stale.requests == 6                               # past its TTL: asked again


def test_check_external_command_exits_1_for_a_dead_link(make_site, server):
    handler, base = server
    root = make_site({"content/posts/links.md": post(
        "Links", "2024-05-01", body=f"[fine]({base}/ok) and [dead]({base}/gone)\n")})
    result = CliRunner().invoke(main, ["check", "--external", "--source", str(root)])
    assert result.exit_code == 1, result.output
    assert f'warning: content/posts/links.md:6: link "dead" -> {base}/gone: answers 404' \
        in result.stderr
    assert "Checked 2 outside link(s) (2 requests, 0 answers from the cache)." in result.stdout
    again = CliRunner().invoke(main, ["check", "--external", "--source", str(root)])
    assert "(0 requests, 2 answers from the cache)" in again.stdout
    assert sum(handler.counts.values()) == 2
