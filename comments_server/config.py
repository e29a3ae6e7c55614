"""Server configuration: defaults -> a site's settings -> COMMENTS_CONFIG file -> COMMENTS_* env -> overrides.

Every key is UPPER_SNAKE; a TOML file may spell it in lower case. `load_config` merges the layers
and records where each value came from, so `validate` can name the file or variable to fix.
"""

from __future__ import annotations

import difflib
import ipaddress
import math
import os
import re
import shlex
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from comments_server.settings import (FORM_WITHOUT_TOKEN_MODES, MAIL_TLS_MODES, MODERATION_MODES, SETTINGS,
                                     SETTINGS_BY_NAME, Kind, Setting)

if TYPE_CHECKING:
    from comments_server.site import SiteLayer

OFF_WORDS = ("off", "none", "false", "no", "")
MAX_DISPLAY_DEPTH = 50


@dataclass
class LoadedConfig:
    """The merged values, where each came from, and problems found while reading."""

    values: dict[str, Any]
    sources: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    site: SiteLayer | None = None     # the site read as the lowest layer, if any

    def where(self, key: str) -> str:
        return self.sources.get(key, "default")


def defaults() -> dict[str, Any]:
    """A fresh copy of every default value."""
    return {s.name: (list(s.default) if isinstance(s.default, list) else s.default) for s in SETTINGS}


def load_config(
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    extra_keys: frozenset[str] = frozenset(),
    site: SiteLayer | None = None,
) -> LoadedConfig:
    """Merge every layer; `extra_keys` are non-server keys (Flask's) allowed in `overrides`.

    `site` is the lowest layer, a site as the generator describes it; without one, a site
    folder named by SITE in any layer is read instead."""
    env = os.environ if environ is None else environ
    overrides = dict(overrides or {})
    cfg = LoadedConfig(values=defaults())

    env_values = _env_layer(env, cfg.problems)
    file_name = env.get("COMMENTS_CONFIG", "")
    file_values: dict[str, Any] = {}
    if file_name:
        file_values = _toml_layer(Path(file_name), cfg.problems)

    # The site folder can be named in any layer above it; it is read as the lowest layer.
    folder = overrides.get("SITE") or env_values.get("SITE") or file_values.get("SITE") or ""
    if site is None and folder:
        site = read_site_folder(Path(str(folder)), cfg.problems)
    if site is not None:
        cfg.site = site
        _merge(cfg, _site_values(site, cfg.problems), site.label)
    _merge(cfg, file_values, str(file_name))
    _merge(cfg, env_values, "environment")
    test_values = {}
    for key, value in overrides.items():
        if key in SETTINGS_BY_NAME:
            # Python values given directly must still have the right type.
            problem = _check_type(SETTINGS_BY_NAME[key], value)
            if problem:
                cfg.problems.append(f"config {key}: {problem}")
            else:
                test_values[key] = value
        elif key in extra_keys:
            cfg.values[key] = value
        else:
            cfg.problems.append(_unknown_key("config", key))
    _merge(cfg, test_values, "config")
    return cfg


def _merge(cfg: LoadedConfig, values: Mapping[str, Any], label: str) -> None:
    for key, value in values.items():
        cfg.values[key] = value
        cfg.sources[key] = label


def _unknown_key(label: str, key: str) -> str:
    hint = difflib.get_close_matches(key.upper(), list(SETTINGS_BY_NAME), n=1)
    suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
    return f"{label}: unknown setting '{key}'{suggestion}"


