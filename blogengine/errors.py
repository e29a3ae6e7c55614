"""Errors a user can cause; each carries the file and line it is about."""

from __future__ import annotations

from pathlib import Path


class BlogError(Exception):
    """A problem the user can fix, reported as `path:line: message`."""

    def __init__(self, message: str, path: Path | str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = Path(path) if path is not None else None
        self.line = line

    def __reduce__(self) -> tuple[type, tuple[str, Path | None, int | None]]:
        # Errors cross from build workers to the main process: keep path and line.
        return (type(self), (self.message, self.path, self.line))

    def location(self) -> str:
        if self.path is None:
            return ""
        return f"{self.path}:{self.line}" if self.line else str(self.path)

    def __str__(self) -> str:
        where = self.location()
        return f"{where}: {self.message}" if where else self.message

    def sort_key(self) -> tuple[str, int, str]:
        return (str(self.path or ""), self.line or 0, self.message)


class ConfigError(BlogError):
    """Bad value or unknown key in blogengine.toml."""


class ContentError(BlogError):
    """Bad front matter or Markdown in a content file."""


class ThemeError(BlogError):
    """A missing theme or a template that fails to compile or render."""


class DeployError(BlogError):
    """A deploy target refused or failed."""


class BuildFailed(BlogError):
    """Several errors from one build, listed together."""

    def __init__(self, errors: list[BlogError]) -> None:
        self.errors = sorted(errors, key=BlogError.sort_key)
        super().__init__(f"{len(self.errors)} error(s)")

    def __reduce__(self) -> tuple[type, tuple[list[BlogError]]]:  # type: ignore[override]
        return (type(self), (self.errors,))
