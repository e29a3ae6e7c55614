"""Plugins: found (the site's plugins/ folder, the `blogengine.plugins` entry-point group, the
built-in examples), enabled and configured by `[plugins]` in blogengine.toml, and called
hook by hook so that a plugin's failure is reported as the plugin's own (see hookspecs.py)."""

from __future__ import annotations

import difflib
import hashlib
import importlib
import importlib.util
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pluggy

from blogengine import hookspecs
from blogengine.config import SiteConfig, _line_of
from blogengine.errors import BlogError, ConfigError

if TYPE_CHECKING:   # imported where packages are looked through: 20 ms a build otherwise
    import importlib.metadata

ENTRY_POINT_GROUP = "blogengine.plugins"
PLUGINS_FOLDER = "plugins"
BUILTIN = {"mark": "blogengine.plugins.mark", "blocklist": "blogengine.plugins.blocklist"}
SITE_PACKAGE = "blogengine_site_plugins"   # where a site's plugins/ modules are imported


class PluginError(BlogError):
    """A plugin raised: at import or in a hook; the message names the plugin and the hook."""


@dataclass(frozen=True)
class Plugin:
    """One enabled plugin: its module, its checked settings and where it came from."""

    name: str
    module: ModuleType
    settings: Mapping[str, Any]
    origin: str                      # "plugins/NAME.py", "package acme 1.0", "built-in"
    sources: tuple[Path, ...]        # its source files, for incremental builds


@dataclass(frozen=True, eq=False)
class PluginSet:
    """The enabled plugins of a site, in the order `[plugins] enabled` lists them."""

    plugins: tuple[Plugin, ...] = ()
    root: Path = Path(".")
    manager: pluggy.PluginManager = field(default_factory=lambda: _manager(()))
    config: SiteConfig | None = None     # handed to every hook that asks for `config`

    def __bool__(self) -> bool:
        return bool(self.plugins)

    def call(self, hook: str, **kwargs: Any) -> Iterator[tuple[str, Any]]:
        """Call `hook` on every plugin implementing it, in `enabled` order, each with its own
        settings; yields (plugin name, result). A plugin's exception becomes a PluginError."""
        for impl in self._impls(hook):
            yield impl.plugin_name, self._call_one(hook, impl, kwargs)

    def _impls(self, hook: str) -> list[pluggy.HookImpl]:
        # pluggy calls the last registered first (plugins are registered last-first, see
        # _manager), with tryfirst and trylast respected
        return list(reversed(getattr(self.manager.hook, hook).get_hookimpls()))

    def _call_one(self, hook: str, impl: pluggy.HookImpl, kwargs: Mapping[str, Any]) -> Any:
        plugin = next(p for p in self.plugins if p.name == impl.plugin_name)
        arguments = {"config": self.config, **kwargs, "settings": dict(plugin.settings)}
        try:
            return impl.function(**{name: arguments[name] for name in impl.argnames})
        except BlogError:
            raise
        except Exception as exc:
            raise failure(plugin.name, hook, exc) from exc

    def run(self, hook: str, **kwargs: Any) -> None:
        """Call a hook whose results do not matter."""
        for _name, _result in self.call(hook, **kwargs):
            pass

    def problems(self, documents: list[Any]) -> list[BlogError]:
        """What documents_parsed found wrong with the documents."""
        found: list[BlogError] = []
        for name, result in self.call("documents_parsed", documents=documents):
            items = list(result or ()) if isinstance(result, (list, tuple)) or not result else [result]
            if not all(isinstance(item, BlogError) for item in items):
                raise PluginError(f'plugin "{name}" failed in documents_parsed: it must return a '
                                  f"list of BlogError, got {result!r:.80}")
            found.extend(items)
        return found

    def page_context(self, page: Any, site: Any) -> dict[str, Any]:
        """The extra template variables plugins give a page."""
        extra: dict[str, Any] = {}
        for name, result in self.call("page_context", page=page, site=site):
            if result is None:
                continue
            if not isinstance(result, dict) or "page" in result:
                raise PluginError(f'plugin "{name}" failed in page_context: it must return a '
                                  f"dict of new template variables, got {type(result).__name__}"
                                  + (" with 'page'" if isinstance(result, dict) else ""))
            extra.update(result)
        return extra

    def page_html(self, page: Any, html: str) -> str:
        """A page's HTML after every plugin had its say."""
        for impl in self._impls("page_html"):
            name, result = impl.plugin_name, self._call_one("page_html", impl,
                                                            {"page": page, "html": html})
            if result is None:
                continue
            if not isinstance(result, str):
                raise PluginError(f'plugin "{name}" failed in page_html: it must return a '
                                  f"string or None, got {type(result).__name__}")
            html = result
        return html

    def hooks(self, hook: str) -> bool:
        """Whether any plugin implements `hook`."""
        return bool(getattr(self.manager.hook, hook).get_hookimpls())

    def digest(self) -> str:
        """What the output depends on of the plugins: names, settings, source files and the
        inputs they declare (plugin_inputs); changing any of them renders every page again."""
        sha = hashlib.sha256()
        for plugin in self.plugins:
            sha.update(f"{plugin.name}\0{plugin.origin}\0{sorted(plugin.settings.items())!r}\0"
                       .encode())
            for path in plugin.sources:
                sha.update(_file_digest(path))
        for name, paths in self.call("plugin_inputs", root=self.root):
            for path in paths or ():
                full = self.root / path
                sha.update(f"{name}\0{path}\0".encode() + _file_digest(full))
        return sha.hexdigest()