def _env_layer(env: Mapping[str, str], problems: list[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        name = f"COMMENTS_{setting.name}"
        if name not in env:
            continue
        try:
            values[setting.name] = parse_env(setting, env[name])
        except ValueError as exc:
            problems.append(f"environment {name}: {exc}")
    return values


def _toml_layer(path: Path, problems: list[str]) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        problems.append(f"{path}: cannot read the config file named by COMMENTS_CONFIG ({exc.strerror})")
        return {}
    except tomllib.TOMLDecodeError as exc:
        problems.append(f"{path}: {exc}")
        return {}
    return _table_values(data, str(path), path.parent, problems)


def _table_values(data: Mapping[str, Any], label: str, base: Path, problems: list[str]) -> dict[str, Any]:
    """Upper-case the keys of a TOML table, check their types, resolve relative paths against `base`."""
    values: dict[str, Any] = {}
    for raw_key, value in data.items():
        key = raw_key.upper()
        setting = SETTINGS_BY_NAME.get(key)
        if setting is None:
            problems.append(_unknown_key(label, raw_key))
            continue
        if isinstance(value, str) and setting.kind not in (Kind.STR, Kind.CHOICE, Kind.LIST):
            try:
                value = parse_env(setting, value)
            except ValueError as exc:
                problems.append(f"{label}: {raw_key}: {exc}")
                continue
        elif value is False and setting.kind in (Kind.INT_OFF, Kind.FLOAT_OFF, Kind.LIMIT_OFF):
            value = None
        problem = _check_type(setting, value)
        if problem:
            problems.append(f"{label}: {raw_key}: {problem}")
            continue
        values[key] = _resolve_paths(key, value, base)
    return values


def _resolve_paths(key: str, value: Any, base: Path) -> Any:
    """Relative file paths in a file are relative to that file, not to the working directory."""
    if key == "THREADS_MANIFEST" and value and "://" not in value and not Path(value).is_absolute():
        return str((base / value).resolve())
    if key == "SITE" and value and not Path(value).is_absolute():
        return str((base / value).resolve())
    if key == "DATABASE_URL":
        return sqlite_url_relative_to(value, base)
    return value


def sqlite_url_relative_to(url: str, base: Path) -> str:
    """Make the file of a relative sqlite:/// URL relative to `base`."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and url[len(prefix):] and not url[len(prefix):].startswith("/"):
        rest = url[len(prefix):]
        if rest != ":memory:":
            return prefix + str((base / rest).resolve())
    return url


def _site_values(layer: SiteLayer, problems: list[str]) -> dict[str, Any]:
    """The server settings a site implies: its database and thread manifest, its address (and
    so the one origin always allowed to call the API), then its [comments.server] table."""
    values: dict[str, Any] = {
        "DATABASE_URL": sqlite_url_relative_to(layer.database_url, layer.root),
        "THREADS_MANIFEST": str(layer.manifest),
    }
    if layer.base_url:
        values["SITE_URL"] = layer.base_url
        origin = origin_of(layer.base_url)
        if origin:
            values["CORS_ORIGINS"] = [origin]
    if layer.public_url:
        values["PUBLIC_URL"] = layer.public_url
    server_values = _table_values(layer.server, layer.label, layer.root, problems)
    if "CORS_ORIGINS" in server_values and "CORS_ORIGINS" in values:
        # Extra origins add to the site's own; the site must always be able to call its server.
        server_values["CORS_ORIGINS"] = values["CORS_ORIGINS"] + [
            o for o in server_values["CORS_ORIGINS"] if o not in values["CORS_ORIGINS"]
        ]
    values.update(server_values)
    return values


def read_site_folder(site_dir: Path, problems: list[str]) -> SiteLayer | None:
    """The layer of a site folder named by SITE: the generator reads its blogengine.toml (the
    only reader of that file, with the only defaults), the server maps it to settings."""
    from blogengine.comments import site_layer_of_folder

    layer, found = site_layer_of_folder(site_dir)
    problems.extend(found)
    return layer


def parse_env(setting: Setting, text: str) -> Any:
    """Parse an environment-variable string into the setting's kind; ValueError says what's wrong."""
    raw = text.strip()
    kind = setting.kind
    if kind in (Kind.STR, Kind.CHOICE):
        return text
    if kind == Kind.BOOL:
        low = raw.lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"{text!r} is not a boolean (expected true or false)")
    if kind == Kind.LIST:
        return [part.strip() for part in raw.split(",") if part.strip()]
    if kind in (Kind.INT_OFF, Kind.FLOAT_OFF, Kind.LIMIT_OFF) and raw.lower() in OFF_WORDS:
        return None
    if kind in (Kind.INT, Kind.INT_OFF):
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"{text!r} is not an integer") from None
    if kind == Kind.FLOAT_OFF:
        try:
            return float(raw)
        except ValueError:
            raise ValueError(f"{text!r} is not a number (or off)") from None
    if kind == Kind.LIMIT_OFF:
        return raw
    raise AssertionError(kind)


def _check_type(setting: Setting, value: Any) -> str | None:
    kind = setting.kind
    checks: dict[str, Callable[[Any], bool]] = {
        Kind.STR: lambda v: isinstance(v, str) or (setting.name == "SECRET_KEY" and v is None),
        Kind.CHOICE: lambda v: isinstance(v, str),
        Kind.BOOL: lambda v: isinstance(v, bool),
        Kind.INT: lambda v: isinstance(v, int) and not isinstance(v, bool),
        Kind.INT_OFF: lambda v: v is None or (isinstance(v, int) and not isinstance(v, bool)),
        Kind.FLOAT_OFF: lambda v: v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)),
        Kind.LIST: lambda v: isinstance(v, list) and all(isinstance(i, str) for i in v),
        Kind.LIMIT_OFF: lambda v: v is None or isinstance(v, str),
    }
    if checks[kind](value):
        return None
    return f"expected {kind} (got {value!r})"


def origin_of(url: str) -> str | None:
    """scheme://host[:port] of an http(s) URL, lower-cased, or None."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    default_port = {"http": 80, "https": 443}[parts.scheme]
    host = parts.hostname
    if ":" in host:
        host = f"[{host}]"
    suffix = f":{port}" if port and port != default_port else ""
    return f"{parts.scheme}://{host}{suffix}"


SECRET_KEY_MIN_LENGTH = 32
SECRET_KEY_MIN_DISTINCT = 10
MAKE_SECRET = "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`"


def secret_key_weakness(key: str) -> str | None:
    """Why `key` is too weak to sign with; None when it is long and varied enough."""
    if len(key) < SECRET_KEY_MIN_LENGTH:
        return f"is {len(key)} characters long (at least {SECRET_KEY_MIN_LENGTH} are needed)"
    if len(set(key)) < SECRET_KEY_MIN_DISTINCT:
        return f"uses only {len(set(key))} different characters (at least {SECRET_KEY_MIN_DISTINCT} are needed)"
    return None


def database_url_problems(cfg: LoadedConfig) -> list[str]:
    """What is wrong with DATABASE_URL, alone: all a static build that reads comments checks."""
    url = str(cfg.values["DATABASE_URL"])
    if not re.match(r"^(sqlite|postgres|postgresql(\+psycopg)?)://", url):
        return [f"{cfg.where('DATABASE_URL')} DATABASE_URL: {url!r} is not supported "
                "(expected sqlite:///FILE or postgresql+psycopg://...)"]
    return []


def validate(cfg: LoadedConfig) -> list[str]:
    """Cross-check the merged values; each problem names where the value came from."""
    from limits import parse_many  # slow to import; only a starting server needs it

    v = cfg.values
    problems: list[str] = []

    def bad(key: str, message: str) -> None:
        problems.append(f"{cfg.where(key)} {key}: {message}")

    if not v.get("SECRET_KEY"):
        problems.append(
            "SECRET_KEY is not set (set COMMENTS_SECRET_KEY to a long random string, e.g. "
            f"{MAKE_SECRET})"
        )
    elif weak := secret_key_weakness(str(v["SECRET_KEY"])):
        # Anyone can fetch signed form tokens from /api/form-token and test guesses offline.
        bad("SECRET_KEY", f"{weak}; use a long random string, e.g. {MAKE_SECRET}")
    problems.extend(database_url_problems(cfg))
    if v["MODERATION"] not in MODERATION_MODES:
        bad("MODERATION", f"{v['MODERATION']!r} is not one of {', '.join(MODERATION_MODES)}")
    if v["FORM_WITHOUT_TOKEN"] not in FORM_WITHOUT_TOKEN_MODES:
        bad("FORM_WITHOUT_TOKEN", f"{v['FORM_WITHOUT_TOKEN']!r} is not one of {', '.join(FORM_WITHOUT_TOKEN_MODES)}")
    if not v["THREADS_MANIFEST"] and not v["ALLOW_UNKNOWN_THREADS"]:
        problems.append(
            "THREADS_MANIFEST is not set: the server cannot tell which posts take comments (set "
            "COMMENTS_THREADS_MANIFEST to public/threads.json or its URL, run from a site folder, or set "
            "COMMENTS_ALLOW_UNKNOWN_THREADS=true for development)"
        )
    if not 0 <= v["DISPLAY_DEPTH"] <= MAX_DISPLAY_DEPTH:
        bad("DISPLAY_DEPTH", f"{v['DISPLAY_DEPTH']} is out of range (expected 0 to {MAX_DISPLAY_DEPTH})")
    for key in ("RATE_LIMIT", "READ_RATE_LIMIT", "PREVIEW_RATE_LIMIT", "LOGIN_RATE_LIMIT", "LOGIN_ACCOUNT_RATE_LIMIT",
                "WEBMENTION_RATE_LIMIT"):
        if v[key] is not None:
            try:
                if not parse_many(v[key]):
                    raise ValueError
            except ValueError:
                bad(key, f"{v[key]!r} is not a rate limit (expected e.g. '10/minute;100/hour' or off)")
    storage_url = str(v["RATE_LIMIT_STORAGE_URL"])
    if not re.match(r"^(memory|redis|rediss|redis\+sentinel|redis\+cluster|memcached)://", storage_url):
        bad("RATE_LIMIT_STORAGE_URL", f"{storage_url!r} is not supported (expected memory:// or redis://...)")
    for key in ("THREADS_MANIFEST_TTL", "TRUSTED_PROXY_COUNT", "FORM_TOKEN_MAX_AGE", "FEED_ITEMS"):
        if v[key] < 0:
            bad(key, f"{v[key]} is negative")
    for setting in SETTINGS:
        if setting.kind in (Kind.INT_OFF, Kind.FLOAT_OFF) and v[setting.name] is not None:
            number = v[setting.name]
            if number < 0 or (isinstance(number, float) and not math.isfinite(number)):
                bad(setting.name, f"{number} is out of range (expected 0 or more, or off)")
    for key in ("CORS_ORIGINS",):
        for origin in v[key]:
            if origin_of(origin) != origin.rstrip("/").lower():
                bad(key, f"{origin!r} is not an origin (expected scheme://host[:port], no path)")
    for key in ("SITE_URL", "PUBLIC_URL"):
        if v[key] and origin_of(v[key]) is None:
            bad(key, f"{v[key]!r} is not an http(s) URL")
    for network in v["TRUSTED_PROXIES"]:
        try:
            ipaddress.ip_network(network.strip(), strict=False)
        except ValueError:
            bad("TRUSTED_PROXIES", f"{network!r} is not an IP address or network")
    for token in v["AUTHOR_TOKENS"]:
        if len(token) < 16:
            bad("AUTHOR_TOKENS", "a token is shorter than 16 characters (too easy to guess)")
    _validate_mail(v, bad)
    _validate_publish(v, bad)
    return problems


def _validate_publish(v: Mapping[str, Any], bad: Callable[[str, str], None]) -> None:
    """The publish-on-comment settings."""
    if v["PUBLISH_COMMAND"]:
        try:
            if not shlex.split(v["PUBLISH_COMMAND"]):
                raise ValueError("it is empty")
        except ValueError as exc:
            bad("PUBLISH_COMMAND", f"{v['PUBLISH_COMMAND']!r} cannot be split into a command ({exc})")
    if v["PUBLISH_WEBHOOK_URL"] and origin_of(v["PUBLISH_WEBHOOK_URL"]) is None:
        bad("PUBLISH_WEBHOOK_URL", f"{v['PUBLISH_WEBHOOK_URL']!r} is not an http(s) URL")
    for key in ("PUBLISH_DEBOUNCE_SECONDS", "PUBLISH_POLL_SECONDS", "PUBLISH_TIMEOUT"):
        if v[key] < 1:
            bad(key, f"{v[key]} is out of range (expected 1 or more)")


def _validate_mail(v: Mapping[str, Any], bad: Callable[[str, str], None]) -> None:
    """The dashboard and notification settings."""
    if v["MAIL_TLS"] not in MAIL_TLS_MODES:
        bad("MAIL_TLS", f"{v['MAIL_TLS']!r} is not one of {', '.join(MAIL_TLS_MODES)}")
    if not 1 <= v["MAIL_PORT"] <= 65535:
        bad("MAIL_PORT", f"{v['MAIL_PORT']} is not a port (expected 1 to 65535)")
    for key in ("MAIL_TIMEOUT", "MAIL_RETRY_SECONDS", "REPLY_LINK_MAX_AGE", "CONFIRM_LINK_MAX_AGE", "FEDIVERSE_TIMEOUT"):
        if v[key] < 1:
            bad(key, f"{v[key]} is out of range (expected 1 or more)")
    for key in ("MAIL_HOST", "MAIL_FROM", "MAIL_USERNAME"):
        if any(char in v[key] for char in "\r\n\0"):
            bad(key, "contains a line break")
    if v["MAIL_HOST"] and not re.search(r"[^@\s<>]+@[^@\s<>]+", v["MAIL_FROM"]):
        bad("MAIL_FROM", f"{v['MAIL_FROM']!r} is not an email address (required when MAIL_HOST is set, "
                         "e.g. 'Blog comments <comments@example.com>')")
