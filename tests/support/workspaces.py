"""Whole workspaces, built fast: registry, manifests, design files, built sites, config, run records.

Running agents to make a 568-site workspace would take minutes; the builtin
agent's pure functions (make_design / parse_design / render_site) make the
same files in milliseconds, so the tests write them directly. Processes that
must be real (a dead run, a live run, a surviving agent) are real.
"""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

from smbatcher.agents.builtin import make_design, parse_design, render_site
from smbatcher.manifest import add_domains, new_manifest_text
from smbatcher.registry import new_registry_text
from smbatcher.workspace import Workspace, create_workspace

from .agents import agent_cmd
from .registry import row_line, write_registry

# Statuses whose site has been designed (so a design file exists) / built (so sites/<d>-v1/ exists).
DESIGNED = {"D", "i", "I", "Q", "X"}
BUILT = {"I", "Q"}


def write_design(ws: Workspace, domain: str) -> str:
    """The builtin agent's design for ``domain``, written where smb expects it; returns its text."""
    text = make_design(domain)
    ws.designs.mkdir(parents=True, exist_ok=True)
    ws.design_file(domain).write_text(text, encoding="utf-8")
    return text


def build_site(ws: Workspace, domain: str, design_text: str | None = None) -> Path:
    """Design file + sites/<d>-v1/ exactly as the builtin agent would leave them."""
    text = design_text if design_text is not None else (
        ws.design_file(domain).read_text(encoding="utf-8") if ws.design_file(domain).is_file()
        else write_design(ws, domain))
    folder = ws.site_dir(domain)
    for name, content in render_site(parse_design(text), domain).items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    return folder


def make_workspace(root: Path, batches: dict[str, list[tuple[str, str]]], *, files: bool = True,
                   config: str | None = None) -> Workspace:
    """A new workspace at ``root`` whose registry, manifests and files agree.

    batches: batch -> [(domain, status)]; with ``files``, every designed status
    gets its design file and every I/Q site its built folder.
    """
    ws, _ = create_workspace(root)
    lines = []
    for batch, items in batches.items():
        ws.manifest(batch).write_text(add_domains(new_manifest_text(batch), [d for d, _ in items]), encoding="utf-8")
        for domain, status in items:
            lines.append(row_line(domain, batch, status))
            if files and status in DESIGNED:
                text = write_design(ws, domain)
                if status in BUILT:
                    build_site(ws, domain, text)
    ws.registry.write_text(new_registry_text() + "".join(lines), encoding="utf-8")
    if config is not None:
        ws.config_file.write_text(config, encoding="utf-8")
    return ws


# -- the runner's workspaces: fake agents ---------------------------------------------------------


def write_config(ws: Workspace, **agents) -> None:
    """``[agents]`` = tests/agents/succeed.py for both phases, overridden by ``agents`` (values as TOML).

    Small timeouts so a runner test takes seconds; the breaker stays out of the way unless asked.
    """
    values = {"design": agent_cmd("succeed"), "implement": agent_cmd("succeed"), "max_agents": 5,
              "timeout": "60s", "grace": "1s", "max_attempts": 3, "breaker_failures": 1000,
              "breaker_cooldown": "1s", "min_free_memory": "0",
              "sandbox": "off"}  # fake agents write markers outside their folder; tests/test_jail.py jails them
    values.update(agents)
    lines = ["[agents]"] + [f"{key} = {json.dumps(value)}" for key, value in values.items()]
    # A full disk must not be what stops a test's launches.
    lines += ["", "[doctor]", 'disk_warn = "0"', 'disk_alert = "0"', 'disk_critical = "0"', ""]
    ws.config_file.write_text("\n".join(lines), encoding="utf-8")


def make_sites(ws: Workspace, count: int | list[str], status: str = "D", designs: bool = True, **agents) -> list[str]:
    """``count`` sites of batch 001 in ``status``, a one-line design file each, and ``write_config(**agents)``.

    For the runner: the designs are stubs the fake agents read, not the builtin agent's.
    """
    names = write_registry(ws, count, status=status)
    if designs:
        ws.designs.mkdir(parents=True, exist_ok=True)
        for name in names:
            ws.design_file(name).write_text(f"# {name}\n\nA design.\n", encoding="utf-8")
    write_config(ws, **agents)
    return names


# -- run records -----------------------------------------------------------------------------------


def write_run(ws: Workspace, run_id: str, pid: int, ctime: float, *, phase: str = "implement", batch: str = "001",
              wave: int | None = None, agents: list[dict] | None = None, host: str | None = None) -> Path:
    """A run record as a runner writes it (raw JSON: the shape on disk, not smb's dataclass), started 10 min ago."""
    record = {"run_id": run_id, "pid": pid, "create_time": ctime, "host": host or socket.gethostname(),
              "phase": phase, "batch": batch, "wave": wave, "started": time.time() - 600, "ended": None,
              "exit_code": None, "log": f"logs/{phase}-{batch}.log", "agents": agents or [], "done": 0,
              "failed": 0, "total": 0}
    ws.runs.mkdir(parents=True, exist_ok=True)
    path = ws.runs / f"{run_id}.json"
    path.write_text(json.dumps(record, indent=1), encoding="utf-8")
    return path


def events(ws: Workspace) -> list[dict]:
    """logs/events.jsonl, oldest first."""
    return [json.loads(line) for line in ws.events.read_text(encoding="utf-8").splitlines() if line.strip()]


def attempt_results(ws: Workspace) -> list[dict]:
    """The "status" events of attempt results (they carry the class), oldest first."""
    return [e for e in events(ws) if e.get("event") == "status" and e.get("class")]


def run_files(ws: Workspace) -> list[dict]:
    """Every run record in the workspace, as JSON, in file-name order."""
    return [json.loads(p.read_text()) for p in sorted(ws.runs.glob("*.json"))]
