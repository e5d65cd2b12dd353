"""Sleeping until something happens: an agent exits (pidfds), a signal arrives, a deadline passes.

One selector holds the signal wakeup pipe and whatever the executor watches
(the local executor: one pidfd per agent; a remote one: a pipe its completion
thread pokes). SIGINT, SIGTERM and SIGHUP only record which signal came; the
loop acts on it. SIGHUP ignored at start (nohup) stays ignored: the operator
asked the run to survive the terminal closing.
"""

from __future__ import annotations

import os
import selectors
import signal


class Wakeup:
    def __init__(self) -> None:
        self.selector: selectors.BaseSelector | None = None
        self.stop_signal: int | None = None
        self.kill_now = False  # a second Ctrl-C: no more grace
        self._fds: tuple[int, int] | None = None
        self._old_wakeup = -1
        self._old_handlers: dict = {}

    # -- signals ----------------------------------------------------------------------------
    def install(self) -> None:
        self.selector = selectors.DefaultSelector()
        read_fd, write_fd = os.pipe()
        os.set_blocking(read_fd, False)
        os.set_blocking(write_fd, False)
        self._fds = (read_fd, write_fd)
        self.selector.register(read_fd, selectors.EVENT_READ, None)
        self._old_wakeup = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            current = signal.getsignal(sig)
            if sig == signal.SIGHUP and current == signal.SIG_IGN:
                continue  # started under nohup
            self._old_handlers[sig] = current
            signal.signal(sig, self._on_signal)

    def restore(self) -> None:
        if self.selector is None:
            return
        for sig, handler in self._old_handlers.items():
            signal.signal(sig, handler)
        signal.set_wakeup_fd(self._old_wakeup)
        self.selector.close()
        for fd in self._fds or ():
            try:
                os.close(fd)
            except OSError:
                pass
        self.selector = None

    def _on_signal(self, signum: int, frame) -> None:
        if self.stop_signal is not None:
            if signum == signal.SIGINT:
                self.kill_now = True
            return
        # SIGHUP means the same as SIGTERM here: exit 143.
        self.stop_signal = signal.SIGTERM if signum == signal.SIGHUP else signum

    def stop(self, signum: int = signal.SIGTERM) -> None:
        """Stop as if ``signum`` had arrived (an error leaving the loop, a halt)."""
        if self.stop_signal is None:
            self.stop_signal = signum

    # -- file descriptors -------------------------------------------------------------------
    def watch(self, fd: int, data) -> None:
        if self.selector is not None:
            self.selector.register(fd, selectors.EVENT_READ, data)

    def unwatch(self, fd: int) -> None:
        if self.selector is not None:
            try:
                self.selector.unregister(fd)
            except (KeyError, ValueError):
                pass

    def poke(self) -> None:
        """Wake the loop from another thread (a remote executor's completion callback)."""
        if self._fds is not None:
            try:
                os.write(self._fds[1], b"\0")
            except OSError:
                pass

    def wait(self, timeout: float) -> None:
        if self.selector is None:
            import time

            time.sleep(timeout)
            return
        for key, _ in self.selector.select(timeout):
            if key.data is None:  # the wakeup pipe: drain it
                try:
                    while os.read(key.fd, 512):
                        pass
                except (BlockingIOError, OSError):
                    pass
