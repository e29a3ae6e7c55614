"""Fixtures for the end-to-end tests: one Playwright browser for the session (a second
sync_playwright() while one is open fails, so it is defined here only), the comment server's app
fixtures and the server itself."""

from tests.support.browser import browser  # noqa: F401
from tests.support.live import live_server  # noqa: F401
from tests.support.server import app, client, clock, make_app, manifest, postgres_url  # noqa: F401
