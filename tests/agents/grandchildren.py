#!/usr/bin/env python3
"""Fake agent whose descendants try to outlive it, then it hangs (ignoring SIGTERM itself).

It forks (1) a child in its group that ignores SIGTERM, (2) a child that calls
os.setsid() to leave the group and ignores SIGTERM, (3) a daemon: fork, setsid,
fork again, the middle one exits, so the last one is re-parented away from the
agent. Every process keeps the agent's environment (FAKE_TAG marks them for the
test's psutil scan). FAKE_PIDS names a file that gets one ``<role> <pid>`` line
per process once it is in place.
"""

import os
import signal
import sys
import time


def note(role: str) -> None:
    path = os.environ.get("FAKE_PIDS")
    if path:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.write(fd, f"{role} {os.getpid()}\n".encode())
        os.close(fd)


def sleep_forever() -> None:
    while True:
        time.sleep(3600)


def stubborn(role: str, new_session: bool = False) -> None:
    if new_session:
        os.setsid()
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    note(role)
    sleep_forever()


def main() -> None:
    sys.stdin.read()
    sys.stdout.flush()
    if os.fork() == 0:
        stubborn("group-child")
    if os.fork() == 0:
        stubborn("setsid-child", new_session=True)
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            stubborn("daemon")
        os._exit(0)  # the middle process goes: the daemon is orphaned
    os.wait()  # reap the middle process only
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    note("agent")
    print("children started; hanging", flush=True)
    sleep_forever()


if __name__ == "__main__":
    main()
