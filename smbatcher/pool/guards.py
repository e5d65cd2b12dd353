"""What may hold launching back: the circuit breaker and the disk/memory guard (SPEC §4)."""

from __future__ import annotations

import shutil
from pathlib import Path

from ..units import format_size


class Breaker:
    """Circuit breaker: after N consecutive failures, pause; then one probe; a success resumes.

    Failures reported while the breaker is open come from agents launched
    before it opened: they are most likely the outage itself, so they are not
    counted against their site (an outage must not burn every site's attempts).
    """

    def __init__(self, threshold: int, cooldown: float) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self.consecutive = 0
        self.open_until: float | None = None
        self.probe_running = False
        self.trips = 0

    @property
    def state(self) -> str:
        if self.open_until is None:
            return "closed"
        return "half-open" if self.probe_running else "open"

    def may_launch(self, now: float) -> tuple[bool, bool]:
        """(may launch, the launch is the probe)."""
        if self.open_until is None:
            return True, False
        if now < self.open_until or self.probe_running:
            return False, False
        return True, True

    def record(self, success: bool, probe: bool, now: float) -> tuple[bool, str | None]:
        """Returns (the failure counts against the site, a message when the state changed)."""
        if probe:
            self.probe_running = False
        if success:
            was_open = self.open_until is not None
            self.consecutive = 0
            self.open_until = None
            return True, "breaker closed: a success, launching resumes" if was_open else None
        if self.open_until is not None and not probe:
            return False, None
        self.consecutive += 1
        if probe or self.consecutive >= self.threshold:
            self.open_until = now + self.cooldown
            self.trips += 1
            why = "probe failed" if probe else f"{self.consecutive} consecutive failures"
            return True, f"breaker open: {why}; pausing launches for {self.cooldown:g}s, then one probe"
        return True, None

    def reset(self) -> None:
        self.consecutive = 0
        self.open_until = None
        self.probe_running = False


class Backoff:
    """After a rate limit (HTTP 429), launch nothing for a while: 15 s, doubling, at most ``ceiling``.

    A rate-limited attempt is not counted against its site; it is tried again after the pause.
    A success resets the pause."""

    def __init__(self, ceiling: float) -> None:
        self.ceiling = max(ceiling, 0.0)
        self.until: float | None = None
        self.streak = 0

    def active(self, now: float) -> bool:
        if self.until is not None and now >= self.until:
            self.until = None
        return self.until is not None

    def failed(self, now: float) -> float:
        wait = min(self.ceiling, 15.0 * 2 ** min(self.streak, 10))
        self.streak += 1
        self.until = now + wait
        return wait

    def succeeded(self) -> None:
        self.streak = 0
        self.until = None


class ResourceGuard:
    """No new launch while free disk is under disk_critical or available memory under min_free_memory."""

    def __init__(self, root: Path, disk_critical: int, min_free_memory: int) -> None:
        self.root = root
        self.disk_critical = disk_critical
        self.min_free_memory = min_free_memory
        self.checked_at = 0.0
        self.reason: str | None = None

    def blocked(self, now: float) -> str | None:
        if now - self.checked_at < 1.0:
            return self.reason
        self.checked_at = now
        reason = None
        free = shutil.disk_usage(self.root).free
        if free < self.disk_critical:
            reason = f"free disk {format_size(free)} is under disk_critical {format_size(self.disk_critical)}"
        elif self.min_free_memory:
            import psutil

            available = psutil.virtual_memory().available
            if available < self.min_free_memory:
                reason = (f"available memory {format_size(available)} is under min_free_memory "
                          f"{format_size(self.min_free_memory)}")
        self.reason = reason
        return reason
