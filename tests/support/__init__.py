"""Helpers shared by the tests: fixture sites, the comment server's fixtures, live servers, the
browser, deploying and importing. Test modules import from here, never from a conftest."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
