"""cluster: the Dask scheduler and its workers, when agents run on several machines (issue 12).

With ``[executor] kind = "dask"``: the scheduler answers, there are workers,
each offers ``AGENT`` slots (a worker without them never runs an agent), and
the versions of Python, dask, distributed and smbatcher agree between this
machine, the scheduler and every worker (a mismatch fails in odd ways at the
first task). With the local executor there is nothing to check.
"""

from __future__ import annotations

from .base import DoctorContext, Finding

CONNECT_TIMEOUT = 5.0
_PACKAGES = ("python", "dask", "distributed", "cloudpickle", "msgpack")


def _smbatcher_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("smbatcher")
    except PackageNotFoundError:
        return "unknown"


class Cluster:
    name = "cluster"
    about = "the Dask scheduler ([executor] kind = dask): reachable, workers and their AGENT slots, versions"
    time_limit = 30.0

    def diagnose(self, ctx: DoctorContext) -> Finding:
        finding = Finding(self.name)
        executor = ctx.settings.executor
        if executor.kind != "dask":
            return finding.conclude(ok="local executor: agents run on this machine")
        if not executor.scheduler:
            return finding.conclude(fail="[executor] kind = dask but no scheduler address",
                                    fix='set [executor] scheduler = "tcp://host:8786" in .smbatcher/config.toml')
        try:
            from distributed import Client
        except ImportError:
            return finding.conclude(fail="the dask executor is configured but distributed is not installed",
                                    fix="pip install 'smbatcher[dask]'")
        try:
            client = Client(executor.scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False)
        except Exception as exc:  # OSError, TimeoutError, CommClosedError: all mean "not reachable"
            reason = " ".join(str(exc).split())[:200] or type(exc).__name__
            return finding.conclude(fail=f"scheduler {executor.scheduler} unreachable: {reason}",
                                    fix="start it (dask scheduler --port 8786) or fix [executor] scheduler")
        try:
            return self._inspect(client, executor.scheduler, finding)
        finally:
            client.close()

    def _inspect(self, client, address: str, finding: Finding) -> Finding:
        workers = client.scheduler_info(n_workers=-1).get("workers", {})
        slots = {addr: (info.get("resources") or {}).get("AGENT", 0) for addr, info in workers.items()}
        finding.data.update(workers=len(workers), slots=sum(slots.values()))
        finding.findings.append(f"scheduler {address}: {len(workers)} workers, {sum(slots.values()):g} AGENT slots")
        for addr, count in sorted(slots.items()):
            name = workers[addr].get("name", "")
            finding.findings.append(f"worker {addr}" + (f" ({name})" if name and str(name) != addr else "")
                                    + f": AGENT={count:g}")
        mismatches = self._version_mismatches(client)
        finding.findings.extend(mismatches)
        no_slots = [addr for addr, count in slots.items() if not count]
        return finding.conclude(
            fail="no workers are connected" if not workers else
                 "no worker offers AGENT slots" if not any(slots.values()) else None,
            warn=(f"{len(no_slots)} workers offer no AGENT slots: {no_slots[0]}" if no_slots else
                  f"versions differ: {mismatches[0]}" if mismatches else None),
            ok=f"{len(workers)} workers, {sum(slots.values()):g} AGENT slots, versions match",
            fix=("start workers with: dask worker " + address + " --resources AGENT=8" if not any(slots.values())
                 or no_slots else "install the same versions everywhere: pip install 'smbatcher[dask]'=="
                 + _smbatcher_version()))

    @staticmethod
    def _version_mismatches(client) -> list[str]:
        lines: list[str] = []
        try:
            versions = client.get_versions(check=False)
            ours = {**versions.get("client", {}).get("packages", {})}
            ours["python"] = versions.get("client", {}).get("host", {}).get("python", ours.get("python"))
            remote = {"scheduler": versions.get("scheduler") or {}, **(versions.get("workers") or {})}
            for where, info in remote.items():
                packages = {**(info.get("packages") or {})}
                packages["python"] = (info.get("host") or {}).get("python", packages.get("python"))
                for name in _PACKAGES:
                    if packages.get(name) and ours.get(name) and packages[name] != ours[name]:
                        lines.append(f"{where}: {name} {packages[name]} (here {ours[name]})")
            smb = client.run(_smbatcher_version)
            for where, version in sorted(smb.items()):
                if version != _smbatcher_version():
                    lines.append(f"{where}: smbatcher {version} (here {_smbatcher_version()})")
        except Exception as exc:  # a version probe that fails is evidence, not a crash of the check
            lines.append(f"versions could not be compared: {' '.join(str(exc).split())[:120]}")
        return lines
