"""The one error type of smb and its few subclasses.

Core code raises these; only ``cli.py`` turns them into one line on stderr and
an exit code (SPEC §3).
"""

from __future__ import annotations

import errno

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_LOCKED = 3
EXIT_CANNOT_RUN = 3  # the same code as a lock not obtained: smb could not run here, nothing was written
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
        if any(getattr(p, "by_hand", False) for p in problems):  # its header: doctor cannot choose
            remedy = "edit its header line by hand, or restore a copy from .smbatcher/backups/"
        else:
            remedy = "repair with: smb doctor --scenario registry-duplicates --fix"
        super().__init__(f"{path} does not parse cleanly: {first}{more}; nothing was written ({remedy})")


class LockTimeout(SmbError):
    """The registry lock was not obtained in time (exit 3)."""

    exit_code = EXIT_LOCKED


class DiskFull(UsageError):
    """A write failed for lack of space; the old file is untouched."""


class WrongKind(UsageError):
    """A workspace path of the wrong kind (a folder where a file belongs): nothing was written (exit 2)."""


class CannotRun(SmbError):
    """The operating system refused (read-only workspace, permission denied): nothing was written (exit 3)."""

    exit_code = EXIT_CANNOT_RUN


def os_error(exc: OSError, shown: str, doing: str = "write") -> SmbError:
    """One line naming the path and what to do, with the documented exit code, for an OSError on ``shown``.

    A file of the wrong kind (a folder where a file belongs) is bad input: exit 2, like a registry
    that does not parse. A full disk is DiskFull (exit 2). A read-only or forbidden workspace, or
    anything else the operating system refused, means smb could not run here: exit 3.
    """
    code = exc.errno
    if code in (errno.ENOSPC, errno.EDQUOT):
        return DiskFull(f"no space left on the device to {doing} {shown}; nothing was written "
                        "(free some space: smb doctor --scenario disk-space)")
    if code == errno.EISDIR or isinstance(exc, IsADirectoryError):
        return WrongKind(f"{shown} is a folder, not a file; move it away (mv {shown} {shown}.bak)")
    if code in (errno.ENOTDIR, errno.EEXIST) or isinstance(exc, NotADirectoryError):  # EEXIST: from mkdir
        return WrongKind(f"cannot {doing} {shown}: a folder on its path is a file; move that file away")
    if code == errno.EROFS:
        return CannotRun(f"cannot {doing} {shown}: read-only file system; remount it read-write")
    if code in (errno.EACCES, errno.EPERM):
        return CannotRun(f"cannot {doing} {shown}: permission denied; fix its permissions or run as its owner")
    if code == errno.ELOOP:
        return WrongKind(f"cannot {doing} {shown}: a symlink loop; point the link at a real file")
    if code == errno.ENOENT:
        return UsageError(f"cannot {doing} {shown}: no such file or folder (a dangling symlink?)")
    reason = exc.strerror or str(exc)
    return CannotRun(f"cannot {doing} {shown}: {reason}")


def guarded(call, *, verbose: bool = False) -> int:
    """The one error boundary of every entry point (``smb`` and ``python -m smbatcher``, each command).

    Known errors become one ``smb: error:`` line and their exit code; Ctrl-C is 130; a reader
    that went away (``smb list-sites | head``) is not an error; anything unexpected is one line
    and exit 1, with the traceback only under ``-v`` (STYLE habit 2).
    """
    import sys

    try:
        result = call()
        return result if isinstance(result, int) else 0
    except BrokenPipeError:
        try:
            sys.stdout = open("/dev/null", "w")  # the interpreter's final flush must not fail too
        except OSError:
            pass
        return EXIT_OK
    except KeyboardInterrupt:
        sys.stderr.write("smb: error: interrupted\n")
        return EXIT_SIGINT
    except SmbError as exc:
        _traceback(verbose)
        sys.stderr.write(f"smb: error: {_one_line(exc.message)}\n")
        return exc.exit_code
    except OSError as exc:
        _traceback(verbose)
        known = os_error(exc, exc.filename or "a workspace file", "use")
        sys.stderr.write(f"smb: error: {_one_line(known.message)}\n")
        return known.exit_code
    except Exception as exc:  # a bug: still one line, the traceback on request
        _traceback(verbose)
        hint = "" if verbose else " (run again with -v for the traceback)"
        sys.stderr.write(f"smb: error: unexpected {type(exc).__name__}: {_one_line(str(exc))}{hint}\n")
        return EXIT_FAILED


def _traceback(verbose: bool) -> None:
    if verbose:
        import traceback

        traceback.print_exc()


def _one_line(text: str) -> str:
    return " ".join(str(text).split())[:1000]
