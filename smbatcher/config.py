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

_DURATION_RE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*", re.IGNORECASE)
_DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
_SIZE_RE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)?\s*", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "b": 1, "k": 1e3, "kb": 1e3, "kib": 1024, "m": 1e6, "mb": 1e6, "mib": 1024**2,
               "g": 1e9, "gb": 1e9, "gib": 1024**3, "t": 1e12, "tb": 1e12, "tib": 1024**4}


def parse_duration(value: str | int | float, key: str = "duration") -> float:
    """``90s``, ``30m``, ``2h`` (a bare number is seconds) -> seconds."""
    if isinstance(value, bool):
        raise UsageError(f"{key}: bad duration {value!r} (want e.g. 90s, 30m, 2h)")
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        match = _DURATION_RE.fullmatch(str(value))
        if not match:
            raise UsageError(f"{key}: bad duration {value!r} (want e.g. 90s, 30m, 2h)")
        seconds = float(match.group(1)) * _DURATION_UNITS[(match.group(2) or "s").lower()]
    if seconds < 0:
        raise UsageError(f"{key}: duration must not be negative")
    return seconds


def parse_size(value: str | int, key: str = "size") -> int:
    """``500MB``, ``1GB``, ``2GiB`` (a bare number is bytes) -> bytes."""
    if isinstance(value, bool):
        raise UsageError(f"{key}: bad size {value!r} (want e.g. 500MB, 1GB)")
    if isinstance(value, (int, float)):
        if value < 0:
            raise UsageError(f"{key}: size must not be negative")
        return int(value)
    match = _SIZE_RE.fullmatch(str(value))
    unit = (match.group(2) or "").lower() if match else None
    if not match or unit not in _SIZE_UNITS:
        raise UsageError(f"{key}: bad size {value!r} (want e.g. 500MB, 1GB)")
    return int(float(match.group(1)) * _SIZE_UNITS[unit])


def format_size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n} B"


def _agent_command(value, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise UsageError(f"{key}: want a command string such as \"builtin\"")
    try:
        shlex.split(value)
    except ValueError as exc:
        raise UsageError(f"{key}: cannot split {value!r}: {exc}") from None
    return value


def _positive_int(value, key: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise UsageError(f"{key}: want a whole number >= {minimum}, got {value!r}")
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
        if not sep or not host or not port.isdigit():
            raise UsageError(f"{key}: bad endpoint {v!r} (want host:port)")
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
}
_SECTION_TYPES = {"agents": AgentSettings, "doctor": DoctorSettings, "registry": RegistrySettings, "git": GitSettings}


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
        try:
            with config_file.open("rb") as handle:
                data = tomllib.load(handle)
        except tomllib.TOMLDecodeError as exc:
            raise UsageError(f"{config_file}: not valid TOML: {exc}") from None
        except OSError as exc:
            raise UsageError(f"{config_file}: cannot read: {exc.strerror}") from None
    settings = settings_from_mapping(data, source=str(config_file.name))
    lock_env = environ.get("SMB_LOCK_TIMEOUT")
    if lock_env:
        settings = replace(
            settings, registry=replace(settings.registry, lock_timeout=parse_duration(lock_env, "SMB_LOCK_TIMEOUT"))
        )
    return settings


def default_config_text() -> str:
    """The commented config that ``smb init`` writes: every key at its default."""
    return """\
# smbatcher settings. Every key is optional; these are the defaults.

[agents]
design = "builtin"
implement = "builtin"
# A real coding agent, e.g.:
# implement = "claude -p --model opus --dangerously-skip-permissions"
max_agents = 25
timeout = "30m"
grace = "10s"
max_attempts = 3
breaker_failures = 5
breaker_cooldown = "2m"
min_free_memory = "500MB"

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
"""

