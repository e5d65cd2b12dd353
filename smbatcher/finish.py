"""``smb finish``: check every implemented site, then finalize the passing ones in one transaction.

The shell ``finish.sh`` could die half way and leave a batch split between
``I`` and ``Q``, or lose rows (runbook scenario 6). Here the checks happen
first, outside the lock; then one transaction re-reads the registry, checks
that the batch's row set is the one finish started with and the one the
manifest lists (conservation), and writes every ``I -> Q`` at once. A kill at
any instant leaves the old file or the new one; a second run finishes the rest.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .errors import EXIT_FAILED, EXIT_SIGINT, EXIT_SIGTERM, SmbError, UsageError
from .fs import atomic_write
from .manifest import parse_manifest, read_manifest_text
from .sitecheck import check_site
from .store import Store
from .text import clean_text
from .workspace import Workspace

_PARALLEL_FROM = 24  # below this many sites a process pool costs more than it saves


@dataclass
class FinishReport:
    batch: str
    dry_run: bool = False
    reset_failed: bool = False
    passed: list[str] = field(default_factory=list)
    failed: dict[str, list[str]] = field(default_factory=dict)
    already_final: list[str] = field(default_factory=list)
    before: dict[str, int] = field(default_factory=dict)
    after: dict[str, int] = field(default_factory=dict)
    refused: str | None = None
    written: bool = False
    screenshots: list[str] = field(default_factory=list)
    screenshot_note: str | None = None
    seconds: float = 0.0
    report_file: str = ""

    @property
    def exit_code(self) -> int:
        return EXIT_FAILED if self.failed or self.refused else 0

    def as_json(self) -> dict:
        return {
            "batch": self.batch, "dry_run": self.dry_run, "reset_failed": self.reset_failed,
            "passed": self.passed, "failed": [{"domain": d, "reasons": r} for d, r in self.failed.items()],
            "already_final": len(self.already_final), "before": self.before, "after": self.after,
            "refused": self.refused, "written": self.written, "screenshots": self.screenshots,
            "screenshot_note": self.screenshot_note, "seconds": round(self.seconds, 2),
            "report_file": self.report_file, "exit_code": self.exit_code,
        }


class FinishStopped(SmbError):
    """SIGINT/SIGTERM/SIGHUP before or during finish (issue 22): the checks stopped, their workers
    ended, the transaction done or never begun; the exit code is the signal's (130 / 143), as in
    design and implement."""


class StopSignals:
    """How `smb run` and `smb finish` stop outside the pool (whose wakeup.py handles its phases and
    puts these handlers back after). A signal is recorded; it raises FinishStopped at once only
    while finish's checks run (read-only work in killable workers); elsewhere (between phases,
    inside finish's transaction, its report file) it waits for the next checkpoint, so a batch is
    never half final and no claim or commit is cut. SIGHUP counts as SIGTERM, as in the pool."""

    def __init__(self) -> None:
        self.pending: int | None = None  # the exit code of the signal received
        self.raising = False
        self._old: dict[int, object] = {}

    def install(self) -> bool:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            try:
                current = signal.getsignal(sig)
                if sig == signal.SIGHUP and current == signal.SIG_IGN:
                    continue  # nohup: a closed terminal is not a stop
                signal.signal(sig, self._on_signal)
            except ValueError:  # not the main thread (the dashboard, a test): no handlers
                return False
            self._old[sig] = current
        return True

    def restore(self) -> None:
        for sig, handler in self._old.items():
            signal.signal(sig, handler)
        self._old.clear()

    def _on_signal(self, signum: int, frame) -> None:
        self.pending = EXIT_SIGINT if signum == signal.SIGINT else EXIT_SIGTERM
        if self.raising:
            self.raising = False
            self.stop_if_pending("during finish's checks: nothing written")

    def stop_if_pending(self, when: str) -> None:
        if self.pending is not None:
            name = "SIGINT" if self.pending == EXIT_SIGINT else "SIGTERM"
            raise FinishStopped(f"stopped by {name} {when}", self.pending)

    @contextlib.contextmanager
    def raising_now(self):
        self.stop_if_pending("before finish's checks: nothing written")
        self.raising = True
        try:
            yield
        finally:
            self.raising = False


_active: StopSignals | None = None


@contextlib.contextmanager
def stop_signals():
    """The StopSignals in force: the outer one (`smb run` installs it around its phases), or a new one."""
    global _active
    if _active is not None:
        yield _active
        return
    stop = StopSignals()
    installed = stop.install()
    _active = stop if installed else None
    try:
        yield stop
    finally:
        _active = None
        stop.restore()


def pending_stop() -> int | None:
    """The exit code of a stop signal `smb run` received between its phases, or None."""
    return _active.pending if _active is not None else None


_STOPS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}


def _worker_start() -> None:
    """A check worker leaves stops to finish, which kills it (a forked child inherits finish's
    handlers and its blocked mask: both undone here)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOPS)


def _check_one(args: tuple[str, str, str]) -> tuple[str, list[str]]:
    domain, site_dir, design_file = args
    # Problems name files the agent chose: cleaned here, once, for the terminal, JSON and the registry note.
    return domain, [clean_text(str(p)) for p in check_site(Path(site_dir), Path(design_file))]


