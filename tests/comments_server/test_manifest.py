"""The thread manifest: loaded from a file or URL, reloaded when it changes, gatekeeper for threads."""

from __future__ import annotations

import http.server
import json
import os

import pytest

from comments_server.errors import ConfigError
from comments_server.manifest import ManifestError, ThreadIndex, parse_manifest
from tests.support.live import serve_in_thread
from tests.support.server import POST, THREADS, assert_error, post_comment, write_manifest

NEW = {"path": "/2025/new/", "title": "New", "author": "Ann", "open": True}


def bump_mtime(path):
    stat = os.stat(path)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def test_manifest_reloads_when_the_file_changes(client, manifest):
    assert_error(post_comment(client, thread=NEW["path"]), 404, "unknown_thread", "thread")
    write_manifest(manifest, THREADS + [NEW])
    bump_mtime(manifest)
    assert post_comment(client, thread=NEW["path"]).status_code == 201
    closed = [dict(t, open=False) for t in THREADS + [NEW]]
    write_manifest(manifest, closed)
    bump_mtime(manifest)
    assert_error(post_comment(client, thread=NEW["path"]), 403, "thread_closed", "thread")
    assert client.get("/api/comments", query_string={"thread": NEW["path"]}).get_json()["open"] is False


def test_broken_manifest_after_a_good_one_keeps_the_good_one(client, manifest):
    manifest.write_text("{ half written")
    bump_mtime(manifest)
    assert post_comment(client).status_code == 201


def test_missing_manifest_means_no_threads_until_built(make_app, tmp_path):
    path = tmp_path / "later" / "threads.json"
    client = make_app(THREADS_MANIFEST=str(path)).test_client()
    assert_error(post_comment(client), 404, "unknown_thread", "thread")
    write_manifest(path)
    assert post_comment(client).status_code == 201


def test_broken_manifest_at_start_is_a_config_error(make_app, manifest):
    manifest.write_text(json.dumps({"version": 2, "threads": []}))
    with pytest.raises(ConfigError, match="version 2 is not supported"):
        make_app()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("[]", "expected a JSON object"),
        ('{"version": 1}', "threads: expected a list"),
        ('{"version": 1, "threads": [{"path": "no-slash"}]}', r"threads\[0\]: path"),
        ('{"version": 1, "threads": [{"path": "/a/", "open": "yes"}]}', "open a boolean"),
        ('{"version": 1, "threads": [5]}', "expected an object"),
        ("not json", "not valid JSON"),
    ],
)
def test_parse_manifest_errors(data, message):
    with pytest.raises(ManifestError, match=message):
        parse_manifest(data, "threads.json")


def test_parse_manifest_defaults():
    parsed = parse_manifest('{"version": 1, "threads": [{"path": "/a/", "title": "A"}]}', "m")
    assert parsed.threads["/a/"].open is True and parsed.threads["/a/"].author == ""
    assert parsed.site_url == "" and parsed.site_title == "" and parsed.site_language == ""


def test_manifest_gives_the_site_language_and_older_manifests_none():
    text = '{"version": 1, "site": {"title": "T", "language": "fr-CA"}, "threads": []}'
    assert parse_manifest(text, "m").site_language == "fr-CA"
    assert parse_manifest(text.replace('"fr-CA"', "3"), "m").site_language == ""
    older = '{"version": 1, "site": {"title": "T", "base_url": "https://b.example/"}, "threads": []}'
    assert parse_manifest(older, "m").site_language == ""


def test_no_manifest_needs_the_dev_flag(make_app):
    with pytest.raises(ConfigError, match="THREADS_MANIFEST is not set"):
        make_app(THREADS_MANIFEST="")
    client = make_app(THREADS_MANIFEST="", ALLOW_UNKNOWN_THREADS=True).test_client()
    assert post_comment(client, thread="/any/path/").status_code == 201
    assert_error(post_comment(client, thread="not a path"), 400, "invalid", "thread")


def test_dev_flag_still_honours_closed_threads_in_a_manifest(make_app):
    client = make_app(ALLOW_UNKNOWN_THREADS=True).test_client()
    assert post_comment(client, thread="/unlisted/").status_code == 201
    assert post_comment(client, thread="/2023/01/closed/").status_code == 403


@pytest.fixture
def manifest_url():
    """A local HTTP server serving a manifest that the test can change."""
    state = {"body": json.dumps({"version": 1, "site": {}, "threads": THREADS}).encode(), "hits": 0}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            state["hits"] += 1
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(state["body"])

        def log_message(self, *args):
            pass

    with serve_in_thread(http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)) as url:
        yield f"{url}/threads.json", state


@pytest.mark.slow
def test_manifest_from_url_is_refetched_after_ttl(manifest_url):
    url, state = manifest_url
    index = ThreadIndex(url, ttl=0.2)
    index.load()
    assert index.get(POST) is not None and index.get(NEW["path"]) is None
    state["body"] = json.dumps({"version": 1, "threads": THREADS + [NEW]}).encode()
    assert index.get(NEW["path"]) is None  # within the TTL: no new fetch
    import time

    time.sleep(0.25)
    assert index.get(NEW["path"]) is not None
    assert state["hits"] == 2


def test_manifest_url_failure_keeps_the_last_good_one(manifest_url):
    url, state = manifest_url
    index = ThreadIndex(url, ttl=0)
    index.load()
    state["body"] = b"broken"
    assert index.get(POST) is not None


def test_manifest_url_in_app(make_app, manifest_url):
    url, _ = manifest_url
    client = make_app(THREADS_MANIFEST=url).test_client()
    assert post_comment(client).status_code == 201
