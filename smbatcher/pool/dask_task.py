"""The worker side of the Dask executor: one task = one agent, supervised as locally (issue 12).

``run_agent_task`` is what the coordinator submits. It runs in a thread of a
Dask worker and:

1. never starts a second agent for one task: the coordinator pins each task
   to one worker process, and when that worker dies it retries the site
   itself. A task on the process it was pinned to is its only run and starts
   at once; one anywhere else (not pinned, or a new worker process at the
   pinned address) first asks the ``ran`` Event, and a rerun starts nothing;
2. decides where the agent works: in place when this worker sees the
   coordinator's workspace (shared storage: the marker file the coordinator
   wrote into the run's staging root is here), else in a private mirror of the
   workspace under the worker's scratch folder, with the design and the brief
   shipped in the task and every workspace path rewritten to the mirror;
3. hands the agent to this worker's supervisor process (``dask_sidecar``),
   which runs it as the local pool does (own session, timeout, grace, SIGKILL,
   no orphan, even when the worker itself is SIGKILLed);
4. waits for the end while stops reach the agent through the run's watch
   (``RunWatch``: the job's ``stop``/``kill`` Events, set by the coordinator on
   ``smb stop``, SIGINT, a halt), and stops it itself when the task is no longer
   wanted at all (the coordinator died, so the scheduler released its futures:
   an agent nobody will collect must not run on);
5. returns the exit status, and without shared storage the agent's log and
   output (the site folder as a size-capped tar, the design file's bytes).

Nothing here imports ``distributed`` at module level: the supervisor process
imports this package, and needs none of it.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from .dask_transfer import OutputProblem, names_a_path, pack_output, read_tail  # noqa: F401  (tests import some here)

POLL_SECONDS = 0.5  # how often a waiting task looks (locally) whether it is still wanted
STARTED_TIMEOUT = 30.0  # the supervisor answers a start at once; this long without an answer: it is broken


# -- the supervisor process of this worker ---------------------------------------------------


class _Handle:
    """One agent in the supervisor, as its task thread sees it."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.done = threading.Event()
        self.pid = 0
        self.create_time = 0.0
        self.ended: dict | None = None
        self.timeout_text = ""


class Supervisor:
    """The worker's end of the pipe to its ``dask_sidecar`` process."""

    def __init__(self) -> None:
        # Its own session: a Ctrl-C or SIGTERM to the worker's process group must leave it
        # alive long enough to stop the agents; it stops them when our end of the pipe closes.
        self.popen = subprocess.Popen([sys.executable, "-m", "smbatcher.pool.dask_sidecar"],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, start_new_session=True,
                                      close_fds=True)
        self.lock = threading.Lock()
        self.handles: dict[str, _Handle] = {}
        self.alive = True
        threading.Thread(target=self._read, name="smb-agent-supervisor", daemon=True).start()

    def _send(self, message: dict) -> None:
        with self.lock:
            self.popen.stdin.write(json.dumps(message).encode() + b"\n")
            self.popen.stdin.flush()

    def start(self, message: dict) -> _Handle:
        handle = _Handle()
        with self.lock:
            self.handles[message["key"]] = handle
        try:
            self._send(message)
        except (BrokenPipeError, OSError, ValueError):
            self.alive = False
            self._fail_all()
        return handle

    def stop(self, key: str, kill: bool) -> None:
        try:
            self._send({"op": "stop", "key": key, "kill": kill})
        except (BrokenPipeError, OSError, ValueError):
            pass

    def forget(self, key: str) -> None:
        with self.lock:
            self.handles.pop(key, None)

    def _read(self) -> None:
        for line in self.popen.stdout:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            with self.lock:
                handle = self.handles.get(message.get("key", ""))
            if handle is None:
                continue
            op = message.get("op")
            if op == "started":
                handle.pid, handle.create_time = int(message["pid"]), float(message["create_time"])
                handle.started.set()
            elif op == "timeout":
                handle.timeout_text = message.get("text", "")
            elif op == "ended":
                handle.ended = message
                handle.started.set()
                handle.done.set()
        self.alive = False
        self._fail_all()

    def _fail_all(self) -> None:
        with self.lock:
            handles = list(self.handles.values())
        for handle in handles:
            if handle.ended is None:
                handle.ended = {"exit_code": None, "timed_out": False, "stopped": False,
                                "error": "the agent supervisor on the worker died"}
            handle.started.set()
            handle.done.set()


_SUPERVISOR: Supervisor | None = None
_SUPERVISOR_LOCK = threading.Lock()


