"""Hardening (issue 8), the run and the command line: one odd site never ends a run; bad prompt
templates, manifests, run records, config values and flags are refused before anything is claimed,
with one line on stderr; one error boundary for every entry point."""

from __future__ import annotations

import contextlib
import io
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support.cli import assert_one_line_error, explain, run, run_smb
from support.registry import rows, write_registry
from support.workspaces import make_sites


# -- one odd site ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("odd", ["file", "symlink", "dangling-symlink"])
def test_an_odd_entry_where_a_site_goes_fails_that_site_and_the_run_goes_on(workspace, tmp_path, odd):
    names = make_sites(workspace, 4, max_attempts=1)
    victim = workspace.site_dir(names[1])
    victim.parent.mkdir(parents=True, exist_ok=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    if odd == "file":
        victim.write_text("not a site\n")
    elif odd == "symlink":
        victim.symlink_to(elsewhere)
    else:
        victim.symlink_to(tmp_path / "missing")
    result = run_smb(workspace, "implement", "--batch", "001")
    assert result.returncode == 1, explain(result)
    assert "SIGTERM" not in result.stdout and "Traceback" not in result.stdout + result.stderr
    table = rows(workspace)
    assert [table[n].status for n in names] == ["I", "X", "I", "I"], result.stdout
    assert "is not a folder" in table[names[1]].get("note"), table[names[1]].get("note")
    assert not any(elsewhere.iterdir())  # nothing was written through the link
    assert victim.is_symlink() or victim.is_file()  # the operator's entry is left as it was


def test_a_file_where_a_sites_log_folder_goes_fails_that_site_only(workspace):
    names = make_sites(workspace, 3, max_attempts=1)
    (workspace.logs / "sites").mkdir(parents=True, exist_ok=True)
    (workspace.logs / "sites" / names[0]).write_text("in the way\n")
    result = run_smb(workspace, "implement", "--batch", "001")
    assert result.returncode == 1, explain(result)
    table = rows(workspace)
    assert table[names[0]].status == "X" and "is not a folder" in table[names[0]].get("note")
    assert table[names[1]].status == table[names[2]].status == "I"


# -- refused before the first claim ---------------------------------------------------------------------


def _refused(workspace, result, fragment: str) -> None:
    line = assert_one_line_error(result, 2)
    assert fragment in line, line
    assert all(row.status == "D" and row.attempts == 0 for row in rows(workspace).values())
    assert not any(workspace.runs.glob("*.json")) if workspace.runs.exists() else True


@pytest.mark.parametrize("kind", ["not-utf8", "folder"])
def test_a_bad_prompt_template_refuses_the_run_before_any_claim(workspace, kind):
    make_sites(workspace, 2)
    template = workspace.prompts / "implement.md"
    template.parent.mkdir(parents=True, exist_ok=True)
    if kind == "folder":
        template.mkdir()
    else:
        template.write_bytes(b"Build $domain \xff\xfe\n")
    before = workspace.registry.read_bytes()
    result = run_smb(workspace, "implement", "--batch", "001")
    _refused(workspace, result, "prompts/implement.md")
    assert workspace.registry.read_bytes() == before


@pytest.mark.parametrize("kind", ["not-utf8", "folder"])
def test_a_bad_manifest_refuses_the_run_before_any_claim(workspace, kind):
    make_sites(workspace, 2)
    manifest = workspace.manifest("001")
    manifest.parent.mkdir(parents=True, exist_ok=True)
    if manifest.exists():
        manifest.unlink()
    if kind == "folder":
        manifest.mkdir()
    else:
        manifest.write_bytes(b"# Batch 001\n\xc3\x28 brief\n")
    before = workspace.registry.read_bytes()
    result = run_smb(workspace, "implement", "--batch", "001")
    _refused(workspace, result, "Batch_001.md")
    assert workspace.registry.read_bytes() == before


@pytest.mark.parametrize("content", [
    "[1, 2, 3]",
    '{"run_id": 7, "pid": "x"}',
    '{"run_id": "r", "pid": 1, "create_time": 1.0, "host": "h", "phase": "implement", "batch": "001", "agents": {}}',
    '{"run_id": "r", "pid": 1, "create_time": 1.0, "host": "h", "phase": "implement", "batch": "001", '
    '"agents": [{"domain": 5}]}',
])
def test_a_run_record_of_the_wrong_shape_is_ignored_with_a_warning(workspace, content):
    make_sites(workspace, 2)
    workspace.runs.mkdir(parents=True, exist_ok=True)
    (workspace.runs / "foreign.json").write_text(content)
    status = run_smb(workspace, "status")
    assert status.returncode == 0, explain(status)
    assert "ignoring run record" in status.stderr and "Traceback" not in status.stderr
    result = run_smb(workspace, "implement", "--batch", "001")
    assert result.returncode == 0, explain(result)
    assert {row.status for row in rows(workspace).values()} == {"I"}


# -- config values and flags ----------------------------------------------------------------------------


@pytest.mark.parametrize("config, key", [
    ("[agents]\ngrace = nan\n", "agents.grace"),
    ("[agents]\ntimeout = inf\n", "agents.timeout"),
    ("[agents]\nbreaker_cooldown = -inf\n", "agents.breaker_cooldown"),
    ("[agents]\nmin_free_memory = nan\n", "agents.min_free_memory"),
    ('[agents]\ntimeout = "99999999999999999999h"\n', "agents.timeout"),
    ("[agents]\nmax_agents = 100000000000000000000\n", "agents.max_agents"),
    ('[doctor]\nnetwork_endpoints = ["api.example.com:99999"]\n', "doctor.network_endpoints"),
    ('[doctor]\nnetwork_endpoints = ["api.example.com:0"]\n', "doctor.network_endpoints"),
    ('[agents]\nhalt = "maybe"\n', "agents.halt"),
    ("[agents]\nquota_budget = 1.5\n", "agents.quota_budget"),
    ('[executor]\nkind = "kubernetes"\n', "executor.kind"),
])
def test_a_bad_config_value_is_exit_2_naming_the_key(workspace, config, key):
    write_registry(workspace, 2)
    workspace.config_file.write_text(config)
    before = workspace.registry.read_bytes()
    for command in (["status"], ["implement", "--batch", "001"], ["set-status", "site-00000.dev", "--status", "Q"]):
        result = run_smb(workspace, *command)
        line = assert_one_line_error(result, 2)
        assert key in line, line
    assert workspace.registry.read_bytes() == before


@pytest.mark.parametrize("args, fragment", [
    (["implement", "--batch", "1" * 5000], "--batch"),
    (["implement", "--batch", "001", "--max-agents", "9" * 5000], "--max-agents"),
    (["implement", "--batch", "001", "--max-agents", "0"], "--max-agents"),
    (["implement", "--batch", "001", "--wave", "9" * 30], "--wave"),
    (["implement", "--batch", "001", "--timeout", "nan"], "--timeout"),
    (["implement", "--batch", "001", "--timeout", "1" * 400 + "s"], "--timeout"),
    (["implement", "--batch", "001", "--agent", ""], "--agent"),
    (["implement", "--batch", "001", "--agent", "   "], "--agent"),
    (["run", "--batch", "001", "--agent", ""], "--agent"),
    (["design", "--batch", "001", "--executor", "dask"], "--scheduler"),
    (["implement", "--batch", "001", "--halt", "fail=200%"], "--halt"),
])
def test_a_bad_flag_is_exit_2_and_claims_nothing(workspace, args, fragment):
    make_sites(workspace, 2, status="D")
    before = workspace.registry.read_bytes()
    result = run_smb(workspace, *args)
    line = assert_one_line_error(result, 2)
    assert fragment in line, line
    assert workspace.registry.read_bytes() == before


def test_init_on_a_file_or_an_impossible_path_is_one_line_and_exit_2(tmp_path):
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    for target in (a_file, a_file / "below", tmp_path / "x" / ".smbatcher"):
        if target.name == ".smbatcher":
            target.parent.mkdir()
            target.write_text("a file where the workspace folder goes")
            target = target.parent
        result = run_smb(tmp_path, "init", str(target))
        assert result.returncode == 2, explain(result)
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, explain(result)
    assert a_file.read_text() == "x"


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version(tmp_path, flag):
    from importlib.metadata import version

    result = run(flag, cwd=tmp_path)
    assert result.returncode == 0, explain(result)
    assert result.stdout.strip() == f"smb {version('smbatcher')}"


# -- one error boundary ---------------------------------------------------------------------------------


def _main(args: list[str]) -> tuple[int, str, str]:
    """The `smb` console script in-process (the one boundary), with stdout and stderr captured."""
    from smbatcher.entry import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    return code, out.getvalue(), err.getvalue()


def test_an_unexpected_error_is_one_line_and_exit_1_with_the_traceback_only_under_v(workspace, monkeypatch):
    import smbatcher.report

    def broken(*args, **kwargs):
        raise RuntimeError("something nobody expected")

    monkeypatch.setattr(smbatcher.report, "build_status", broken)
    code, _, err = _main(["status", "--root", str(workspace.root)])
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith("smb: error: unexpected RuntimeError: something nobody expected")
    code, _, err = _main(["status", "--root", str(workspace.root), "-v"])
    assert code == 1 and "Traceback" in err and "something nobody expected" in err


def test_list_sites_fast_path_shares_the_boundary(workspace, monkeypatch):
    import smbatcher.sites

    monkeypatch.setattr(smbatcher.sites, "select_rows", lambda *a: 1 / 0)
    write_registry(workspace, 2)
    code, _, err = _main(["list-sites", "--root", str(workspace.root)])
    assert code == 1 and err.startswith("smb: error: unexpected ZeroDivisionError"), err


# -- fuzz: random bad arguments and random registry bytes ----------------------------------------------

_WRITES = ["add", "set-status", "implement", "design", "run", "finish", "doctor", "stop"]
_TOKENS = st.one_of(
    st.sampled_from(["--batch", "--status", "--expect", "--note", "--force", "--sites", "--wave", "--max-agents",
                     "--timeout", "--retries", "--agent", "--dry-run", "--from", "--skip-existing", "--fix",
                     "--scenario", "--site", "--halt", "--executor", "-q", "--json", "--all", "--redo",
                     "001", "1", "0", "-1", "D", "X", "q", "i", "a.dev", "A.DEV", "../x", "a/b.com", "nan", "inf",
                     "", " ", "|", "\n", "\u2028", "-", "--", "9" * 40, "true", "builtin", "x" * 300]),
    st.text(alphabet=string.printable + "\u2028\u0085é|", max_size=12),
)
_REGISTRY_BYTES = st.one_of(
    st.binary(max_size=300),
    st.lists(st.sampled_from([b"| domain | batch | status |", b"|---|---|---|", b"| a.dev | 001 | D |",
                              b"| a.dev | 001 | D |", b"| b.dev | 1 | Z |", b"| c.dev | 001 |", b"\xff\xfe",
                              b"| domain | status | status |", b"text", b"\r", b"| d.dev | 001 | i | run-x |"]),
             max_size=8).map(lambda parts: b"\n".join(parts) + b"\n"),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(command=st.sampled_from(_WRITES), args=st.lists(_TOKENS, max_size=6), registry=_REGISTRY_BYTES)
def test_fuzz_write_commands_never_trace_and_lose_nothing(workspace, command, args, registry):
    workspace.registry.write_bytes(registry)
    # The fuzz must never start real agents: every run goes through the dry-run path or is refused.
    if command in ("implement", "design", "run") and "--dry-run" not in args:
        args = [*args, "--dry-run"]
    if command == "stop":
        args = [a for a in args if a != "--all"]
    code, _, err = _main([command, *args, "--root", str(workspace.root)])
    assert code in (0, 1, 2, 3), (code, err)
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.startswith("smb: error:")]
    assert len(lines) <= 1, err
    if code not in (0, 1) or command in ("implement", "design", "run", "finish") and "--dry-run" in args:
        assert workspace.registry.read_bytes() == registry, (command, args, code, err)
    if code == 2:
        assert lines, err


def test_a_bug_handling_one_result_returns_every_claim_and_says_so(workspace, monkeypatch):
    import smbatcher.pool.launch

    make_sites(workspace, 3, max_agents=3)
    calls = []

    def broken(self, job):
        calls.append(job.domain)
        raise RuntimeError("a bug in promotion")

    monkeypatch.setattr(smbatcher.pool.launch.Launcher, "promote", broken)
    code, out, err = _main(["implement", "--batch", "001", "--root", str(workspace.root)])
    assert calls, (out, err)
    assert "internal error finishing" in out, out
    table = rows(workspace)
    assert len(table) == 3 and all(row.status == "D" and row.attempts == 0 and not row.get("owner")
                                   for row in table.values()), out
