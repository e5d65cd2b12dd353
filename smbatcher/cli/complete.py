"""Shell completion from the registry: domains, batches and statuses (issue 23).

A shell asks on every Tab, so these search the registry file's text with one regular expression (the
domain is its first column, the batch its second, by contract) instead of parsing and validating it,
and never fail: a missing or broken workspace completes nothing.
"""

from __future__ import annotations

import re

_HEADER = ("domain", "batch")


def _registry_text(ctx) -> str:
    from ..workspace import find_workspace

    try:
        root = (ctx.params.get("root") if ctx is not None else None) or None
        return find_workspace(root).registry.read_text(encoding="utf-8", errors="replace")
    except Exception:  # completion must never print an error into the shell's prompt
        return ""


def domains(ctx, incomplete: str) -> list[str]:
    found = re.findall(rf"^\|[ \t]*({re.escape(incomplete.lower())}[^\s|]*)[ \t]*\|", _registry_text(ctx), re.M)
    return [name for name in found if name not in _HEADER and not name.startswith("-")]


def domain_list(ctx, incomplete: str) -> list[str]:
    """``--sites a.dev,b.d``: completes the last domain of a comma-separated list."""
    done, _, last = incomplete.rpartition(",")
    prefix = done + "," if done else ""
    return [prefix + domain for domain in domains(ctx, last)]


def batches(ctx, incomplete: str) -> list[str]:
    found = re.findall(r"^\|[^|\n]*\|[ \t]*([^\s|]+)[ \t]*\|", _registry_text(ctx), re.M)
    return [batch for batch in dict.fromkeys(found)
            if batch.startswith(incomplete) and batch not in _HEADER and not batch.startswith("-")]


def statuses(ctx, incomplete: str) -> list[str]:
    """One status, or the last of a comma-separated list (``--status D,``)."""
    from ..lifecycle import STATUSES

    done, _, last = incomplete.rpartition(",")
    prefix = done + "," if done else ""
    return [prefix + status for status in STATUSES if status.startswith(last)]
