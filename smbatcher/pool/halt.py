"""The halt policy: when a run is hopeless, end it soon and say why (issue 15).

Modelled on GNU parallel's ``--halt``: ``now`` stops the running agents,
``soon`` lets them finish. Conditions, comma-separated:

- ``same=K`` (the default, K = 5): the run's first K finished attempts, on K
  distinct sites, with no success yet, all failed for the same reason. That is
  a misconfigured agent (it writes nowhere, it is denied every write, its
  prompt sends it elsewhere), not K bad sites; outages, rate limits and usage
  limits never count here (they belong to the breaker and the hold).
- ``fail=N`` or ``fail=N%``: N counted failures in the run (N% of its sites).
- ``success=N`` or ``success=N%``: stop once N sites were built (a sample run).
- ``never``: no halt at all.

While the first ``same`` window is open its failures are held back, neither
counted nor retried: if the run halts they were the agent's fault and no
attempt is counted; if a success (or a different reason) closes the window
they are counted as usual.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..agents.classes import COUNTED
from ..errors import UsageError

DEFAULT = "soon,same=5"
# The failure classes that are one site's problem (agents/classes.py imports nothing: config.py
# validates `halt` through this module, on the fast path of `smb list-sites`).
_WINDOW_CLASSES = COUNTED


@dataclass(frozen=True)
class HaltPolicy:
    mode: str = "soon"  # now | soon
    same: int | None = 5
    fail: int | None = None
    fail_percent: float | None = None
    success: int | None = None
    success_percent: float | None = None

    @property
    def never(self) -> bool:
        return self.same is None and self.fail is None and self.fail_percent is None and \
            self.success is None and self.success_percent is None


def parse_halt(text: str, key: str = "--halt") -> HaltPolicy:
    value = str(text).strip().lower()
    if value in ("never", "none", "off", "0"):
        return HaltPolicy(same=None)
    mode, conditions = "soon", {}
    for part in [p.strip() for p in value.split(",") if p.strip()]:
        if part in ("now", "soon"):
            mode = part
            continue
        match = re.fullmatch(r"(same|fail|success)=(\d{1,7})(%?)", part)
        if not match:
            raise UsageError(f"{key}: bad condition {part[:40]!r} (want now|soon, same=K, fail=N[%], "
                             "success=N[%], or never)")
        name, number, percent = match[1], int(match[2]), match[3] == "%"
        if number < 1 or (percent and number > 100) or (name == "same" and percent):
            raise UsageError(f"{key}: {part} is out of range")
        conditions[name + ("_percent" if percent else "")] = number
    if not conditions:
        conditions["same"] = 5  # "now" alone: the default condition, stopping at once
    return HaltPolicy(mode=mode, same=conditions.get("same"), fail=conditions.get("fail"),
                      fail_percent=conditions.get("fail_percent"), success=conditions.get("success"),
                      success_percent=conditions.get("success_percent"))


@dataclass
class Halt:
    reason: str  # one line naming the shared reason
    fix: str  # the likely fix
    mode: str
    failure: bool = True  # a success= halt ends the run with exit 0


def reason_key(domain: str, message: str) -> str:
    """The failure reason with the site's own details taken out, so that one cause reads alike."""
    text = message.replace(domain, "<site>")
    text = re.sub(r"/[^\s:;,'\"]*", "<path>", text)  # staging folders differ per site
    return re.sub(r"\d+(\.\d+)?", "N", text).strip().lower()


def looks_transient(message: str) -> bool:
    """An opaque agent's words that read like an outage or a rate limit (HTTP 5xx/429, a network
    error): the breaker's business, never a reason to halt, even when every agent says it."""
    from ..agents.classify import OUTAGE_WORDS, OVERLOAD_WORDS, RATE_WORDS  # the classifier's own patterns

    return bool(OUTAGE_WORDS.search(message) or OVERLOAD_WORDS.search(message) or RATE_WORDS.search(message)
                or re.search(r"\b5\d\d\b|service unavailable|bad gateway", message, re.I))


def likely_fix(cls: str, message: str) -> str:
    low = message.lower()
    if "no index.html" in low or "no design file" in low or "expected output is missing" in low \
            or "design file is empty" in low:
        if "permission denied" in low:
            return "the agent's permission mode denies every write: allow edits (claude: --permission-mode acceptEdits)"
        return "the agent must write its result to $SMB_OUTPUT (see smb agents, and the prompt's output path)"
    if "permission denied" in low:
        return "the agent's permission mode denies every write: allow edits (claude: --permission-mode acceptEdits)"
    if "not found" in low or "no such file" in low or "command not found" in low:
        return "the agent command or a file it needs is missing: check --agent / [agents] in config.toml"
    if "timed out" in low or "timeout" in low:
        return "every agent ran out of time: raise --timeout, or check that the agent does not wait for input"
    return "fix the agent command or its prompt (.smbatcher/prompts/), then run again"


@dataclass
class HaltWatch:
    policy: HaltPolicy
    selection_size: int
    successes: int = 0
    failures: int = 0
    window_open: bool = True
    window: list = field(default_factory=list)  # held-back outcomes of the first `same` window

    def __post_init__(self) -> None:
        if self.policy.same is None:
            self.window_open = False

    def holds_back(self, outcome) -> bool:
        """Whether this failure waits for the window's verdict (neither counted nor retried yet)."""
        return (self.window_open and outcome.failure_class in _WINDOW_CLASSES
                and not looks_transient(outcome.error)
                and all(o.domain != outcome.domain for o in self.window))

    def observe(self, outcome) -> tuple[Halt | None, list]:
        """Feed one finished attempt; returns (a halt, if one is due; outcomes released from the window)."""
        released: list = []
        if outcome.kind == "ok":
            self.successes += 1
            if self.window_open:
                self.window_open = False
                released, self.window = self.window, []
            return self._success_halt(), released
        if outcome.failure_class not in _WINDOW_CLASSES:
            return None, released
        if self.holds_back(outcome):
            self.window.append(outcome)
            if len(self.window) >= self.policy.same:
                keys = {reason_key(o.domain, o.error) for o in self.window}
                if len(keys) == 1:
                    first = self.window[0]
                    return Halt(reason=f"{len(self.window)} of {len(self.window)} agents failed the same way: "
                                       f"{first.error}", fix=likely_fix(first.failure_class, first.error),
                                mode=self.policy.mode), released
                self.window_open = False  # different reasons: these are the sites' own problems
                released, self.window = self.window, []
                self.failures += len(released)
                return self._fail_halt(), released
            return None, released
        self.failures += 1
        return self._fail_halt(), released

    def _fail_halt(self) -> Halt | None:
        limit = self.policy.fail
        if self.policy.fail_percent is not None:
            limit = max(1, -(-self.policy.fail_percent * self.selection_size // 100))
        if limit is not None and self.failures >= limit:
            what = f"fail={self.policy.fail}" if self.policy.fail is not None else f"fail={self.policy.fail_percent}%"
            return Halt(reason=f"{self.failures} attempts failed ({what} of {self.selection_size} sites)",
                        fix="see the FAIL lines and the per-site logs; smb report groups them by reason",
                        mode=self.policy.mode)
        return None

    def _success_halt(self) -> Halt | None:
        limit = self.policy.success
        if self.policy.success_percent is not None:
            limit = max(1, -(-self.policy.success_percent * self.selection_size // 100))
        if limit is not None and self.successes >= limit:
            return Halt(reason=f"{self.successes} sites built (success={limit})", fix="", mode=self.policy.mode,
                        failure=False)
        return None
