"""What every command shares: the global options (declared once), options read without Typer's
Pydantic adapter, and the error boundary around each command body. The workspace context and
autocommit live in ``smbatcher.commands`` (no Typer)."""

from __future__ import annotations

import functools
import inspect
import typing
from pathlib import Path
from typing import Annotated, Callable, Optional

import typer

from ..commands import Globals
from . import complete
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


_GLOBAL_WITH_VALUE = ("--root",)
_GLOBAL_FLAGS = ("-q", "--quiet", "-v", "--verbose", "--json")


def hoist_global_options(args: list[str]) -> list[str]:
    """``smb --root X -v status`` means ``smb status --root X -v``: global options go after the command."""
    moved: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in _GLOBAL_WITH_VALUE and i + 1 < len(args):
            moved += args[i : i + 2]
            i += 2
        elif arg.startswith("--root=") or arg in _GLOBAL_FLAGS:
            moved.append(arg)
            i += 1
        else:
            break
    if not moved or i >= len(args):
        return args
    return [args[i], *moved, *args[i + 1 :]]


def build_command(info):
    """The Click command for one registered Typer command, its plain options read without Pydantic.

    Typer builds a Pydantic TypeAdapter for every non-flag option as it reads a command line (and
    imports Pydantic for it: about 0.1 s, as long as the rest of ``smb list-sites``). A str, Path or
    int option needs none: its value is read here the way the adapter reads it. Other types keep
    Typer's own coercion."""
    from typer.core import DEFAULT_MARKUP_MODE
    from typer.main import get_command_from_info

    return read_plainly(get_command_from_info(info, pretty_exceptions_short=True,
                                              rich_markup_mode=DEFAULT_MARKUP_MODE))


def read_plainly(command):
    """``command`` with its str, Path, int and bool parameters (and its --help) read without a Pydantic adapter."""
    for param in command.params:
        read_param_plainly(param)
    make_help_option = command.get_help_option  # Click makes --help when it first parses

    def get_help_option(ctx):
        option = make_help_option(ctx)
        return option if option is None else read_param_plainly(option)

    command.get_help_option = get_help_option
    return command


def read_param_plainly(param):
    _tidy_help(param)
    descriptor = getattr(param, "type_descriptor", None)
    kind = _plain_kind(descriptor.annotation) if descriptor is not None else None
    if kind is not None and getattr(param, "_runtime_param", 0) is None:
        param._runtime_param = _plain_class()(descriptor.parameter_info, kind)
    return param


def _plain_kind(annotation):
    """The type Typer's Pydantic adapter would check, when smb reads it plainly: str, Path, int, bool,
    or a list of one of them (``--sites a b``, ``DOMAINS...``); None for anything else."""
    if annotation in _PLAIN:
        return annotation
    if typing.get_origin(annotation) in (list, tuple):
        args = [a for a in typing.get_args(annotation) if a is not Ellipsis]
        if len(args) == 1 and args[0] in _PLAIN:
            return args[0]
    return None


def _tidy_help(param) -> None:
    """Help without Typer's artefacts: no ``<bool>`` type after a flag (Rich help), and an argument shown as
    ``DOMAINS...`` (optional: ``[DIRECTORY]``) in the usage line, not ``{domains}...``."""
    if getattr(param, "param_type_name", "") == "argument":
        shown = (param.metavar or param.name).upper()
        shown = (shown if param.required else f"[{shown}]") + ("..." if param.nargs != 1 else "")
        param._usage_display_name = lambda: shown
    elif getattr(param, "is_flag", False) and param.metavar is None:
        param.metavar = ""


@functools.cache
def _plain_class():
    """One class for every option read plainly (made once: a dataclass costs a fraction of a ms)."""
    from dataclasses import dataclass

    from typer import BadParameter
    from typer._coercion import RuntimeParam

    @dataclass(frozen=True)
    class Plain(RuntimeParam):
        parameter_info: object
        annotation: object

        def _coerce_value(self, value, param, ctx):
            kind = self.annotation
            if isinstance(value, (list, tuple)):
                return type(value)(self._coerce_value(v, param, ctx) for v in value)
            if isinstance(value, kind):
                return value
            try:
                return kind(value)
            except ValueError:
                raise BadParameter(f"{value!r} is not a valid integer.", ctx=ctx, param=param) from None

    return Plain


_PLAIN = (str, Path, int, bool)

BatchOpt = Annotated[Optional[str], typer.Option("--batch", "-b", help="Batch: 1, 01 or 001.",
                                                 autocompletion=complete.batches)]
