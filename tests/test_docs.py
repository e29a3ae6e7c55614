"""The docs stay true: every setting, front matter field and command is documented, the settings
tables are what the code says, every command line names real options, and every link leads somewhere."""

from __future__ import annotations

import dataclasses
import re
import shlex
import subprocess
import tomllib

import click
import pytest

from blogengine.cli import main
from blogengine.config import SiteConfig, config_from_dict
from blogengine.frontmatter import KNOWN_FIELDS
from tests.support import docs_tables
from tests.support import REPO

DOCS = REPO / "docs"
README = (REPO / "README.md").read_text(encoding="utf-8")
PAGES = {path.name: path.read_text(encoding="utf-8") for path in sorted(DOCS.glob("*.md"))}
# Every Markdown file whose links are checked, by path relative to the repository.
MARKDOWN = {"README.md": README, "SECURITY.md": (REPO / "SECURITY.md").read_text(encoding="utf-8"),
            "benchmarks/RESULTS.md": (REPO / "benchmarks/RESULTS.md").read_text(encoding="utf-8"),
            **{f"docs/{name}": text for name, text in PAGES.items()}}


# What must be documented -------------------------------------------------------------------------


def test_every_config_key_is_documented():
    text = PAGES["configuration.md"]
    missing = []
    for field in dataclasses.fields(SiteConfig):
        value = getattr(SiteConfig(), field.name)
        if field.name == "root":
            continue
        if dataclasses.is_dataclass(value):
            missing += [f"{field.name}.{sub.name}" for sub in dataclasses.fields(value)
                        if f"`[{field.name}]` `{sub.name}`" not in text
                        and f"`[{field.name}.{sub.name}]`" not in text]
        elif f"`{field.name}`" not in text:
            missing.append(field.name)
    assert missing == []


def test_every_front_matter_field_is_documented():
    block = PAGES["writing.md"].split("## Front matter", 1)[1].split("##", 1)[0]
    assert [f for f in KNOWN_FIELDS if f"{f}:" not in block] == []


def test_every_command_is_documented():
    names = main.list_commands(click.Context(main))
    assert "comments" in names
    assert [name for name in names if f"blogengine {name}" not in PAGES["commands.md"]] == []


@pytest.mark.parametrize("group", ["comments", "import"])
def test_every_subcommand_is_documented(group):
    command = main.get_command(click.Context(main), group)
    assert isinstance(command, click.Group)
    names = command.list_commands(click.Context(command))
    text = "\n".join(PAGES.values())
    assert names and [n for n in names if f"blogengine {group} {n}" not in text] == []


def test_ci_runs_the_readme_test_command():
    script = (REPO / ".ci/run").read_text()
    extract = script.split("test_command=$(", 1)[1].split(")\n", 1)[0]
    result = subprocess.run(["bash", "-c", extract], cwd=REPO, capture_output=True, text=True)
    command = result.stdout.strip()
    assert "pytest" in command and f"    {command}" in README.splitlines()[:12]


# The settings tables are made from the code -----------------------------------------------------


@pytest.mark.parametrize("page", [docs_tables.SETTINGS_PAGE, docs_tables.CONFIG_PAGE, docs_tables.HOOKS_PAGE],
                         ids=lambda p: p.name)
def test_settings_table_is_what_the_code_says(page):
    mark, expected = docs_tables.expected_tables()[page]
    actual = docs_tables.generated_block(page.read_text(encoding="utf-8"), mark)
    assert actual == expected, (
        f"docs/{page.name}: the table differs from the code; run `python -m tests.support.docs_tables --write`")


def test_every_plugin_hook_is_listed_with_its_arguments():
    from blogengine import hookspecs
    from comments_server import hookspecs as comment_hookspecs

    block = docs_tables.generated_block(PAGES["plugins.md"], docs_tables.HOOKS_MARK)
    names = [n for n in dir(hookspecs) if hasattr(getattr(hookspecs, n), "blogengine_spec")]
    names += [n for n in dir(comment_hookspecs) if hasattr(getattr(comment_hookspecs, n), "blogengine_spec")]
    assert len(names) == 10 and set(hookspecs.COMMENT_HOOKS) <= set(names)
    for name in names:
        assert f"#### `{name}(" in block
    assert "#### `page_html(page, html, settings)`" in block


def test_every_config_key_says_what_it_does():
    block = docs_tables.generated_block(PAGES["configuration.md"], docs_tables.CONFIG_MARK)
    meanings = docs_tables.config_meanings(block)
    assert [key for key, _ in docs_tables.config_keys()
            if meanings.get(key, docs_tables.NO_MEANING) in ("", docs_tables.NO_MEANING)] == []


def test_the_tables_change_with_the_code(monkeypatch):
    """A default changed in the code shows in the expected tables (so the tests above would fail)."""
    before = docs_tables.settings_table()
    setting = docs_tables.SETTINGS[0]
    monkeypatch.setattr(docs_tables, "SETTINGS", (dataclasses.replace(setting, default="changed"),
                                                  *docs_tables.SETTINGS[1:]))
    assert docs_tables.settings_table() != before and "| `changed` |" in docs_tables.settings_table()
    assert ("`[deploy.s3]` `cache_control`", '`"public, max-age=300"`') in docs_tables.config_keys()


def test_the_configuration_example_is_valid():
    example = code_blocks(PAGES["configuration.md"])[0]
    config_from_dict(tomllib.loads(example), root=REPO)


# Command lines in code blocks name real commands and options ------------------------------------


