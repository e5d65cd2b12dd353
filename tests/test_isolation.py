"""The isolation every test gets from tests/conftest.py: no SMB_* variable gets in, none leaks out.

Checked the only way that shows what a user of the suite sees: a small test file run by pytest in a
subprocess, with this suite's conftest.py, from an environment carrying SMB_* variables.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from support import REPO_ROOT

INNER_TESTS = textwrap.dedent(
    """
    import os


    def test_no_smb_variable_gets_in():
        assert [name for name in os.environ if name.startswith("SMB_")] == []
        assert os.environ["NO_COLOR"] == "1" and os.environ["COLUMNS"] == "120"


    def test_what_monkeypatch_restores_is_not_a_leak(monkeypatch):
        monkeypatch.setenv("SMB_PHASE", "design")
        monkeypatch.delenv("HOME")


    def test_monkeypatch_undo_keeps_the_isolation(monkeypatch):
        monkeypatch.setenv("SMB_BATCH", "001")
        monkeypatch.undo()
        assert "SMB_ROOT" not in os.environ and os.environ["NO_COLOR"] == "1"


    def test_leaks():
        os.environ["SMB_LEAKED"] = "yes"
        del os.environ["KEEP_ME"]


    def test_after_a_leak_the_next_test_starts_clean():
        assert "SMB_LEAKED" not in os.environ and os.environ["KEEP_ME"] == "1"
    """
)


def test_smb_variables_are_removed_and_a_leak_fails_the_test_naming_it(tmp_path: Path):
    shutil.copy(REPO_ROOT / "tests" / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "test_inner.py").write_text(INNER_TESTS)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")  # the inner run's rootdir: not this repository's config
    env = dict(os.environ, SMB_ROOT="/nonexistent", SMB_LOCK_TIMEOUT="soon", SMB_NOT_INVENTED_YET="1",
               KEEP_ME="1", PYTHONPATH=str(REPO_ROOT / "tests"))
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
                             str(tmp_path)],
                            cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                            timeout=120)
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "5 passed, 1 error" in out, out  # the leaking test is reported at its teardown
    assert "ERROR at teardown of test_leaks" in out, out
    assert "test_inner.py::test_leaks changed the process environment" in out, out
    assert "KEEP_ME was removed (it was '1')" in out and "SMB_LEAKED was set to 'yes'" in out, out
    assert "test_what_monkeypatch_restores" not in out.split("short test summary")[-1], out
