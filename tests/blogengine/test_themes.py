"""Theme lookup: site overrides, themes extending themes, the default: prefix, template errors."""

from __future__ import annotations

import os

import jinja2
import pytest

from blogengine.config import load_config
from blogengine.errors import BuildFailed, ThemeError
from blogengine.themes import builtin_themes_dir, theme_chain
from tests.support.site import BASIC_CONFIG, post, read_html

ONE_POST = {"content/posts/a.md": post("A post", "2024-01-01")}


def test_builtin_default_theme_is_found_from_the_checkout():
    theme = builtin_themes_dir() / "default"
    assert (theme / "templates" / "base.html").is_file()
    assert (theme / "static" / "style.css").is_file()


def test_site_template_overrides_one_template(make_site, build_at):
    root = make_site({**ONE_POST, "templates/404.html":
                      '{% extends "base.html" %}{% block content %}<p id="mine">Gone</p>{% endblock %}'})
    build_at(root)
    assert read_html(root / "public/404.html").find(id="mine").get_text() == "Gone"
    # every other template still comes from the default theme
    assert read_html(root / "public/index.html").find("a", class_="skip-link") is not None


def test_override_can_extend_the_defaults_copy_with_prefix(make_site, build_at):
    root = make_site({**ONE_POST, "templates/base.html":
                      '{% extends "default:base.html" %}'
                      '{% block head %}<meta name="x-test" content="override">{% endblock %}'})
    build_at(root)
    soup = read_html(root / "public/index.html")
    assert soup.find("meta", attrs={"name": "x-test"})["content"] == "override"
    assert soup.find("main") is not None


def test_theme_extends_another_theme(make_site, build_at):
    root = make_site({
        **ONE_POST,
        "themes/base-theme/theme.toml": 'name = "base-theme"\n',
        "themes/base-theme/templates/404.html":
            '{% extends "base.html" %}{% block content %}<p id="from">base-theme</p>{% endblock %}',
        "themes/base-theme/static/extra.css": "body{}",
        "themes/child/theme.toml": 'extends = "base-theme"\n',
        "themes/child/templates/page.html": "CHILD PAGE",
    }, config='theme = "child"\n' + BASIC_CONFIG)
    config = load_config(root)
    assert [t.name for t in theme_chain(config)] == ["child", "base-theme", "default"]
    build_at(root)
    assert read_html(root / "public/404.html").find(id="from").get_text() == "base-theme"
    assert (root / "public/theme/extra.css").is_file()
    assert (root / "public/theme/style.css").is_file()


def test_unknown_theme_is_a_clear_error(make_site, build_at):
    root = make_site(ONE_POST, config='title = "T"\ntheme = "nope"\n')
    with pytest.raises(ThemeError, match="theme 'nope' not found"):
        build_at(root)


def test_theme_extending_itself_is_an_error(make_site, build_at):
    root = make_site({**ONE_POST, "themes/loop/theme.toml": 'extends = "loop"\n',
                      "themes/loop/templates/x.html": ""},
                     config='title = "T"\ntheme = "loop"\n')
    with pytest.raises(ThemeError, match="extends itself"):
        build_at(root)


def test_undefined_variable_in_template_names_template_and_line(make_site, build_at):
    root = make_site({**ONE_POST, "templates/post.html":
                      '{% extends "base.html" %}\n{% block content %}\n<h1>{{ page.titel }}</h1>\n'
                      '{% endblock %}\n'})
    with pytest.raises(BuildFailed) as caught:
        build_at(root)
    [error] = caught.value.errors
    assert str(error.path).endswith("templates/post.html")
    assert error.line == 3
    assert "titel" in error.message


def test_template_syntax_error_names_template_and_line(make_site, build_at):
    root = make_site({**ONE_POST, "templates/page.html": "line one\n{% if %}\n"})
    (root / "content/pages").mkdir()
    (root / "content/pages/about.md").write_text("---\ntitle: About\n---\nhi\n")
    with pytest.raises(BuildFailed) as caught:
        build_at(root)
    [error] = caught.value.errors
    assert str(error.path).endswith("templates/page.html") and error.line == 2


def test_explicit_theme_path(make_site, build_at):
    root = make_site({**ONE_POST, "mytheme/templates/404.html": "<!DOCTYPE html><title>x</title>OWN"},
                     config='title = "T"\ntheme = "./mytheme"\n')
    build_at(root)
    assert "OWN" in (root / "public/404.html").read_text()


# Folded by Jinja while compiling (filters of constants run then), and read from the settings.
FOLDED_DATE = ('{% extends "base.html" %}{% block content %}'
               '<p id="when">{{ "2024-05-06T07:08:00+00:00" | zoned | date }}</p>{% endblock %}')


@pytest.fixture
def compiled(monkeypatch):
    """The names of the templates compiled from source, as builds compile them."""
    names: list[str] = []
    original = jinja2.Environment.compile

    def counting(self, source, name=None, filename=None, *args, **kwargs):
        names.append(name)
        return original(self, source, name, filename, *args, **kwargs)

    monkeypatch.setattr(jinja2.Environment, "compile", counting)
    return names


def test_the_next_build_loads_the_compiled_templates_and_compiles_only_an_edited_one(
        make_site, build_at, compiled):
    root = make_site({**ONE_POST, "templates/404.html": FOLDED_DATE})
    build_at(root, jobs=1)
    assert {"404.html", "base.html", "post.html"} <= set(compiled)
    compiled.clear()
    build_at(root, jobs=1, incremental=False)   # every page rendered again
    assert compiled == []
    (root / "templates/404.html").write_text(FOLDED_DATE.replace('id="when"', 'id="on"'))
    build_at(root, jobs=1)
    assert compiled == ["404.html"]
    assert read_html(root / "public/404.html").find(id="on").get_text() == "May 6, 2024"


def test_templates_compiled_under_other_settings_are_not_reused(make_site, build_at, compiled):
    root = make_site({**ONE_POST, "templates/404.html": FOLDED_DATE})
    build_at(root, jobs=1)
    assert read_html(root / "public/404.html").find(id="when").get_text() == "May 6, 2024"
    config = root / "blogengine.toml"
    config.write_text('date_format = "%d.%m.%Y"\n' + config.read_text())
    compiled.clear()
    build_at(root, jobs=1)
    assert "404.html" in compiled
    assert read_html(root / "public/404.html").find(id="when").get_text() == "06.05.2024"


def test_with_no_cache_nothing_compiled_is_kept(make_site, build_at, compiled):
    root = make_site(ONE_POST)
    build_at(root, jobs=1, incremental=False, content_cache=False)
    assert compiled and not (root / ".blogengine/templates").exists()


def test_only_the_folders_of_the_settings_built_lately_are_kept(tmp_path):
    from blogengine.templating import COMPILED_KEPT, compiled_templates

    made = []
    for n in range(COMPILED_KEPT + 2):
        folder = compiled_templates(tmp_path, f"{n:024d}")
        os.utime(folder, (1_000_000 + n, 1_000_000 + n))   # each used after the one before
        made.append(folder)
    again = compiled_templates(tmp_path, made[1].name)  # an old set of settings built again
    kept = sorted(p.name for p in (tmp_path / "templates").iterdir())
    assert again == made[1] and len(kept) == COMPILED_KEPT
    assert kept == sorted([made[1].name] + [p.name for p in made[-(COMPILED_KEPT - 1):]])
