"""The process exit codes: a public contract, documented in the README."""

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    """The command did its job (a probe that found outages still completed)."""
    POLICY = 1
    """A policy failed: a pinned model is gone or retiring, or a `--fail-on` verdict was seen."""
    USAGE = 2
    """Bad command line or bad configuration."""
    INCONCLUSIVE = 3
    """No definitive answer could be had (this machine offline, rate-limited throughout...)."""
    INTERNAL = 4
    """A bug in modelaudit."""
    LOCKED = 5
    """Another exclusive run holds the lock."""
    INTERRUPTED = 130
    """Ctrl-C or SIGTERM: what completed was kept."""
    BROKEN_PIPE = 141
    """Whoever read the output went away (`| head`): 128 + SIGPIPE, as a shell reports it."""
