"""POST /api/threads/reload: `blogengine deploy` tells the server to read threads.json again now."""

from __future__ import annotations

import pytest

from tests.support.live import serve_folder
from tests.support.server import AUTHOR_TOKEN, THREADS, assert_error, write_manifest

NEW = {"path": "/2026/06/brand-new/", "title": "Brand new", "author": "Ann Author", "open": True}
AUTH = {"Authorization": f"Bearer {AUTHOR_TOKEN}"}


@pytest.fixture
def site_server(tmp_path):
    """The deployed site, served over http from a folder: where the manifest URL points."""
    folder = tmp_path / "www"
    write_manifest(folder / "threads.json")
    with serve_folder(folder) as url:
        yield folder, f"{url}/threads.json"


@pytest.fixture
def url_client(make_app, site_server):
    folder, url = site_server
    # A long TTL: without the reload the server would not look again for an hour.
    return make_app(THREADS_MANIFEST=url, THREADS_MANIFEST_TTL=3600).test_client(), folder


def test_reload_needs_an_author_token(client):
    assert_error(client.post("/api/threads/reload"), 401, "unauthorized")
    response = client.post("/api/threads/reload", headers={"Authorization": "Bearer wrong"})
    assert_error(response, 401, "invalid_author_token")


def test_reload_reads_a_url_manifest_before_its_ttl(url_client):
    client, folder = url_client
    assert client.get("/api/comments", query_string={"thread": NEW["path"]}).status_code == 404
    write_manifest(folder / "threads.json", [*THREADS, NEW])
    assert client.get("/api/comments", query_string={"thread": NEW["path"]}).status_code == 404
    response = client.post("/api/threads/reload", headers=AUTH)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {"threads": len(THREADS) + 1}
    assert response.headers["Cache-Control"] == "no-store"
    assert client.get("/api/comments", query_string={"thread": NEW["path"]}).status_code == 200


def test_reload_keeps_the_previous_manifest_when_the_new_one_is_broken(url_client):
    client, folder = url_client
    (folder / "threads.json").write_text("{not json")
    response = client.post("/api/threads/reload", headers=AUTH)
    assert_error(response, 502, "manifest_unavailable")
    assert "not valid JSON" in response.get_json()["error"]["message"]
    assert client.get("/api/comments", query_string={"thread": THREADS[0]["path"]}).status_code == 200
    (folder / "threads.json").unlink()
    assert_error(client.post("/api/threads/reload", headers=AUTH), 502, "manifest_unavailable")
    assert client.get("/api/comments", query_string={"thread": THREADS[0]["path"]}).status_code == 200


def test_reload_reads_a_manifest_file(client, manifest):
    write_manifest(manifest, [NEW])
    response = client.post("/api/threads/reload", headers=AUTH)
    assert response.status_code == 200
    assert response.get_json() == {"threads": 1}
    assert client.get("/api/comments", query_string={"thread": NEW["path"]}).status_code == 200
    assert client.get("/api/comments", query_string={"thread": THREADS[0]["path"]}).status_code == 404
