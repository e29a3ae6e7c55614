"""Site configuration: `blogengine.toml` read into a validated SiteConfig."""

from __future__ import annotations

import dataclasses
import difflib
import re
import string
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pygments.styles import get_all_styles, get_style_by_name
from pygments.util import ClassNotFound

from blogengine.errors import BlogError, ConfigError
from blogengine.serverlink import url_problem

CONFIG_NAME = "blogengine.toml"
PERMALINK_FIELDS = ("year", "month", "day", "slug", "category")


@dataclass(frozen=True)
class AuthorConfig:
    name: str = ""
    email: str = ""


@dataclass(frozen=True)
class CommentsConfig:
    # On by default: a blog here is a conversation. An empty url means the comment
    # server shares the site's origin (as under `blogengine serve`).
    enabled: bool = True
    url: str = ""
    # Where the comment server keeps its data when run from this site folder;
    # empty means a SQLite file `comments.sqlite3` beside blogengine.toml.
    database_url: str = ""
    # A comments export imported when `blogengine serve` starts on an empty database
    # (demo conversations); a path relative to the site folder.
    seed: str = ""
    # Free-form settings handed to the comment server (validated by comments_server).
    server: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FediverseConfig:
    # The author's fediverse account (`https://instance/@user`): the comment server finds each
    # post's announcement among its recent statuses and treats its replies as the author's.
    account: str = ""


@dataclass(frozen=True)
class ImagesConfig:
    # Local images in posts and pages get their size, lazy loading and, when wider than the
    # smallest width, resized WebP and original-format variants at these widths (images.py).
    enabled: bool = True
    widths: list[int] = field(default_factory=lambda: [480, 960, 1600])


@dataclass(frozen=True)
class SearchConfig:
    # Pagefind indexes posts and pages after each build that changed one (search.py).
    enabled: bool = True
    comments: bool = False   # index the comment sections too
    # A big site's index is made in parts of about this many pages: an edit indexes one part.
    part_pages: int = 500


@dataclass(frozen=True)
class WebmentionConfig:
    # `blogengine webmention send` tells the sites a post links to (webmention_send.py).
    send_on_deploy: bool = False   # opt-in: send after each successful `blogengine deploy`
    # Hosts ("name" or "name:port") exempt from the private-address refusal: an intranet, tests.
    allow_hosts: list[str] = field(default_factory=list)


DEPLOY_TARGETS = ("dir", "rsync", "github-pages", "s3")


@dataclass(frozen=True)
class SocialCardsConfig:
    enabled: bool = True      # a generated og:image for posts and pages without `image:`


@dataclass(frozen=True)
class DirTargetConfig:
    path: str = ""           # a local folder, relative to the site folder
    delete: bool = True      # remove files the build no longer has


@dataclass(frozen=True)
class RsyncTargetConfig:
    destination: str = ""    # a path or user@host:path
    delete: bool = True
    checksum: bool = True    # compare contents, not size and time: a clean build rewrites every mtime
    options: list[str] = field(default_factory=list)   # extra rsync arguments, e.g. ["-e", "ssh -p 2222"]


@dataclass(frozen=True)
class GithubPagesTargetConfig:
    remote: str = "origin"   # a remote of the site's git repository, a URL or a path
    branch: str = "gh-pages"
    cname: str = ""          # written as CNAME (a custom domain)
    nojekyll: bool = True    # add .nojekyll so GitHub serves files as they are


@dataclass(frozen=True)
class S3TargetConfig:
    bucket: str = ""
    prefix: str = ""
    region: str = ""
    endpoint_url: str = ""   # any S3-compatible service; empty means AWS
    profile: str = ""
    delete: bool = False     # objects the build no longer has are removed only when asked
    cache_control: str = "public, max-age=300"            # pages, feeds and other text
    cache_control_assets: str = "public, max-age=86400"   # images, styles, scripts, fonts


@dataclass(frozen=True)
class DeployConfig:
    target: str = ""         # one of DEPLOY_TARGETS; empty means --target must say
    reload_comments: bool = False   # ask the comment server to reload threads.json afterwards
    dir: DirTargetConfig = field(default_factory=DirTargetConfig)
    rsync: RsyncTargetConfig = field(default_factory=RsyncTargetConfig)
    github_pages: GithubPagesTargetConfig = field(default_factory=GithubPagesTargetConfig)
    s3: S3TargetConfig = field(default_factory=S3TargetConfig)


