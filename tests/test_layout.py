"""The test tree itself: every folder of tests/ is a package, so pytest puts only the repository's
root on sys.path, and a folder named like a package (tests/blogengine, tests/comments_server)
never shadows the real one."""

from __future__ import annotations

import sys
from pathlib import Path

import blogengine
import comments_server
from tests.support import REPO

TESTS = REPO / "tests"


def test_the_packages_under_test_are_the_repositorys():
    assert Path(blogengine.__file__).resolve() == REPO / "blogengine" / "__init__.py"
    assert Path(comments_server.__file__).resolve() == REPO / "comments_server" / "__init__.py"


def test_no_test_folder_is_on_sys_path():
    on_path = {Path(entry or ".").resolve() for entry in sys.path}
    assert [path for path in on_path if path == TESTS or TESTS in path.parents] == []


def test_every_test_module_is_imported_by_its_package_name():
    """No test module, conftest or helper is imported under a bare name (`conftest`,
    `server.conftest`): each is imported once, as tests.<folder>.<name>."""
    stray = [name for name, module in list(sys.modules.items())
             if (path := getattr(module, "__file__", None)) and TESTS in Path(path).resolve().parents
             and name != "tests" and not name.startswith("tests.")]
    assert stray == []


def test_every_folder_of_python_files_is_a_package():
    folders = {path.parent for path in TESTS.rglob("*.py")}
    assert sorted(str(f.relative_to(REPO)) for f in folders if not (f / "__init__.py").is_file()) == []
