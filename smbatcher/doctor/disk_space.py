"""disk-space: free space against the thresholds, what uses it, how fast it grows (runbook scenario 3).

The fix clears ``.smbatcher/tmp/`` (except live runs' staging folders) and
``.smbatcher/design-cache/``, and removes the agent sessions no site can
continue (issue 21, stale_sessions.py); never sites, designs, batches or a
session a site may still continue.
"""

from __future__ import annotations

import os
import shutil
import time

from ..fs import tree_size
from ..runs import run_states
from ..sessions import sessions_dir
from ..units import format_size
from .base import DoctorContext, Finding
from .stale_sessions import describe, remove_stale, sort_sessions


class DiskSpace:
    name = "disk-space"
    about = "free space vs disk_warn/disk_alert/disk_critical, sizes of sites/ .smbatcher/ tmp/ logs/, growth"
    time_limit = 30.0

    def diagnose(self, ctx: DoctorContext) -> Finding:
        finding = Finding(self.name)
        limits = ctx.settings.doctor
        usage = shutil.disk_usage(ctx.workspace.root)
        free = usage.free
        hour_ago = time.time() - 3600
        sizes = {}
        grown = 0
        for label, path in (("sites/", ctx.workspace.sites), (".smbatcher/", ctx.workspace.smb_dir),
                            ("tmp/", ctx.workspace.tmp), ("logs/", ctx.workspace.logs)):
            size, recent = tree_size(path, hour_ago)
            sizes[label] = size
            if label != "tmp/":  # tmp/ is inside .smbatcher/: counted once
                grown += recent
        finding.findings.append(f"free {format_size(free)} of {format_size(usage.total)} "
                                f"(warn < {format_size(limits.disk_warn)}, alert < {format_size(limits.disk_alert)}, "
                                f"critical < {format_size(limits.disk_critical)})")
        finding.findings.append("sizes: " + ", ".join(f"{k} {format_size(v)}" for k, v in sizes.items()))
        if grown:
            hours = free / grown
            left = f"about {hours:.0f} h" if hours < 24 * 14 else "more than two weeks"
            finding.findings.append(f"growth: {format_size(grown)} written in the last hour; "
                                    f"full in {left} at this rate")
        else:
            finding.findings.append("growth: nothing written in the last hour")
        finding.data.update(free=free, sizes=sizes, growth_per_hour=grown)
        agent_sessions = sort_sessions(ctx.workspace, ctx.registry, run_states(ctx.workspace).live_ids)
        finding.findings.extend(describe(agent_sessions))
        stale = agent_sessions.stale
        if agent_sessions:
            finding.data.update(sessions_kept=len(agent_sessions.kept), sessions_kept_bytes=agent_sessions.kept_bytes,
                                sessions_stale=len(stale), sessions_stale_bytes=agent_sessions.stale_bytes)
        clearable = sizes["tmp/"] + tree_size(ctx.workspace.design_cache)[0] + agent_sessions.stale_bytes
        critical = free < limits.disk_critical
        alert = (f"{'critical' if critical else 'alert'}: {format_size(free)} free"
                 + ("; the runner launches no agent below disk_critical" if critical else ""))
        # Stale sessions alone make a warning: else --fix, which repairs only what is not ok, would
        # never remove them on a disk with room to spare.
        stale_warning = (f"{len(stale)} agent sessions no site can continue ({format_size(agent_sessions.stale_bytes)})"
                         if stale else None)
        return finding.conclude(
            fail=alert if free < limits.disk_alert else None,
            warn=f"low: {format_size(free)} free (under disk_warn {format_size(limits.disk_warn)})"
            if free < limits.disk_warn else stale_warning,
            ok=f"{format_size(free)} free",
            fix=(f"smb doctor --scenario disk-space --fix  (frees about {format_size(clearable)} "
                 + ("from tmp/, design-cache/ and stale agent sessions" if stale else "from tmp/ and design-cache/")
                 + "; archive finished batches for more)"))

    def repair(self, ctx: DoctorContext, finding: Finding) -> list[str]:
        live = run_states(ctx.workspace).live_ids
        freed = 0
        removed = 0
        for folder in (ctx.workspace.tmp, ctx.workspace.design_cache):
            try:
                entries = list(os.scandir(folder))
            except OSError:
                continue
            for entry in entries:
                if folder == ctx.workspace.tmp and entry.name in live:
                    continue  # a live run's staging folder: its agents are writing there
                ctx.checkpoint()
                size = tree_size(entry.path)[0] if entry.is_dir(follow_symlinks=False) else entry.stat(
                    follow_symlinks=False).st_size
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    os.unlink(entry.path)
                freed += size
                removed += 1
        # Temporaries of registry writes cut short by a kill -9 (older than any write in progress).
        for stray in ctx.workspace.smb_dir.glob(".*.tmp"):
            try:
                info = stray.stat()
                if time.time() - info.st_mtime > 60:
                    stray.unlink()
                    freed += info.st_size
                    removed += 1
            except OSError:
                continue
        done = [(f"removed {removed} entries from tmp/, design-cache/ and stray write temporaries, "
                 f"freed {format_size(freed)}")] if removed else []
        return done + self._remove_stale_sessions(ctx)

    @staticmethod
    def _remove_stale_sessions(ctx: DoctorContext) -> list[str]:
        if not sessions_dir(ctx.workspace).is_dir():
            return []
        # Sorted again under the registry lock, with the runs' liveness read under it too: a run
        # may have claimed a site since the diagnosis, and none can claim one while this holds the
        # lock (check-lock-check). The transaction changes nothing, so the registry is not written.
        with ctx.store.transaction(actor="doctor", strict=False) as txn:
            agent_sessions = sort_sessions(ctx.workspace, txn.registry, run_states(ctx.workspace).live_ids)
            for stale in agent_sessions.stale:
                ctx.checkpoint()
                remove_stale(ctx.workspace, stale)
        if not agent_sessions.stale:
            return []
        return [f"removed {len(agent_sessions.stale)} stale agent sessions ("
                + ", ".join(s.label for s in agent_sessions.stale[:8])
                + (" ..." if len(agent_sessions.stale) > 8 else "")
                + f"), freed {format_size(agent_sessions.stale_bytes)}; kept {len(agent_sessions.kept)} "
                "a site may continue"]
