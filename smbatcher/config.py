"""Settings: flags > env (SMB_*) > .smbatcher/config.toml > defaults (SPEC §8).

Every key is validated when the workspace is opened: an unknown key or a bad
value is one error naming the key (exit 2).
"""

from __future__ import annotations

import os
import re
import shlex
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

from .errors import UsageError
from .units import parse_duration, parse_money, parse_size

def _agent_command(value, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise UsageError(f"{key}: want a command string such as \"builtin\"")
    try:
        shlex.split(value)
    except ValueError as exc:
        raise UsageError(f"{key}: cannot split {value!r}: {exc}") from None
    return value


def _count(value, key: str) -> int:
    """A whole number from 0 (0 turns the feature off)."""
    return _positive_int(value, key, minimum=0, maximum=100)


def _positive_int(value, key: str, minimum: int = 1, maximum: int = 10_000) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise UsageError(f"{key}: want a whole number from {minimum} to {maximum}, got {str(value)[:40]}")
    return value


def _halt(value, key: str) -> str:
    from .pool.halt import parse_halt

    if not isinstance(value, str):
        raise UsageError(f"{key}: want a policy such as \"soon,same=5\" or \"never\"")
    parse_halt(value, key)
    return value


def _fraction(value, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
        raise UsageError(f"{key}: want a number above 0 and at most 1, got {str(value)[:40]}")
    return float(value)


def _notify_command(value, key: str) -> str:
    if not isinstance(value, str):
        raise UsageError(f"{key}: want a command string")
    try:
        shlex.split(value)
    except ValueError as exc:
        raise UsageError(f"{key}: cannot split {value[:60]!r}: {exc}") from None
    return value


def _executor_kind(value, key: str) -> str:
    if value not in ("local", "dask"):
        raise UsageError(f"{key}: want \"local\" or \"dask\", got {str(value)[:40]!r}")
    return value


def _sandbox(value, key: str) -> str:
    if value not in ("auto", "on", "off"):
        raise UsageError(f"{key}: want \"auto\", \"on\" or \"off\", got {str(value)[:40]!r}")
    return value


def _scheduler(value, key: str) -> str:
    if not isinstance(value, str) or (value and not re.fullmatch(r"(tcp|tls|inproc|ws|wss)://\S+", value)):
        raise UsageError(f"{key}: want an address such as \"tcp://host:8786\", got {str(value)[:60]!r}")
    return value


def _names(value, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and re.fullmatch(r"[A-Za-z_*?][A-Za-z0-9_*?]*", v)
                                              for v in value):
        raise UsageError(f"{key}: want a list of variable names or globs, such as [\"ANTHROPIC_*\"]")
    return tuple(value)


def _auto_bool(value, key: str) -> bool | None:
    if value == "auto":
        return None
    if not isinstance(value, bool):
        raise UsageError(f"{key}: want true, false or \"auto\", got {str(value)[:40]!r}")
    return value


def _bool(value, key: str) -> bool:
    if not isinstance(value, bool):
        raise UsageError(f"{key}: want true or false, got {value!r}")
    return value


def _endpoints(value, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise UsageError(f"{key}: want a list of \"host:port\" strings")
    for v in value:
        host, sep, port = v.rpartition(":")
        if not sep or not host or not port.isascii() or not port.isdigit() or not 0 < int(port[:6]) < 65536:
            raise UsageError(f"{key}: bad endpoint {v[:80]!r} (want host:port, port 1-65535)")
    return tuple(value)


@dataclass(frozen=True)
class AgentSettings:
    design: str = "builtin"
    implement: str = "builtin"
    max_agents: int = 25
    timeout: float = 30 * 60
    grace: float = 10
    max_attempts: int = 3
    breaker_failures: int = 5
    breaker_cooldown: float = 120
    min_free_memory: int = 500_000_000
    halt: str = "soon,same=5"  # issue 15: see pool/halt.py
    max_hold: float = 12 * 3600  # longest a run waits out usage limits before it stops (exit 1)
    max_cost_total: float | None = None  # dollars per run: launching stops when reached
    max_cost_per_site: float | None = None  # dollars per site in a run: the site is parked
    quota_budget: float = 1.0  # hold once the agent reports this share of its quota used
    stall_timeout: float | None = None  # no agent output this long: stalled (None: the preset's, 10m for claude)
    max_turns: int | None = None  # claude preset: --max-turns
    fallback_model: str = ""  # claude preset: --fallback-model
    sandbox: str = "auto"  # issue 22: see jail.py
    max_resumes: int = 3  # issue 21: times a site's session is continued before a fresh start
    repair_turns: int = 2  # issue 21: turns that send finish's failures back to the agent's session


@dataclass(frozen=True)
class NotifySettings:
    command: str = ""


@dataclass(frozen=True)
class ExecutorSettings:
    kind: str = "local"
    scheduler: str = ""
    forward_env: tuple[str, ...] = ()  # coordinator variables (names or globs) agents on workers get
    shared_storage: bool | None = None  # None: detected per worker


@dataclass(frozen=True)
class DoctorSettings:
    disk_warn: int = 1_000_000_000
    disk_alert: int = 500_000_000
    disk_critical: int = 100_000_000
    stuck_after: float = 45 * 60
    network_endpoints: tuple[str, ...] = ()


@dataclass(frozen=True)
class RegistrySettings:
    lock_timeout: float = 30


@dataclass(frozen=True)
class GitSettings:
    autocommit: bool = False


@dataclass(frozen=True)
class Settings:
    agents: AgentSettings = field(default_factory=AgentSettings)
    doctor: DoctorSettings = field(default_factory=DoctorSettings)
    registry: RegistrySettings = field(default_factory=RegistrySettings)
    git: GitSettings = field(default_factory=GitSettings)
    notify: NotifySettings = field(default_factory=NotifySettings)
    executor: ExecutorSettings = field(default_factory=ExecutorSettings)


# key -> validator(value, "section.key") for every key of SPEC §8
_VALIDATORS = {
    "agents": {
        "design": _agent_command,
        "implement": _agent_command,
        "max_agents": _positive_int,
        "timeout": parse_duration,
        "grace": parse_duration,
        "max_attempts": _positive_int,
        "breaker_failures": _positive_int,
        "breaker_cooldown": parse_duration,
        "min_free_memory": parse_size,
        "halt": _halt,
        "max_hold": parse_duration,
        "max_cost_total": parse_money,
        "max_cost_per_site": parse_money,
        "quota_budget": _fraction,
        "stall_timeout": parse_duration,
        "max_turns": _positive_int,
        "fallback_model": _agent_command,
        "sandbox": _sandbox,
        "max_resumes": _count,
        "repair_turns": _count,
    },
    "doctor": {
        "disk_warn": parse_size,
        "disk_alert": parse_size,
        "disk_critical": parse_size,
        "stuck_after": parse_duration,
        "network_endpoints": _endpoints,
    },
    "registry": {"lock_timeout": parse_duration},
    "git": {"autocommit": _bool},
    "notify": {"command": _notify_command},
    "executor": {"kind": _executor_kind, "scheduler": _scheduler, "forward_env": _names,
                 "shared_storage": _auto_bool},
}
_SECTION_TYPES = {"agents": AgentSettings, "doctor": DoctorSettings, "registry": RegistrySettings, "git": GitSettings,
                  "notify": NotifySettings, "executor": ExecutorSettings}


def settings_from_mapping(data: dict, source: str = "config.toml") -> Settings:
    sections = {}
    for section, values in data.items():
        if section not in _VALIDATORS:
            raise UsageError(f"{source}: unknown section [{section}] (known: {', '.join(_VALIDATORS)})")
        if not isinstance(values, dict):
            raise UsageError(f"{source}: {section} must be a table [{section}]")
        parsed = {}
        for key, value in values.items():
            validate = _VALIDATORS[section].get(key)
            if validate is None:
                raise UsageError(f"{source}: unknown key {section}.{key}")
            parsed[key] = validate(value, f"{source}: {section}.{key}")
        sections[section] = _SECTION_TYPES[section](**parsed)
    settings = Settings(**sections)
    doctor = settings.doctor
    if not doctor.disk_warn >= doctor.disk_alert >= doctor.disk_critical:
        raise UsageError(f"{source}: doctor.disk_warn >= doctor.disk_alert >= doctor.disk_critical must hold")
    return settings


def load_settings(config_file: Path, environ: dict | None = None) -> Settings:
    """Read and validate config.toml, then apply SMB_* environment overrides."""
    environ = os.environ if environ is None else environ
    data: dict = {}
    if config_file.exists():
        from .fs import not_utf8, read_text

        try:
            data = tomllib.loads(read_text(config_file))
        except tomllib.TOMLDecodeError as exc:
            raise UsageError(f"{config_file}: not valid TOML: {exc}") from None
        except UnicodeDecodeError as exc:  # issue 22: was "unexpected UnicodeDecodeError", no file named
            raise not_utf8(exc, str(config_file), "save it as UTF-8 (TOML is UTF-8 text)") from None
        except OSError as exc:
            raise UsageError(f"{config_file}: cannot read: {exc.strerror}") from None
    settings = settings_from_mapping(data, source=str(config_file.name))
    lock_env = environ.get("SMB_LOCK_TIMEOUT")
    if lock_env:
        settings = replace(
            settings, registry=replace(settings.registry, lock_timeout=parse_duration(lock_env, "SMB_LOCK_TIMEOUT"))
        )
    if environ.get("SMB_SANDBOX"):  # issue 22: like SMB_LOCK_TIMEOUT, the variable wins over the file
        settings = replace(settings, agents=replace(settings.agents, sandbox=_sandbox(environ["SMB_SANDBOX"], "SMB_SANDBOX")))
    return settings


def default_config_text() -> str:
    """The commented config that ``smb init`` writes: every key at its default."""
    return """\
# smbatcher settings. Every key is optional; these are the defaults.

[agents]
design = "builtin"
implement = "builtin"
# A real coding agent: the claude preset (see smb agents), e.g.:
# implement = "claude --model opus"
max_agents = 25
timeout = "30m"
grace = "10s"
max_attempts = 3
breaker_failures = 5
breaker_cooldown = "2m"
min_free_memory = "500MB"
# When a run is hopeless (issue 15): "soon,same=5" ends a run whose first 5 attempts all
# failed the same way; also fail=N, fail=N%, success=N, "now" to stop running agents; "never".
halt = "soon,same=5"
max_hold = "12h"
# max_cost_total = 25.0
# max_cost_per_site = 2.0
quota_budget = 1.0
# Each agent in a bubblewrap jail (issue 22): it writes only its own staging folder. "auto" jails
# where bwrap works (else warns), "on" refuses to run without it, "off" never jails. Also $SMB_SANDBOX.
sandbox = "auto"

[doctor]
disk_warn = "1GB"
disk_alert = "500MB"
disk_critical = "100MB"
stuck_after = "45m"
network_endpoints = []

[registry]
lock_timeout = "30s"

[git]
autocommit = false

[notify]
# A command run (no shell) with one JSON event on stdin: batch done, hold, breaker, auth, halt.
command = ""

[executor]
kind = "local"
# scheduler = "tcp://host:8786"   # with kind = "dask"
# forward_env = ["ANTHROPIC_API_KEY"]   # coordinator variables agents on workers get
# shared_storage = "auto"               # true / false / "auto": does a worker see the workspace?
"""

