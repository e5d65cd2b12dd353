"""The ``smb`` console script. Kept tiny: it decides which front end to import.

``smb list-sites`` goes to the lean fast path (no Typer, no Rich); every other
command, and ``list-sites --help``, to the Typer app in ``cli.py``.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    if args[:1] == ["list-sites"] and "--help" not in args and "-h" not in args:
        from .listing import main as list_sites_main

        return list_sites_main(args[1:])
    from .cli import main as cli_main

    return cli_main(args)


if __name__ == "__main__":
    sys.exit(main())
