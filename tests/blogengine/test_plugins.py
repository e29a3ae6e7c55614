"""Plugins: found in the site's plugins/ folder, in installed packages (entry points) and built
in; enabled and configured in blogengine.toml; called at the build's stage boundaries; a
plugin's failure reported as its own."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from blogengine import build as build_module
from blogengine.config import load_config
from blogengine.errors import BlogError, BuildFailed, ConfigError
from blogengine.pluginhost import PluginError, load_plugins
from tests.support.site import BASIC_CONFIG, post, read_html

MARK_CONFIG = BASIC_CONFIG + '\n[plugins]\nenabled = ["mark"]\n'

MARK_BODY = """
Some ==very important== words, and ==**bold** inside== too.

Not a mark: a == b, and `code ==stays== plain`.

```python
x ==y== z
```
"""

SITE_PLUGIN = '''
"""A site plugin: a template variable, a page rewrite and a parse check."""
from blogengine.errors import ContentError
from blogengine.hookspecs import hookimpl

SETTINGS = {"greeting": "hello", "times": 1}

@hookimpl
def page_context(page, settings):
    return {"greeting": settings["greeting"] * settings["times"]}

@hookimpl
def page_html(page, html, settings):
    return html.replace("</body>", "<!-- site plugin: %s -->\\n</body>" % settings["greeting"])

@hookimpl
def documents_parsed(documents):
    return [ContentError("no FIXME please", path=doc.source.rel, line=1)
            for doc in documents if "FIXME" in (doc.html or "")]
'''

PACKAGE_PLUGIN = '''
"""An installed plugin, found only through its distribution's entry point."""
from blogengine.hookspecs import hookimpl

@hookimpl
def page_html(html):
    return html.replace("</body>", "<!-- acme stamp -->\\n</body>")
