"""`blogengine serve` as a real subprocess: serves the build, mounts the comment server, rebuilds
on change, tells open tabs to reload, and shows a broken build without stopping."""

from __future__ import annotations

import http.client
import json
import queue
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

from blogengine.serve import is_editor_temporary, source_filter
from tests.support.live import free_port, server_env
from tests.support.site import BASIC_CONFIG, post

SEED = json.dumps({"format": "blogengine-comments", "version": 1, "comments": [
    {"uid": "s1", "thread": "/2024/01/hello/", "author_name": "Reader", "body": "First!",
     "created_at": "2024-01-02T10:00:00Z"},
    {"uid": "s2", "parent_uid": "s1", "thread": "/2024/01/hello/", "author_name": "Ann Author",
     "is_author": True, "body": "Welcome.", "created_at": "2024-01-02T11:00:00Z"}]})


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def wait_for(predicate, timeout: float = 20.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


class EventStream:
    """Reads server-sent events in a thread; `next_event()` returns (name, data)."""

    def __init__(self, port: int, since: int) -> None:
        self.events: queue.Queue[tuple[str, dict]] = queue.Queue()
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.connection.request("GET", f"/__blogengine/events?since={since}")
        self.response = self.connection.getresponse()
        assert self.response.getheader("Content-Type").startswith("text/event-stream")
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        name = None
        try:
            for raw in self.response:
                line = raw.decode().rstrip("\n")
                if line.startswith("event: "):
                    name = line[len("event: "):]
                elif line.startswith("data: ") and name:
                    self.events.put((name, json.loads(line[len("data: "):])))
                    name = None
        except (OSError, ValueError):
            pass

    def next_event(self, timeout: float = 20.0) -> tuple[str, dict]:
        return self.events.get(timeout=timeout)

    def close(self) -> None:
        self.connection.close()


@pytest.fixture
def served(make_site, live_servers):
    root = make_site({
        "content/posts/hello.md": post("Hello", "2024-01-01", body="Original text."),
        "demo.json": SEED,
    }, config=BASIC_CONFIG + '\n[comments]\nseed = "demo.json"\n')
    port = free_port()
    server = live_servers.process([sys.executable, "-m", "blogengine", "serve", "--port", str(port)],
                                  port=port, cwd=root, env=server_env(MIN_SUBMIT_SECONDS="off"),
                                  log=root.parent / "serve.log", health="/")
    return root, port, server.url, server


def test_serve_rebuilds_on_edit_and_tells_tabs_to_reload(served):
    root, port, base, _ = served
    status, page = get(base + "/2024/01/hello/")
    assert status == 200 and "Original text." in page
    assert "/__blogengine/reload.js" in page
    generation = int(page.split('data-generation="')[1].split('"')[0])
    stream = EventStream(port, since=generation)
    try:
        source = root / "content/posts/hello.md"
        source.write_text(source.read_text().replace("Original text.", "Edited text."))
        name, _ = stream.next_event()
        assert name == "reload"
        assert "Edited text." in get(base + "/2024/01/hello/")[1]
    finally:
        stream.close()
    assert not (root / "public").exists()  # serve never touches the deployable output


def test_the_search_index_follows_an_edit_after_the_reload(served):
    """serve reloads the pages first and finishes the search index in the background."""
    from tests.blogengine.test_search import indexed_pages
    root, port, base, _ = served
    output = root / ".blogengine" / "serve" / "public"
    wait_for(lambda: (output / "pagefind" / "pagefind.js").is_file(), what="the first index")
    assert "Original text." in indexed_pages(output)["/2024/01/hello/"]
    generation = int(get(base + "/2024/01/hello/")[1].split('data-generation="')[1].split('"')[0])
    stream = EventStream(port, since=generation)
    try:
        source = root / "content/posts/hello.md"
        source.write_text(source.read_text().replace("Original text.", "Quokka text."))
        assert stream.next_event()[0] == "reload"
        wait_for(lambda: "Quokka text." in indexed_pages(output).get("/2024/01/hello/", ""),
                 what="the edit in the search index")
    finally:
        stream.close()
    assert list(output.parent.glob(".public.pagefind-*")) == []


def test_broken_build_is_shown_and_serving_goes_on(served):
    root, port, base, _ = served
    stream = EventStream(port, since=10**6)
    try:
        source = root / "content/posts/hello.md"
        good = source.read_text()
        source.write_text("---\ntitle: [broken\n---\n")
        name, data = stream.next_event()
        while name != "build-error":
            name, data = stream.next_event()
        assert "content/posts/hello.md:" in data["message"] and "invalid YAML" in data["message"]
        status, page = get(base + "/2024/01/hello/")
        assert status == 200 and "Original text." in page   # the last good build
        source.write_text(good.replace("Original text.", "Fixed text."))
        name, _ = stream.next_event()
        assert name == "reload"
        assert "Fixed text." in get(base + "/2024/01/hello/")[1]
    finally:
        stream.close()


def test_new_and_deleted_posts_and_a_config_edit_reach_the_served_site(served):
    """Beyond a saved body: the watcher's change sets for a new file, a deleted one and the
    config take serve through the model and a whole build (livebuild.py)."""
    root, port, base, _ = served
    generation = int(get(base + "/2024/01/hello/")[1].split('data-generation="')[1].split('"')[0])
    stream = EventStream(port, since=generation)
    try:
        fresh = root / "content/posts/fresh.md"
        fresh.write_text(post("Fresh", "2024-02-02", body="A fresh post."))
        assert stream.next_event()[0] == "reload"
        wait_for(lambda: get(base + "/2024/02/fresh/")[0] == 200, what="the new post")
        assert "/2024/02/fresh/" in get(base + "/")[1]
        fresh.unlink()
        assert stream.next_event()[0] == "reload"
        wait_for(lambda: get(base + "/2024/02/fresh/")[0] == 404, what="the post gone")
        config = root / "blogengine.toml"   # (templates/ is watched only when it exists)
        config.write_text(config.read_text().replace('"Test Blog"', '"Renamed Blog"'))
        assert stream.next_event()[0] == "reload"
        wait_for(lambda: "Renamed Blog" in get(base + "/2024/01/hello/")[1],
                 what="the config edit")
    finally:
        stream.close()


def test_reload_script_is_served(served):
    _, _, base, _ = served
    status, script = get(base + "/__blogengine/reload.js")
    assert status == 200 and "EventSource" in script


def test_comment_server_shares_the_origin_with_seeded_conversations(served):
    root, _, base, _ = served
    status, body = get(base + "/api/comments?thread=/2024/01/hello/")
    assert status == 200
    thread = json.loads(body)
    assert thread["count"] == 2
    [first] = thread["comments"]
    assert first["author_name"] == "Reader" and first["replies"][0]["is_author"] is True
    request = urllib.request.Request(
        base + "/api/comments", method="POST", headers={"Content-Type": "application/json"},
        data=json.dumps({"thread": "/2024/01/hello/", "author_name": "Visitor",
                         "body": "Posting through serve",
                         "form_token": json.loads(get(base + "/api/form-token?thread=/2024/01/hello/")[1])["form_token"]}
                        ).encode())
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201
    assert (root / "comments.sqlite3").is_file()


def test_sample_site_prints_its_demo_login_and_the_login_page_shows_it(served):
    _, _, base, server = served
    line = wait_for(lambda: next((ln for ln in server.output().splitlines() if ln.startswith("Log in:")), None),
                    what="the demo login line")
    email, password = line.split()[2], line.split()[4]
    assert email == "ann@example.com" and len(password) >= 10
    status, page = get(base + "/dashboard/login")
    assert status == 200 and password in page and "Demo login" in page


def test_missing_pages_get_the_sites_404(served):
    _, _, base, _ = served
    status, page = get(base + "/no/such/page/")
    assert status == 404 and "Page not found" in page


def test_browsers_asking_for_favicon_ico_get_it(served):
    _root, _port, base, _server = served
    with urllib.request.urlopen(base + "/favicon.ico", timeout=10) as response:
        assert response.status == 200
        assert response.read()[:4] == b"\x00\x00\x01\x00"


@pytest.mark.slow
def test_port_in_use_is_a_clear_error(make_site):
    root = make_site({"content/posts/hello.md": post("Hello", "2024-01-01")})
    import socket
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "blogengine", "serve", "--port", str(port)],
                                cwd=root, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr and "Traceback" not in result.stderr


