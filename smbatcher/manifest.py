"""Batch manifests: ``.smbatcher/batches/Batch_NNN.md``, a brief for the agents and the batch's domains.

Format: free markdown (the brief), then a ``## Domains`` section holding one
``- domain`` bullet per site. The list is what ``finish`` and the doctor
compare the registry against, so it changes only under the registry lock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .registry import is_domain

_HEADING = "## Domains"
_BULLET_RE = re.compile(r"^\s*[-*]\s+`?([^\s`]+)`?\s*$")


@dataclass(frozen=True)
class Manifest:
    brief: str
    domains: tuple[str, ...]


def parse_manifest(text: str) -> Manifest:
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip().lower() == _HEADING.lower()), None)
    if start is None:
        section = lines
        brief_lines = [line for line in lines if not _BULLET_RE.match(line) or not is_domain(_BULLET_RE.match(line).group(1))]
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        section = lines[start + 1 : end]
        brief_lines = lines[:start] + lines[end:]
    domains = []
    for line in section:
        match = _BULLET_RE.match(line)
        if match and is_domain(match.group(1).lower()):
            domains.append(match.group(1).lower())
    brief = "\n".join(brief_lines).strip()
    return Manifest(brief=brief, domains=tuple(dict.fromkeys(domains)))


def new_manifest_text(batch: str, brief: str = "") -> str:
    brief = brief.strip() or (
        "A small, fast, accessible one-page website for each domain below: "
        "a clear headline, what it offers, why trust it, and one call to action."
    )
    return f"# Batch {batch}\n\n{brief}\n\n{_HEADING}\n\n"


def read_manifest_text(path, shown: str | None = None) -> str:
    """A manifest's text as it is on disk, line endings included (``add_domains`` keeps them).

    Not UTF-8, or a FIFO, socket or device in its place: WrongKind naming ``shown`` (exit 2, issue 22).
    A missing manifest raises FileNotFoundError: most callers start a new one.
    """
    from .fs import not_utf8, read_text

    shown = str(path) if shown is None else shown
    try:
        return read_text(path, shown)
    except UnicodeDecodeError as exc:
        raise not_utf8(exc, shown, "convert it to UTF-8 (iconv) or restore it") from None


def add_domains(text: str, domains: list[str]) -> str:
    """Append domains to the ``## Domains`` section (created if missing), keeping everything else,
    and writing the new lines with the file's own line ending (CRLF stays CRLF)."""
    present = set(parse_manifest(text).domains)
    new = [d for d in domains if d not in present]
    if not new:
        return text
    eol = "\r\n" if "\r\n" in text else "\n"
    bullets = "".join(f"- {d}{eol}" for d in new)
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.strip().lower() == _HEADING.lower()), None)
    if start is None:
        body = text if text.endswith("\n") or not text else text + eol
        return f"{body}{eol}{_HEADING}{eol}{eol}{bullets}"
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    # Insert after the section's last non-blank line.
    insert_at = end
    while insert_at > start + 1 and not lines[insert_at - 1].strip():
        insert_at -= 1
    head = "".join(lines[:insert_at])
    if head and not head.endswith("\n"):
        head += eol
    if insert_at == start + 1:
        head += eol
    tail = "".join(lines[insert_at:])
    return head + bullets + tail


def read_manifests(batches_dir) -> dict[str, list[str]]:
    """batch -> its domains, for every readable ``Batch_NNN.md`` (an unreadable one is skipped, a FIFO
    in its place too, without waiting on it)."""
    from .errors import WrongKind

    result: dict[str, list[str]] = {}
    for path in sorted(batches_dir.glob("Batch_*.md")):
        try:
            result[path.stem.removeprefix("Batch_")] = list(parse_manifest(read_manifest_text(path)).domains)
        except (OSError, WrongKind):
            continue
    return result