def failure(name: str, hook: str, exc: BaseException) -> PluginError:
    """The one-line report of a plugin's exception."""
    text = str(exc).strip().splitlines()
    return PluginError(f'plugin "{name}" failed in {hook}: {type(exc).__name__}'
                       + (f": {text[0]}" if text else ""))


def load_plugins(config: SiteConfig) -> PluginSet:
    """Import and check the plugins `[plugins]` enables, then call config_loaded on them.

    Raises ConfigError (unknown plugin or setting, with "did you mean") or PluginError."""
    table = dict(config.plugins)
    path, text = config.config_path, _config_text(config)
    errors: list[BlogError] = []
    enabled = table.pop("enabled", [])
    if not isinstance(enabled, list) or not all(isinstance(n, str) for n in enabled):
        raise ConfigError(f"'plugins.enabled' must be a list of plugin names, got {enabled!r}",
                          path, _line_of(text, "plugins", "enabled"))
    available = available_plugins(config.root) if enabled else {}
    for name in table:
        if name not in enabled:
            hint = _hint(name, enabled)
            line = _line_of(text, "plugins", name) or _header_line(text, f"plugins.{name}")
            errors.append(ConfigError(f"[plugins.{name}] configures a plugin that is not enabled "
                                      f"(add it to 'plugins.enabled'){hint}", path, line))
    plugins: list[Plugin] = []
    for name in dict.fromkeys(enabled):
        if name not in available:
            errors.append(ConfigError(
                f"'plugins.enabled': no plugin named {name!r} (not in {PLUGINS_FOLDER}/, an "
                f"installed package's {ENTRY_POINT_GROUP!r} entry points, nor built in)"
                + _hint(name, list(available)), path, _line_of(text, "plugins", "enabled")))
            continue
        try:
            module, origin, sources = available[name].load()
        except BlogError as exc:
            errors.append(exc)
            continue
        settings, problems = check_settings(name, module, table.get(name, {}), path, text)
        errors.extend(problems)
        plugins.append(Plugin(name, module, settings, origin, sources))
    if errors:
        _raise(errors)
    try:
        manager = _manager(plugins)
    except pluggy.PluginValidationError as exc:
        lines = str(exc).splitlines()
        hook = re.search(r"for hook '(\w+)'", lines[0])
        raise PluginError(f'plugin "{manager_name(exc.plugin)}" does not fit the hook '
                          f"{hook[1] if hook else '?'}: {lines[-1]}") from None
    _check_hook_names(manager)
    found = PluginSet(tuple(plugins), config.root, manager, config)
    found.run("config_loaded", config=config)
    return found


def manager_name(plugin: object) -> str:
    return getattr(plugin, "__name__", str(plugin)).rpartition(".")[2]


def _check_hook_names(manager: pluggy.PluginManager) -> None:
    """A hookimpl whose name is no hook (a typo) would never be called: say so."""
    known = [name for name in dir(hookspecs) if hasattr(getattr(hookspecs, name),
                                                        f"{hookspecs.PROJECT}_spec")]
    known += list(hookspecs.COMMENT_HOOKS)
    for name, plugin in manager.list_name_plugin():
        for caller in manager.get_hookcallers(plugin) or ():
            if caller.name not in known:
                raise PluginError(f'plugin "{name}" implements {caller.name!r}, which is no '
                                  f"hook{_hint(caller.name, known)}")


