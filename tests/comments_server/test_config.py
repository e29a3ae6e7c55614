"""Server config: defaults -> site folder -> COMMENTS_CONFIG file -> COMMENTS_* env -> test config."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from comments_server.app import create_app
from comments_server.config import SETTINGS, defaults, load_config, origin_of, validate
from comments_server.errors import ConfigError
from tests.support import REPO
from tests.support.server import SECRET

SETTINGS_PAGE = REPO / "docs" / "comment-server.md"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_defaults_are_complete_and_valid_but_for_secret_and_manifest():
    cfg = load_config({}, environ={})
    assert cfg.values == defaults() and cfg.problems == []
    problems = validate(cfg)
    assert len(problems) == 2
    assert problems[0].startswith("SECRET_KEY is not set") and problems[1].startswith("THREADS_MANIFEST is not set")


@pytest.mark.parametrize("key", ["secret", "test-secret-key-0123456789", "a" * 64, "abababab" * 8])
def test_a_guessable_secret_key_is_refused(key, manifest):
    """Issue 13 item 12: /api/form-token hands anyone signed values to test SECRET_KEY guesses
    against offline, so a short or repetitive key no longer starts the server."""
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({"SECRET_KEY": key, "THREADS_MANIFEST": str(manifest), "DATABASE_URL": "sqlite://"})


def test_layers_override_in_order(tmp_path):
    file = write(tmp_path / "comments.toml", """
        moderation = "all"
        MAX_LINKS = 7
        rate_limit = "1/second"
        threads_manifest = "public/threads.json"
    """)
    env = {"COMMENTS_CONFIG": str(file), "COMMENTS_MAX_LINKS": "9", "COMMENTS_MODERATION": "first-time"}
    cfg = load_config({"MODERATION": "none"}, environ=env)
    assert cfg.problems == []
    assert cfg.values["MODERATION"] == "none" and cfg.where("MODERATION") == "config"
    assert cfg.values["MAX_LINKS"] == 9 and cfg.where("MAX_LINKS") == "environment"
    assert cfg.values["RATE_LIMIT"] == "1/second" and cfg.where("RATE_LIMIT") == str(file)
    # Relative paths in a file are relative to that file.
    assert cfg.values["THREADS_MANIFEST"] == str(tmp_path / "public" / "threads.json")


@pytest.mark.parametrize(
    ("name", "text", "value"),
    [
        ("MAX_LINKS", "off", None), ("MAX_LINKS", "12", 12), ("MIN_SUBMIT_SECONDS", "0.5", 0.5),
        ("MIN_SUBMIT_SECONDS", "", None), ("RATE_LIMIT", "off", None), ("RATE_LIMIT", "3/hour", "3/hour"),
        ("AUTO_MIGRATE", "false", False), ("ALLOW_UNKNOWN_THREADS", "1", True),
        ("CORS_ORIGINS", "https://a.example, https://b.example", ["https://a.example", "https://b.example"]),
        ("DATABASE_URL", "postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
    ],
)
def test_env_values_are_parsed(name, text, value):
    assert load_config({}, environ={f"COMMENTS_{name}": text}).values[name] == value


def test_bad_env_values_are_named(tmp_path):
    cfg = load_config({}, environ={"COMMENTS_MAX_LINKS": "many", "COMMENTS_AUTO_MIGRATE": "perhaps",
                                   "COMMENTS_UNRELATED": "ignored", "COMMENTS_TEST_POSTGRES_URL": "x"})
    assert cfg.problems == [
        "environment COMMENTS_AUTO_MIGRATE: 'perhaps' is not a boolean (expected true or false)",
        "environment COMMENTS_MAX_LINKS: 'many' is not an integer",
    ]


def test_unknown_and_mistyped_keys_in_a_file(tmp_path):
    file = write(tmp_path / "c.toml", """
        moderaton = "all"
        max_links = "lots"
        cors_origins = "https://a.example"
    """)
    cfg = load_config({}, environ={"COMMENTS_CONFIG": str(file)})
    assert f"{file}: unknown setting 'moderaton' (did you mean 'MODERATION'?)" in cfg.problems
    assert f"{file}: max_links: 'lots' is not an integer" in cfg.problems, cfg.problems
    assert f"{file}: cors_origins: expected list of strings (got 'https://a.example')" in cfg.problems


def test_broken_or_missing_config_file(tmp_path):
    bad = write(tmp_path / "bad.toml", "moderation = \n")
    assert any(str(bad) in p for p in load_config({}, environ={"COMMENTS_CONFIG": str(bad)}).problems)
    missing = load_config({}, environ={"COMMENTS_CONFIG": str(tmp_path / "none.toml")}).problems
    assert "cannot read the config file named by COMMENTS_CONFIG" in missing[0]


def test_unknown_test_config_key():
    cfg = load_config({"MAX_LINK": 3, "TESTING": True}, environ={}, extra_keys=frozenset({"TESTING"}))
    assert cfg.problems == ["config: unknown setting 'MAX_LINK' (did you mean 'MAX_LINKS'?)"]


def test_site_folder_settings(tmp_path):
    site = tmp_path / "site"
    write(site / "blogengine.toml", """
        title = "My Blog"
        base_url = "https://blog.example.com/blog/"

        [comments]
        enabled = true
        url = "https://comments.example.com"

        [comments.server]
        moderation = "first-time"
        RATE_LIMIT = "10/minute"
        max_links = false
        cors_origins = ["https://www.example.com"]
    """)
    cfg = load_config({"SITE": str(site)}, environ={})
    assert cfg.problems == []
    v = cfg.values
    assert v["DATABASE_URL"] == f"sqlite:///{site.resolve() / 'comments.sqlite3'}"
    assert v["THREADS_MANIFEST"] == str(site.resolve() / "public" / "threads.json")
    assert v["SITE_URL"] == "https://blog.example.com/blog/"
    assert v["PUBLIC_URL"] == "https://comments.example.com"
    assert v["CORS_ORIGINS"] == ["https://blog.example.com", "https://www.example.com"]
    assert v["MODERATION"] == "first-time" and v["RATE_LIMIT"] == "10/minute" and v["MAX_LINKS"] is None
    # Environment variables still win over the site's file.
    assert load_config({"SITE": str(site)}, environ={"COMMENTS_MODERATION": "all"}).values["MODERATION"] == "all"


def test_site_database_url_relative_to_site(tmp_path):
    site = tmp_path / "site"
    write(site / "blogengine.toml", """
        [comments]
        database_url = "sqlite:///data/c.sqlite3"
    """)
    cfg = load_config({"SITE": str(site)}, environ={})
    assert cfg.values["DATABASE_URL"] == f"sqlite:///{site.resolve() / 'data' / 'c.sqlite3'}"


def test_site_errors_are_named(tmp_path):
    assert "not a site folder" in load_config({"SITE": str(tmp_path)}, environ={}).problems[0]
    site = tmp_path / "s"
    write(site / "blogengine.toml", """
        [comments.server]
        moderation = 3
        colour = "red"
    """)
    problems = load_config({"SITE": str(site)}, environ={}).problems
    assert any("[comments.server]: moderation: expected choice (got 3)" in p for p in problems)
    assert any("unknown setting 'colour'" in p for p in problems)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"MODERATION": "sometimes"}, "is not one of none, first-time, all"),
        ({"RATE_LIMIT": "ten per minute"}, "is not a rate limit"),
        ({"CORS_ORIGINS": ["https://a.example/path"]}, "is not an origin"),
        ({"AUTHOR_TOKENS": ["short"]}, "shorter than 16 characters"),
        ({"DATABASE_URL": "mysql://x/y"}, "is not supported"),
        ({"RATE_LIMIT_STORAGE_URL": "mongodb://x"}, "is not supported"),
        ({"DISPLAY_DEPTH": 500}, "out of range"),
        ({"MAX_LINKS": -1}, "out of range"),
        ({"MIN_SUBMIT_SECONDS": float("nan")}, "out of range"),
        ({"SITE_URL": "blog.example.com"}, "is not an http(s) URL"),
        ({"MAX_LINKS": "3"}, "config MAX_LINKS: expected integer or off (got '3')"),
        ({"AUTO_MIGRATE": "yes"}, "expected boolean"),
    ],
)
def test_create_app_refuses_invalid_config(make_app, override, message):
    with pytest.raises(ConfigError) as info:
        make_app(**override)
    assert message in str(info.value)


def test_create_app_lists_every_problem_at_once(manifest):
    with pytest.raises(ConfigError) as info:
        create_app({"MODERATION": "x", "RATE_LIMIT": "y", "THREADS_MANIFEST": str(manifest)})
    assert len(info.value.problems) == 3  # secret, moderation, rate limit


def test_env_configures_create_app(monkeypatch, manifest, tmp_path):
    monkeypatch.setenv("COMMENTS_SECRET_KEY", SECRET)
    monkeypatch.setenv("COMMENTS_THREADS_MANIFEST", str(manifest))
    monkeypatch.setenv("COMMENTS_DATABASE_URL", f"sqlite:///{tmp_path / 'env.sqlite3'}")
    monkeypatch.setenv("COMMENTS_MAX_LINKS", "off")
    app = create_app()
    assert app.config["MAX_LINKS"] is None and (tmp_path / "env.sqlite3").exists()


def test_origin_of():
    assert origin_of("https://Blog.Example.com:443/x/") == "https://blog.example.com"
    assert origin_of("http://localhost:8000/") == "http://localhost:8000"
    assert origin_of("ftp://x") is None and origin_of("nonsense") is None


def test_every_setting_is_documented():
    text = SETTINGS_PAGE.read_text(encoding="utf-8")
    missing = [s.name for s in SETTINGS if f"`{s.name}`" not in text or f"`COMMENTS_{s.name}`" not in text]
    assert missing == []
    # No page of the docs names a COMMENTS_ variable that is not a setting.
    docs = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    text = "\n".join(page.read_text(encoding="utf-8") for page in docs)
    documented = set(re.findall(r"`COMMENTS_([A-Z_]+)`", text)) - {"CONFIG", "TEST_POSTGRES_URL", "TEST_REDIS_URL"}
    assert documented <= {s.name for s in SETTINGS}
