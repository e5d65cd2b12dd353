"""Seeded draws: every choice the builtin agent makes, keyed by (domain, label).

A choice is a SHA-256 of the domain and the choice's own label, never
``hash()`` (salted per process) or the clock, so the same domain yields the
same design and byte-identical site files in every process, on every machine.
"""

from __future__ import annotations

import hashlib


class Seed:
    """Stable pseudo-random draws keyed by (domain, label).

    Each choice hashes its own label, so adding a new choice later does not
    shift the ones already made: existing sites keep their look.
    """

    def __init__(self, domain: str) -> None:
        self._domain = domain

    def number(self, label: str, upper: int) -> int:
        digest = hashlib.sha256(f"{self._domain}|{label}".encode()).digest()
        return int.from_bytes(digest[:8], "big") % upper

    def choice(self, label: str, options):
        return options[self.number(label, len(options))]

    def sample(self, label: str, options, count: int) -> list:
        """``count`` distinct options, in a stable shuffled order."""
        ranked = sorted(options, key=lambda option: self.number(f"{label}:{option!r}", 1 << 62))
        return list(ranked[:count])
