"""The whole suite's conftest: what a skip means in CI, the markers each test gets by rule, and the
fixtures every folder uses (fixture sites built for real, live servers). Folder conftests add their
own: tests/comments_server/ the app and database fixtures, tests/e2e/ the browser.

Every folder of tests/ is a package, so pytest puts only the repository's root on sys.path: test
modules are `tests.<folder>.<name>` and never shadow blogengine or comments_server.
"""

from __future__ import annotations

import itertools
import os
import re
from pathlib import Path

import pytest

from tests.support.live import live_servers, module_live_servers  # noqa: F401  (fixtures)
from tests.support.site import build_at, make_site  # noqa: F401  (fixtures)

E2E = Path(__file__).resolve().parent / "e2e"
LIVE_FIXTURES = {"live_server", "live_servers", "module_live_servers"}
SLOW_MARKERS = ("browser", "live", "postgres")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under BLOGENGINE_REQUIRE_ALL_TESTS (set by .ci/run), a skip is a failure: CI provides
    every server and tool the tests need, so a skip there means something is missing.
    Each phase's report is also kept on the item (`rep_call`), for fixtures that show a server's
    output when their test failed."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get("BLOGENGINE_REQUIRE_ALL_TESTS") \
            and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.longrepr = f"skipped in CI, where nothing may skip: {reason}"
    setattr(item, f"rep_{report.when}", report)


@pytest.hookimpl(tryfirst=True)   # before -m deselects by these markers
def pytest_collection_modifyitems(config, items):
    """Markers by rule: `browser` for tests on the Playwright browser, `live` for tests on live
    servers, `postgres` for the PostgreSQL half of `db_url` and tests needing `postgres_url`; those
    three and everything under tests/e2e/ are also `slow`."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if "browser" in fixtures:
            item.add_marker("browser")
        if fixtures & LIVE_FIXTURES:
            item.add_marker("live")
        callspec = getattr(item, "callspec", None)
        if "postgres_url" in fixtures or (callspec is not None and callspec.params.get("db_url") == "postgresql"):
            item.add_marker("postgres")
        if E2E in item.path.parents or any(item.get_closest_marker(name) for name in SLOW_MARKERS):
            item.add_marker("slow")


def pytest_ignore_collect(collection_path, config):
    """Under a -m that selects no slow test (the fast loop's "not slow"), tests/e2e/, all slow,
    is not even imported: that saves each process (each xdist worker) about 5 seconds."""
    if collection_path == E2E and selects_no_slow_test(config.option.markexpr):
        return True
    return None


def selects_no_slow_test(markexpr: str) -> bool:
    """Whether a -m expression is false for every test marked slow, whatever its other markers."""
    if not markexpr:
        return False
    from _pytest.mark.expression import Expression   # pytest's own -m parser

    try:
        expression = Expression.compile(markexpr)
    except SyntaxError:
        return False   # pytest says what is wrong with it
    others = sorted(set(re.findall(r"[A-Za-z_][\w.-]*", markexpr)) - {"and", "or", "not", "slow"})
    for values in itertools.product((False, True), repeat=len(others)):
        marks = dict(zip(others, values), slow=True)
        if expression.evaluate(lambda name, **kwargs: marks.get(name, False)):
            return False
    return True
