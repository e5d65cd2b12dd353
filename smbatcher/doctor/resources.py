"""resources: load against cores, memory, swap, agent processes and the heaviest (runbook scenario 5).

It never kills anything: it names the run and the ``smb stop`` command. The
runbook's ``pkill -f opus`` / ``killall python`` is exactly what it replaces.
"""

from __future__ import annotations

import os

from ..proc import descendants
from ..runs import run_states
from ..units import format_size
from .base import DoctorContext, Finding


class Resources:
    name = "resources"
    about = "load vs cores, available memory, swap, agent processes and the heaviest (never kills)"
    time_limit = 15.0

    def diagnose(self, ctx: DoctorContext) -> Finding:
        import psutil

        finding = Finding(self.name)
        cores = os.cpu_count() or 1
        load1, load5, _ = os.getloadavg()
        memory = psutil.virtual_memory()
        swap = psutil.swap_memory()
        finding.findings.append(f"load {load1:.1f} / {load5:.1f} (1/5 min) on {cores} cores")
        finding.findings.append(f"memory: {format_size(memory.available)} available of {format_size(memory.total)}")
        finding.findings.append(f"swap: {swap.percent:.0f}% used of {format_size(swap.total)}")
        runs = list(run_states(ctx.workspace).live.values())
        heavy = []
        agents = 0
        for run in runs:
            procs = descendants(run.pid)
            agents += len(procs)
            rss = 0
            for p in procs:
                try:
                    info = p.memory_info().rss
                    rss += info
                    heavy.append((info, p.pid, run.run_id, " ".join(p.cmdline()[:3])))
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
            finding.findings.append(f"run {run.run_id}: {len(procs)} agent processes, {format_size(rss)} resident")
        heavy.sort(reverse=True)
        for rss, pid, run_id, cmd in heavy[:3]:
            finding.findings.append(f"heavy: pid {pid} ({cmd}) {format_size(rss)} in run {run_id}")
        finding.data.update(load=load1, cores=cores, available=memory.available, swap=swap.percent, agents=agents)
        minimum = ctx.settings.agents.min_free_memory
        problems, warnings = [], []
        if memory.available < minimum:
            problems.append(f"available memory {format_size(memory.available)} under min_free_memory {format_size(minimum)}")
        # Load is a lagging average: only a machine at four times its cores is failing; between one and
        # four times it is busy, worth a warning (a burst of short agents briefly looks like that too).
        if load1 > 4 * cores:
            problems.append(f"load {load1:.1f} over four times the {cores} cores")
        elif load1 > cores:
            warnings.append(f"load {load1:.1f} over the {cores} cores")
        if swap.total and swap.percent > 50:
            warnings.append(f"swap {swap.percent:.0f}% used")
        target = max(runs, key=lambda r: len(r.agents), default=None)
        if target is not None:
            fix = (f"smb stop {target.run_id}  (then rerun with fewer agents: "
                   f"smb {target.phase} --batch {target.batch} --max-agents {max(1, len(target.agents) // 2)})")
        else:
            fix = "no smb run is live: the load comes from elsewhere (see top)"
        return finding.conclude(
            fail=problems[0] if problems else None, warn=warnings[0] if warnings else None,
            ok=f"load {load1:.1f} on {cores} cores, {format_size(memory.available)} available, {agents} agent processes",
            fix=fix)
