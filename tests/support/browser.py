"""Helpers for tests in a real browser: Debian's Chromium driven by Playwright, axe-core. The
`browser` fixture is tests/e2e/'s (one Playwright per session); sites are served by
tests/support/live.py's `serve_folder`."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import REPO

CHROMIUM = Path("/usr/bin/chromium")
AXE_JS = REPO / "node_modules/axe-core/axe.min.js"
# Without these flags Chromium tries to reach Google's servers, which this network refuses.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def launch_chromium(playwright: Any) -> Any:
    if not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None:
        pytest.skip(f"needs Debian's chromium at {CHROMIUM} (apt-get install -y chromium)")
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright package")
    with sync_api.sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


def axe_violations(page: Any) -> list[str]:
    """Run axe-core (WCAG 2.1 A/AA and best practices) in the page; one line per violation."""
    if not AXE_JS.is_file():
        pytest.skip(f"needs axe-core at {AXE_JS} (npm install)")
    page.add_script_tag(path=str(AXE_JS))
    violations = page.evaluate("""async () => {
        const result = await axe.run(document, {
            runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']});
        return result.violations.map(v => v.id + ' (' + v.impact + '): ' +
            v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '));
    }""")
    return list(violations)
