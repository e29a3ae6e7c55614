"""Helpers and fixtures for tests of the comment server: manifests, apps on SQLite or PostgreSQL,
the one error shape. A real server in a subprocess is tests/support/live.py's.

Every /api response made through the `client` fixture is checked against /api/openapi.json.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from comments_server.app import create_app
from comments_server.api.openapi import openapi_document
from comments_server.services import services

SECRET = "test-secret-key-0123456789-abcdefghij"
AUTHOR_TOKEN = "author-token-0123456789abcdef"
POSTGRES_URL = os.environ.get("COMMENTS_TEST_POSTGRES_URL", "")
REDIS_URL = os.environ.get("COMMENTS_TEST_REDIS_URL", "")

THREADS = [
    {"path": "/2024/05/a-post/", "title": "A post", "author": "Ann Author", "open": True},
    {"path": "/2024/06/another/", "title": "Another post", "author": "Ann Author", "open": True},
    {"path": "/2023/01/closed/", "title": "Closed post", "author": "Ann Author", "open": False},
]
POST = THREADS[0]["path"]
OTHER = THREADS[1]["path"]
CLOSED = THREADS[2]["path"]

# Limits off, so tests say which one they exercise.
NO_LIMITS: dict[str, Any] = {
    "RATE_LIMIT": None,
    "READ_RATE_LIMIT": None,
    "PREVIEW_RATE_LIMIT": None,
    "LOGIN_ACCOUNT_RATE_LIMIT": None,
    "MIN_SUBMIT_SECONDS": None,
    "WEBMENTION_RATE_LIMIT": None,
}


def write_manifest(path: Path, threads: list[dict[str, Any]] | None = None) -> Path:
    data = {
        "version": 1,
        "site": {"title": "Test Blog", "base_url": "https://blog.example.com/"},
        "threads": THREADS if threads is None else threads,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


class Clock:
    """A settable clock for the service (the only thing tests mock)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


# --- databases -------------------------------------------------------------------------------


@contextmanager
def postgres_schema(base: str) -> Iterator[str]:
    """A fresh schema on the PostgreSQL at `base`, dropped afterwards; yields a URL whose
    connections use it."""
    from sqlalchemy import create_engine, text

    schema = f"t_{uuid.uuid4().hex[:12]}"
    url = f"{base}{'&' if '?' in base else '?'}options={quote(f'-csearch_path={schema}')}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def postgres_url() -> str:
    """COMMENTS_TEST_POSTGRES_URL, or a skip that says how to set it (tests using it are marked postgres)."""
    if not POSTGRES_URL:
        pytest.skip("needs PostgreSQL: set COMMENTS_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test")
    return POSTGRES_URL


def stored_ids(db: Path) -> set[int]:
    """The ids of the comments in a SQLite file, after its integrity check has passed."""
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return {row[0] for row in conn.execute("SELECT id FROM comments")}


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file, or a fresh schema on COMMENTS_TEST_POSTGRES_URL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'comments.sqlite3'}"
        return
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL half: set COMMENTS_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test")
    with postgres_schema(POSTGRES_URL) as url:
        yield url


# --- apps and clients ------------------------------------------------------------------------


def _absolute_refs(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: ("urn:openapi" + v if k == "$ref" and v.startswith("#") else _absolute_refs(v))
                for k, v in node.items()}
    if isinstance(node, list):
        return [_absolute_refs(v) for v in node]
    return node


OPENAPI = _absolute_refs(openapi_document())
REGISTRY = Registry().with_resource("urn:openapi", Resource.from_contents(OPENAPI, default_specification=DRAFT202012))
PATH_PATTERNS = [
    (re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", p) + "$"), p) for p in OPENAPI["paths"]
]


def check_against_openapi(method: str, path: str, status: int, body: bytes, content_type: str) -> None:
    """Assert a response is one the OpenAPI document promises (every 4xx/5xx body is an Error)."""
    template = next((p for rx, p in PATH_PATTERNS if rx.match(path)), None)
    operation = OPENAPI["paths"].get(template, {}).get(method.lower()) if template else None
    if operation is None:
        schema: dict[str, Any] | None = {"$ref": "urn:openapi#/components/schemas/Error"} if status >= 400 else None
        if method == "OPTIONS" or schema is None:
            return
    else:
        responses = operation["responses"]
        documented = responses.get(str(status)) or responses["default"]
        assert str(status) in responses or status >= 400, f"{method} {path} answered undocumented {status}"
        content = documented.get("content")
        if content is None:
            assert body == b"", f"{method} {path} {status} should have no body"
            return
        schema = content["application/json"]["schema"]
    assert content_type.startswith("application/json"), f"{method} {path} {status}: {content_type}"
    Draft202012Validator(schema, registry=REGISTRY).validate(json.loads(body))


class ApiClient(FlaskClient):
    """A test client that checks every /api response against the OpenAPI document."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        response = super().open(*args, **kwargs)
        request = response.request
        if request.path.startswith("/api/"):
            check_against_openapi(request.method, request.path, response.status_code,
                                  response.get_data(), response.content_type or "")
        return response


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    return write_manifest(tmp_path / "public" / "threads.json")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make_app(tmp_path: Path, manifest: Path, clock: Clock) -> Iterator[Callable[..., Flask]]:
    """create_app on a SQLite file in tmp_path with the test manifest and no limits; override anything.
    Each app's database connections are closed after the test: left to the garbage collector,
    a worker's PostgreSQL connections pile up past the server's limit."""
    made: list[Flask] = []

    def make(**config: Any) -> Flask:
        base: dict[str, Any] = {
            "SECRET_KEY": SECRET,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'comments.sqlite3'}",
            "THREADS_MANIFEST": str(manifest),
            "AUTHOR_TOKENS": [AUTHOR_TOKEN],
            "CORS_ORIGINS": ["https://blog.example.com"],
            **NO_LIMITS,
            # Tests run due jobs themselves (services(app).jobs.run_due), when they choose.
            "JOBS_IN_BACKGROUND": False,
        }
        base.update(config)
        app = create_app(base, clock=clock)
        app.test_client_class = ApiClient
        made.append(app)
        return app
    yield make
    for app in made:
        services(app).storage.close()


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def new_comment(**fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"thread": POST, "author_name": "Reader", "body": "A thoughtful comment."}
    data.update(fields)
    return data


def post_comment(client: FlaskClient, **fields: Any) -> Any:
    return client.post("/api/comments", json=new_comment(**fields))


def assert_error(response: Any, status: int, code: str, field: str | None = None) -> None:
    """The one error shape: status, code and field pinned."""
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "field"}
    assert body["error"]["code"] == code, body
    assert body["error"]["field"] == field, body
    assert body["error"]["message"]


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
