"""The seam between the generator and the comment server: one door, and a build that loads no
web framework it does not use."""

from __future__ import annotations

import ast
import json
import subprocess
import sys

import pytest

from tests.support import REPO
from tests.support.site import BASIC_CONFIG, post

DOOR = "blogengine/comments.py"
FLASK_MODULES = ("flask", "flask_limiter", "flask_wtf", "werkzeug", "sqlalchemy", "alembic")


def imported_modules(path):
    """Every module a file imports, at any depth of the file (lazy imports included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def test_only_the_door_imports_the_comment_server():
    reaching = {}
    for path in sorted((REPO / "blogengine").rglob("*.py")):
        rel = path.relative_to(REPO).as_posix()
        server = [m for m in imported_modules(path) if m.split(".")[0] == "comments_server"]
        text = path.read_text(encoding="utf-8")
        if server or "comments_server." in text.replace('"""', ""):
            reaching[rel] = server
    assert reaching == {DOOR: ["comments_server.site"] * len(reaching.get(DOOR, []))}
    assert len(reaching[DOOR]) >= 5   # store, version, conversations, import, development app


def build_in_a_fresh_process(site):
    """Build `site` with the default settings in a new interpreter; the modules it loaded."""
    script = (
        "import json, sys\n"
        "from blogengine.build import BuildOptions, build\n"
        "from blogengine.config import load_config\n"
        "from pathlib import Path\n"
        f"report = build(load_config(Path({str(site)!r})), BuildOptions(jobs=1))\n"
        "print(json.dumps(sorted(sys.modules)))\n")
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


@pytest.mark.slow
def test_a_default_build_without_comments_yet_loads_no_web_framework_nor_database(make_site):
    site = make_site({"content/posts/a.md": post("A", "2026-01-01")})
    assert "[comments]" not in BASIC_CONFIG   # comments on: the default
    modules = build_in_a_fresh_process(site)
    assert (site / "public/threads.json").is_file()
    assert [m for m in modules if m.split(".")[0] in FLASK_MODULES] == []
    assert "comments_server.site" in modules   # the door was asked, and found no database yet


@pytest.mark.slow
def test_a_default_build_reading_comments_loads_the_database_but_no_flask(make_site):
    from comments_server.storage import open_storage

    site = make_site({"content/posts/a.md": post("A", "2026-01-01")})
    open_storage(f"sqlite:///{site / 'comments.sqlite3'}").close()
    modules = build_in_a_fresh_process(site)
    assert "sqlalchemy" in modules
    assert [m for m in modules if m.split(".")[0] in ("flask", "flask_limiter", "flask_wtf")] == []


def test_importing_the_package_and_its_door_loads_no_flask():
    script = ("import json, sys\nimport comments_server, comments_server.site\n"
              "print(json.dumps(sorted(sys.modules)))")
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    modules = json.loads(result.stdout)
    assert [m for m in modules if m.split(".")[0] in FLASK_MODULES] == []
    assert "comments_server.app" not in modules


@pytest.mark.slow
def test_the_layers_written_without_http_import_no_flask():
    layers = ["comments_server.service", "comments_server.conversation", "comments_server.compose",
              "comments_server.mail", "comments_server.models", "comments_server.storage",
              "comments_server.serialize", "comments_server.transfer", "comments_server.strings"]
    script = ("import json, sys, importlib\n"
              f"for name in {layers!r}:\n    importlib.import_module(name)\n"
              "print(json.dumps(sorted(sys.modules)))")
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    # (werkzeug.security hashes passwords in accounts.py: a library, not HTTP)
    assert [m for m in json.loads(result.stdout)
            if m.split(".")[0] in ("flask", "flask_limiter", "flask_wtf")] == []
