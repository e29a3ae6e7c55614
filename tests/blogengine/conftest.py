"""Fixtures for the generator's tests beyond the fixture sites of tests/conftest.py: the importers
write into a comment database, on SQLite and on PostgreSQL."""

from tests.support.server import db_url  # noqa: F401