'''


def config_with(plugins: str) -> str:
    return BASIC_CONFIG + "\n" + textwrap.dedent(plugins)


def test_mark_plugin_highlights_text_but_not_code(make_site, build_at):
    root = make_site({"content/posts/a.md": post("A", "2026-01-01", MARK_BODY)},
                     config=MARK_CONFIG)
    build_at(root)
    html = (root / "public/2026/01/a/index.html").read_text()
    body = read_html(root / "public/2026/01/a/index.html").select_one("article") or \
        read_html(root / "public/2026/01/a/index.html")
    marks = [str(mark) for mark in body.select("mark")]
    assert marks == ["<mark>very important</mark>", "<mark><strong>bold</strong> inside</mark>"]
    assert "a == b" in html
    assert "<code>code ==stays== plain</code>" in html
    assert "==y==" in body.select_one("pre").get_text()


def test_without_the_plugin_equals_signs_stay_text(make_site, build_at):
    root = make_site({"content/posts/a.md": post("A", "2026-01-01", MARK_BODY)})
    build_at(root)
    html = (root / "public/2026/01/a/index.html").read_text()
    assert "<mark>" not in html and "==very important==" in html


def test_plugins_work_in_build_workers(make_site, build_at, monkeypatch):
    files = {f"content/posts/p{i}.md": post(f"P{i}", "2026-01-0%d" % (i % 9 + 1), "==hi== there")
             for i in range(6)}
    files["plugins/greet.py"] = SITE_PLUGIN
    root = make_site(files, config=MARK_CONFIG.replace('["mark"]', '["mark", "greet"]'))
    monkeypatch.setattr(build_module, "PARALLEL_SOURCES", 1)
    monkeypatch.setattr(build_module, "PARALLEL_PAGES", 1)
    build_at(root, jobs=2)
    pages = sorted((root / "public/2026/01").glob("p*/index.html"))
    assert len(pages) == 6
    assert all("<mark>hi</mark>" in page.read_text() for page in pages)
    assert all("<!-- site plugin: hello -->" in page.read_text()
               for page in (root / "public").rglob("*.html"))


def test_site_plugin_gets_settings_adds_variables_and_rewrites_pages(make_site, build_at):
    root = make_site({
        "content/posts/a.md": post("A", "2026-01-01"),
        "plugins/greet.py": SITE_PLUGIN,
        "templates/post.html": '{% extends "default:post.html" %}'
                               '{% block content %}<p id="g">{{ greeting }}</p>{{ super() }}'
                               '{% endblock %}',
    }, config=config_with('[plugins]\nenabled = ["greet"]\n[plugins.greet]\ngreeting = "hi"\n'
                          'times = 2\n'))
    build_at(root)
    html = (root / "public/2026/01/a/index.html").read_text()
    assert "<!-- site plugin: hi -->" in html
    assert read_html(root / "public/2026/01/a/index.html").select_one("#g").get_text() == "hihi"


def test_documents_parsed_problems_fail_the_build_with_file_and_line(make_site, build_at):
    root = make_site({"content/posts/a.md": post("A", "2026-01-01", "FIXME later"),
                      "plugins/greet.py": SITE_PLUGIN},
                     config=config_with('[plugins]\nenabled = ["greet"]\n'))
    with pytest.raises(BuildFailed) as caught:
        build_at(root)
    assert [str(e) for e in caught.value.errors] == ["posts/a.md:1: no FIXME please"]


def test_unknown_plugin_is_an_error_with_did_you_mean(make_site):
    root = make_site(config=config_with('[plugins]\nenabled = ["mrak"]\n'))
    with pytest.raises(ConfigError) as caught:
        load_plugins(load_config(root))
    assert "no plugin named 'mrak'" in str(caught.value)
    assert "(did you mean 'mark'?)" in str(caught.value)
    assert str(caught.value).startswith(f"{root / 'blogengine.toml'}:")


def test_plugin_settings_are_checked_with_file_and_line(make_site):
    root = make_site({"plugins/greet.py": SITE_PLUGIN}, config=config_with(
        '[plugins]\nenabled = ["greet"]\n[plugins.greet]\ngreting = "x"\ntimes = "two"\n'))
    with pytest.raises(BuildFailed) as caught:
        load_plugins(load_config(root))
    config = root / "blogengine.toml"
    lines = config.read_text().splitlines()
    greting = lines.index('greting = "x"') + 1
    assert [str(e) for e in caught.value.errors] == [
        f"{config}:{greting}: unknown key 'plugins.greet.greting' "
        "(did you mean 'plugins.greet.greeting'?)",
        f"{config}:{greting + 1}: 'plugins.greet.times' must be an integer, got 'two'",
    ]


def test_settings_for_a_plugin_not_enabled_are_an_error(make_site):
    root = make_site(config=config_with('[plugins]\nenabled = ["mark"]\n[plugins.marc]\nx = 1\n'))
    with pytest.raises(ConfigError, match=r"\[plugins.marc\] configures a plugin that is not "
                                          r"enabled .*did you mean 'mark'"):
        load_plugins(load_config(root))


def test_a_plugin_raising_in_a_hook_is_reported_by_name(make_site, build_at):
    root = make_site({"content/posts/a.md": post("A", "2026-01-01"),
                      "plugins/boom.py": "from blogengine.hookspecs import hookimpl\n"
                                         "@hookimpl\ndef page_html(html):\n"
                                         "    raise ValueError('no pages today')\n"},
                     config=config_with('[plugins]\nenabled = ["boom"]\n'))
    with pytest.raises(BlogError) as caught:
        build_at(root)
    errors = getattr(caught.value, "errors", [caught.value])
    assert {str(e) for e in errors} == {
        'plugin "boom" failed in page_html: ValueError: no pages today'}
    assert all(isinstance(e, PluginError) for e in errors)
    assert not (root / "public").exists() or not any((root / "public").rglob("*.html"))


def make_distribution(folder: Path) -> None:
    """An installed distribution, as pip leaves it: a module and a .dist-info with an entry
    point whose name ("stamp") is not the module's name."""
    (folder / "acme_blog_stamp.py").write_text(PACKAGE_PLUGIN)
    info = folder / "acme_blog_stamp-1.2.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-blog-stamp\nVersion: 1.2\n")
    (info / "entry_points.txt").write_text("[blogengine.plugins]\nstamp = acme_blog_stamp\n")


def run_build(root: Path, extra_path: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if extra_path is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(extra_path),
                                                          env.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, "-m", "blogengine", "build"], cwd=root, env=env,
                          capture_output=True, text=True)


def test_site_plugin_and_installed_package_plugin_run_in_one_build(make_site, tmp_path):
    packages = tmp_path / "packages"
    packages.mkdir()
    make_distribution(packages)
    root = make_site({"content/posts/a.md": post("A", "2026-01-01", "==marked=="),
                      "plugins/greet.py": SITE_PLUGIN},
                     config=config_with('[plugins]\nenabled = ["greet", "stamp", "mark"]\n'))
    without = run_build(root)
    assert without.returncode == 1
    assert "no plugin named 'stamp'" in without.stderr   # only the entry point knows that name
    result = run_build(root, packages)
    assert result.returncode == 0, result.stderr
    html = (root / "public/2026/01/a/index.html").read_text()
    assert "<!-- site plugin: hello -->" in html
    assert "<!-- acme stamp -->" in html
    assert "<mark>marked</mark>" in html


@pytest.mark.parametrize("source, hook", [
    ("import nonexistent_module_for_sure\n", "import"),
    ("from blogengine.hookspecs import hookimpl\n@hookimpl\n"
     "def markdown_setup(md):\n    raise KeyError('rules')\n", "markdown_setup"),
])
def test_broken_plugin_exits_1_naming_it_without_traceback(make_site, source, hook):
    root = make_site({"content/posts/a.md": post("A", "2026-01-01"), "plugins/broken.py": source},
                     config=config_with('[plugins]\nenabled = ["broken"]\n'))
    result = run_build(root)
    assert result.returncode == 1
    assert f'plugin "broken" failed in {hook}: ' in result.stderr
    assert "Traceback" not in result.stderr
    assert len([line for line in result.stderr.splitlines() if "broken" in line]) == 1


def test_every_build_hook_gets_the_arguments_its_specification_names(make_site, build_at):
    from tests.support.docs_tables import hook_specs
    from blogengine import hookspecs
    specs = hook_specs(hookspecs)
    lines = ["from blogengine.hookspecs import hookimpl", "CALLS = []"]
    for name, arguments, _doc in specs:
        lines += ["@hookimpl", f"def {name}({arguments}):",
                  f"    CALLS.append(({name!r}, {', '.join(arguments.split(', '))}))",
                  f"    assert all(a is not None for a in ({arguments},)), {name!r}",
                  "    return [] if %r in ('plugin_inputs', 'documents_parsed') else None" % name]
    root = make_site({"content/posts/a.md": post("A", "2026-01-01"),
                      "plugins/everything.py": "\n".join(lines) + "\n"},
                     config=config_with('[plugins]\nenabled = ["everything"]\n'))
    build_at(root)
    import sys
    called = {call[0] for call in sys.modules["blogengine_site_plugins.everything"].CALLS}
    assert called == {name for name, _a, _d in specs}


def test_a_misspelt_hook_is_an_error_naming_the_plugin(make_site):
    root = make_site({"plugins/typo.py": "from blogengine.hookspecs import hookimpl\n"
                                         "@hookimpl\ndef page_htm(html):\n    return html\n"},
                     config=config_with('[plugins]\nenabled = ["typo"]\n'))
    with pytest.raises(PluginError, match=r"plugin \"typo\" implements 'page_htm', which is no "
                                          r"hook \(did you mean 'page_html'\?\)"):
        load_plugins(load_config(root))


def test_a_hook_with_an_argument_no_specification_names_is_an_error(make_site):
    root = make_site({"plugins/odd.py": "from blogengine.hookspecs import hookimpl\n"
                                        "@hookimpl\ndef page_html(html, colour):\n    return html\n"},
                     config=config_with('[plugins]\nenabled = ["odd"]\n'))
    with pytest.raises(PluginError, match=r'^plugin "odd" does not fit the hook page_html: '
                                          r".*'colour'.* not be found in the hookspec$"):
        load_plugins(load_config(root))


def test_documents_parsed_must_return_errors(make_site, build_at):
    root = make_site({"content/posts/a.md": post("A", "2026-01-01"),
                      "plugins/bad.py": "from blogengine.hookspecs import hookimpl\n"
                                        "@hookimpl\ndef documents_parsed():\n    return 'oops'\n"},
                     config=config_with('[plugins]\nenabled = ["bad"]\n'))
    with pytest.raises(PluginError, match=r'plugin "bad" failed in documents_parsed: it must '
                                          r"return a list of BlogError, got 'oops'"):
        build_at(root)


def test_debug_shows_the_plugins_own_traceback(make_site):
    root = make_site({"content/posts/a.md": post("A", "2026-01-01"),
                      "plugins/broken.py": "from blogengine.hookspecs import hookimpl\n"
                                           "@hookimpl\ndef site_built(site):\n"
                                           "    raise KeyError('rules')\n"},
                     config=config_with('[plugins]\nenabled = ["broken"]\n'))
    result = subprocess.run([sys.executable, "-m", "blogengine", "build", "--debug"], cwd=root,
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert "Traceback" in result.stderr
    assert f'File "{root / "plugins/broken.py"}", line 4, in site_built' in result.stderr
    assert 'error: plugin "broken" failed in site_built: KeyError: \'rules\'' in result.stderr
