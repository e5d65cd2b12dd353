"""The one place that prints, and the only module that imports Rich.

It knows verbosity, ``NO_COLOR`` and whether stdout is a terminal: colour,
tables and progress bars only on a terminal; plain lines otherwise, so cron
logs and pipes (``smb list-sites | wc -l``) stay clean. Rich is imported only
when a table or a progress display is really drawn.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, Iterable, Sequence


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
        sys.stdout.write(text + "\n")

    def info(self, text: str) -> None:
        if not self.quiet:
            sys.stdout.write(text + "\n")

    def detail(self, text: str) -> None:
        if self.verbose and not self.quiet:
            sys.stdout.write(text + "\n")

    def warn(self, text: str) -> None:
        sys.stderr.write(f"smb: warning: {text}\n")

    def error(self, text: str) -> None:
        sys.stderr.write(f"smb: error: {text}\n")

    def json(self, data: Any) -> None:
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")

    def flush(self) -> None:
        sys.stdout.flush()

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
        if self.terminal:
            self.console.print(text)
        else:
            from rich.text import Text

            sys.stdout.write(Text.from_markup(text).plain + "\n")

    def table(self, columns: Sequence[str], rows: Iterable[Sequence[Any]], title: str | None = None) -> None:
        """A Rich table on a terminal; tab-separated lines with a header otherwise."""
        rows = [[("" if c is None else str(c)) for c in row] for row in rows]
        if not self.terminal:
            if title:
                sys.stdout.write(title + "\n")
            sys.stdout.write("\t".join(columns) + "\n")
            for row in rows:
                sys.stdout.write("\t".join(row) + "\n")
            return
        from rich.table import Table

        table = Table(title=title, title_justify="left", header_style="bold" if self.color else "")
        for column in columns:
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*row)
        self.console.print(table)


class RunProgress:
    """The live display of a run on a terminal: done/total, running agents, sites/min, ETA."""

    def __init__(self, ui: UI, description: str, total: int) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[running]} running"),
            TextColumn("{task.fields[rate]}"),
            TextColumn("ETA {task.fields[eta]}"),
            TimeElapsedColumn(),
            TextColumn("{task.fields[activity]}"),
            console=ui.console,
            transient=False,
        )
        self.task = self.progress.add_task(description, total=total, running=0, rate="-", eta="-", activity="")
        self.progress.start()

    def update(self, done: int, running: int, rate: str, eta: str, activity: str = "") -> None:
        """``activity``: the latest action an agent reported, or why nothing launches (a hold)."""
        self.progress.update(self.task, completed=done, running=running, rate=rate, eta=eta,
                             activity=activity[:60])

    def print(self, text: str) -> None:
        self.progress.console.print(text, markup=False, highlight=False)

    def stop(self) -> None:
        self.progress.stop()
