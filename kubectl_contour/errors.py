"""The plugin's error family: every failure a command can report, each with its exit code.

The CLI has one error boundary (cli.main) that prints `error: <message>` (plus an optional
hint) to stderr and exits with the code below. Codes are documented in --help and
docs/plugin.md.
"""

from __future__ import annotations

OK = 0
CHECK_FAILED = 1
USAGE = 2
NOT_FOUND = 3
UNREACHABLE = 4
TIMEOUT = 5

EXIT_CODES_HELP = (
    "Exit codes: 0 ok; 1 a check failed, drift found or the change was refused; "
    "2 usage error; 3 not found; 4 cluster, Envoy or controller unreachable, or forbidden; "
    "5 timeout (switch --wait)."
)


class PluginError(Exception):
    """Base class: a message for the user and the exit code to leave with."""

    exit_code = CHECK_FAILED

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class CheckFailed(PluginError):
    """A check failed, drift was found, or a change was refused."""

    exit_code = CHECK_FAILED


class Conflict(CheckFailed):
    """A write was refused because the object changed since it was read (a failed JSON-patch
    `test` op, or a resourceVersion conflict)."""


class UsageError(PluginError):
    """Bad arguments: ambiguous names, conflicting flags, unreadable input."""

    exit_code = USAGE


class NotFound(PluginError):
    """A named object (IngressRoute, Service, host, pod) does not exist."""

    exit_code = NOT_FOUND


class Unreachable(PluginError):
    """The API server, an Envoy admin or the controller cannot be reached or refused us."""

    exit_code = UNREACHABLE


class Timeout(PluginError):
    """A wait (switch --wait) ran out of time."""

    exit_code = TIMEOUT
