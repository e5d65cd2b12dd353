"""config.toml: every key of SPEC §8 validated, durations, sizes, the env override."""

from __future__ import annotations

import tomllib

import pytest

from smbatcher.config import (
    AgentSettings,
    DoctorSettings,
    Settings,
    default_config_text,
    load_settings,
    parse_duration,
    parse_size,
    settings_from_mapping,
)
from smbatcher.errors import UsageError
from smbatcher.workspace import Workspace


@pytest.mark.parametrize("text, seconds", [
    ("90s", 90), ("30m", 1800), ("2h", 7200), ("1d", 86400), ("500ms", 0.5), ("0.5", 0.5), ("10", 10),
    (" 3 m ", 180), ("2H", 7200), (15, 15.0), (1.5, 1.5), ("0s", 0),
])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "abc", "10 minutes", "1y", "-5s", "1h30m", "s", True, -1, "1e3s"])
def test_parse_duration_refuses(text):
    with pytest.raises(UsageError) as info:
        parse_duration(text, "agents.timeout")
    assert info.value.exit_code == 2
    assert "agents.timeout" in info.value.message


@pytest.mark.parametrize("text, size", [
    ("500MB", 500_000_000), ("1GB", 1_000_000_000), ("2GiB", 2 * 1024**3), ("100mb", 100_000_000),
    ("10KB", 10_000), ("1.5GB", 1_500_000_000), ("123", 123), (2048, 2048), ("1 GB", 1_000_000_000),
    ("4k", 4000),
])
def test_parse_size(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "lots", "5XB", "-1MB", "MB", True, -5, "1 G B"])
def test_parse_size_refuses(text):
    with pytest.raises(UsageError) as info:
        parse_size(text, "doctor.disk_warn")
    assert "doctor.disk_warn" in info.value.message


def test_default_config_text_is_the_defaults():
    assert settings_from_mapping(tomllib.loads(default_config_text())) == Settings()


def test_defaults_match_the_spec():
    s = Settings()
    assert (s.agents.design, s.agents.implement, s.agents.max_agents) == ("builtin", "builtin", 25)
    assert (s.agents.timeout, s.agents.grace, s.agents.max_attempts) == (1800, 10, 3)
    assert (s.agents.breaker_failures, s.agents.breaker_cooldown, s.agents.min_free_memory) == (5, 120, 500_000_000)
    assert (s.doctor.disk_warn, s.doctor.disk_alert, s.doctor.disk_critical) == (10**9, 5 * 10**8, 10**8)
    assert (s.doctor.stuck_after, s.doctor.network_endpoints) == (2700, ())
    assert s.registry.lock_timeout == 30 and s.git.autocommit is False


def test_every_key_is_read():
    data = {
        "agents": {"design": "my-agent --x", "implement": "claude -p", "max_agents": 4, "timeout": "2h",
                   "grace": "5s", "max_attempts": 2, "breaker_failures": 3, "breaker_cooldown": "30s",
                   "min_free_memory": "1GB"},
        "doctor": {"disk_warn": "2GB", "disk_alert": "1GB", "disk_critical": "200MB", "stuck_after": "1h",
                   "network_endpoints": ["api.anthropic.com:443"]},
        "registry": {"lock_timeout": "5s"},
        "git": {"autocommit": True},
    }
    s = settings_from_mapping(data)
    # Every value differs from its default, so a key that is ignored shows up here.
    assert s.agents == AgentSettings(design="my-agent --x", implement="claude -p", max_agents=4, timeout=7200,
                                     grace=5, max_attempts=2, breaker_failures=3, breaker_cooldown=30,
                                     min_free_memory=10**9)
    assert s.doctor == DoctorSettings(disk_warn=2 * 10**9, disk_alert=10**9, disk_critical=2 * 10**8,
                                      stuck_after=3600, network_endpoints=("api.anthropic.com:443",))
    assert s.registry.lock_timeout == 5 and s.git.autocommit is True


@pytest.mark.parametrize("data, key", [
    ({"agents": {"colour": "red"}}, "agents.colour"),
    ({"nonsense": {}}, "nonsense"),
    ({"agents": {"max_agents": 0}}, "agents.max_agents"),
    ({"agents": {"max_agents": "25"}}, "agents.max_agents"),
    ({"agents": {"max_agents": True}}, "agents.max_agents"),
    ({"agents": {"timeout": "forever"}}, "agents.timeout"),
    ({"agents": {"grace": "-1s"}}, "agents.grace"),
    ({"agents": {"design": ""}}, "agents.design"),
    ({"agents": {"implement": "claude 'unclosed"}}, "agents.implement"),
    ({"agents": {"min_free_memory": "lots"}}, "agents.min_free_memory"),
    ({"doctor": {"disk_warn": "1XB"}}, "doctor.disk_warn"),
    ({"doctor": {"network_endpoints": "host:443"}}, "doctor.network_endpoints"),
    ({"doctor": {"network_endpoints": ["no-port"]}}, "doctor.network_endpoints"),
    ({"doctor": {"disk_warn": "100MB", "disk_critical": "1GB"}}, "disk_critical"),
    ({"registry": {"lock_timeout": "soon"}}, "registry.lock_timeout"),
    ({"git": {"autocommit": "yes"}}, "git.autocommit"),
    ({"git": 1}, "git"),
])
def test_bad_values_name_the_key(data, key):
    with pytest.raises(UsageError) as info:
        settings_from_mapping(data)
    assert info.value.exit_code == 2
    assert key in info.value.message


def test_load_settings_env_override(workspace: Workspace):
    workspace.config_file.write_text('[registry]\nlock_timeout = "10s"\n')
    assert load_settings(workspace.config_file, environ={}).registry.lock_timeout == 10
    assert load_settings(workspace.config_file, environ={"SMB_LOCK_TIMEOUT": "0.5"}).registry.lock_timeout == 0.5
    with pytest.raises(UsageError) as info:
        load_settings(workspace.config_file, environ={"SMB_LOCK_TIMEOUT": "never"})
    assert "SMB_LOCK_TIMEOUT" in info.value.message


def test_missing_config_is_the_defaults(workspace: Workspace):
    workspace.config_file.unlink()
    assert load_settings(workspace.config_file, environ={}) == Settings()


def test_invalid_toml(workspace: Workspace):
    workspace.config_file.write_text("[agents\nmax_agents = 3\n")
    with pytest.raises(UsageError) as info:
        load_settings(workspace.config_file, environ={})
    assert "not valid TOML" in info.value.message and "\n" not in info.value.message
