"""The comment server's side of plugins: the site's enabled plugins (handed over by the generator
through the SiteLayer) asked about each new comment and told of each published one. No Flask."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

import pluggy

from comments_server import hookspecs
from comments_server.models import Comment, Status

log = logging.getLogger(__name__)

# (plugin name, its module, its checked settings), in the order the site enables them
PluginEntry = tuple[str, ModuleType, Mapping[str, Any]]
VERDICTS = {"pending": Status.PENDING, "spam": Status.SPAM}


class CommentPlugins:
    """The plugins of a site, called for comments; a failing plugin never loses a comment."""

    def __init__(self, entries: Sequence[PluginEntry] = ()) -> None:
        self.settings = {name: dict(settings) for name, _module, settings in entries}
        self.manager = pluggy.PluginManager(hookspecs.PROJECT)
        self.manager.add_hookspecs(hookspecs)
        for name, module, _settings in reversed(list(entries)):   # called first-enabled first
            self.manager.register(module, name=name)

    def _impls(self, hook: str) -> list[pluggy.HookImpl]:
        return list(reversed(getattr(self.manager.hook, hook).get_hookimpls()))

    def _call(self, impl: pluggy.HookImpl, **kwargs: Any) -> Any:
        arguments = {**kwargs, "settings": dict(self.settings[impl.plugin_name])}
        return impl.function(**{name: arguments[name] for name in impl.argnames})

    def check(self, comment: Any, body_html: str) -> tuple[Status, str] | None:
        """What the plugins say of a reader's comment about to be stored: None (let it through)
        or (PENDING or SPAM, the reason shown to the author)."""
        found: tuple[Status, str] | None = None
        for impl in self._impls("comment_about_to_be_stored"):
            name = impl.plugin_name
            try:
                verdict = self._call(impl, comment=comment, body_html=body_html)
                if verdict is None:
                    continue
                status, reason = _verdict(verdict)
            except Exception:
                log.exception('plugin "%s" failed in comment_about_to_be_stored; the comment is '
                              "held for moderation", name)
                status, reason = Status.PENDING, f'plugin "{name}" failed'
            if found is None or (status is Status.SPAM and found[0] is not Status.SPAM):
                found = (status, reason)
        return found

    def published(self, comment: Comment) -> None:
        """Tell the plugins a comment was published; their failures are only logged."""
        for impl in self._impls("comment_published"):
            try:
                self._call(impl, comment=comment)
            except Exception:
                log.exception('plugin "%s" failed in comment_published', impl.plugin_name)


def _verdict(value: Any) -> tuple[Status, str]:
    """("pending" or "spam", reason) checked; anything else is the plugin's bug."""
    if (not isinstance(value, tuple) or len(value) != 2 or value[0] not in VERDICTS
            or not isinstance(value[1], str)):
        raise ValueError(f'expected None, ("pending", reason) or ("spam", reason), got {value!r}')
    return VERDICTS[value[0]], value[1][:500]
