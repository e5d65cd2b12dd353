"""The Typer app, the one front end: each command parses options, calls one core function, renders its result.

One module per command group; ``common.command`` declares the global options once and wraps every body in
the one error boundary (``errors.guarded``), so only this package turns results into exit codes (SPEC §3).
Commands are loaded only when they run: ``LazyGroup`` imports a command's module, and builds that one
command, when Click asks for it (as hatch does), so ``smb list-sites`` pays for neither ``smb doctor``'s
imports nor its options.

    common.py     global options; build_command (plain options read without Pydantic, help without artefacts)
    complete.py   shell completion of domains, batches and statuses from the registry
    sites.py      init, add, list-sites, status, set-status, history
    runs.py       design, implement, run (one declaration of their options), stop
    finish.py     finish
    agents.py     agents, hold, report
    resume.py     resume (a site's kept agent session: continue it by hand, or promote its output)
    doctor.py     doctor
    dashboard.py  dashboard
"""

from __future__ import annotations

import importlib
import sys
from typing import Annotated

import typer
from typer.core import TyperGroup

from ..errors import EXIT_SIGINT, EXIT_USAGE, guarded

# Command name -> the module under smbatcher/cli/ whose register() declares it (help lists them in this order).
COMMANDS = {
    "init": "sites", "add": "sites", "list-sites": "sites", "status": "sites", "set-status": "sites",
    "history": "sites", "logs": "logs", "resume": "resume", "design": "runs", "implement": "runs", "run": "runs", "stop": "runs",
    "finish": "finish", "doctor": "doctor", "agents": "agents", "hold": "agents", "report": "agents",
    "dashboard": "dashboard",
}


class LazyGroup(TyperGroup):
    """A group whose commands are imported and built on demand, one at a time."""

    def __init__(self, *args, **kwargs):
        from .common import read_plainly

        super().__init__(*args, **kwargs)
        self._registered: dict[str, dict] = {}  # module -> its commands' infos, registered once
        read_plainly(self)  # --version, --help

    def get_params(self, ctx):
        from .common import read_param_plainly

        return [read_param_plainly(param) for param in super().get_params(ctx)]  # and the completion options

    def list_commands(self, ctx) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx, name: str):
        if name not in COMMANDS:
            return None
        if name not in self.commands:
            from .common import build_command

            infos = self._registered.get(COMMANDS[name])
            if infos is None:  # a module registers all its commands at once (`smb --help` asks for each)
                sub = typer.Typer()
                importlib.import_module(f"{__name__}.{COMMANDS[name]}").register(sub)
                infos = self._registered[COMMANDS[name]] = {i.name: i for i in sub.registered_commands}
            self.commands[name] = build_command(infos[name])
        return self.commands[name]


app = typer.Typer(
    name="smb",
    cls=LazyGroup,
    help="Run batches of AI coding agents that design and build hundreds of small websites.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("smbatcher")
        except PackageNotFoundError:
            number = "unknown"
        sys.stdout.write(f"smb {number}\n")
        raise typer.Exit(0)


@app.callback()
def _main(
    show_version: Annotated[bool, typer.Option("--version", "-V", callback=_version, is_eager=True,
                                               help="Print the version and exit.")] = False,
) -> None:
    """Run batches of AI coding agents that design and build hundreds of small websites."""


def main(argv: list[str] | None = None) -> int:
    """Run the app; a bad flag or argument is one line on stderr and exit 2."""
    args = sys.argv[1:] if argv is None else argv
    return guarded(lambda: _click_main(args), verbose="-v" in args or "--verbose" in args)


def _click_main(args: list[str]) -> int:
    from .common import hoist_global_options

    args = hoist_global_options(args)
    command = typer.main.get_command(app)
    try:
        result = command.main(args=args, prog_name="smb", standalone_mode=False)
    except Exception as exc:
        # Click's own exceptions (Typer may ship its own copy of Click: matched by shape, not class).
        if type(exc).__name__ == "Abort":
            return EXIT_SIGINT
        if type(exc).__name__ == "Exit":
            return getattr(exc, "exit_code", 0)
        if not (hasattr(exc, "format_message") and hasattr(exc, "exit_code")):
            raise
        message = exc.format_message()  # a usage error: bad flag, missing argument, unknown command
        if not message:  # `smb` alone: the help was printed, nothing went wrong
            return 0
        sub = next((a for a in args if not a.startswith("-")), "")
        known = sub in COMMANDS
        sys.stderr.write(f"smb: error: {' '.join(message.split())} (see: smb {sub + ' ' if known else ''}--help)\n")
        return exc.exit_code if exc.exit_code else EXIT_USAGE
    return result if isinstance(result, int) else 0
