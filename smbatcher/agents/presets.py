"""Agent presets: short names that expand to a full, tested agent command (issue 10).

``builtin`` is the offline agent shipped in the package. ``claude`` is Claude Code
in print mode, set up to run unattended for a night: the command line, the
environment defaults and a per-agent config folder. ``claude`` followed by extra
flags (``claude --model opus``) is the preset with those flags appended. Any other
command is run as written, with the opaque protocol: exit 0 plus the expected
output is success; it may still print the JSON-result line (``outcome.py``) to
report the same facts as Claude Code does.

Why each piece of the ``claude`` preset (measured with the real CLI against
tests/claude_mock/, see tests/claude_mock/FINDINGS.md):

- ``-p --output-format stream-json --verbose``: one JSON object a line, so smb can
  follow the agent live (its latest tool call) and read the final ``result``
  object: cost, turns, tokens, and the error class of a failed run (every API
  failure exits 1, only the JSON says which).
- ``--permission-mode acceptEdits``: without a permission flag the CLI silently
  denies every Write and still exits 0. ``--dangerously-skip-permissions`` is
  refused as root unless ``IS_SANDBOX=1`` is set, and IS_SANDBOX also turns off
  the CLI's early stop on repeated 529s, so an outage would cost every agent its
  whole retry budget. acceptEdits works as root and non-root alike and lets the
  agent create and edit files in its working folder (the staging folder, which
  holds SMB_OUTPUT) but not run shell commands: a site needs only Write/Edit.
  Add ``--dangerously-skip-permissions`` or ``--permission-mode ...`` after
  ``claude`` to choose otherwise; the preset's mode is then left out.
- ``CLAUDE_CODE_MAX_RETRIES=6``: the CLI's default (10) with its exponential
  backoff costs about 3 minutes per agent on a persistent 401/429/5xx; 6 retries
  ride out a blip of about 30 s, then give up with a classified message. smb
  relaunches transient failures without counting them, so the CLI need not try
  longer.
- ``API_TIMEOUT_MS=120000``: the CLI waits up to 5 minutes for each request's
  first answer (about an hour over all retries on a hung API). It bounds the
  wait for the response to start (and a whole non-streaming fallback request),
  not a long streamed answer (a 15 s stream went through with 2000). 7 tries x
  2 min stays under smb's default 30 min agent timeout, so the agent reports
  "Request timed out" itself rather than being killed silently.
- ``DISABLE_TELEMETRY``, ``DISABLE_ERROR_REPORTING``, ``DISABLE_AUTOUPDATER``,
  ``CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC``: without them each start made about
  40 DNS look-ups and an extra model request (title generation); 500 agents a
  night must not update themselves or phone home.
- ``CLAUDE_CONFIG_DIR`` inside the agent's working folder: the CLI rewrites
  ``~/.claude.json`` on every start; concurrent agents sharing it race, and their
  transcripts pile up in ``~/.claude/projects``. A fresh folder per agent needs no
  onboarding in print mode (measured). It holds the session's transcript, so it is
  kept with the site's session folder while the site may continue it (issue 21,
  ``sessions.py``) and removed with it.

Every environment value above is a default: a variable already set in smb's
environment wins (``API_TIMEOUT_MS=30000 smb implement ...``), except
``CLAUDE_CONFIG_DIR``, which is always per agent.

Authentication: a per-agent config folder holds no login, so the agents
authenticate from the environment: ``ANTHROPIC_API_KEY`` (API billing), or for a
Claude subscription ``CLAUDE_CODE_OAUTH_TOKEN`` from ``claude setup-token`` (a
long-lived token made for headless use). smb does not copy
``~/.claude/.credentials.json`` into each agent's folder: its refresh token
rotates, and many agents refreshing copies of one login log each other out.
Without either variable every agent fails with "Not logged in" (class ``auth``:
the run stops at once).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from ..errors import UsageError
from . import BUILTIN, agent_argv

CLAUDE = "claude"

OPAQUE = "opaque"
JSON_RESULT = "json-result"

PHASES = ("design", "implement")

CLAUDE_ARGV = ("claude", "-p", "--output-format", "stream-json", "--verbose")
CLAUDE_PERMISSION = ("--permission-mode", "acceptEdits")
# Only the tools a site agent needs (issue 20): the CLI's default 24 tool schemas are about 64 KB
# of every request, resent each turn. Read/Write/Edit/Glob cover both prompts (read the design,
# write and fix files, find what it wrote). `claude --tools default` (or any --tools) overrides.
CLAUDE_TOOLS = ("--tools", "Read,Write,Edit,Glob")
# Per-machine sections (cwd, env, git status) move from the system prompt to the first message: one
# cacheable system prompt shared by every agent of the run, whatever its staging folder.
CLAUDE_LEAN = ("--exclude-dynamic-system-prompt-sections",)

# Defaults only: a value already in smb's environment wins (see the module docstring for each one).
CLAUDE_ENV = {
    "CLAUDE_CODE_MAX_RETRIES": "6",
    "API_TIMEOUT_MS": "120000",
    "DISABLE_TELEMETRY": "1",
    "DISABLE_ERROR_REPORTING": "1",
    "DISABLE_AUTOUPDATER": "1",
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
}

# stream-json prints an event at every step: ten minutes without a byte is a hung stream (issue 20).
CLAUDE_STALL_TIMEOUT = 600.0

# The agent's own config folder, inside its staging folder (its working folder). Not ".claude":
# the CLI reads <cwd>/.claude/ as the *project's* settings, and the two must not be one folder.
CLAUDE_CONFIG_SUBDIR = ".claude-home"

# Flags after "claude" that mean the user wrote a whole print-mode command: it runs as written.
_WHOLE_COMMAND_FLAGS = {"-p", "--print", "--output-format", "--input-format"}
_PERMISSION_FLAGS = {"--permission-mode", "--dangerously-skip-permissions"}

AUTH_VARIABLES = ("ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN", "ANTHROPIC_AUTH_TOKEN")


@dataclass(frozen=True)
class AgentSpec:
    """What smb launches for one phase: argv (no shell), environment defaults, and how to read the result.

    ``env`` holds defaults that a variable already set in smb's environment overrides;
    ``agent_env`` adds the per-agent values. ``protocol`` is ``json-result`` when the agent
    is known to end with a ``{"type": "result", ...}`` line, ``opaque`` otherwise.
    """

    name: str  # "builtin", "claude", or "" for a command run as written
    argv: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)
    protocol: str = OPAQUE
    command: str = ""  # what the user wrote
    config_dir: bool = False  # give each agent its own CLAUDE_CONFIG_DIR
    stall_timeout: float = 0.0  # the default [agents] stall_timeout for this agent (0: no watchdog)

    @property
    def executable(self) -> str:
        return self.argv[0]


def _claude(executable: str, extra: list[str], command: str) -> AgentSpec:
    given = {arg.split("=", 1)[0] for arg in extra}
    permission = () if _PERMISSION_FLAGS & given else CLAUDE_PERMISSION
    tools = () if "--tools" in given else CLAUDE_TOOLS  # any --tools after claude overrides (even "default")
    return AgentSpec(name=CLAUDE, argv=(executable, *CLAUDE_ARGV[1:], *permission, *tools, *CLAUDE_LEAN, *extra),
                     env=dict(CLAUDE_ENV),
                     protocol=JSON_RESULT, command=command, config_dir=True, stall_timeout=CLAUDE_STALL_TIMEOUT)


def resolve_agent(command: str, phase: str) -> AgentSpec:
    """The agent a command names: a preset (``builtin``, ``claude [flags]``) or a command run as written."""
    if phase not in PHASES:
        raise UsageError(f"unknown phase {phase!r} (expected design or implement)")
    argv = agent_argv(command)  # raises UsageError for an empty or unsplittable command
    if os.sep in argv[0] and not os.path.isabs(argv[0]):
        # "./build.sh", "bin/agent": relative to the folder smb was started in, where the operator
        # (and the up-front check) found it, not to the agent's staging folder (issue 20).
        argv[0] = os.path.abspath(argv[0])
    if command.strip() == BUILTIN:
        return AgentSpec(name=BUILTIN, argv=tuple(argv), command=command)
    if os.path.basename(argv[0]) == CLAUDE and not _WHOLE_COMMAND_FLAGS & {a.split("=", 1)[0] for a in argv[1:]}:
        return _claude(argv[0], argv[1:], command)
    return AgentSpec(name="", argv=tuple(argv), command=command)


def agent_caps(spec: AgentSpec, *, max_turns: int | None, fallback_model: str) -> tuple[str, ...]:
    """The CLI's own caps for the claude preset ([agents] max_turns, fallback_model), unless the
    command already gives them; other agents get none. ``max_cost_per_site`` becomes
    ``--max-budget-usd`` per launch (``wants_budget``), as it depends on what the site has spent."""
    if spec.name != CLAUDE:
        return ()
    given = {arg.split("=", 1)[0] for arg in spec.argv}
    caps: list[str] = []
    if max_turns and "--max-turns" not in given:
        caps += ["--max-turns", str(max_turns)]
    if fallback_model and "--fallback-model" not in given:
        caps += ["--fallback-model", fallback_model]
    return tuple(caps)


def wants_budget(spec: AgentSpec) -> bool:
    """The claude preset takes the site's remaining budget as ``--max-budget-usd``."""
    return spec.name == CLAUDE and "--max-budget-usd" not in {arg.split("=", 1)[0] for arg in spec.argv}


