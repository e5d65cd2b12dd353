"""The one place that prints, and the only module that imports Rich.

It knows verbosity, ``NO_COLOR`` and whether stdout is a terminal: colour,
tables and progress bars only on a terminal; plain lines otherwise, so cron
logs and pipes (``smb list-sites | wc -l``) stay clean. Rich is imported only
when a table or a progress display is really drawn.

Everything printed passes ``escape_lines`` (issue 22): an agent's ``ESC ] 0 ; title BEL`` or
U+202E never reaches the terminal raw, whichever command shows it.

A reader that goes away (``smb design --batch 001 | head -1``, a closed terminal) stops smb
printing, not working (issue 22): the first EPIPE/EIO on stdout or stderr points that stream's
file descriptor at /dev/null (what Python's docs advise for SIGPIPE), so every later write and
the interpreter's final flush succeed silently; the run goes on, its run log has every line.
"""

from __future__ import annotations

import atexit
import errno
import json
import os
import sys
from typing import Any, Iterable, Sequence

from .text import escape_control, escape_lines

_GONE_ERRNOS = frozenset({errno.EPIPE, errno.EIO, errno.ECONNRESET})
_silenced: set[int] = set()  # file descriptors already pointed at /dev/null


def _reader_gone(exc: OSError) -> bool:
    return isinstance(exc, BrokenPipeError) or exc.errno in _GONE_ERRNOS


def _silence(stream) -> None:
    """Point ``stream``'s descriptor at /dev/null: what is buffered and all later output vanish."""
    try:
        fd = stream.fileno()
    except (AttributeError, ValueError, OSError):
        return
    if fd in _silenced:
        return
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, fd)
    finally:
        os.close(null)
    _silenced.add(fd)


def emit(stream, text: str, *, flush: bool = False) -> None:
    """Write ``text`` to ``stream``; a reader that went away silences the stream, once."""
    try:
        stream.write(text)
        if flush:
            stream.flush()
    except OSError as exc:
        if not _reader_gone(exc):
            raise
        _silence(stream)
        try:  # the buffered rest now drains into /dev/null, so the final flush cannot fail
            stream.flush()
        except OSError:
            pass


def _flush_quietly() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                emit(stream, "", flush=True)
        except (ValueError, OSError):  # closed, or replaced by something odd: nothing left to save
            pass


atexit.register(_flush_quietly)  # atexit runs before the interpreter's own flush of stdout


def stdout_is_terminal() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


class UI:
    def __init__(self, *, quiet: bool = False, verbose: bool = False) -> None:
        self.quiet = quiet
        self.verbose = verbose
        self.terminal = stdout_is_terminal()
        self.color = self.terminal and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"
        self._console = None

    # -- plain output -------------------------------------------------------------
    def out(self, text: str = "") -> None:
        """Data on stdout: printed even with --quiet."""
        emit(sys.stdout, escape_lines(text) + "\n")

    def info(self, text: str) -> None:
        if not self.quiet:
            emit(sys.stdout, escape_lines(text) + "\n")

    def detail(self, text: str) -> None:
        if self.verbose and not self.quiet:
            emit(sys.stdout, escape_lines(text) + "\n")

    def warn(self, text: str) -> None:
        emit(sys.stderr, f"smb: warning: {escape_lines(text)}\n")

    def error(self, text: str) -> None:
        emit(sys.stderr, f"smb: error: {escape_lines(text)}\n")

    def json(self, data: Any) -> None:
        # json.dumps escapes C0 inside strings; DEL, C1 and bidi controls can only occur inside
        # strings too, so escaping them in the dumped text keeps it valid JSON of the same data.
        emit(sys.stdout, escape_lines(json.dumps(data, indent=2, ensure_ascii=False)) + "\n")

    def flush(self) -> None:
        emit(sys.stdout, "", flush=True)

    # -- rich output ----------------------------------------------------------------
    @property
    def console(self):
        if self._console is None:
            from rich.console import Console

            self._console = Console(no_color=not self.color, highlight=False, soft_wrap=False)
        return self._console

    def styled(self, text: str, style: str) -> str:
        """Rich markup when colour is on, the bare text otherwise."""
        return f"[{style}]{text}[/{style}]" if self.color else text

    def rich(self, text: str) -> None:
        if self.quiet:
            return
        text = escape_lines(text)
        if self.terminal:
            self._print(text)
        else:
            from rich.text import Text

            emit(sys.stdout, Text.from_markup(text).plain + "\n")

    def table(self, columns: Sequence[str], rows: Iterable[Sequence[Any]], title: str | None = None) -> None:
        """A Rich table on a terminal; tab-separated lines with a header otherwise."""
        if not self.terminal:  # one escape per line, not per cell: list-sites prints 100,000 rows
            lines = ([escape_lines(title)] if title else []) + ["\t".join(columns)]
            lines.extend(escape_control("\t".join(["" if c is None else str(c) for c in row])) for row in rows)
            emit(sys.stdout, "\n".join(lines) + "\n")
            return
        from rich.table import Table
        from rich.text import Text

        # Text, not str: a cell is data (an agent's note may read "[/tmp/x]"), never Rich markup.
        rows = [[Text("" if c is None else escape_control(str(c))) for c in row] for row in rows]

        table = Table(title=title, title_justify="left", header_style="bold" if self.color else "")
        for column in columns:
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*row)
        self._print(table)

    def _print(self, renderable) -> None:
        """Rich's print to the terminal; a reader that went away silences stdout, it does not stop smb."""
        try:
            self.console.print(renderable)
        except OSError as exc:
            if not _reader_gone(exc):
                raise
            _silence(sys.stdout)


class RunProgress:
    """The live display of a run on a terminal: done/total, running agents, sites/min, ETA."""

    def __init__(self, ui: UI, description: str, total: int) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[running]} running", markup=False),
            TextColumn("{task.fields[rate]}", markup=False),
            TextColumn("ETA {task.fields[eta]}", markup=False),
            TimeElapsedColumn(),
            TextColumn("{task.fields[activity]}", markup=False),  # an agent's words: never markup
            console=ui.console,
            transient=False,
        )
        self.task = self.progress.add_task(description, total=total, running=0, rate="-", eta="-", activity="")
        self.progress.start()

    def update(self, done: int, running: int, rate: str, eta: str, activity: str = "") -> None:
        """``activity``: the latest action an agent reported, or why nothing launches (a hold)."""
        self.progress.update(self.task, completed=done, running=running, rate=rate, eta=eta,
                             activity=escape_control(activity[:60]))

    def print(self, text: str) -> None:
        try:
            self.progress.console.print(escape_lines(text), markup=False, highlight=False)
        except OSError as exc:  # the terminal went away: the run goes on, its log has the line
            if not _reader_gone(exc):
                raise
            _silence(sys.stdout)

    def stop(self) -> None:
        try:
            self.progress.stop()
        except OSError as exc:
            if not _reader_gone(exc):
                raise
            _silence(sys.stdout)
