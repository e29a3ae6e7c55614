"""The `blogengine` command: click's runner for options and messages, real subprocesses for exits."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from blogengine import __version__
from blogengine.cli import main
from tests.support.site import post

COMMANDS = [["init"], ["build"], ["new"]]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_version(runner):
    result = runner.invoke(main, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output


@pytest.mark.parametrize("command", [[]] + COMMANDS)
def test_help_on_every_command_has_examples(runner, command):
    result = runner.invoke(main, [*command, "--help"])
    assert result.exit_code == 0
    assert "Examples:" in result.output and "blogengine" in result.output


def test_init_then_build_works_at_once(runner, tmp_path):
    site = tmp_path / "blog"
    result = runner.invoke(main, ["init", str(site), "--title", "Fresh", "--author", "Ann"])
    assert result.exit_code == 0, result.output
    for rel in ["blogengine.toml", "content/posts/hello-world.md", "content/pages/about.md"]:
        assert (site / rel).is_file()
    result = runner.invoke(main, ["build", "--source", str(site)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Built ") and "pages" in result.output
    assert (site / "public/about/index.html").is_file()
    assert len(list((site / "public").glob("*/*/hello-world/index.html"))) == 1


def test_init_suggests_serve_as_the_next_step(runner, tmp_path):
    site = tmp_path / "my blog"
    result = runner.invoke(main, ["init", str(site)])
    assert result.exit_code == 0, result.output
    assert result.output.endswith(f"New site in {site}. See it in your browser, rebuilt as you "
                                  f"write:\n  cd '{site}' && blogengine serve\n")


def test_comments_unanswered_reads_the_manifest_of_a_site_only_served(runner, tmp_path, caplog):
    site = tmp_path / "blog"
    runner.invoke(main, ["init", str(site)])
    served = site / ".blogengine/serve/public"
    result = runner.invoke(main, ["build", "--source", str(site), "--output", str(served)])
    assert result.exit_code == 0, result.output
    assert not (site / "public").exists() and (served / "threads.json").is_file()
    with caplog.at_level("WARNING"):
        result = runner.invoke(main, ["comments", "unanswered", "--site", str(site)])
    assert result.exit_code == 0, result.output
    assert "Nobody is waiting" in result.output
    assert not [r.getMessage() for r in caplog.records if "threads.json" in r.getMessage()]
    from blogengine.comments import site_layer
    from blogengine.config import load_config
    assert site_layer(load_config(site)).manifest == (served / "threads.json").resolve()
    runner.invoke(main, ["build", "--source", str(site)])      # a built site: public/ wins
    assert site_layer(load_config(site)).manifest == (site / "public/threads.json").resolve()


def test_init_refuses_an_existing_site(runner, tmp_path):
    runner.invoke(main, ["init", str(tmp_path / "b")])
    result = runner.invoke(main, ["init", str(tmp_path / "b")])
    assert result.exit_code == 1 and "already holds a site" in result.output


def test_new_writes_a_post_with_front_matter(runner, make_site):
    root = make_site()
    result = runner.invoke(main, ["new", "Why I answer: every comment", "--source", str(root),
                                  "--tag", "comments", "--tag", "etiquette"])
    assert result.exit_code == 0, result.output
    path = root / "content/posts/why-i-answer-every-comment.md"
    front = yaml.safe_load(path.read_text().split("---")[1])
    assert front["title"] == "Why I answer: every comment"
    assert front["tags"] == ["comments", "etiquette"] and front["draft"] is True
    assert len(str(front["date"])) == 16  # YYYY-MM-DD HH:MM
    again = runner.invoke(main, ["new", "Why I answer: every comment", "--source", str(root)])
    assert again.exit_code == 1 and "already exists" in again.output


def test_new_page(runner, make_site):
    root = make_site()
    result = runner.invoke(main, ["new", "Colophon", "--page", "--source", str(root)])
    assert result.exit_code == 0
    front = yaml.safe_load((root / "content/pages/colophon.md").read_text().split("---")[1])
    assert front == {"title": "Colophon"}


def test_build_error_is_one_line_per_problem_without_traceback(runner, make_site):
    root = make_site({"content/posts/bad.md": "---\ntitle: Bad\ndate: 2024-13-01\n---\n",
                      "content/posts/worse.md": "---\ntitle: [\n---\n"})
    result = runner.invoke(main, ["build", "--source", str(root)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("error: content/posts/bad.md:3: date:")
    assert lines[1].startswith("error: content/posts/worse.md:")
    assert "Traceback" not in result.output


def test_config_errors_are_all_listed(runner, make_site):
    root = make_site(config='title = "T"\ntitel = "x"\nposts_per_page = "ten"\n')
    result = runner.invoke(main, ["build", "--source", str(root)])
    assert result.exit_code == 1
    assert "blogengine.toml:2: unknown key 'titel' (did you mean 'title'?)" in result.output
    assert "blogengine.toml:3: 'posts_per_page' must be an integer" in result.output


def test_missing_config_says_what_to_type(runner, tmp_path):
    result = runner.invoke(main, ["build", "--source", str(tmp_path)])
    assert result.exit_code == 1 and "blogengine init" in result.output


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "blogengine", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_subprocess_build_succeeds_and_prints_summary(make_site):
    root = make_site({"content/posts/a.md": post("A", "2024-01-01")})
    result = _run("build", cwd=root)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Built ") and (root / "public/index.html").is_file()


# What only building needs: an up-to-date build is told from the stamps without any of it.
STAGES = ("blogengine.build", "blogengine.parse", "blogengine.render", "blogengine.model",
          "blogengine.check", "blogengine.search", "jinja2", "markdown_it", "PIL", "pygments.lexers")


@pytest.mark.slow
def test_an_up_to_date_build_imports_none_of_the_stages(make_site):
    root = make_site({"content/posts/a.md": post("A", "2024-01-01", "A [link](/b/).")})
    past = time.time() - 60   # stamps old enough to be trusted (not "racy") next time
    for path in root.rglob("*"):
        os.utime(path, (past, past))
    assert _run("build", cwd=root).returncode == 0
    script = ("import sys\nfrom blogengine.cli import main\n"
              "main(['build'], standalone_mode=False)\nprint(*sorted(sys.modules))")
    result = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    said, modules = result.stdout.splitlines()[0], set(result.stdout.splitlines()[-1].split())
    assert said.startswith("Up to date (1 posts")
    assert "blogengine.start" in modules and [m for m in STAGES if m in modules] == []
    # ... and what it reports still holds: the broken link the last build found.
    assert "content/posts/a.md" in result.stderr and "/b/" in result.stderr
    (root / "content/posts/a.md").write_text(post("A", "2024-01-01", "Edited."))
    rebuilt = _run("build", cwd=root)
    assert rebuilt.returncode == 0 and rebuilt.stdout.startswith("Built ")


def _run_command(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The command as its entry point runs it (cli.run: the process ends with the command),
    with an exit handler of its own that must still run."""
    script = ("import atexit, sys\n"
              "atexit.register(lambda: print('exit handler ran', file=sys.stderr))\n"
              "from blogengine.cli import run\n"
              f"sys.argv = ['blogengine', *{list(args)!r}]\n"
              "run()\n")
    return subprocess.run([sys.executable, "-c", script], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.slow
def test_a_build_ends_its_process_with_output_flushed_and_exit_handlers_run(make_site):
    root = make_site({"content/posts/a.md": post("A", "2024-01-01", "A [link](/nowhere/).")})
    result = _run_command("build", cwd=root)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Built ") and result.stdout.endswith("-> public\n")
    assert "/nowhere/" in result.stderr and result.stderr.endswith("exit handler ran\n")
    strict = _run_command("build", "--strict", cwd=root)
    assert strict.returncode == 1
    assert "--strict: exit 1" in strict.stderr and strict.stderr.endswith("exit handler ran\n")
    # What the first build kept for the next one was written before the process ended: the
    # edit renders only the post and the home page (its summary), not all 9 pages.
    (root / "content/posts/a.md").write_text(post("A", "2024-01-01", "Edited, no link."))
    edited = _run_command("build", cwd=root)
    assert edited.returncode == 0 and "1 parsed, 2 rendered" in edited.stdout, edited.stdout


@pytest.mark.slow
def test_subprocess_build_error_exit_1_no_traceback(make_site):
    root = make_site({"content/posts/a.md": b"---\ntitle: A\ndate: 2024-01-01\n---\n\xff\xfe\n"})
    result = _run("build", cwd=root)
    assert result.returncode == 1
    assert "error: content/posts/a.md:5: not valid UTF-8" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_subprocess_debug_shows_traceback(make_site):
    root = make_site({"content/posts/a.md": "---\ntitle: A\n---\n"})
    result = _run("--debug", "build", cwd=root)
    assert result.returncode == 1 and "Traceback" in result.stderr


@pytest.mark.slow
def test_subprocess_init_refuses_existing_site(make_site):
    root = make_site()
    result = _run("init", str(root), cwd=root)
    assert result.returncode == 1 and "already holds a site" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_subprocess_new_without_site_is_a_clear_error(tmp_path):
    result = _run("new", "Title", cwd=tmp_path)
    assert result.returncode == 1 and "blogengine.toml" in result.stderr
    assert "Traceback" not in result.stderr


def test_explain_templates_names_each_templates_file(runner, make_site):
    root = make_site({"content/posts/a.md": post("A", "2024-01-01"),
                      "templates/404.html": '{% extends "base.html" %}'})
    result = runner.invoke(main, ["build", "--source", str(root), "--explain-templates"])
    assert result.exit_code == 0, result.output
    sources = dict(line.removeprefix("template ").split(" <- ")
                   for line in result.output.splitlines() if line.startswith("template "))
    assert sources["404.html"] == str(root / "templates/404.html")
    assert sources["base.html"].endswith("themes/default/templates/base.html")


@pytest.mark.slow
def test_progress_bar_on_a_terminal_for_long_builds(make_site):
    import pty
    files = {f"content/posts/p{i}.md": post(f"Post {i}", "2024-01-01", tags="[a, b]")
             for i in range(250)}
    root = make_site(files)
    primary, secondary = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "blogengine", "build"], cwd=root,
                               stdin=secondary, stdout=secondary, stderr=secondary)
    os.close(secondary)
    output = b""
    while True:
        try:
            chunk = os.read(primary, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    assert process.wait(timeout=120) == 0
    text = output.decode(errors="replace")
    assert "Rendering" in text and "100%" in text
    assert text.rstrip().splitlines()[-1].startswith("Built ")


@pytest.mark.slow
def test_no_progress_bar_when_not_a_terminal(make_site):
    files = {f"content/posts/p{i}.md": post(f"Post {i}", "2024-01-01") for i in range(250)}
    result = _run("build", cwd=make_site(files))
    assert result.returncode == 0 and "Rendering" not in result.stderr + result.stdout
