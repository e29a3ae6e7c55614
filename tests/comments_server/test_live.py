"""A real server on 127.0.0.1: the API over HTTP, started from a site folder, and concurrent posting."""

from __future__ import annotations

import json
import sys
import textwrap
import threading

from sqlalchemy import create_engine, text

from tests.support.live import free_port, server_env
from tests.support.server import POST, check_against_openapi, new_comment, write_manifest


def test_live_server_post_read_and_errors(live_server):
    status, headers, body = live_server.request("POST", "/api/comments", new_comment(body="Over **HTTP**"))
    assert status == 201, body
    check_against_openapi("POST", "/api/comments", status, body, headers["Content-Type"])
    created = json.loads(body)
    status, headers, body = live_server.request("GET", f"/api/comments?thread={POST}")
    assert status == 200
    check_against_openapi("GET", "/api/comments", status, body, headers["Content-Type"])
    assert json.loads(body)["comments"][0]["id"] == created["id"]
    status, headers, body = live_server.request("POST", "/api/comments", raw=b"{broken",
                                                headers={"Content-Type": "application/json"})
    assert status == 400 and json.loads(body)["error"]["code"] == "invalid_json"
    status, _, body = live_server.request("POST", "/api/comments", raw=b"body=x",
                                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 415
    status, _, body = live_server.request("POST", "/api/comments", new_comment(thread="/none/"))
    assert status == 404
    status, _, body = live_server.request("PATCH", f"/api/comments/{created['id']}", {"body": "edited"},
                                          headers={"X-Edit-Token": created["edit_token"]})
    assert status == 200 and json.loads(body)["body_html"] == "<p>edited</p>"
    status, _, body = live_server.request("GET", "/feeds/comments.atom")
    assert status == 200 and b"<feed" in body
    status, _, body = live_server.request("GET", f"/api/counts?thread={POST}")
    assert json.loads(body) == {POST: 1}


def test_live_server_huge_body_is_413_not_a_crash(live_server):
    status, _, body = live_server.request("POST", "/api/comments", new_comment(body="x" * 300_000))
    assert status == 413 and json.loads(body)["error"]["code"] == "too_large"
    status, _, _ = live_server.request("GET", "/healthz")
    assert status == 200


def test_eight_threads_fifty_posts_each_all_committed(live_server):
    created: list[int] = []
    failures: list[str] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        for i in range(50):
            status, _, body = live_server.request("POST", "/api/comments", new_comment(body=f"worker {n} post {i}"))
            with lock:
                if status == 201:
                    created.append(json.loads(body)["id"])
                else:
                    failures.append(f"{status} {body[:200]!r}")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert len(created) == 400 and len(set(created)) == 400
    engine = create_engine(live_server.db_url)
    with engine.connect() as conn:
        stored = {row[0] for row in conn.execute(text("SELECT id FROM comments WHERE status = 'published'"))}
    engine.dispose()
    assert set(created) <= stored and len(stored) == 400


def test_serve_from_a_site_folder_with_no_flags(tmp_path, live_servers):
    site = tmp_path / "site"
    site.mkdir()
    (site / "blogengine.toml").write_text(textwrap.dedent("""
        title = "Site"
        base_url = "https://blog.example.com/"
    """))
    write_manifest(site / "public" / "threads.json")
    port = free_port()
    server = live_servers.process([sys.executable, "-m", "comments_server", "serve", "--port", str(port)],
                                  port=port, env=server_env(), log=tmp_path / "site.log", cwd=site,
                                  db_url=f"sqlite:///{site / 'comments.sqlite3'}")
    status, headers, body = server.request("GET", f"/api/comments?thread={POST}",
                                           headers={"Origin": "https://blog.example.com"})
    assert status == 200 and headers["Access-Control-Allow-Origin"] == "https://blog.example.com"
    status, _, body = server.request("GET", f"/api/form-token?thread={POST}")
    form_token = json.loads(body)["form_token"]
    assert form_token
    # The site's default limits are on: posting at once is refused as too fast.
    status, _, body = server.request("POST", "/api/comments", new_comment(form_token=form_token))
    assert status == 400 and json.loads(body)["error"]["code"] == "too_fast"
    assert (site / "comments.sqlite3").exists() and (site / "comments.sqlite3-secret").exists()
