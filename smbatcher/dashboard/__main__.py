"""``python -m smbatcher.dashboard``: the dashboard server with the options of ``smb dashboard``.

For running it before (or without) the CLI: the same ``serve()`` the ``smb``
command calls, the same one-line errors and exit codes.
"""

from __future__ import annotations

import argparse
import sys

from ..config import load_settings
from ..errors import guarded
from ..ui import UI
from ..workspace import find_workspace
from . import DEFAULT_HOST, DEFAULT_PORT, serve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m smbatcher.dashboard",
                                     description="Live web dashboard of an smb workspace.")
    parser.add_argument("--root", help="the workspace (default: $SMB_ROOT, else found from the current folder)")
    parser.add_argument("--host", default=DEFAULT_HOST, help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (default 3000; 0 = any free port)")
    parser.add_argument("--token", help="require this token on every request (or set $SMB_DASHBOARD_TOKEN)")
    parser.add_argument("--allow-control", action="store_true", help="enable stop / retry / release controls")
    parser.add_argument("--open", action="store_true", help="open the dashboard in a browser")
    parser.add_argument("-q", "--quiet", action="store_true")
    args = parser.parse_args(argv)
    ui = UI(quiet=args.quiet)

    def run() -> int:
        workspace = find_workspace(args.root)
        settings = load_settings(workspace.config_file)
        return serve(workspace, settings, host=args.host, port=args.port, token=args.token,
                     allow_control=args.allow_control, open_browser=args.open, ui=ui)

    return guarded(run)  # the one error boundary: one `smb: error:` line, the documented exit code


if __name__ == "__main__":
    sys.exit(main())
