"""The one error type of smb and its few subclasses.

Core code raises these; only ``cli.py`` turns them into one line on stderr and
an exit code (SPEC §3).
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_LOCKED = 3
EXIT_SIGINT = 130
EXIT_SIGTERM = 143


class SmbError(Exception):
    """An error with a message fit for one stderr line and an exit code."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


class UsageError(SmbError):
    """Bad usage or bad input: nothing was written (exit 2)."""

    exit_code = EXIT_USAGE


class RegistryInvalid(UsageError):
    """The registry does not parse cleanly; writing commands refuse it."""

    def __init__(self, path: str, problems: list) -> None:
        self.problems = problems
        first = "; ".join(str(p) for p in problems[:3])
        more = f" (+{len(problems) - 3} more)" if len(problems) > 3 else ""
        super().__init__(
            f"{path} does not parse cleanly: {first}{more}; "
            "nothing was written (repair with: smb doctor --scenario registry-duplicates --fix)"
        )


class LockTimeout(SmbError):
    """The registry lock was not obtained in time (exit 3)."""

    exit_code = EXIT_LOCKED


class DiskFull(UsageError):
    """A write failed for lack of space; the old file is untouched."""
