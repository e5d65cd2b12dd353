"""Network fixtures for the doctor's checks: loopback only (127.0.0.1), never the outside world."""

from __future__ import annotations

import socket


def closed_port() -> int:
    """A loopback port nothing listens on (bound then released; connect is refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
