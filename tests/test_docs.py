"""The README stays true: every setting, front matter field and command is documented."""

from __future__ import annotations

import dataclasses
import subprocess

from blogengine.cli import main
from blogengine.config import SiteConfig
from blogengine.frontmatter import KNOWN_FIELDS
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def test_every_config_key_is_documented():
    missing = []
    for field in dataclasses.fields(SiteConfig):
        value = getattr(SiteConfig(), field.name)
        if field.name == "root":
            continue
        if dataclasses.is_dataclass(value):
            missing += [f"{field.name}.{sub.name}" for sub in dataclasses.fields(value)
                        if f"`[{field.name}]` `{sub.name}`" not in README
                        and f"`[{field.name}.{sub.name}]`" not in README]
        elif f"`{field.name}`" not in README:
            missing.append(field.name)
    assert missing == []


def test_every_front_matter_field_is_documented():
    block = README.split("## Front matter", 1)[1].split("##", 1)[0]
    assert [f for f in KNOWN_FIELDS if f"{f}:" not in block] == []


def test_every_command_is_documented():
    import click
    names = main.list_commands(click.Context(main))
    assert "comments" in names
    assert [name for name in names if f"blogengine {name}" not in README] == []


def test_ci_runs_the_readme_test_command():
    script = (REPO / ".ci/run").read_text()
    extract = script.split("test_command=$(", 1)[1].split(")\n", 1)[0]
    result = subprocess.run(["bash", "-c", extract], cwd=REPO, capture_output=True, text=True)
    command = result.stdout.strip()
    assert "pytest" in command and f"    {command}" in README.splitlines()[:12]
