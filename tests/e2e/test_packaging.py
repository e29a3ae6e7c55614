"""A plain, non-editable `pip install .` in a fresh venv gives a working `blogengine` command."""

from __future__ import annotations

import os
import subprocess
import venv
from pathlib import Path

import pytest

from tests.support import REPO


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    env_dir = tmp_path_factory.mktemp("venv") / "env"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    result = subprocess.run([str(python), "-m", "pip", "install", "--quiet",
                             "--disable-pip-version-check", str(REPO)],
                            capture_output=True, text=True, timeout=900)
    if result.returncode != 0:
        pytest.fail(f"pip install . failed:\n{result.stdout}\n{result.stderr}")
    return env_dir


def _run(env_dir: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    clean_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run([str(env_dir / "bin" / args[0]), *args[1:]], cwd=cwd, env=clean_env,
                          capture_output=True, text=True, timeout=300)


def test_installed_package_finds_its_theme_outside_the_checkout(installed, tmp_path):
    result = _run(installed, "python", "-c",
                  "import blogengine.themes as t; print(t.builtin_themes_dir())", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    theme_dir = Path(result.stdout.strip())
    assert theme_dir.is_relative_to(installed), theme_dir
    assert (theme_dir / "default/templates/base.html").is_file()


def test_installed_command_inits_and_builds_a_site(installed, tmp_path):
    site = tmp_path / "x"
    init = _run(installed, "blogengine", "init", str(site), cwd=tmp_path)
    assert init.returncode == 0, init.stderr
    result = _run(installed, "blogengine", "build", "--source", str(site), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Built ")
    assert (site / "public/theme/style.css").is_file()
    assert (site / "public/about/index.html").is_file()
    version = _run(installed, "blogengine", "--version", cwd=tmp_path)
    assert version.returncode == 0 and "blogengine" in version.stdout


def test_comment_server_package_is_installed_too(installed, tmp_path):
    result = _run(installed, "python", "-c", "from comments_server.app import create_app", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