def supervisor() -> Supervisor:
    global _SUPERVISOR
    with _SUPERVISOR_LOCK:
        if _SUPERVISOR is None or not _SUPERVISOR.alive:
            _SUPERVISOR = Supervisor()
        return _SUPERVISOR


# -- where the agent works -------------------------------------------------------------------


def sees_workspace(spec: dict) -> bool:
    """True when this worker sees the coordinator's staging folder (shared storage)."""
    if spec["shared"] is not None:
        return bool(spec["shared"])
    marker, token = spec["marker"]
    try:
        return Path(marker).read_text(encoding="utf-8") == token
    except (OSError, UnicodeDecodeError):
        return False


class Mirror:
    """A private copy of the workspace's layout on this worker (no shared storage).

    Every path the agent is given (its folder, its output, the design, the
    brief, ``SMB_ROOT``) lies under the coordinator's workspace root; here the
    same relative paths lie under ``self.root``, so the agent's prompt and its
    variables read the same, with one prefix swapped."""

    def __init__(self, coordinator_root: str, scratch: str | None) -> None:
        self.coordinator_root = coordinator_root.rstrip("/") or "/"
        self.base = Path(tempfile.mkdtemp(prefix="smb-agent-", dir=scratch))
        self.root = self.base / "workspace"
        self.root.mkdir()

    def path(self, coordinator_path: str) -> Path:
        path = Path(coordinator_path)
        try:
            return self.root / path.relative_to(self.coordinator_root)
        except ValueError:  # not under the workspace (the launcher never does this): keep it inside the mirror
            return self.root / "outside" / path.name

    def text(self, value: str) -> str:
        if value == self.coordinator_root:
            return str(self.root)
        return value.replace(self.coordinator_root + "/", str(self.root) + "/")

    def remove(self) -> None:
        shutil.rmtree(self.base, ignore_errors=True)


def agent_env(spec: dict, mirror: Mirror | None) -> dict[str, str]:
    """The worker's own environment (its PATH, its agent's login) plus what the job says."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMB_")}
    for key, value in spec["env"].items():
        # A forwarded variable is passed as the operator wrote it; those naming workspace paths are mapped.
        env[key] = mirror.text(value) if mirror is not None and names_a_path(key) else value
    return env


# -- the task ---------------------------------------------------------------------------------


def _released(worker, key: str) -> bool:
    """True when the scheduler no longer wants this task (cancelled, or its client is gone).

    Reads the worker's own state: no round trip. An internal attribute, so any surprise
    in its shape means "still wanted": the stop Events remain the documented way."""
    try:
        state = worker.state.tasks.get(key)
        return state is None or state.state in ("cancelled", "released", "forgotten")
    except Exception:
        return False


_ENDED_FIELDS = ("token", "worker", "exit_code", "timed_out", "stopped", "error", "shared", "reaped", "stalled",
                 "cannot_start")


def _check_in(key: str) -> tuple[bool, bool]:
    """(this task ran before, a stop was asked) in one round trip to the scheduler; and mark it as run.

    Three Event calls in turn cost three round trips per agent; the mark is sent without waiting
    (a rerun comes only after its first worker died, long after the mark arrived)."""
    import asyncio

    from distributed import get_client

    client = get_client()

    async def ask():
        ran, stop, kill = await asyncio.gather(client.scheduler.event_is_set(name=f"{key}:ran"),
                                               client.scheduler.event_is_set(name=f"{key}:stop"),
                                               client.scheduler.event_is_set(name=f"{key}:kill"))
        if not ran:
            asyncio.ensure_future(client.scheduler.event_set(name=f"{key}:ran"))
        return ran, stop or kill

    return client.sync(ask)


def _mark_ran(key: str) -> None:
    """Set the ``ran`` Event without waiting (a later rerun elsewhere checks it)."""
    from distributed import get_client

    client = get_client()
    client.loop.add_callback(client.scheduler.event_set, name=f"{key}:ran")


def run_agent_task(spec: dict) -> dict:
    """Run one agent on this worker; the result the coordinator's ``collect`` reads."""
    from distributed import get_worker, secede

    worker = get_worker()
    key = spec["token"]
    result = {"token": key, "worker": worker.address, "exit_code": None, "timed_out": False, "stopped": False,
              "error": "", "refused": "", "shared": False, "reaped": False, "stalled": False,
              "cannot_start": False, "log": None,
              "output_kind": None, "output": None}
    # The AGENT resource, not the worker's thread count, decides how many agents run here: an agent
    # task waits on a process, it does not compute.
    secede()
    # Join the run's watch before asking about a stop: a stop set after this question is then seen
    # by the watch, one set before it by the question.
    watch = _join_watch(spec, key)
    try:
        return _run_agent(worker, spec, key, result)
    finally:
        _leave_watch(watch, key)


