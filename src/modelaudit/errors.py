"""User-facing errors: each carries the message to print and the exit code to return.

The CLI's single error boundary (`modelaudit.cli.app.main`) prints `ModelauditError`s as
plain messages, never as tracebacks. Anything else that escapes is a bug (exit 4).
"""

from __future__ import annotations

from modelaudit.exitcodes import ExitCode


class ModelauditError(Exception):
    exit_code: ExitCode = ExitCode.INTERNAL

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(ModelauditError):
    exit_code = ExitCode.USAGE


class ConfigError(ModelauditError):
    """A registry that cannot be used. `problems` holds one line per problem found."""

    exit_code = ExitCode.USAGE

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class CredentialError(ModelauditError):
    """A key reference that cannot be resolved (missing file, unreadable...)."""

    exit_code = ExitCode.USAGE


class StoreError(ModelauditError):
    """The history store failed. `reason` is what failed in the backend's own words (a
    damaged file, a full disk), for a caller that words the message itself."""

    exit_code = ExitCode.INTERNAL

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason or message


class StoreUnavailable(StoreError):  # noqa: N818 - reads as the state it is
    """The history database cannot be used for a reason outside it (a full disk, a
    read-only file system, permissions, a path that is not a file): an I/O problem, exit 2,
    not a damaged database."""

    exit_code = ExitCode.USAGE


class LockedError(ModelauditError):
    exit_code = ExitCode.LOCKED
