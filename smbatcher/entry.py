"""The ``smb`` console script. Kept tiny: it decides which front end to import.

``smb list-sites`` goes to the lean fast path (no Typer, no Rich); ``smb status``,
``smb set-status``, ``smb design``, ``smb implement`` and ``smb run`` to ``lean.py`` (no Typer);
every other command, and their ``--help``, to the Typer app in ``cli/``.
"""

from __future__ import annotations

import sys


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
        elif arg.startswith("--root="):
            moved.append(arg)
            i += 1
        elif arg in _GLOBAL_FLAGS:
            moved.append(arg)
            i += 1
        else:
            break
    if not moved or i >= len(args):
        return args
    return [args[i], *moved, *args[i + 1 :]]


def main(argv: list[str] | None = None) -> int:
    args = hoist_global_options(sys.argv[1:] if argv is None else list(argv))
    if args[:1] == ["list-sites"] and "--help" not in args and "-h" not in args:
        from .listing import main as list_sites_main

        return list_sites_main(args[1:])
    if args[:1] in (["status"], ["set-status"], ["design"], ["implement"], ["run"]) \
            and "--help" not in args and "-h" not in args:
        from .lean import main as lean_main  # without Typer (issue 13); None: Typer reads this line

        code = lean_main(args)
        if code is not None:
            return code
    from .cli import main as cli_main

    return cli_main(args)


if __name__ == "__main__":
    sys.exit(main())
