"""User-facing errors.

Every error a person can cause (a wrong path, a file that is not an export, a truncated JSON)
is a `HearthError` with one sentence saying what happened and a hint saying what to do. The CLI
prints these without a traceback; anything else is a bug and gets one in `--debug` mode.
"""

from __future__ import annotations


class HearthError(Exception):
    """Base of every error hearth expects a person to be able to act on."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class InputNotFound(HearthError):
    """The path a person gave does not exist or cannot be read."""


class UnsupportedInput(HearthError):
    """The file exists but is not a format hearth knows how to read."""


class CorruptInput(HearthError):
    """The file is in a known format but broken (truncated, invalid JSON, bad zip)."""

    def __init__(self, message: str, hint: str | None = None, *, offset: int | None = None) -> None:
        super().__init__(message, hint)
        self.offset = offset


class StoreError(HearthError):
    """The database cannot be opened or is in a state hearth cannot use."""


class NotFound(HearthError):
    """A conversation, message or other record asked for by id does not exist."""
