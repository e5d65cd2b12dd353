"""The pool of agents: what to launch, how to record it, how to stop (SPEC §4).

    options.py     flags + config -> RunOptions
    loop.py        the Pool: claims, launches, results, retries, stop
    launch.py      claimed site -> Job (staging, prompt, env); ended job -> site in place
    executor.py    the Executor protocol: how a Job runs (start, tick, collect, stop, close)
    local.py       LocalExecutor: a supervised process group per agent on this machine
    dask.py        DaskExecutor: the same on Dask workers (dask_task.py runs on a worker,
                   dask_sidecar.py supervises its agents there)
    guards.py      the circuit breaker and the disk/memory guard
    wakeup.py      signals and file descriptors in one selector
    results.py     Outcome, RunResult and the failure classes
    reporter.py    the run log, plain lines, the progress bar
    background.py  --bg and smb stop

``run_phase`` runs one phase; ``run_batch`` is ``smb run``: design, implement, finish.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

# Imported on first use (PEP 562), so that validating a config's `halt` (pool/halt.py) does not
# pull the whole pool into `smb list-sites`.
_LAZY = {
    "BG_ENV": "background", "RUN_ID_ENV": "background", "StopResult": "background",
    "start_background": "background", "stop_runs": "background",
    "RunFlags": "options", "RunOptions": "options", "build_options": "options",
    "Outcome": "results", "RunResult": "results",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def run_phase(ui, workspace, settings, store, phase_name: str, flags, run_id: str | None = None,
              executor=None):
    """One phase of a batch (``smb design`` / ``smb implement``); returns its RunResult."""
    from ..agents import check_agent
    from .background import BG_ENV
    from .loop import Pool
    from .options import build_options
    from .reporter import RunReporter

    options = build_options(settings, phase_name, flags, run_id=run_id)
    if options.executor == "local":
        check_agent(options.agent)  # with dask the agent runs on the workers: doctor's cluster check looks there
    if executor is None and options.executor == "dask" and not options.dry_run:
        from .dask import DaskExecutor

        executor = DaskExecutor(options.scheduler, forward_env=settings.executor.forward_env,
                                shared_storage=settings.executor.shared_storage)
    if options.dry_run:
        return Pool(workspace, store, options, reporter=None, executor=executor).run()
    log_path = workspace.run_log(phase_name, flags.batch, flags.wave)
    reporter = RunReporter(ui, workspace, log_path, stdout_is_log=os.environ.get(BG_ENV) == str(log_path))
    try:
        return Pool(workspace, store, options, reporter, executor=executor).run()
    finally:
        reporter.close()


@dataclass
class BatchResult:
    """``smb run``: the phases that ran and, when both went through, finish's report."""

    phases: list = field(default_factory=list)
    finish: object = None
    exit_code: int = 0


def run_batch(ui, workspace, settings, store, flags, on_phase=None) -> BatchResult:
    """Design, implement, then finish; a signal stops the sequence (the exit code says which)."""
    from ..errors import EXIT_SIGINT, EXIT_SIGTERM
    from ..finish import finish_batch, pending_stop
    from .background import RUN_ID_ENV

    result = BatchResult()
    for phase in ("design", "implement"):
        if pending_stop() is not None:  # issue 22: a stop between phases (finish.stop_signals records it)
            result.exit_code = pending_stop()
            return result
        run_id = os.environ.get(RUN_ID_ENV) if phase == "design" else None
        phase_result = run_phase(ui, workspace, settings, store, phase, flags, run_id=run_id)
        result.phases.append(phase_result)
        if on_phase is not None:
            on_phase(phase, phase_result)
        if flags.dry_run:
            continue
        if phase_result.exit_code in (EXIT_SIGINT, EXIT_SIGTERM):
            result.exit_code = phase_result.exit_code
            return result
        result.exit_code = max(result.exit_code, phase_result.exit_code)
    result.finish = finish_batch(workspace, store, flags.batch, dry_run=flags.dry_run)
    result.exit_code = 0 if flags.dry_run else max(result.exit_code, result.finish.exit_code)
    return result
