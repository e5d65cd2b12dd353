"""What every command shares: the global options (declared once) and the error boundary around each
command body. The workspace context and autocommit live in ``smbatcher.commands`` (no Typer), which
the lean front end (``lean.py``) shares."""

from __future__ import annotations

import functools
import inspect
import typing
from pathlib import Path
from typing import Annotated, Callable, Optional

import typer

from ..commands import Globals
from ..errors import guarded


_GLOBAL_PARAMETERS = [
    inspect.Parameter("root", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[
        Optional[Path], typer.Option("--root", help="Workspace folder (else $SMB_ROOT, else walk up).")]),
    inspect.Parameter("json_out", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=Annotated[
        bool, typer.Option("--json", help="Print JSON only.")]),
    inspect.Parameter("quiet", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=Annotated[
        bool, typer.Option("--quiet", "-q", help="Only data and errors.")]),
    inspect.Parameter("verbose", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=Annotated[
        bool, typer.Option("--verbose", "-v", help="More detail; tracebacks on errors.")]),
]


def command(app: typer.Typer, name: str, *, json: bool = True) -> Callable:
    """Register ``func(g: Globals, ...)`` as command ``name``: the global options are added to its
    signature here (declared once for every command), and its body runs inside the error boundary,
    so it returns an exit code or raises SmbError and never exits itself."""

    def register(func: Callable) -> Callable:
        signature = inspect.signature(func)
        hints = typing.get_type_hints(func, include_extras=True)  # resolve `from __future__` strings
        own = [p.replace(annotation=hints.get(p.name, p.annotation))
               for p in signature.parameters.values() if p.name != "g"]
        extra = [p for p in _GLOBAL_PARAMETERS if json or p.name != "json_out"]

        @functools.wraps(func)
        def wrapper(*args, root=None, json_out=False, quiet=False, verbose=False, **kwargs):
            g = Globals(root=root, json=json_out, quiet=quiet, verbose=verbose)
            code = guarded(lambda: func(g, *args, **kwargs), verbose=verbose)
            if code:
                raise typer.Exit(code)

        wrapper.__signature__ = signature.replace(parameters=own + extra, return_annotation=inspect.Signature.empty)
        wrapper.__annotations__ = {p.name: p.annotation for p in own + extra}
        del wrapper.__wrapped__  # Typer must read the signature above, not the body's
        app.command(name)(wrapper)
        return func

    return register


BatchOpt = Annotated[Optional[str], typer.Option("--batch", "-b", help="Batch: 1, 01 or 001.")]