@dataclass(frozen=True)
class SiteConfig:
    """Everything `blogengine.toml` can set; the defaults here are the only defaults."""

    root: Path = Path(".")
    title: str = "My Blog"
    description: str = ""
    base_url: str = "http://localhost:8000/"
    language: str = "en"
    timezone: str = "UTC"
    permalink: str = "/{year}/{month}/{slug}/"
    page_permalink: str = "/{slug}/"
    posts_per_page: int = 10
    theme: str = "default"
    date_format: str = "%B %-d, %Y"
    feed_items: int = 20
    related_posts: int = 3
    escape_html: bool = False
    pygments_style: str = "default"
    pygments_dark_style: str = "github-dark"
    # A bigger Markdown file is refused (a content error naming it) rather than left to stall
    # the build: one takes about 3 s per MiB of dense Markdown to build.
    max_document_kib: int = 1024
    # Render with markdown-it-pyrs when installed (blogengine[fast]) the documents it renders
    # identically (fastmd.py); false: always markdown-it-py.
    markdown_accelerator: bool = True
    author: AuthorConfig = field(default_factory=AuthorConfig)
    comments: CommentsConfig = field(default_factory=CommentsConfig)
    search: SearchConfig = field(default_factory=SearchConfig)
    social_cards: SocialCardsConfig = field(default_factory=SocialCardsConfig)
    deploy: DeployConfig = field(default_factory=DeployConfig)
    images: ImagesConfig = field(default_factory=ImagesConfig)
    webmention: WebmentionConfig = field(default_factory=WebmentionConfig)
    fediverse: FediverseConfig = field(default_factory=FediverseConfig)
    # [plugins] enabled = [...] and a [plugins.NAME] table each: checked by pluginhost.py
    plugins: dict[str, Any] = field(default_factory=dict)

    @property
    def content_dir(self) -> Path:
        return self.root / "content"

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_NAME

    @property
    def output_dir(self) -> Path:
        """Where the site is built unless told otherwise: public/ beside content/."""
        return self.root / "public"

    @property
    def serve_output_dir(self) -> Path:
        """Where `blogengine serve` builds the site: never public/."""
        return self.root / ".blogengine" / "serve" / "public"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def base_path(self) -> str:
        """The path part of base_url, always ending in '/': where the site lives on its host."""
        return urlsplit(self.base_url).path or "/"


def load_config(root: Path) -> SiteConfig:
    """Read and validate `root/blogengine.toml`; every problem is reported at once."""
    path = root / CONFIG_NAME
    if not path.is_file():
        raise ConfigError(
            f"no {CONFIG_NAME} here; run `blogengine init {root}` to start a site, "
            "or pass --source DIR", path=path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not valid UTF-8 (byte {exc.start})", path=path) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = re.search(r"\(at line (\d+), column \d+\)", message)
        line = int(match.group(1)) if match else None
        reason = re.sub(r" ?\(at line.*", "", message)
        raise ConfigError(f"invalid TOML: {reason}", path=path, line=line) from None
    return config_from_dict(data, root=root, path=path, text=text)


def config_from_dict(data: dict[str, Any], *, root: Path, path: Path | None = None,
                     text: str = "") -> SiteConfig:
    """Build a SiteConfig from parsed TOML, collecting every error before raising."""
    errors: list[ConfigError] = []
    values = _read_table(SiteConfig, data, "", errors, path, text)
    if errors:
        raise _combine(errors)
    config = SiteConfig(root=root, **values)
    errors.extend(_check_values(config, path, text))
    if errors:
        raise _combine(errors)
    return dataclasses.replace(config, base_url=_with_slash(config.base_url))


def _combine(errors: list[ConfigError]) -> BlogError:
    if len(errors) == 1:
        return errors[0]
    from blogengine.errors import BuildFailed
    return BuildFailed(list(errors))


def _read_table(cls: type, data: dict[str, Any], prefix: str, errors: list[ConfigError],
                path: Path | None, text: str) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls) if f.name != "root"}
    values: dict[str, Any] = {}
    for key, value in data.items():
        name = prefix + key
        line = _line_of(text, prefix.rstrip("."), key)
        if key not in known:
            errors.append(ConfigError(_unknown_key(key, prefix, known, isinstance(value, dict),
                                                   text), path, line))
            continue
        expected = hints[key]
        if isinstance(expected, type) and dataclasses.is_dataclass(expected):
            if key == "author" and isinstance(value, str):
                value = {"name": value}
            if not isinstance(value, dict):
                errors.append(ConfigError(
                    f"'{name}' must be a table, got {_type_name(value)}", path, line))
                continue
            values[key] = expected(**_read_table(expected, value, name + ".", errors, path, text))
        elif not _is_instance(value, expected):
            errors.append(ConfigError(
                f"'{name}' must be {_type_name_of(expected)}, got {_type_name(value)} {value!r}",
                path, line))
        else:
            values[key] = value
    return values


