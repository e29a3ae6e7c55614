"""Errors of the comment server: ApiError for requests, ConfigError for start-up, SchemaError for
the database, TransferError for an export that cannot be imported."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A request the client got wrong; rendered as {"error": {"code", "message", "field"}}."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field

    def to_dict(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "field": self.field}}


class ConfigError(Exception):
    """The server cannot start: every problem with the configuration, listed together."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class SchemaError(Exception):
    """The database schema is not the one this code expects; the message says what to run."""


class TransferError(Exception):
    """An export document that cannot be imported; the message names the record and field."""