def _run_agent(worker, spec: dict, key: str, result: dict) -> dict:
    if spec.get("placed_id") and spec["placed_id"] == getattr(worker, "id", None):
        # The worker process the coordinator pinned it to: Dask never reruns a pinned task on
        # another process, so this is its only run; no round trip before the agent starts.
        ran_before, stop_asked = False, False
        _mark_ran(key)
    else:  # not pinned, or pinned to an address now served by another worker process
        ran_before, stop_asked = _check_in(key)
    if ran_before:
        result["refused"] = "rerun"  # a worker died with this task; the coordinator retries the site itself
        return result
    if stop_asked or _released(worker, key):
        result["stopped"] = True
        return result
    shared = sees_workspace(spec)
    result["shared"] = shared
    mirror = None
    try:
        if shared:
            cwd, output, log_path = Path(spec["cwd"]), Path(spec["output"]), Path(spec["log_path"])
            if not cwd.is_dir():
                result["error"] = (f"worker {worker.address} does not see {spec['cwd']}: shared storage is on, "
                                   "but the workspace is not mounted at the same path there")
                return result
            prompt = spec["prompt"]
        else:
            mirror = Mirror(spec["root"], getattr(worker, "local_directory", None))
            cwd, output, log_path = mirror.path(spec["cwd"]), mirror.path(spec["output"]), mirror.path(spec["log_path"])
            cwd.mkdir(parents=True, exist_ok=True)
            if spec["output_is_dir"]:
                output.mkdir(parents=True, exist_ok=True)
            log_path.parent.mkdir(parents=True, exist_ok=True)
            for path, data in spec["inputs"].items():
                local = mirror.path(path)
                local.parent.mkdir(parents=True, exist_ok=True)
                local.write_bytes(data)
            prompt = spec["prompt"].replace((mirror.coordinator_root + "/").encode(), (str(mirror.root) + "/").encode())
        env = agent_env(spec, mirror)
        message = {"op": "start", "key": key, "domain": spec["domain"], "phase": spec["phase"],
                   "attempt": spec["attempt"], "argv": spec["argv"], "env": env, "cwd": str(cwd),
                   "output": str(output), "log_path": str(log_path),
                   "prompt_b64": base64.b64encode(prompt).decode(), "header_b64": "",
                   "timeout": spec["timeout"], "grace": spec["grace"], "reports": spec.get("reports", True),
                   "stall_timeout": spec.get("stall_timeout", 0.0)}
        result.update(_supervise(worker, spec, key, message))
        if shared:
            # The end goes to the coordinator at once, on the worker's stream to the scheduler: no
            # round trip to fetch the result (bench/dask.py). The returned value says the same.
            worker.log_event(spec["topic"], {"op": "ended", **{k: result[k] for k in _ENDED_FIELDS}})
        if not shared:
            result["log"] = read_tail(log_path, spec["max_log_bytes"])
            if result["exit_code"] == 0 and not (result["timed_out"] or result["stopped"] or result["error"]):
                try:
                    result["output_kind"], result["output"] = pack_output(output, spec["max_output_bytes"])
                except OutputProblem as exc:
                    result["error"] = f"on worker {worker.address}: {exc}"
        return result
    finally:
        if mirror is not None:
            mirror.remove()