def check_sites(workspace: Workspace, domains: list[str]) -> dict[str, list[str]]:
    """domain -> problems (empty = pass), spread over the cores for a large batch."""
    jobs = [(d, str(workspace.site_dir(d)), str(workspace.design_file(d))) for d in domains]
    workers = min(os.cpu_count() or 1, 8)
    if len(jobs) < _PARALLEL_FROM or workers < 2:
        return dict(map(_check_one, jobs))
    pool = ProcessPoolExecutor(max_workers=workers, initializer=_worker_start)
    try:
        # The workers are forked while map submits: a stop must not raise inside the fork hooks
        # (it would be "ignored" there), so it waits, blocked, until they are up (they unblock it).
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, _STOPS)
        try:
            answers = pool.map(_check_one, jobs, chunksize=max(1, len(jobs) // (workers * 4)))
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        results = dict(answers)
    except BaseException:
        # A stop (or a broken worker): end the workers now, never leave one holding our stdout.
        # ProcessPoolExecutor has no public terminate before 3.14 (terminate_workers): its process map.
        processes = list(getattr(pool, "_processes", {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.kill()
        for process in processes:
            process.join(5)
        raise
    pool.shutdown()
    return results


def _counts(rows) -> dict[str, int]:
    return dict(sorted(Counter(row.status for row in rows).items()))


def _differences(have: set[str], want: set[str], missing: str, extra: str) -> str:
    parts = []
    for names, label in ((sorted(want - have), missing), (sorted(have - want), extra)):
        if names:
            parts.append(f"{len(names)} {label} ({', '.join(names[:5])})")
    return "; ".join(parts)


def conservation_problem(start: set[str], now: set[str], manifest: set[str] | None) -> str | None:
    """Why the batch's rows are not the ones finish started with, or the manifest lists; None if they are."""
    if now != start:
        return "the registry changed while finish ran: " + _differences(now, start, "rows disappeared",
                                                                      "rows appeared")
    if manifest is not None and manifest != now:
        return ("the registry and the batch manifest disagree: "
                + _differences(now, manifest, "manifest sites have no row", "rows are not in the manifest")
                + "; repair with: smb doctor --scenario finalization --fix")
    return None


def finish_batch(workspace: Workspace, store: Store, batch: str, *, dry_run: bool = False,
                 reset_failed: bool = False, screenshots: bool = False) -> FinishReport:
    with stop_signals() as stop:
        stop.stop_if_pending("before finish: nothing written")  # a stop between `smb run`'s phases
        report = _finish_batch(workspace, store, batch, stop, dry_run=dry_run, reset_failed=reset_failed,
                               screenshots=screenshots)
        stop.stop_if_pending("during finish; its transaction completed first")
        return report


def _finish_batch(workspace: Workspace, store: Store, batch: str, stop: StopSignals, *, dry_run: bool,
                  reset_failed: bool, screenshots: bool) -> FinishReport:
    started = time.monotonic()
    report = FinishReport(batch=batch, dry_run=dry_run, reset_failed=reset_failed)
    registry = store.read()
    if registry.problems:
        from .errors import RegistryInvalid

        raise RegistryInvalid(workspace.rel(workspace.registry), registry.problems)
    rows = registry.batch_rows(batch)
    if not rows:
        raise UsageError(f"batch {batch} has no sites (batches: {', '.join(registry.batches()) or 'none'})")
    report.before = _counts(rows)
    start_set = {row.domain for row in rows}
    manifest_path = workspace.manifest(batch)
    manifest = None
    if manifest_path.exists():
        manifest = set(parse_manifest(read_manifest_text(manifest_path, workspace.rel(manifest_path))).domains)
    report.already_final = [row.domain for row in rows if row.status == "Q"]
    todo = [row.domain for row in rows if row.status == "I"]
    with stop.raising_now():
        results = check_sites(workspace, todo)
    report.passed = [d for d in todo if not results[d]]
    report.failed = {d: results[d] for d in todo if results[d]}
    report.refused = conservation_problem(start_set, start_set, manifest)
    if not dry_run and report.refused is None and todo:
        with store.transaction(actor="finish") as txn:
            now_rows = txn.registry.batch_rows(batch)
            report.refused = conservation_problem(start_set, {r.domain for r in now_rows}, manifest)
            if report.refused is None:
                for domain in report.passed:
                    txn.set_status(txn.row(domain), "Q", expect="I", note="")
                for domain, reasons in report.failed.items():
                    note = "finish: " + "; ".join(reasons[:3])
                    row = txn.row(domain)
                    if not reset_failed and row.get("note") == note:
                        continue  # already recorded: a re-run must change nothing (idempotence, issue 4)
                    txn.set_status(row, "D" if reset_failed else "I", expect="I", note=note)
                report.written = txn.changed
                report.after = _counts(now_rows)
    if not report.after:
        report.after = report.before
    if screenshots and not dry_run and report.refused is None:
        take_screenshots(workspace, report)
    report.seconds = time.monotonic() - started
    if not dry_run:
        path = workspace.logs / f"finish-{batch}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        report.report_file = workspace.rel(path)
        atomic_write(path, json.dumps(report.as_json(), indent=1) + "\n")
    return report


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def take_screenshots(workspace: Workspace, report: FinishReport, timeout: float = 60.0) -> None:
    """Headless, offline screenshots of each finished site's home page, for a person to look at."""
    browser = find_chromium()
    if browser is None:
        report.screenshot_note = "chromium not found: no screenshots (apt-get install chromium)"
        return
    for domain in report.passed:
        site = workspace.site_dir(domain)
        target = site / ".smb" / "screenshot.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="smb-chromium-") as profile:
            argv = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--hide-scrollbars", f"--user-data-dir={profile}", "--window-size=1280,900",
                    # No network: every request other than file:// goes nowhere.
                    "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
                    f"--screenshot={target}", (site / "index.html").as_uri()]
            try:
                subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, timeout=timeout, start_new_session=True)
            except (subprocess.TimeoutExpired, OSError) as exc:
                report.screenshot_note = f"screenshot of {domain} failed: {exc}"
                continue
        if target.is_file() and target.stat().st_size:
            report.screenshots.append(workspace.rel(target))