def check_settings(name: str, module: ModuleType, given: Any, path: Path,
                   text: str) -> tuple[dict[str, Any], list[BlogError]]:
    """A plugin's settings: its SETTINGS defaults, overridden by `[plugins.NAME]`, each of the
    type of its default; unknown keys are errors."""
    defaults: Mapping[str, Any] = getattr(module, "SETTINGS", {})
    table = f"plugins.{name}"
    if not isinstance(given, dict):
        return dict(defaults), [ConfigError(f"'{table}' must be a table, got {given!r}", path,
                                            _line_of(text, "plugins", name))]
    settings = dict(defaults)
    errors: list[BlogError] = []
    for key, value in given.items():
        line = _line_of(text, table, key)
        if key not in defaults:
            errors.append(ConfigError(f"unknown key '{table}.{key}'" + _hint(key, list(defaults),
                                      prefix=table + "."), path, line))
        elif type(defaults[key]) is not type(value) and not (
                isinstance(defaults[key], float) and type(value) is int):
            errors.append(ConfigError(f"'{table}.{key}' must be {_kind(defaults[key])}, got "
                                      f"{value!r}", path, line))
        else:
            settings[key] = value
    return settings, errors


@dataclass(frozen=True)
class _Found:
    """A plugin that can be imported: from the site's folder, a package, or built in."""

    name: str
    kind: str                                     # "site", "package", "built-in"
    path: Path | None = None                      # a site plugin's file or package folder
    entry_point: importlib.metadata.EntryPoint | None = None

    def load(self) -> tuple[ModuleType, str, tuple[Path, ...]]:
        try:
            if self.kind == "site":
                assert self.path is not None
                module = _import_site_plugin(self.name, self.path)
                origin = f"{PLUGINS_FOLDER}/{self.path.name}"
            elif self.kind == "package":
                assert self.entry_point is not None
                loaded = self.entry_point.load()
                module = loaded if isinstance(loaded, ModuleType) else sys.modules[loaded.__module__]
                dist = self.entry_point.dist
                origin = f"package {dist.name} {dist.version}" if dist else "package"
            else:
                module = importlib.import_module(BUILTIN[self.name])
                origin = "built-in"
        except BlogError:
            raise
        except Exception as exc:
            raise failure(self.name, "import", exc) from exc
        return module, origin, _module_sources(module)


def available_plugins(root: Path) -> dict[str, _Found]:
    """Every plugin the site could enable, by name: its own folder first, then packages, then
    the built-in examples."""
    import importlib.metadata
    found: dict[str, _Found] = {name: _Found(name, "built-in") for name in BUILTIN}
    for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        found[entry.name] = _Found(entry.name, "package", entry_point=entry)
    folder = root / PLUGINS_FOLDER
    if folder.is_dir():
        for path in sorted(folder.iterdir()):
            if path.suffix == ".py" and path.is_file():
                found[path.stem] = _Found(path.stem, "site", path=path)
            elif (path / "__init__.py").is_file():
                found[path.name] = _Found(path.name, "site", path=path)
    return found


def _import_site_plugin(name: str, path: Path) -> ModuleType:
    """Import plugins/NAME.py or plugins/NAME/ as blogengine_site_plugins.NAME (kept in
    sys.modules, so build workers inherit it)."""
    qualified = f"{SITE_PACKAGE}.{name}"
    if SITE_PACKAGE not in sys.modules:
        sys.modules[SITE_PACKAGE] = ModuleType(SITE_PACKAGE)
    if path.is_dir():
        spec = importlib.util.spec_from_file_location(
            qualified, path / "__init__.py", submodule_search_locations=[str(path)])
    else:
        spec = importlib.util.spec_from_file_location(qualified, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[qualified] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[qualified]
        raise
    return module


def _module_sources(module: ModuleType) -> tuple[Path, ...]:
    """A module's source files: the file, or every .py file of its package."""
    file = getattr(module, "__file__", None)
    if not file:
        return ()
    path = Path(file)
    if path.name == "__init__.py":
        return tuple(sorted(path.parent.rglob("*.py")))
    return (path,)


def _manager(plugins: Any) -> pluggy.PluginManager:
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    for plugin in reversed(list(plugins)):
        manager.register(plugin.module, name=plugin.name)
    return manager


def _file_digest(path: Path) -> bytes:
    try:
        return hashlib.sha256(path.read_bytes()).digest()
    except OSError:
        return b"missing"


def _config_text(config: SiteConfig) -> str:
    try:
        return config.config_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


def _header_line(text: str, table: str) -> int | None:
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip().replace(" ", "") == f"[{table}]":
            return number
    return None


def _hint(name: str, choices: list[str], prefix: str = "") -> str:
    match = difflib.get_close_matches(name, sorted(choices), n=1)
    return f" (did you mean '{prefix}{match[0]}'?)" if match else ""


def _kind(value: Any) -> str:
    return {bool: "true or false", int: "an integer", float: "a number", str: "a string",
            list: "a list", dict: "a table"}.get(type(value), type(value).__name__)


def _raise(errors: list[BlogError]) -> None:
    if len(errors) == 1:
        raise errors[0]
    from blogengine.errors import BuildFailed
    raise BuildFailed(errors)
