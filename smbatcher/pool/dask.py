"""The Dask executor: each agent a task on a dask.distributed cluster (issue 12).

The coordinator (the ``smb`` process) stays the only registry writer: the pool
claims, records results, retries and stops exactly as with the local executor;
only *where* an agent runs changes. ``start`` submits one task per job::

    client.submit(run_agent_task, spec, key="smb-<run-id>-<domain>-<phase>-<attempt>",
                  resources={"AGENT": 1}, pure=False)

so a worker started with ``--resources AGENT=8`` runs at most eight agents.
On the worker the agent is supervised as locally (``dask_task``, ``dask_sidecar``).

Where the output goes. The coordinator writes a marker file into the run's
staging root; a worker that reads it back sees the workspace (shared storage)
and its agent works in place. Any other worker runs the agent in a private
mirror of the workspace and returns the log and the output (the site folder
as a gzip tar, the design file's bytes, both size-capped); ``collect`` unpacks
it into the job's staging folder (regular files and folders only, no path
out of the folder) before it reports the end, so the pool promotes as always.
``shared_storage=True``/``False`` skips the detection.

Placement. Each task is pinned to the worker with the most free ``AGENT``
slots by the coordinator's own count (the scheduler alone would queue a task
on a full worker beside a free one: see ``_place``).

Failures of the cluster itself. A worker that goes away (the scheduler says
``remove-worker``) takes its running agents with it (its supervisor stops them
when the worker's pipe closes): those jobs end ``lost`` and the pool retries
them without counting an attempt. A pinned task is not rerun elsewhere by
Dask; one that runs anyway somewhere else checks the ``ran`` Event and starts
nothing (``dask_task``), and any result for a job already ended is ignored:
the first end of a job is the one counted.

Ends. With shared storage the worker pushes the end as an event (no fetch);
otherwise ``collect`` gathers the result (the log and the output).

Threads. The Dask client runs callbacks (a future done, an event from a worker)
on its own threads; they only append to ``self._inbox`` and poke the pool's
wakeup. Everything else happens on the pool's thread.
"""

from __future__ import annotations

import collections
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import SmbError
from .dask_cluster import _worker_facts, cluster_report  # noqa: F401  (doctor and tests import it here)
from .dask_transfer import OutputRefused, job_env, job_inputs, shared_marker, unpack_output
from .dask_transfer import reason as _reason
from .executor import Ended, Job, Running

DEFAULT_MAX_OUTPUT_BYTES = 256 * 1024 * 1024
DEFAULT_MAX_LOG_BYTES = 32 * 1024 * 1024
# How long past its timeout and grace a started job may stay silent before the coordinator gives up
# on its worker (a worker hung without the scheduler noticing: the scheduler's own limit is minutes).
NO_ANSWER_MARGIN = 60.0
RESULT_TIMEOUT = 60.0  # fetching one batch of results from the workers


@dataclass
class _Task:
    job: Job
    token: str  # the Dask key
    future: object
    placed: str = ""  # the worker it was sent to ("" when no worker was known)
    worker: str = ""
    pid: int = 0
    create_time: float = 0.0
    started: float | None = None  # monotonic, when the worker said its agent started
    stopping: bool = False
    killing: bool = False