def code_blocks(text: str) -> list[str]:
    """The indented code blocks of a Markdown text, dedented."""
    blocks: list[list[str]] = []
    previous_blank = True
    in_block = False
    for line in text.splitlines():
        if line.startswith("    ") and (in_block or previous_blank):
            if not in_block:
                blocks.append([])
            in_block = True
            blocks[-1].append(line[4:])
        elif line.strip():
            in_block = False
        elif in_block:
            blocks[-1].append("")
        previous_blank = not line.strip()
    return ["\n".join(block).strip("\n") for block in blocks]


def code_lines(text: str) -> list[str]:
    """Lines of code blocks that run blogengine (after `.venv/bin/`, a pipe or env variables)."""
    lines = []
    for block in code_blocks(text):
        for line in block.splitlines():
            command = re.sub(r"^.*\|\s*", "", line.strip())
            command = re.sub(r"^(\S+=\S*\s+)+", "", command).removeprefix(".venv/bin/")
            if command.startswith("blogengine "):
                lines.append(command)
    return lines


def check_command_line(line: str) -> list[str]:
    """Problems with one `blogengine ...` line: unknown (sub)commands or options."""
    words = shlex.split(re.sub(r"\$\([^)]*\)", "X", line.split("  #", 1)[0].split(" # ", 1)[0]))[1:]
    command: click.Command = main
    path = ["blogengine"]
    problems = []
    while isinstance(command, click.Group):
        words = [w for w in words if w not in ("--debug",)] if command is main else words
        if not words or words[0].startswith("-"):
            break
        sub = command.get_command(click.Context(command), words[0])
        if sub is None:
            return [f"{line}: no command {' '.join(path)} {words[0]}"]
        path.append(words.pop(0))
        command = sub
    options = {opt for p in command.params for opt in (*p.opts, *p.secondary_opts)} | {"-h", "--help"}
    for word in words:
        if word.startswith("-") and word != "-" and word.split("=", 1)[0] not in options:
            problems.append(f"{line}: {' '.join(path)} has no option {word}")
    return problems


def test_command_lines_in_the_docs_name_real_options():
    lines = [line for text in MARKDOWN.values() for line in code_lines(text)]
    assert len(lines) > 20
    assert [problem for line in lines for problem in check_command_line(line)] == []


def test_the_command_line_check_finds_mistakes():
    assert check_command_line("blogengine deploy --target dir --to x") == []
    assert check_command_line("blogengine comments add-author Ann --emial a@b.c") != []
    assert check_command_line("blogengine comments add-authors Ann") != []


# Links --------------------------------------------------------------------------------------------


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]|<[^>]+>", "", heading.strip()).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(text: str) -> set[str]:
    seen: dict[str, int] = {}
    result = set()
    for heading in re.findall(r"^#{1,6} (.+)$", without_code(text, inline=False), flags=re.M):
        base = slug(heading)
        n = seen.get(base, 0)
        seen[base] = n + 1
        result.add(base if n == 0 else f"{base}-{n}")
    return result


def without_code(text: str, inline: bool = True) -> str:
    """The text without indented or fenced code blocks (and inline code, unless told)."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)
    text = re.sub(r"(^|\n\n)((    .*(\n|$))+)", r"\1", text)
    return re.sub(r"`[^`\n]*`", "", text) if inline else text


def links(text: str) -> list[str]:
    return re.findall(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)", without_code(text))


def test_every_relative_link_leads_to_a_file_and_heading():
    broken = []
    for name, text in MARKDOWN.items():
        base = (REPO / name).parent
        for target in links(text):
            if re.match(r"^[a-z]+:", target):
                continue
            path_part, _, anchor = target.partition("#")
            path = (base / path_part).resolve() if path_part else REPO / name
            if not path.exists() or REPO not in (path, *path.parents):
                broken.append(f"{name}: {target} (no such file)")
            elif anchor and (path.suffix != ".md" or anchor not in anchors(path.read_text(encoding="utf-8"))):
                broken.append(f"{name}: {target} (no heading #{anchor})")
    assert broken == []


def test_every_test_path_and_module_named_in_the_docs_exists():
    """`tests/...` paths and `python -m tests....` modules in the docs are real: moving a test fails here."""
    missing = []
    for name, text in MARKDOWN.items():
        missing += [f"{name}: {path}" for path in re.findall(r"(?<![\w/])tests/[\w./-]*[\w/]", text)
                    if not (REPO / path).exists()]
        missing += [f"{name}: python -m {module}" for module in re.findall(r"python -m (tests(?:\.\w+)+)", text)
                    if not (REPO / module.replace(".", "/")).with_suffix(".py").is_file()]
    assert missing == []


def test_the_link_check_finds_broken_links():
    assert slug("`dir`: a local folder") == "dir-a-local-folder"
    assert slug("Writing with `blogengine serve`") == "writing-with-blogengine-serve"
    assert slug("Load, crashes and backups") == "load-crashes-and-backups"
    assert links("see [a](x.md#y) and `[b](not-a-link)`\n\n    [c](code)\n") == ["x.md#y"]


# The front page ------------------------------------------------------------------------------------


def test_the_readme_is_a_front_page_that_links_every_docs_page():
    assert len(README.splitlines()) <= 150
    assert [name for name in PAGES if name != "README.md" and f"](docs/{name})" not in README] == []
    assert [name for name in PAGES if name != "README.md" and f"]({name})" not in PAGES["README.md"]] == []
    assert "](docs/images/" in README


def test_the_readme_screenshot_is_a_small_png():
    image = REPO / re.search(r"\]\((docs/images/[^)]+\.png)\)", README).group(1)
    data = image.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) < 250_000
    width = int.from_bytes(data[16:20], "big")
    assert 1000 <= width <= 1600


def test_readme_first_command_is_unchanged():
    assert "    python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/blogengine serve" in README.splitlines()[:6]
