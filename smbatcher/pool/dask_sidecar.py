"""The agent supervisor of one Dask worker: agents run here exactly as in the local pool (issue 12).

A Dask task runs in a thread of the worker process, and the worker may die
with SIGKILL at any instant: nothing in it would then stop the agents it
started. So the worker does not start agents itself. Its first agent task
starts this process (``python -m smbatcher.pool.dask_sidecar``, one per
worker process, in its own session), which runs every agent of that worker
through the local pool's own ``LocalExecutor``: a session per agent, SIGTERM
to the group on timeout or stop, SIGKILL after ``grace``, a child subreaper
so descendants that ``setsid`` away are still ours. Its stdin is the worker's
end of a pipe: end-of-file means the worker is gone, and then every agent is
stopped (TERM, grace, KILL) before this process exits. No orphan outlives
the worker.

The protocol is one JSON object a line, bytes as base64.
  worker -> here:  {"op": "start", "key", "domain", "phase", "attempt", "argv", "env", "cwd", "output",
                    "log_path", "prompt_b64", "header_b64", "timeout", "grace", "reports", "stall_timeout"}
                   {"op": "stop", "key", "kill": bool}
  here -> worker:  {"op": "started", "key", "pid", "create_time"}
                   {"op": "timeout", "key", "text"}   (any line for the run log: timeout, reap, stall)
                   {"op": "ended", "key", "exit_code", "timed_out", "stopped", "error", "reaped", "stalled"}
"""

from __future__ import annotations

import base64
import json
import os
import signal
import sys
import time
from pathlib import Path

from .attempt import exec_failure
from .executor import Job
from .local import LocalExecutor
from .wakeup import Wakeup

_CONTROL = "control"  # the selector key of stdin


def _job(message: dict) -> Job:
    return Job(key=message["key"], domain=message["domain"], phase=message["phase"],
               attempt=int(message["attempt"]), argv=list(message["argv"]), env=dict(message["env"]),
               cwd=Path(message["cwd"]), output=Path(message["output"]),
               prompt=base64.b64decode(message.get("prompt_b64", "")),
               log_path=Path(message["log_path"]), header=base64.b64decode(message.get("header_b64", "")),
               timeout=float(message["timeout"]), grace=float(message["grace"]),
               reports=bool(message.get("reports", True)), stall_timeout=float(message.get("stall_timeout") or 0.0))


class Sidecar:
    def __init__(self, control_fd: int = 0, out=None) -> None:
        self.control_fd = control_fd
        self.out = out or sys.stdout.buffer
        self.buffer = b""
        self.eof = False
        self.wakeup = Wakeup()
        self.executor = LocalExecutor()

    def send(self, message: dict) -> None:
        try:
            self.out.write(json.dumps(message).encode() + b"\n")
            self.out.flush()
        except (BrokenPipeError, ValueError, OSError):
            self.eof = True  # the worker is gone: stop everything

    def read_control(self) -> None:
        while not self.eof:
            try:
                chunk = os.read(self.control_fd, 65536)
            except BlockingIOError:
                break
            except OSError:
                chunk = b""
            if not chunk:
                self.eof = True
                break
            self.buffer += chunk
        *lines, self.buffer = self.buffer.split(b"\n")
        for line in lines:
            if line.strip():
                self.handle(json.loads(line))

    def handle(self, message: dict) -> None:
        op, key = message.get("op"), message.get("key", "")
        if op == "start":
            job = _job(message)
            try:
                self.executor.start(job)
            except OSError as exc:
                line = exec_failure(exc, job)
                self.send({"op": "ended", "key": key, "exit_code": None, "timed_out": False, "stopped": False,
                           "error": line or f"cannot start agent: {exc.strerror or exc}", "cannot_start": bool(line)})
                return
            process = self.executor.processes[key]
            self.send({"op": "started", "key": key, "pid": process.pid, "create_time": process.create_time})
        elif op == "stop":
            self.executor.stop([key], kill=bool(message.get("kill")))

    def report_ends(self) -> None:
        for ended in self.executor.collect():
            self.send({"op": "ended", "key": ended.key, "exit_code": ended.exit_code, "timed_out": ended.timed_out,
                       "stopped": ended.stopped, "error": ended.error, "reaped": ended.reaped,
                       "stalled": ended.stalled})

    def tick(self) -> None:
        # A timeout, a reap or a stall: the line goes to the coordinator's run log.
        for key, line in self.executor.tick_lines(time.monotonic()):
            self.send({"op": "timeout", "key": key, "text": line})

    def run(self) -> int:
        self.wakeup.install()  # SIGTERM/SIGHUP: stop every agent, then exit
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the worker's terminal is not ours to obey
        self.executor.open(self.wakeup)
        os.set_blocking(self.control_fd, False)
        self.wakeup.watch(self.control_fd, _CONTROL)
        try:
            while not self.eof and self.wakeup.stop_signal is None:
                self.tick()
                self.report_ends()
                self.read_control()
                if self.eof:
                    break
                due = self.executor.next_due(time.monotonic())
                self.wakeup.wait(1.0 if due is None else min(1.0, due))
        finally:
            # The worker went away (or we were told to stop): no agent of ours outlives it.
            self.wakeup.unwatch(self.control_fd)
            self.executor.close()
            self.report_ends()
            self.wakeup.restore()
        return 0


def main() -> int:
    return Sidecar().run()


if __name__ == "__main__":
    sys.exit(main())