class DaskExecutor:
    kind = "dask"

    def __init__(self, scheduler: str, *, shared_storage: bool | None = None,
                 max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES, max_log_bytes: int = DEFAULT_MAX_LOG_BYTES,
                 forward_env: tuple[str, ...] | list[str] = (), connect_timeout: float = 10.0) -> None:
        """``forward_env``: names (globs) of the coordinator's variables the agents get; a worker
        otherwise gives its agents its own environment plus the job's SMB_* variables."""
        self.scheduler = scheduler
        self.shared_storage = shared_storage
        self.max_output_bytes = max_output_bytes
        self.max_log_bytes = max_log_bytes
        self.forward_env = tuple(forward_env)
        self.connect_timeout = connect_timeout
        self.id = f"smb-{secrets.token_hex(4)}"
        self.topic = self.id  # the workers' "started"/"line" events for this executor
        self.client = None
        self.wakeup = None
        self.tasks: dict[str, _Task] = {}  # token -> live task
        self.ended: list[Ended] = []  # ends decided outside collect (stop before start, close)
        self.lines: list[str] = []
        self.wake = f"{self.id}:wake"  # <wake>:<n>: tells the workers' run watches to read the stop Events
        self.wake_generation = 0
        self._inbox: collections.deque = collections.deque()
        self._keys_used: dict[str, int] = {}
        self._markers: set[Path] = set()
        self._lost: dict[str, str] = {}  # token -> worker address, from remove-worker events
        self._done: set[str] = set()
        self._lingering: list[str] = []  # Events of jobs that ended while their task may still run
        self._changed = False
        self.slots: dict[str, float] = {}  # worker address -> its AGENT resource
        self.placed: dict[str, int] = {}  # worker address -> our jobs sent there and not ended
        self.worker_ids: dict[str, str] = {}  # worker address -> the id of the worker process there
        self._workers_changed = False
        self._unsent: list[tuple[str, dict]] = []  # (token, spec) queued by start, sent by _send

    # -- connection -----------------------------------------------------------------------
    def open(self, wakeup) -> None:
        """Connect, check the workers; a one-line SmbError before anything is claimed if that fails."""
        self.wakeup = wakeup
        if self.client is not None:
            return
        try:
            from distributed import Client
        except ImportError:
            raise SmbError("the Dask executor needs distributed: pip install 'smbatcher[dask]'") from None
        try:
            client = Client(self.scheduler, timeout=self.connect_timeout, set_as_default=False)
        except Exception as exc:
            raise SmbError(f"cannot reach the Dask scheduler at {self.scheduler}: {_reason(exc)}") from None
        try:
            self._check_workers(client)
            client.subscribe_topic(self.topic, self._on_worker_event)
            client.subscribe_topic("all", self._on_cluster_event)
        except BaseException:
            client.close()
            raise
        self.client = client

    def _check_workers(self, client) -> None:
        self._read_slots(client)
        if not self.slots:
            self.lines.append(f"no Dask worker at {self.scheduler} offers the AGENT resource yet: agents wait "
                              f"for one (start one with: dask worker {self.scheduler} --resources AGENT=8)")

    def _ask_workers(self, client, addresses: list[str]) -> None:
        """Each new worker's smbatcher version and process id; one that cannot import smbatcher stops the run."""
        from .. import __version__

        try:
            facts = client.run(_worker_facts, workers=addresses, on_error="return")
        except Exception as exc:  # a worker coming or going: its tasks say so if it matters
            self.lines.append(f"could not ask the Dask workers about smbatcher: {_reason(exc)}")
            return
        for addr in addresses:
            found = facts.get(addr)
            if isinstance(found, BaseException) or not isinstance(found, dict):
                if "ModuleNotFoundError" in str(found) or "ImportError" in str(found):
                    # Every agent sent there would fail: refuse the run before anything is claimed.
                    raise SmbError(f"Dask worker {addr} cannot run smb's agent task ({_reason(found)}): install "
                                   f"smbatcher {__version__} there (pip install 'smbatcher[dask]')")
                self.lines.append(f"Dask worker {addr} did not answer smb's check: {_reason(found)}")
                continue
            self.worker_ids[addr] = found["id"]
            if found["version"] != __version__:
                self.lines.append(f"Dask worker {addr} has smbatcher {found['version']}, this coordinator "
                                  f"{__version__}")

    def _poke(self) -> None:
        if self.wakeup is not None:
            self.wakeup.poke()

    # Called on the client's threads: append and wake the pool, nothing else.
    def _on_done(self, token: str, future) -> None:
        self._inbox.append(("done", token))
        if token in self.tasks:  # (a read only) an end already pushed as an event needs no second wake-up
            self._poke()

    def _on_worker_event(self, event) -> None:
        _, message = event
        if isinstance(message, dict):
            self._inbox.append(("worker", message))
            self._poke()

    def _on_cluster_event(self, event) -> None:
        _, message = event
        if not isinstance(message, dict):
            return
        if message.get("action") == "remove-worker":
            keys = set(message.get("processing-tasks") or ()) | set(message.get("lost-computed-tasks") or ())
            self._inbox.append(("removed", message.get("worker", "?"), keys))
            self._poke()
        elif message.get("action") == "add-worker":
            self._inbox.append(("added", message.get("worker", "?")))

    def _drain(self) -> None:
        while self._inbox:
            item = self._inbox.popleft()
            if item[0] == "done":
                self._done.add(item[1])
            elif item[0] == "removed":
                address = item[1]
                self.slots.pop(address, None)
                self.worker_ids.pop(address, None)  # a worker started later at that address is another one
                for token in item[2]:
                    if token in self.tasks:
                        self._lost.setdefault(token, address)
                # Pinned there and not started: Dask would hold it for that worker forever.
                for token, task in self.tasks.items():
                    if address in (task.placed, task.worker):
                        self._lost.setdefault(token, address)
            elif item[0] == "added":
                self._workers_changed = True  # its AGENT count is read before the next placement
            else:
                message = item[1]
                task = self.tasks.get(message.get("token", ""))
                if task is None:
                    continue  # a job already ended (or another run's): the first end stands
                if message.get("op") == "started":
                    task.worker = str(message.get("worker", ""))
                    task.pid = int(message.get("pid") or 0)
                    task.create_time = float(message.get("create_time") or 0.0)
                    task.started = time.monotonic()
                    self._changed = True
                elif message.get("op") == "line":
                    self.lines.append(f"{message.get('text', '')} (on worker {task.worker or '?'})")
                elif message.get("op") == "ended" and message.get("shared"):
                    # Shared storage: the whole result is in the event, no fetch needed.
                    self._finish(task, self._ended_from_result(task, message))

    # -- placement ---------------------------------------------------------------------------
    # The scheduler checks a task's resources against what a worker *has*, not what it has free:
    # left to it, a burst of sixteen agent tasks on two 8-slot workers may go nine and seven, and
    # the ninth waits a whole agent's time on a full worker beside a free slot (bench/dask.py).
    # So each task is pinned to the worker with the most free slots by our own count. Pinned
    # (not loosely), a task is never moved nor rerun elsewhere: when its worker goes, it waits for
    # that worker forever, and the removal makes it ``lost`` here (``_drain``), so the pool
    # retries the site. Other runs on the same cluster are not in the count; their tasks then
    # queue on the workers, as they would without it.
    def _read_slots(self, client) -> None:
        workers = client.scheduler_info(n_workers=-1).get("workers", {})
        self.slots = {addr: float(info.get("resources", {}).get("AGENT", 0)) for addr, info in workers.items()
                      if float(info.get("resources", {}).get("AGENT", 0)) >= 1}
        self._workers_changed = False
        new = [addr for addr in self.slots if addr not in self.worker_ids]
        if new:
            self._ask_workers(client, new)

    def _place(self) -> str:
        self._drain()  # a worker just gone must not get the next agent
        if self._workers_changed:
            try:
                self._read_slots(self.client)
            except SmbError as exc:  # a worker without smbatcher joined mid-run: leave it out, say why
                self.lines.append(exc.message)
                self.slots = {a: n for a, n in self.slots.items() if a in self.worker_ids}
            except Exception:
                pass
        if not self.slots:
            return ""
        return max(self.slots, key=lambda addr: (self.slots[addr] - self.placed.get(addr, 0), addr))

    def _unplace(self, task: _Task) -> None:
        if task.placed and self.placed.get(task.placed, 0) > 0:
            self.placed[task.placed] -= 1

    # -- the protocol -----------------------------------------------------------------------
    def start(self, job: Job) -> None:
        if self.client is None:
            raise OSError("the Dask executor is not open")
        run_id = job.env.get("SMB_RUN_ID", "run")
        base = f"smb-{run_id}-{job.key}"
        # A job retried after its worker was lost has the same key: a Dask key is never reused.
        count = self._keys_used[base] = self._keys_used.get(base, 0) + 1
        token = base if count == 1 else f"{base}-{count}"
        root = job.env.get("SMB_ROOT") or str(job.cwd.parent)
        marker = shared_marker(job)
        if self.shared_storage is None and marker not in self._markers:
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.write_text(self.id, encoding="utf-8")
            self._markers.add(marker)
        with open(job.log_path, "ab") as log:  # the header now; the agent's output follows, from the worker
            log.write(job.header)
        # A worker without the workspace needs the design and the brief.
        inputs = job_inputs(job) if self.shared_storage is not True else {}
        env = job_env(job, self.forward_env)
        spec = {
            "token": token, "topic": self.topic, "domain": job.domain, "phase": job.phase, "attempt": job.attempt,
            "argv": list(job.argv), "env": env, "root": root, "cwd": str(job.cwd), "output": str(job.output),
            "output_is_dir": job.output.is_dir(), "log_path": str(job.log_path), "prompt": job.prompt,
            "timeout": job.timeout, "grace": job.grace, "shared": self.shared_storage,
            "reports": job.reports, "stall_timeout": job.stall_timeout,
            "marker": (str(marker), self.id), "inputs": inputs,
            "wake": self.wake, "wake_generation": self.wake_generation,
            "max_output_bytes": self.max_output_bytes, "max_log_bytes": self.max_log_bytes,
        }
        place = self._place()
        spec["placed_id"] = self.worker_ids.get(place, "") if place else ""
        self.tasks[token] = _Task(job, token, None, placed=place)
        if place:
            self.placed[place] = self.placed.get(place, 0) + 1
        self._unsent.append((token, spec))

    def _send(self) -> None:
        """Submit the jobs ``start`` has queued: one ``map`` per worker, not one graph per agent.

        The pool starts the sites it claimed in one turn one after another; each ``submit`` is a
        graph the scheduler must take in, and sixteen of them at the end of a wave of agents cost
        every one of those agents the scheduler's time for all (bench/dask.py). Any executor call
        after ``start`` sends them (the pool's next one is ``running``, ``next_due`` or ``tick``)."""
        if not self._unsent:
            return
        from .dask_task import run_agent_task

        unsent, self._unsent = self._unsent, []
        groups: dict[str, list[tuple[str, dict]]] = {}
        for token, spec in unsent:
            if token in self.tasks:
                groups.setdefault(self.tasks[token].placed, []).append((token, spec))
        for place, items in groups.items():
            try:
                futures = self.client.map(run_agent_task, [spec for _, spec in items], key=[t for t, _ in items],
                                          resources={"AGENT": 1}, pure=False, workers=[place] if place else None)
            except Exception as exc:  # the pool fails these attempts, as for agents that cannot start
                for token, _ in items:
                    self._finish(self.tasks[token], Ended(self.tasks[token].job.key, None,
                                                          error=f"cannot submit it to the Dask scheduler: "
                                                                f"{_reason(exc)}"))
                continue
            for (token, _), future in zip(items, futures):
                self.tasks[token].future = future
                future.add_done_callback(lambda f, token=token: self._on_done(token, f))
        future.add_done_callback(lambda f, token=token: self._on_done(token, f))

    def tick(self, now: float) -> list[str]:
        self._send()
        self._drain()
        for task in list(self.tasks.values()):
            if task.started is None or task.stopping:
                continue
            if now >= task.started + task.job.timeout + task.job.grace + NO_ANSWER_MARGIN:
                task.stopping = True
                self._order([f"{task.token}:stop", f"{task.token}:kill"])
                self._cancel([task])
                self.lines.append(f"no end of {task.job.domain} from worker {task.worker} "
                                  f"{NO_ANSWER_MARGIN:g}s after its timeout: giving it up")
                self._finish(task, Ended(task.job.key, None, timed_out=True,
                                         error=f"no answer from worker {task.worker} after the timeout"), linger=True)
        lines, self.lines = self.lines, []
        return lines

    def next_due(self, now: float) -> float | None:
        self._send()
        due = None
        for task in self.tasks.values():
            if task.started is not None and not task.stopping:
                at = task.started + task.job.timeout + task.job.grace + NO_ANSWER_MARGIN - now
                due = at if due is None else min(due, at)
        return None if due is None else max(0.0, due)

    def collect(self) -> list[Ended]:
        self._send()
        self._drain()
        # A job whose worker is gone ends lost, even if Dask says it finished: its result went with it.
        for token, worker in list(self._lost.items()):
            task = self.tasks.get(token)
            if task is not None:
                task.stopping = True
                self._cancel([task])  # Dask would rerun it; the pool retries the site instead
                self._order([f"{token}:stop"])
                self._finish(task, Ended(task.job.key, None, lost=True, error=f"worker {worker} lost"), linger=True)
        self._lost.clear()
        done = [self.tasks[t] for t in self._done if t in self.tasks]
        self._done.clear()
        if done:
            self._collect_done(done)
        ended, self.ended = self.ended, []
        return ended

    def _collect_done(self, done: list[_Task]) -> None:
        finished = [t for t in done if t.future.status == "finished"]
        results: dict[str, object] = {}
        if finished:
            try:
                values = self.client.sync(self.client._gather, [t.future for t in finished],
                                          callback_timeout=RESULT_TIMEOUT)
                results = {t.token: v for t, v in zip(finished, values)}
            except Exception:
                for task in finished:  # one bad result must not hide the others
                    try:
                        results[task.token] = task.future.result(timeout=RESULT_TIMEOUT)
                    except Exception as exc:
                        results[task.token] = exc
        for task in done:
            if task.token in results:
                value = results[task.token]
                ended = self._ended_from_exception(task, value) if isinstance(value, BaseException) \
                    else self._ended_from_result(task, value)
            elif task.future.status == "error":
                try:
                    exc = task.future.exception(timeout=RESULT_TIMEOUT)
                except Exception as error:
                    exc = error
                ended = self._ended_from_exception(task, exc)
            elif task.future.status == "cancelled":
                ended = Ended(task.job.key, None, stopped=True) if task.stopping else \
                    Ended(task.job.key, None, lost=True, error="the Dask task was cancelled outside smb")
                self._finish(task, ended, linger=True)
                continue
            else:
                continue  # back to pending (its result was lost with a worker): the lost path ends it
            self._finish(task, ended, linger=bool(ended.lost))

    def _ended_from_exception(self, task: _Task, exc: BaseException) -> Ended:
        from distributed.scheduler import KilledWorker

        if isinstance(exc, KilledWorker):
            return Ended(task.job.key, None, lost=True, error=f"worker lost ({_reason(exc)})")
        return Ended(task.job.key, None, error=f"the agent task failed on the worker: "
                                               f"{type(exc).__name__}: {_reason(exc)}")

    def _ended_from_result(self, task: _Task, result: dict) -> Ended:
        job = task.job
        worker = result.get("worker") or task.worker
        if result.get("refused") == "rerun":
            # Dask reran it after its first worker died: that first run's end never reached us.
            return Ended(job.key, None, lost=True, error=f"worker of {job.domain} lost before its result came back")
        ended = Ended(job.key, result.get("exit_code"), timed_out=bool(result.get("timed_out")),
                      stopped=bool(result.get("stopped")) or (task.stopping and result.get("exit_code") is None),
                      error=result.get("error") or "", reaped=bool(result.get("reaped")),
                      stalled=bool(result.get("stalled")), cannot_start=bool(result.get("cannot_start")))
        if not result.get("shared"):
            if result.get("log"):
                try:
                    with open(job.log_path, "ab") as log:
                        log.write(result["log"])
                except OSError as exc:
                    ended.error = ended.error or f"cannot write the agent's log: {exc.strerror or exc}"
            if ended.exit_code == 0 and not (ended.error or ended.timed_out or ended.stopped):
                try:
                    unpack_output(result.get("output_kind"), result.get("output"), job.output,
                                  self.max_output_bytes)
                except OutputRefused as exc:
                    ended.error = f"the output from worker {worker} was refused: {exc}"
                except OSError as exc:
                    ended.error = f"cannot unpack the output from worker {worker}: {exc.strerror or exc}"
        return ended

    def _finish(self, task: _Task, ended: Ended, *, linger: bool = False) -> None:
        """The first end of a job: report it, forget the task; anything later about it is ignored.

        ``linger``: the job ended here but its Dask task may still run somewhere (lost, given
        up, cancelled before it started): its Events stay set until ``close``, so a rerun of
        it refuses to start an agent (``ran``) or stops the one it started (``stop``)."""
        if self.tasks.pop(task.token, None) is None:
            return
        self._unplace(task)
        self._done.discard(task.token)
        self._lost.pop(task.token, None)
        self.ended.append(ended)
        names = [f"{task.token}:ran"]
        if task.stopping or linger:  # the only times its stop/kill Events may have been set
            names += [f"{task.token}:stop", f"{task.token}:kill"]
        if linger:
            self._lingering.extend(names)
        else:
            self._clear_events(names)

    # -- stop -------------------------------------------------------------------------------
    def stop(self, keys: list[str] | None = None, *, kill: bool = False) -> None:
        """Ask the workers to stop these agents (TERM, grace, KILL there; ``kill``: no grace).

        Sets each job's ``stop`` (and ``kill``) Event, then wakes the run's watch on every
        worker (``dask_task.RunWatch``), which reads them and stops its agents at once."""
        self._send()
        self._drain()  # the latest word on which jobs a worker has started
        chosen = [t for t in self.tasks.values() if keys is None or t.job.key in keys]
        names = []
        for task in chosen:
            if not task.stopping:
                task.stopping = True
                names.append(f"{task.token}:stop")
            if kill and not task.killing:
                task.killing = True
                names.append(f"{task.token}:kill")
        self._order(names)
        # A job no worker has started yet has nothing to stop: drop it from the scheduler, end it now.
        waiting = [t for t in chosen if t.started is None]
        if waiting:
            self._cancel(waiting)
            for task in waiting:
                self._finish(task, Ended(task.job.key, None, stopped=True), linger=True)

    def running(self) -> list[Running]:
        """Every job not yet ended; pid 0 and no worker until its worker says the agent started."""
        self._send()
        return [Running(t.job.key, t.pid, t.create_time, worker=t.worker) for t in self.tasks.values()]

    def changed(self) -> bool:
        """True once after a worker said where an agent runs: the run record is worth saving again."""
        self._send()
        self._drain()
        changed, self._changed = self._changed, False
        return changed

    def close(self) -> None:
        """Stop every job still running, wait for their ends (grace + a margin), then disconnect."""
        if self.client is None:
            return
        try:
            self._send()
            if self.tasks:
                self.stop()
                grace = max(t.job.grace for t in self.tasks.values()) if self.tasks else 0
                deadline = time.monotonic() + grace + 5
                while self.tasks and time.monotonic() < deadline:
                    if self.wakeup is not None:
                        self.wakeup.wait(0.05)
                    else:
                        time.sleep(0.05)
                    self.ended.extend(self.collect())
                if self.tasks:
                    left = list(self.tasks.values())
                    self._order([f"{t.token}:kill" for t in left])
                    self._cancel(left)
                    for task in left:
                        self._finish(task, Ended(task.job.key, None, stopped=True,
                                                 error=f"no end from worker {task.worker or '?'} after the stop"),
                                     linger=True)
            self._events("event_clear", self._lingering + [f"{self.wake}:{n}" for n in range(self.wake_generation)],
                         wait=True)
            self._lingering = []
        finally:
            client, self.client = self.client, None
            try:
                client.unsubscribe_topic(self.topic)
                client.unsubscribe_topic("all")  # else the scheduler tells our closed comm we left
                client.close(timeout=5)
            except Exception:
                pass
            for marker in self._markers:
                try:
                    marker.unlink()
                except OSError:
                    pass
            self._markers.clear()

    # -- scheduler calls that must not hold up the pool -------------------------------------
    def _order(self, names: list[str]) -> None:
        """Set these stop/kill Events, then wake the workers' run watches to read them."""
        if not names:
            return
        wake = f"{self.wake}:{self.wake_generation}"
        self.wake_generation += 1
        self._events("event_set", names, then=wake)

    def _clear_events(self, names: list[str]) -> None:
        self._events("event_clear", names)

    def _events(self, op: str, names: list[str], wait: bool = False, then: str | None = None) -> None:
        """Set or clear Events, without waiting unless ``wait``: a stop must not wait on a slow scheduler.

        ``then``: one more Event set once all of ``names`` are (the wake comes after the orders)."""
        client = self.client
        if not names or client is None:
            return

        async def call():
            import asyncio

            handler = getattr(client.scheduler, op)
            await asyncio.gather(*(handler(name=name) for name in names), return_exceptions=True)
            if then is not None:
                await client.scheduler.event_set(name=then)

        try:
            if wait:
                client.sync(call, callback_timeout=5)
            else:
                client.loop.add_callback(call)
        except Exception:
            pass

    def _cancel(self, tasks: list[_Task]) -> None:
        try:
            self.client.cancel([t.future for t in tasks if t.future is not None])
        except Exception:
            pass
