"""What the CLI reports as one line on stderr instead of a traceback (no third-party imports:
every command loads this)."""

from __future__ import annotations


class CliError(Exception):
    """A failure the user can act on. exit_code: 1 for the API's answers, 2 for usage."""

    exit_code = 2


class UsageError(CliError):
    pass


class ApiError(CliError):
    """Something the API (or the way to it) answered, in one line; `code` is its problem code."""

    exit_code = 1

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class KeyAdminError(CliError):
    """A failure of key administration the user can act on."""
