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

    def with_hint(self) -> str:
        """Message and hint as one text, for places that show a single string (an API error, a tool result)."""
        return f"{self.message} {self.hint}" if self.hint else self.message


class InputNotFound(HearthError):
    """The path a person gave does not exist or cannot be read."""


class UnsupportedInput(HearthError):
    """The file exists but is not a format hearth knows how to read."""


class CorruptInput(HearthError):
    """The file is in a known format but broken (truncated, invalid JSON, bad zip)."""

    def __init__(self, message: str, hint: str | None = None, *, offset: int | None = None) -> None:
        super().__init__(message, hint)
        self.offset = offset


class EncryptedInput(HearthError):
    """The file is encrypted and no passphrase (or a wrong one) was given."""


class StoreError(HearthError):
    """The database cannot be opened or is in a state hearth cannot use."""


class NotFound(HearthError):
    """A conversation, message or other record asked for by id does not exist."""


class BackendError(HearthError):
    """A chat backend could not produce a reply (or not all of it).

    `partial_text` keeps whatever arrived before the failure so a caller can store or show it:
    nothing the model already said is lost. `status` is the HTTP status when there was one.
    """

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        *,
        backend: str | None = None,
        partial_text: str = "",
        status: int | None = None,
    ) -> None:
        super().__init__(message, hint)
        self.backend = backend
        self.partial_text = partial_text
        self.status = status


class BackendConfigError(BackendError):
    """A named backend is unknown, incomplete, or lacks its key or its installed parts."""


class BackendUnreachable(BackendError):
    """Nothing answered at the backend's address."""


class BackendAuthError(BackendError):
    """The server refused the API key (401/403)."""


class BackendModelNotFound(BackendError):
    """The server does not know the model (or the endpoint) asked for."""


class BackendTimeout(BackendError):
    """The server stopped answering for longer than the timeout."""


class BackendRateLimited(BackendError):
    """The server asked hearth to slow down (429)."""

    def __init__(self, message: str, hint: str | None = None, *, retry_after: float | None = None, **kw) -> None:
        super().__init__(message, hint, **kw)
        self.retry_after = retry_after


class BackendServerError(BackendError):
    """The server failed on its side (5xx, overloaded)."""


class BackendRequestRejected(BackendError):
    """The server rejected the request as invalid (400/422): too long a prompt, a bad parameter."""


class BackendStreamBroken(BackendError):
    """The connection dropped in the middle of a reply; `partial_text` has what arrived."""


class BackendBadResponse(BackendError):
    """The server answered something that is not the API it claims to speak."""