def _unknown_key(key: str, prefix: str, known: set[str], is_table: bool, text: str) -> str:
    """What to say of an unknown key: a close match, or that a top-level key landed in the
    table written above it."""
    table = prefix.rstrip(".")
    owner = _ancestor_knowing(key, table)
    if owner is not None:
        header = _header_line(text, table)
        at = f" on line {header}" if header else ""
        whose, where = (("a top-level setting", "above the first [table]") if owner == "" else
                        (f"a setting of [{owner}]", f"up, among the keys of [{owner}]"))
        return (f"unknown key '{prefix}{key}': '{key}' is {whose}, but it is written below "
                f"[{table}]{at}, so TOML puts it in that table (move it {where})")
    hint = difflib.get_close_matches(key, sorted(known), n=1)
    if is_table:
        suggestion = f" (did you mean [{prefix}{hint[0]}]?)" if hint else ""
        return f"unknown table [{prefix}{key}]{suggestion}"
    suggestion = f" (did you mean '{prefix}{hint[0]}'?)" if hint else ""
    return f"unknown key '{prefix}{key}'{suggestion}"


def _ancestor_knowing(key: str, table: str) -> str | None:
    """The nearest table above `table` ("" for the top level) that has a setting `key`."""
    if not table:
        return None
    parts = table.split(".")
    classes: list[type] = [SiteConfig]
    for part in parts[:-1]:
        hint = typing.get_type_hints(classes[-1]).get(part)
        if not (isinstance(hint, type) and dataclasses.is_dataclass(hint)):
            return None
        classes.append(hint)
    for depth in range(len(classes) - 1, -1, -1):
        if key in {f.name for f in dataclasses.fields(classes[depth]) if f.name != "root"}:
            return ".".join(parts[:depth])
    return None


