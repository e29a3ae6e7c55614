"""Watching a function a build calls without changing what it does."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pytest


def calls_to(monkeypatch: pytest.MonkeyPatch, module: object, name: str,
             noted: Callable[..., Iterable[Any]] = lambda *args, **kwargs: [args[0]]) -> list[Any]:
    """A list that gains, from now on, what `noted` makes of each call's arguments (by default
    its first argument) to `module.name`, which is wrapped, not replaced: it still runs. Only
    calls in this process are seen (a test watching a build's workers builds with jobs=1)."""
    seen: list[Any] = []
    original = getattr(module, name)

    def watching(*args: Any, **kwargs: Any) -> Any:
        seen.extend(noted(*args, **kwargs))
        return original(*args, **kwargs)
    monkeypatch.setattr(module, name, watching)
    return seen
