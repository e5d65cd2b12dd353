"""Agent presets (issue 10): the bare word ``claude`` expands to an unattended Claude Code command."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from smbatcher.agents.presets import (
    CLAUDE_ENV, JSON_RESULT, OPAQUE, agent_env, describe_presets, render_presets, resolve_agent,
)
from smbatcher.errors import UsageError

PRESET = ("claude", "-p", "--output-format", "stream-json", "--verbose", "--permission-mode", "acceptEdits",
          "--tools", "Read,Write,Edit,Glob", "--exclude-dynamic-system-prompt-sections")  # issue 20: lean


@pytest.mark.parametrize("phase", ["design", "implement"])
def test_bare_claude_is_the_preset(phase):
    spec = resolve_agent("claude", phase)
    assert spec.name == "claude" and spec.protocol == JSON_RESULT
    assert spec.argv == PRESET
    assert resolve_agent("  claude ", phase).argv == PRESET


def test_the_preset_never_asks_for_the_root_refused_flag_or_a_sandbox_claim():
    spec = resolve_agent("claude", "implement")
    assert "--dangerously-skip-permissions" not in spec.argv
    assert "IS_SANDBOX" not in spec.env


def test_extra_flags_are_appended_to_the_preset():
    spec = resolve_agent("claude --model opus --add-dir '/srv/my assets'", "implement")
    assert spec.name == "claude"
    assert spec.argv == (*PRESET, "--model", "opus", "--add-dir", "/srv/my assets")


@pytest.mark.parametrize("flags", ["--dangerously-skip-permissions", "--permission-mode bypassPermissions",
                                   "--permission-mode=plan"])
def test_a_permission_flag_of_the_users_replaces_the_presets(flags):
    argv = resolve_agent(f"claude {flags}", "implement").argv
    assert "acceptEdits" not in argv
    assert argv[:5] == PRESET[:5]


def test_a_path_to_the_claude_executable_is_the_preset_too():
    spec = resolve_agent("/opt/claude/bin/claude --model sonnet", "design")
    assert spec.name == "claude"
    assert spec.argv == ("/opt/claude/bin/claude", *PRESET[1:], "--model", "sonnet")


@pytest.mark.parametrize("command", ["claude -p --model opus --dangerously-skip-permissions",
                                     "claude --print", "claude --output-format=json", "claudex", "python3 agent.py"])
def test_a_whole_command_runs_as_written_with_the_opaque_protocol(command):
    import shlex

    spec = resolve_agent(command, "implement")
    assert spec.name == "" and spec.protocol == OPAQUE
    assert spec.argv == tuple(shlex.split(command))
    assert spec.env == {} and not spec.config_dir


def test_builtin_stays_the_offline_agent():
    spec = resolve_agent("builtin", "design")
    assert spec.name == "builtin" and spec.protocol == OPAQUE
    assert spec.argv == (sys.executable, "-m", "smbatcher.agents.builtin")
    assert agent_env(spec, Path("/tmp/x"), {}) == {}


@pytest.mark.parametrize("command, phase", [("", "implement"), ("   ", "design"), ("claude 'unclosed", "implement"),
                                            ("claude", "deploy")])
def test_bad_commands_and_phases_are_usage_errors(command, phase):
    with pytest.raises(UsageError):
        resolve_agent(command, phase)


def test_agent_env_fills_defaults_the_environment_does_not_set(tmp_path):
    spec = resolve_agent("claude", "implement")
    env = agent_env(spec, tmp_path / "a.dev-implement-1", {"PATH": "/usr/bin"})
    assert env == {**CLAUDE_ENV, "CLAUDE_CONFIG_DIR": str(tmp_path / "a.dev-implement-1" / ".claude-home")}
    assert env["CLAUDE_CODE_MAX_RETRIES"] == "6" and env["API_TIMEOUT_MS"] == "120000"
    for quiet in ("DISABLE_TELEMETRY", "DISABLE_ERROR_REPORTING", "DISABLE_AUTOUPDATER",
                  "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"):
        assert env[quiet] == "1"


def test_the_users_environment_overrides_defaults_but_not_the_per_agent_config_dir(tmp_path):
    spec = resolve_agent("claude", "implement")
    environ = {"API_TIMEOUT_MS": "5000", "CLAUDE_CODE_MAX_RETRIES": "1", "CLAUDE_CONFIG_DIR": "/home/me/.claude"}
    env = agent_env(spec, tmp_path, environ)
    assert "API_TIMEOUT_MS" not in env and "CLAUDE_CODE_MAX_RETRIES" not in env
    assert env["CLAUDE_CONFIG_DIR"] == str(tmp_path / ".claude-home")
    merged = {**environ, **env}
    assert merged["API_TIMEOUT_MS"] == "5000"


def test_concurrent_agents_get_different_config_dirs(tmp_path):
    spec = resolve_agent("claude", "implement")
    first = agent_env(spec, tmp_path / "a.dev-implement-1", {})["CLAUDE_CONFIG_DIR"]
    second = agent_env(spec, tmp_path / "b.dev-implement-1", {})["CLAUDE_CONFIG_DIR"]
    assert first != second
    assert not (tmp_path / "a.dev-implement-1").exists()  # pure: the CLI creates the folder itself


def test_describe_presets_shows_sources_and_auth_without_secrets():
    rows = describe_presets({"API_TIMEOUT_MS": "30000", "ANTHROPIC_API_KEY": "sk-ant-secret-value"})
    by_name = {row["name"]: row for row in rows}
    assert set(by_name) == {"builtin", "claude"}
    claude = by_name["claude"]
    assert tuple(claude["argv"]) == PRESET and claude["protocol"] == JSON_RESULT
    env = {var["name"]: (var["value"], var["source"]) for var in claude["env"]}
    assert env["API_TIMEOUT_MS"] == ("30000", "environment")
    assert env["CLAUDE_CODE_MAX_RETRIES"] == ("6", "default")
    assert env["CLAUDE_CONFIG_DIR"][1] == "per agent"
    text = render_presets(rows)
    assert "sk-ant-secret-value" not in text and "sk-ant-secret-value" not in repr(rows)
    assert "from ANTHROPIC_API_KEY" in text
    assert "command:  claude -p --output-format stream-json --verbose --permission-mode acceptEdits" in text
    assert "API_TIMEOUT_MS=30000  (environment)" in text
    assert "command:  python -m smbatcher.agents.builtin" in text


def test_describe_presets_warns_when_no_credentials_are_set():
    text = render_presets(describe_presets({}))
    assert "Not logged in" in text and "claude setup-token" in text


@pytest.mark.parametrize("tools", ["--tools default", "--tools Read,Write", "--tools=Read,Write,Bash"])
def test_any_tools_flag_after_claude_replaces_the_presets_tools(tools):
    import shlex

    argv = resolve_agent(f"claude {tools}", "implement").argv
    assert "Read,Write,Edit,Glob" not in argv
    assert argv[-len(shlex.split(tools)):] == tuple(shlex.split(tools))
    assert "--exclude-dynamic-system-prompt-sections" in argv and "acceptEdits" in argv


def test_smb_agents_shows_the_lean_flags_and_the_stall_watchdog():
    text = render_presets(describe_presets({}))
    assert "--tools Read,Write,Edit,Glob --exclude-dynamic-system-prompt-sections" in text
    assert "claude --tools default" in text and "stall_timeout 10m" in text