def _check_values(config: SiteConfig, path: Path | None, text: str) -> list[ConfigError]:
    errors: list[ConfigError] = []

    def fail(key: str, message: str) -> None:
        table, _, name = key.rpartition(".")
        errors.append(ConfigError(f"'{key}' {message}", path, _line_of(text, table, name)))

    url = urlsplit(config.base_url)
    if url.scheme not in ("http", "https") or not url.netloc:
        fail("base_url", f"must be an absolute http(s) URL, got {config.base_url!r}")
    try:
        ZoneInfo(config.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        fail("timezone", f"is not a known time zone, got {config.timezone!r} "
                         "(expected a name such as 'Europe/Paris' or 'UTC')")
    for key in ("permalink", "page_permalink"):
        problem = check_permalink(getattr(config, key), page=(key == "page_permalink"))
        if problem:
            fail(key, problem)
    for key in ("posts_per_page", "feed_items", "max_document_kib"):
        if getattr(config, key) < 1:
            fail(key, f"must be at least 1, got {getattr(config, key)}")
    if config.search.part_pages < 1:
        fail("search.part_pages", f"must be at least 1, got {config.search.part_pages}")
    if config.related_posts < 0:
        fail("related_posts", f"must be 0 or more, got {config.related_posts}")
    for key in ("pygments_style", "pygments_dark_style"):
        style = getattr(config, key)
        if not is_style(style):
            hint = difflib.get_close_matches(style, known_styles(), n=1)
            fail(key, f"is not a Pygments style, got {style!r}"
                      + (f" (did you mean {hint[0]!r}?)" if hint else ""))
    if config.comments.url and (problem := url_problem(config.comments.url)):
        fail("comments.url", problem)
    if config.fediverse.account and not _is_account_url(config.fediverse.account):
        fail("fediverse.account", "must be the http(s) URL of your profile, like "
                                  f"'https://mastodon.social/@you', got {config.fediverse.account!r}")
    widths = config.images.widths
    if not widths or not all(_is_instance(w, int) and 16 <= w <= 10000 for w in widths):
        fail("images.widths", f"must be a list of whole numbers of pixels from 16 to 10000, "
                              f"got {widths!r}")
    elif sorted(set(widths)) != widths:
        fail("images.widths", f"must be in increasing order without repeats, got {widths!r}")
    bad_hosts = [host for host in config.webmention.allow_hosts
                 if not isinstance(host, str) or not re.fullmatch(r"[\w.:\[\]-]+", host)]
    if bad_hosts:
        fail("webmention.allow_hosts", f"must be a list of host names or host:port, got {bad_hosts[0]!r}")
    errors.extend(_check_deploy(config.deploy, path, text))
    return errors


def _is_account_url(url: str) -> bool:
    """`https://host/@user`: the profile address every Mastodon-compatible server gives."""
    parts = urlsplit(url)
    return (parts.scheme in ("http", "https") and bool(parts.hostname)
            and re.fullmatch(r"/@[\w.-]+/?", parts.path) is not None)


def _check_deploy(deploy: DeployConfig, path: Path | None, text: str) -> list[ConfigError]:
    errors: list[ConfigError] = []

    def fail(key: str, message: str) -> None:
        table, _, name = key.rpartition(".")
        errors.append(ConfigError(f"'{key}' {message}", path, _line_of(text, table, name)))

    if deploy.target and deploy.target not in DEPLOY_TARGETS:
        hint = difflib.get_close_matches(deploy.target, DEPLOY_TARGETS, n=1)
        fail("deploy.target", f"is not a deploy target, got {deploy.target!r} (expected one of "
                              f"{', '.join(DEPLOY_TARGETS)})"
                              + (f" (did you mean {hint[0]!r}?)" if hint else ""))
    bad = [option for option in deploy.rsync.options if not isinstance(option, str)]
    if bad:
        fail("deploy.rsync.options", f"must be a list of strings, got {bad[0]!r}")
    branch = deploy.github_pages.branch
    if not re.fullmatch(r"[A-Za-z0-9._/-]+", branch) or ".." in branch or branch.startswith(("-", "/")) \
            or branch.endswith(("/", ".lock")):
        fail("deploy.github_pages.branch", f"is not a branch name, got {branch!r}")
    if not deploy.github_pages.remote:
        fail("deploy.github_pages.remote", "must not be empty (a remote name, URL or path)")
    if deploy.s3.endpoint_url:
        url = urlsplit(deploy.s3.endpoint_url)
        if url.scheme not in ("http", "https") or not url.netloc:
            fail("deploy.s3.endpoint_url",
                 f"must be an absolute http(s) URL, got {deploy.s3.endpoint_url!r}")
    if ".." in deploy.s3.prefix.split("/"):
        fail("deploy.s3.prefix", f"must not climb out of the bucket, got {deploy.s3.prefix!r}")
    return errors


def is_style(name: str) -> bool:
    """Whether Pygments has a style of that name; a built-in one is found without looking
    through the installed packages for plugin styles (20 ms of every build, known_styles)."""
    try:
        get_style_by_name(name)
    except ClassNotFound:
        return False
    return True


def known_styles() -> list[str]:
    return sorted(get_all_styles())


def check_permalink(pattern: str, *, page: bool = False) -> str | None:
    """Return what is wrong with a permalink pattern, or None."""
    if not pattern.startswith("/") or not pattern.endswith("/"):
        return f"must start and end with '/', got {pattern!r}"
    allowed = ("slug",) if page else PERMALINK_FIELDS
    try:
        fields = [(name, spec, conversion) for _, name, spec, conversion
                  in string.Formatter().parse(pattern) if name is not None]
    except ValueError as exc:  # a lone '{' or '}'
        return f"is not a valid pattern ({exc}), got {pattern!r}"
    # Only plain {name} fields: a format spec or conversion would be code-like and surprising.
    names = [name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
             for name, spec, conversion in fields]
    for name in names:
        if name not in allowed:
            return f"has an unknown field {{{name}}} (expected one of {', '.join(allowed)})"
    if "slug" not in names:
        return "must contain {slug}"
    if ".." in pattern.split("/") or "\\" in pattern:
        return f"must not climb out of the site, got {pattern!r}"
    return None


def _is_instance(value: Any, expected: Any) -> bool:
    if expected is bool:
        return isinstance(value, bool)
    if expected is int:
        return isinstance(value, int) and not isinstance(value, bool)
    origin = typing.get_origin(expected)
    if origin is not None:
        return isinstance(value, origin)
    if isinstance(expected, types.UnionType):
        return any(_is_instance(value, t) for t in typing.get_args(expected))
    return isinstance(value, expected)


def _type_name(value: Any) -> str:
    names = {str: "a string", bool: "a boolean", int: "an integer", float: "a number",
             list: "a list", dict: "a table"}
    return names.get(type(value), type(value).__name__)


def _type_name_of(expected: Any) -> str:
    return {str: "a string", bool: "true or false", int: "an integer"}.get(expected, str(expected))


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


_HEADER = re.compile(r"^\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")


def _line_of(text: str, table: str, key: str) -> int | None:
    """Best-effort line of `key` inside `[table]` in the TOML text, for error messages (tomllib
    gives no positions once the text has parsed): the key's own line, else the header of the
    table it names (`[table.key]`), else a dotted key (`key.x = ...`) that made it."""
    current = ""
    full = f"{table}.{key}" if table else key
    dotted: int | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        header = _HEADER.match(line)
        if header:
            current = _unquote_key(header.group(1))
            if current == full or current.startswith(full + "."):
                return number
            continue
        if current == table and re.match(rf"^[\"']?{re.escape(key)}[\"']?\s*=", line):
            return number
        if dotted is None and current == table and re.match(
                rf"^[\"']?{re.escape(key)}[\"']?\s*\.", line):
            dotted = number
    return dotted


def _header_line(text: str, table: str) -> int | None:
    for number, raw in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(raw.strip())
        if header and _unquote_key(header.group(1)) == table:
            return number
    return None


def _unquote_key(name: str) -> str:
    return ".".join(part.strip().strip("\"'") for part in name.split("."))