# What editors write beside the file being saved (names as vim, emacs, JetBrains IDEs, Kate,
# gedit, LibreOffice and macOS write them), and sources that look a little like them.
EDITOR_FILES = [".hello.md.swp", ".hello.md.swo", ".hello.md.swx", "hello.md~", "4913", "5036",
                ".#hello.md", "#hello.md#", "hello.md___jb_tmp___", "hello.md___jb_old___",
                ".DS_Store", "._hello.md", "Thumbs.db", ".hello.md.kate-swp",
                ".goutputstream-9ZQ1T2", ".~lock.notes.odt#", "flycheck_hello.md", "hello.md.orig"]
SOURCES = ["hello.md", "blogengine.toml", "base.html", "style.css", "cat.png", "2024", "4914",
           "notes.swift", "c#-tips.md", "about.md", "README"]


@pytest.mark.parametrize("name", EDITOR_FILES)
def test_watcher_ignores_editor_temporary_files(name, tmp_path):
    assert is_editor_temporary(name)
    assert not source_filter()(None, str(tmp_path / "content" / name))


@pytest.mark.parametrize("name", SOURCES)
def test_watcher_sees_sources(name, tmp_path):
    assert not is_editor_temporary(name)
    assert source_filter()(None, str(tmp_path / "content" / name))


def test_watcher_still_ignores_version_control_folders(tmp_path):
    assert not source_filter()(None, str(tmp_path / ".git" / "index"))
