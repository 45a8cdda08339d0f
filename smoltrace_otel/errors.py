"""Typed errors and the process exit codes they map to.

Errors are raised close to their cause and carry one line a user can act on;
the CLI prints that line and exits with the error's code.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes shared by every smoltrace command (documented in docs/cli.md)."""

    OK = 0
    TASKS_FAILED = 1  # the run completed but some tasks did not succeed
    BAD_INPUT = 2  # bad flags, bad configuration, malformed task set, invalid run id
    RUN_FAILED = 3  # the run could not complete (auth error, model unreachable, publish failed)
    INTERRUPTED = 130  # Ctrl-C or SIGTERM


class SmoltraceError(Exception):
    """Base class: a failure with a one-line message and an exit code."""

    exit_code: ExitCode = ExitCode.RUN_FAILED


class UsageError(SmoltraceError):
    """The user gave input or configuration we cannot accept."""

    exit_code = ExitCode.BAD_INPUT


class InvalidRunIdError(UsageError):
    """A run id that cannot be used as a directory name or file stem."""