class RunWatch:
    """One thread per run on each worker: the way stops reach this worker's agents of that run.

    The coordinator stops a job by setting its ``<key>:stop`` (or ``:kill``) Event, then
    *wakes* the run: it sets ``<run>:wake:<n>`` and moves on to ``n + 1``. This thread
    long-polls the wake Event of the generation it is at; when it fires, one batched
    call reads the stop and kill Events of the run's agents here, the stops go to the
    supervisor, and the thread waits on the next generation. A SIGINT of the
    coordinator thus reaches every agent at once, and no agent polls the scheduler
    while it runs (a poll per agent per second is a round trip the scheduler pays for
    every running agent)."""

    def __init__(self, wake_prefix: str, generation: int, client) -> None:
        self.wake_prefix = wake_prefix
        self.generation = generation
        self.client = client  # found in the task's thread: this thread has no worker context
        self.keys: set[str] = set()
        self.stopped: set[str] = set()
        self.killed: set[str] = set()

    def catch_up(self, generation: int) -> None:
        with _WATCH_LOCK:  # a later task knows of later wakes: no need to wait through the older ones
            self.generation = max(self.generation, generation)

    def _run(self, name: str) -> None:
        import asyncio

        scheduler = self.client.scheduler
        try:
            while self._wanted(name):
                generation = self.generation
                woken = self.client.sync(scheduler.event_wait, name=f"{self.wake_prefix}:{generation}",
                                         timeout=WATCH_SECONDS)
                if not woken:
                    continue
                with _WATCH_LOCK:
                    self.generation = max(self.generation, generation + 1)
                keys = self._keys()

                async def orders():
                    return await asyncio.gather(*(scheduler.event_is_set(name=f"{key}:{what}")
                                                  for key in keys for what in ("stop", "kill")))

                flags = self.client.sync(orders)
                for n, key in enumerate(keys):
                    stop, kill = flags[2 * n], flags[2 * n + 1]
                    if kill and key not in self.killed:
                        self.killed.add(key)
                        self.stopped.add(key)
                        supervisor().stop(key, kill=True)
                    elif stop and key not in self.stopped:
                        self.stopped.add(key)
                        supervisor().stop(key, kill=False)
        except Exception:  # the scheduler went away: each task still stops its agent once it is released
            pass
        finally:
            with _WATCH_LOCK:
                if _WATCHES.get(name) is self:
                    del _WATCHES[name]

    def _keys(self) -> list[str]:
        with _WATCH_LOCK:
            return sorted(self.keys)

    def _wanted(self, name: str) -> bool:
        with _WATCH_LOCK:
            if self.keys:
                return True
            _WATCHES.pop(name, None)  # no agent of this run here now: the next one starts a new watch
            return False


WATCH_SECONDS = 2.0
_WATCHES: dict[str, RunWatch] = {}
_WATCH_LOCK = threading.Lock()


def _join_watch(spec: dict, key: str) -> RunWatch:
    from distributed import get_client

    name = spec["wake"]
    with _WATCH_LOCK:
        watch = _WATCHES.get(name)
        if watch is not None:
            watch.keys.add(key)
    if watch is not None:
        watch.catch_up(spec["wake_generation"])
        return watch
    client = get_client()
    with _WATCH_LOCK:
        watch = _WATCHES.get(name)
        if watch is None:
            watch = _WATCHES[name] = RunWatch(name, spec["wake_generation"], client)
            watch.keys.add(key)
            threading.Thread(target=watch._run, args=(name,), name=f"smb-watch-{name}", daemon=True).start()
        else:
            watch.keys.add(key)
    watch.catch_up(spec["wake_generation"])
    return watch


def _leave_watch(watch: RunWatch, key: str) -> None:
    with _WATCH_LOCK:
        watch.keys.discard(key)
        watch.stopped.discard(key)
        watch.killed.discard(key)


def _supervise(worker, spec: dict, key: str, message: dict) -> dict:
    """Start the agent in the supervisor, wait for its end; the end as result fields.

    Stops come through the run's watch; this thread only notices a task nobody wants any
    more (its client, the coordinator, is gone: the scheduler released it) and stops its agent."""
    sup = supervisor()
    handle = sup.start(message)
    try:
        if not handle.started.wait(STARTED_TIMEOUT):
            sup.stop(key, kill=True)
            return {"error": f"the agent supervisor on worker {worker.address} did not answer"}
        if handle.pid:
            worker.log_event(spec["topic"], {"op": "started", "token": key, "worker": worker.address,
                                             "pid": handle.pid, "create_time": handle.create_time})
        released = False
        while not handle.done.wait(POLL_SECONDS):
            if handle.timeout_text:
                worker.log_event(spec["topic"], {"op": "line", "token": key, "text": handle.timeout_text})
                handle.timeout_text = ""
            if not released and _released(worker, key):
                released = True
                sup.stop(key, kill=False)
        ended = handle.ended or {}
        return {"exit_code": ended.get("exit_code"), "timed_out": bool(ended.get("timed_out")),
                "stopped": bool(ended.get("stopped")), "error": ended.get("error") or "",
                "reaped": bool(ended.get("reaped")), "stalled": bool(ended.get("stalled")),
                "cannot_start": bool(ended.get("cannot_start")), "pid": handle.pid}
    except BaseException:
        sup.stop(key, kill=True)  # the task itself failed: its agent must not run on unwatched
        raise
    finally:
        sup.forget(key)
