"""network: DNS and TCP reach of ``[doctor] network_endpoints``, 3 s timeout each (runbook scenario 7)."""

from __future__ import annotations

import socket
import time
from concurrent.futures import ThreadPoolExecutor

from .base import DoctorContext, Finding

TIMEOUT = 3.0


def probe(endpoint: str, timeout: float = TIMEOUT) -> tuple[bool, str]:
    host, _, port = endpoint.rpartition(":")
    host = host.strip("[]")
    started = time.monotonic()
    try:
        infos = socket.getaddrinfo(host, int(port), type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, ValueError) as exc:
        return False, f"{endpoint}: DNS failed ({exc})"
    last = "no address"
    for family, kind, proto, _, address in infos:
        remaining = timeout - (time.monotonic() - started)
        if remaining <= 0:
            last = "timed out"
            break
        try:
            with socket.socket(family, kind, proto) as sock:
                sock.settimeout(remaining)
                sock.connect(address)
            return True, f"{endpoint}: reachable in {(time.monotonic() - started) * 1000:.0f} ms"
        except OSError as exc:
            last = exc.strerror or type(exc).__name__
    return False, f"{endpoint}: TCP failed ({last}) after {(time.monotonic() - started) * 1000:.0f} ms"


class Network:
    name = "network"
    about = "DNS and TCP reach of [doctor] network_endpoints (3 s timeout each)"
    time_limit = 15.0

    def diagnose(self, ctx: DoctorContext) -> Finding:
        finding = Finding(self.name)
        endpoints = list(ctx.settings.doctor.network_endpoints)
        scheduler = ctx.settings.executor.scheduler  # SPEC §6: "and the distributed scheduler when set"
        if scheduler and "://" in scheduler and ctx.settings.executor.kind == "dask":
            endpoints.append(scheduler.split("://", 1)[1].rstrip("/"))
        if not endpoints:
            return finding.conclude(ok="no network_endpoints configured")
        with ThreadPoolExecutor(max_workers=min(8, len(endpoints))) as pool:
            results = list(pool.map(probe, endpoints))
        failed = [text for ok, text in results if not ok]
        finding.findings = [text for _, text in results]
        finding.data["unreachable"] = len(failed)
        return finding.conclude(
            fail=f"{len(failed)} of {len(endpoints)} endpoints unreachable: {failed[0]}" if failed else None,
            ok=f"{len(endpoints)} endpoints reachable",
            fix="check the network or the endpoint; the runner's breaker pauses launches meanwhile")