_SESSION_FLAGS = {"--session-id", "--resume", "-r", "--continue", "-c", "--fork-session", "--no-session-persistence"}


def keeps_sessions(spec: AgentSpec) -> bool:
    """The claude preset pins and continues sessions (issue 21), unless its command manages them itself."""
    return spec.name == CLAUDE and not _SESSION_FLAGS & {arg.split("=", 1)[0] for arg in spec.argv}


def config_dir(staging: Path) -> Path:
    """The agent's private Claude Code config folder (holds .claude.json and its transcript)."""
    return Path(staging) / CLAUDE_CONFIG_SUBDIR


def agent_env(spec: AgentSpec, staging: Path, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Variables to add to one agent's environment: the preset's defaults not already set in
    ``environ`` (smb's environment, by default ``os.environ``), and the per-agent config folder.

    The runner does ``env = dict(os.environ); env.update(agent_env(spec, staging, env))`` before
    adding the SMB_* variables. The CLI creates the config folder itself.
    """
    environ = os.environ if environ is None else environ
    values = {key: value for key, value in spec.env.items() if key not in environ}
    if spec.config_dir:
        values["CLAUDE_CONFIG_DIR"] = str(config_dir(staging))
    return values


def _auth_summary(environ: Mapping[str, str]) -> str:
    found = [name for name in AUTH_VARIABLES if environ.get(name)]
    if found:
        return f"from {', '.join(found)} (set in this environment)"
    return ("none set: every agent would fail with 'Not logged in'; set ANTHROPIC_API_KEY, "
            "or CLAUDE_CODE_OAUTH_TOKEN from `claude setup-token` for a subscription")


def describe_presets(environ: Mapping[str, str] | None = None) -> list[dict]:
    """What each preset expands to, with the environment values this shell would give the agents."""
    environ = os.environ if environ is None else environ
    builtin = resolve_agent(BUILTIN, "implement")
    claude = resolve_agent(CLAUDE, "implement")
    rows = [
        {"name": BUILTIN, "argv": list(builtin.argv), "protocol": builtin.protocol, "env": [],
         "summary": "the offline agent shipped in smb: deterministic designs and sites, no network",
         "notes": []},
        {"name": CLAUDE, "argv": list(claude.argv), "protocol": claude.protocol,
         "env": [{"name": key, "value": environ.get(key, value),
                  "source": "environment" if key in environ else "default"}
                 for key, value in claude.env.items()]
                + [{"name": "CLAUDE_CONFIG_DIR", "value": f"<staging>/{CLAUDE_CONFIG_SUBDIR}", "source": "per agent"}],
         "summary": "Claude Code in print mode, unattended: live activity, cost and failure classes "
                    "from its stream-json output",
         "notes": [f"auth: {_auth_summary(environ)}",
                   "extra flags go after the name: claude --model opus (or a path: /opt/bin/claude)",
                   "lean requests: only the tools a site needs and one cacheable system prompt "
                   "(claude --tools default for all tools)",
                   f"stall_timeout {CLAUDE_STALL_TIMEOUT / 60:g}m unless set: no output that long stops the agent",
                   "a command with -p/--print or --output-format runs as written (opaque protocol)",
                   "prompt on stdin, closed after it; working folder = the site's session folder, "
                   ".smbatcher/sessions/<domain>-<phase>/",
                   "sessions: each attempt pinned (--session-id); after a limit, stop, stall, timeout or "
                   "outage the next launch continues it (--resume, [agents] max_resumes); finish's failures "
                   "go back to it before promotion ([agents] repair_turns); smb resume DOMAIN takes it over"]},
    ]
    return rows


def render_presets(rows: list[dict]) -> str:
    """Plain text of ``describe_presets()`` for ``smb agents``."""
    import shlex

    out = []
    for row in rows:
        out.append(f"{row['name']}: {row['summary']}")
        argv = list(row["argv"])
        if argv and argv[0] == sys.executable:
            argv[0] = "python"
        out.append(f"  command:  {shlex.join(argv)}")
        out.append(f"  protocol: {row['protocol']}")
        for var in row["env"]:
            out.append(f"  env:      {var['name']}={var['value']}  ({var['source']})")
        for note in row["notes"]:
            out.append(f"  note:     {note}")
    return "\n".join(out) + "\n"
