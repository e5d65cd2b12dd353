"""The Dask cluster as ``smb doctor`` and a run's start see it: its workers, their slots and versions."""

from __future__ import annotations

from ..errors import SmbError
from .dask_transfer import reason as _reason


def _worker_facts(dask_worker) -> dict:
    """Run on each worker by ``open`` (and when one joins): unpickling it proves smbatcher imports there."""
    import platform

    import distributed

    from smbatcher import __version__

    return {"version": __version__, "id": dask_worker.id, "python": platform.python_version(),
            "distributed": distributed.__version__}


def cluster_report(scheduler: str, timeout: float = 3.0) -> dict:
    """What ``smb doctor``'s cluster check shows: the scheduler, each worker's AGENT slots and versions.

    ``{"scheduler", "workers": [{"address", "agent_slots", "smbatcher", "python", "distributed",
    "error"}], "coordinator": {"smbatcher", "python", "distributed"}}``; an unreachable scheduler
    is an SmbError with the same one line as a run gets."""
    import platform

    import distributed
    from distributed import Client

    from .. import __version__

    try:
        client = Client(scheduler, timeout=timeout, set_as_default=False)
    except Exception as exc:
        raise SmbError(f"cannot reach the Dask scheduler at {scheduler}: {_reason(exc)}") from None
    try:
        workers = client.scheduler_info(n_workers=-1).get("workers", {})
        facts = client.run(_worker_facts, on_error="return") if workers else {}
        report = []
        for addr, info in sorted(workers.items()):
            found = facts.get(addr)
            entry = {"address": addr, "agent_slots": float(info.get("resources", {}).get("AGENT", 0)),
                     "smbatcher": "", "python": "", "distributed": "", "error": ""}
            if isinstance(found, dict):
                entry.update({k: found[k] for k in ("python", "distributed")}, smbatcher=found["version"])
            else:
                entry["error"] = _reason(found) if isinstance(found, BaseException) else "no answer"
            report.append(entry)
        return {"scheduler": scheduler, "workers": report,
                "coordinator": {"smbatcher": __version__, "python": platform.python_version(),
                                "distributed": distributed.__version__}}
    finally:
        client.close(timeout=timeout)
