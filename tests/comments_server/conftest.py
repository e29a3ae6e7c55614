"""Fixtures for the comment server's tests: apps on a SQLite file (or PostgreSQL), clients that
check every /api answer against the OpenAPI document, and the server itself on a free port."""

from tests.support.live import live_server  # noqa: F401
from tests.support.mail import smtp  # noqa: F401
from tests.support.server import app, client, clock, db_url, make_app, manifest, postgres_url  # noqa: F401
