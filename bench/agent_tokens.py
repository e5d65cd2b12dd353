"""Benchmark: what one site costs in requests and tokens, the `claude` preset against a naive agent (issue 20).

The real Claude Code CLI (npm, the version tests/support/claude.py installs)
runs against tests/claude_mock/mockapi.py in a loopback-only network namespace:
N sites through `smb implement`, once with a naive `claude -p --permission-mode
acceptEdits` agent (plus `--output-format json`, so that it reports its cost
like the preset; the request's size does not depend on it), once with the
preset (`--agent claude`), in one invocation. The mock counts input tokens over
the whole request (system prompt, tool schemas, messages), as the API bills.

Printed per agent: bytes per request (agent requests, those that offer the
Write tool; the CLI's side requests apart), input tokens per site (the CLI's
own report, as smb records it), cost per site, and the ratio preset / naive.

Then a batch with a usage limit in the middle (issue 21): every agent has
written 2 of its 4 files when the subscription's session limit refuses its
next request; the limit resets seconds later. Once with sessions continued
(the preset: ``--resume``), once restarted (``max_resumes = 0``: a fresh start
after the hold, as before sessions): requests and input tokens per site, over
every attempt, and whether the files written before the limit were kept.

    python bench/agent_tokens.py [--sites 4] [--steps 1] [--no-limit] [--limit-sites 1]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from support.claude import MockAPI, claude_env, install_claude, run_smb_in  # noqa: E402
from support.cli import explain, smb_env  # noqa: E402
from support.workspaces import make_sites  # noqa: E402

from smbatcher.workspace import create_workspace  # noqa: E402

NAIVE = "claude -p --permission-mode acceptEdits --output-format json"
PRESET = "claude"
TARGET_BYTES = 16 * 1024


def measure(name: str, agent: str, cli: Path, base: Path, sites: int, steps: int) -> dict:
    folder = base / name
    workspace, _ = create_workspace(folder / "ws")
    names = make_sites(workspace, sites, implement=agent, max_agents=sites, timeout="5m")
    with MockAPI(folder / "mock", "ok", "--steps", str(steps)) as mock:
        env = claude_env(mock, cli, folder / "home", base=smb_env())
        result = run_smb_in(mock, workspace, "implement", "--batch", "1", env=env, timeout=600)
        if result.returncode != 0:
            raise SystemExit(f"{name}: smb implement failed\n{explain(result)}")
        requests = mock.requests()
    agent_requests = [r for r in requests if "Write" in (r.get("tools") or [])]
    sizes = [r["body_bytes"] for r in agent_requests]
    events = [json.loads(line) for line in workspace.events.read_text().splitlines() if line.strip()]
    done = [e for e in events if e.get("event") == "status" and e.get("to") == "I"]
    built = sum(1 for n in names if (workspace.site_dir(n) / "index.html").is_file())
    return {"name": name, "agent": agent, "sites": built, "requests": len(agent_requests),
            "side_requests": len(requests) - len(agent_requests),
            "bytes_median": statistics.median(sizes) if sizes else 0, "bytes_max": max(sizes, default=0),
            "tools": len(agent_requests[0].get("tools") or []) if agent_requests else 0,
            "tokens_in_per_site": sum(e.get("tokens_in", 0) for e in done) / max(1, built),
            "cost_per_site": sum(e.get("cost_usd", 0.0) for e in done) / max(1, built)}


def measure_limit(name: str, max_resumes: int, cli: Path, base: Path, sites: int) -> dict:
    """One batch of ``sites`` 4-file sites, each refused by a session limit after its 2nd file."""
    folder = base / name
    workspace, _ = create_workspace(folder / "ws")
    names = make_sites(workspace, sites, implement=PRESET, max_agents=sites, timeout="5m", max_resumes=max_resumes)
    args = ("--steps", "4", "--ok-first", str(2 * sites), "--fail-first", str(sites), "--reset-in", "3")
    with MockAPI(folder / "mock", "usage-limit", *args) as mock:
        env = claude_env(mock, cli, folder / "home", auth="oauth", base=smb_env())
        result = run_smb_in(mock, workspace, "implement", "--batch", "1", env=env, timeout=600)
        if result.returncode != 0:
            raise SystemExit(f"{name}: smb implement failed\n{explain(result)}")
        requests = [r for r in mock.requests() if "Write" in (r.get("tools") or [])]
    events = [json.loads(line) for line in workspace.events.read_text().splitlines() if line.strip()]
    attempts = [e for e in events if e.get("event") == "status" and e.get("class")]
    built = sum(1 for n in names if (workspace.site_dir(n) / "index.html").is_file())
    return {"name": name, "sites": built, "requests_per_site": len(requests) / max(1, built),
            "tokens_in_per_site": sum(e.get("tokens_in", 0) for e in attempts) / max(1, built),
            "cost_per_site": sum(e.get("cost_usd", 0.0) for e in attempts) / max(1, built),
            "limited": sum(1 for e in attempts if e["class"] == "usage-limit"),
            "resumed": sum(1 for e in attempts if e.get("resumed"))}


def print_ratios(title: str, row: dict, baseline: dict, first: tuple[str, str]) -> None:
    """``row`` over ``baseline`` for ``first``, input tokens and cost per site."""
    for key, label in (first, ("tokens_in_per_site", "input tokens/site"), ("cost_per_site", "cost/site")):
        ratio = row[key] / baseline[key] if baseline[key] else float("nan")
        print(f"  {title} {label:18} {ratio:.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=4)
    parser.add_argument("--steps", type=int, default=1, help="files the mock agent writes per site, one a turn")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--no-limit", action="store_true", help="skip the usage-limit batch (resumed vs restarted)")
    parser.add_argument("--limit-sites", type=int, default=1,
                        help="sites in the usage-limit batch (1: exactly the 2-of-4 case; more run at once, "
                             "and the limit meets each a file earlier or later)")
    args = parser.parse_args()
    cli, detail = install_claude()
    if cli is None:
        print(f"the real Claude Code CLI is unavailable: {detail}")
        return 1
    base = Path(tempfile.mkdtemp(prefix="smb-agent-tokens-"))
    rows = [measure("naive", NAIVE, cli, base, args.sites, args.steps),
            measure("preset", PRESET, cli, base, args.sites, args.steps)]
    print(f"{args.sites} sites through `smb implement`, real CLI ({detail}) against the mock, "
          f"{args.steps} file(s) a site")
    for row in rows:
        print(f"  {row['name']:7} {row['agent']}")
        print(f"          {row['sites']} built, {row['requests']} agent requests (+{row['side_requests']} side), "
              f"{row['tools']} tools; bytes/request median {row['bytes_median'] / 1024:.1f} KB, "
              f"max {row['bytes_max'] / 1024:.1f} KB; input tokens/site {row['tokens_in_per_site']:,.0f}; "
              f"cost/site ${row['cost_per_site']:.4f}")
    naive, preset = rows
    print_ratios("preset / naive", preset, naive, ("bytes_median", "bytes/request"))
    met = preset["bytes_max"] <= TARGET_BYTES
    print(f"target preset <= 16 KB per agent request: {'met' if met else 'NOT met'} "
          f"({preset['bytes_max'] / 1024:.1f} KB)")
    if not args.no_limit:
        limited = [measure_limit("resumed", 3, cli, base, args.limit_sites),
                   measure_limit("restarted", 0, cli, base, args.limit_sites)]
        print(f"{args.limit_sites} site(s) of 4 files, a session limit after about 2 files a site, reset 3 s later")
        for row in limited:
            print(f"  {row['name']:9} {row['sites']} built, {row['limited']} attempts held, {row['resumed']} resumed; "
                  f"requests/site {row['requests_per_site']:.1f}, input tokens/site {row['tokens_in_per_site']:,.0f}, "
                  f"cost/site ${row['cost_per_site']:.4f}")
        resumed, restarted = limited
        print_ratios("resumed / restarted", resumed, restarted, ("requests_per_site", "requests/site"))
        if args.limit_sites == 1:
            met = met and resumed["requests_per_site"] <= 7
            print(f"target resumed <= 7 requests for the site: {'met' if met else 'NOT met'} "
                  f"({resumed['requests_per_site']:.0f})")
    if args.keep:
        print(f"kept {base}")
    else:
        import shutil

        shutil.rmtree(base, ignore_errors=True)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
