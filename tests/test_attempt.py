"""One attempt on its own, without a pool: a fake agent through start, watch, end and verdict (issue 19)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import psutil
from support.waiting import wait_for

from smbatcher.agents.classes import NO_OUTPUT, OK, SITE, STALLED, STOPPED
from smbatcher.pool.attempt import Attempt, exec_failure, judge
from smbatcher.pool.executor import Job


def job(tmp_path: Path, script: str, *, timeout: float = 60, grace: float = 2, prompt: bytes = b"build it") -> Job:
    staging = tmp_path / "staging"
    staging.mkdir(exist_ok=True)
    agent = tmp_path / "agent.py"
    agent.write_text(script)
    return Job(key="a.example-implement-1", domain="a.example", phase="implement", attempt=1,
               argv=[sys.executable, str(agent)], env={"PATH": "/usr/bin:/bin"}, cwd=staging,
               output=staging / "site", prompt=prompt, log_path=tmp_path / "a.log",
               header=b"=== smb start a.example attempt 1\n", timeout=timeout, grace=grace)


def run_to_end(attempt: Attempt, limit: float = 30):
    def ended():
        attempt.tick(time.monotonic())
        return attempt.poll()

    end = wait_for(ended, limit, "the agent to end")
    attempt.release()
    return end


def test_an_agent_reads_its_prompt_writes_its_log_and_its_success_is_judged_ok(tmp_path):
    script = ("import json, os, sys\n"
              "prompt = sys.stdin.read()\n"
              "os.makedirs('site')\n"
              "open('site/index.html', 'w').write(prompt)\n"
              "print(json.dumps({'type': 'result', 'is_error': False, 'result': 'built', 'total_cost_usd': 0.5}))\n")
    j = job(tmp_path, script)
    end = run_to_end(Attempt.start(j))
    assert end.exit_code == 0 and not end.timed_out
    assert (j.output / "index.html").read_text() == "build it"
    log = j.log_path.read_text()
    assert log.startswith("=== smb start a.example") and '"result": "built"' in log
    verdict = judge(j, end, output_ok=True, said=log, missing_output="no index.html")
    assert (verdict.kind, verdict.failure_class) == ("ok", OK)
    assert verdict.report.cost_usd == 0.5


def test_exit_zero_without_output_is_no_output_and_a_crash_is_the_sites(tmp_path):
    j = job(tmp_path, "print('did nothing')\n")
    end = run_to_end(Attempt.start(j))
    verdict = judge(j, end, output_ok=False, said=j.log_path.read_text(), missing_output="no index.html")
    assert (verdict.kind, verdict.failure_class, verdict.error) == ("failed", NO_OUTPUT, "no index.html")

    j = job(tmp_path, "import sys\nprint('the page would not render', file=sys.stderr)\nsys.exit(3)\n")
    end = run_to_end(Attempt.start(j))
    verdict = judge(j, end, output_ok=False, said=j.log_path.read_text(), missing_output="no index.html")
    assert (verdict.kind, verdict.failure_class) == ("failed", SITE)
    assert verdict.error == "exit=3: the page would not render"


def test_a_timeout_ends_the_whole_group_and_is_judged_a_timeout(tmp_path):
    script = ("import subprocess, sys, time\n"
              "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
              "print(child.pid, flush=True)\n"
              "time.sleep(600)\n")
    j = job(tmp_path, script, timeout=1.0, grace=1.0)
    attempt = Attempt.start(j)
    child = int(wait_for(lambda: j.log_path.read_text().splitlines()[1:], 30, "the child's pid")[0])
    end = run_to_end(attempt)
    assert end.timed_out
    verdict = judge(j, end, output_ok=False, said=j.log_path.read_text(), missing_output="")
    assert verdict.kind == "timeout" and verdict.error.startswith("timeout after 1s")
    wait_for(lambda: not psutil.pid_exists(child) or psutil.Process(child).status() == psutil.STATUS_ZOMBIE,
             10, "the agent's child to be gone")


def test_a_stopped_attempt_is_stopped_not_failed(tmp_path):
    j = job(tmp_path, "import time\nprint('working', flush=True)\ntime.sleep(600)\n")
    attempt = Attempt.start(j)
    wait_for(lambda: "working" in j.log_path.read_text(), 30, "the agent to start")
    attempt.stop(time.monotonic())
    end = run_to_end(attempt)
    assert end.stopped and not end.timed_out
    verdict = judge(j, end, output_ok=False, said="", missing_output="")
    assert (verdict.kind, verdict.failure_class) == ("stopped", STOPPED)


def test_a_prompt_larger_than_a_pipe_arrives_whole(tmp_path):
    prompt = json.dumps(["x" * 100] * 5000).encode()  # ~500 KB: more than a pipe holds
    script = "import sys\ndata = sys.stdin.buffer.read()\nprint(len(data))\n"
    j = job(tmp_path, script, prompt=prompt)
    run_to_end(Attempt.start(j))
    assert j.log_path.read_text().splitlines()[-1] == str(len(prompt))


def test_an_agent_that_prints_its_result_and_hangs_is_reaped_and_judged_as_if_it_had_exited(tmp_path):
    script = ("import json, os, time\n"
              "os.makedirs('site')\n"
              "open('site/index.html', 'w').write('ok')\n"
              "print(json.dumps({'type': 'result', 'is_error': False, 'result': 'built'}), flush=True)\n"
              "time.sleep(600)\n")
    j = job(tmp_path, script, timeout=300)
    started = time.monotonic()
    end = run_to_end(Attempt.start(j), limit=60)
    assert end.reaped and end.exit_code == 0 and not end.timed_out
    assert time.monotonic() - started < 30  # REAP_AFTER plus start-up, not the 300 s timeout
    assert "[smb] reaped" in j.log_path.read_text()
    verdict = judge(j, end, output_ok=True, said=j.log_path.read_text(), missing_output="")
    assert (verdict.kind, verdict.failure_class) == ("ok", OK)


def test_an_agent_silent_for_stall_timeout_is_stopped_and_judged_stalled(tmp_path):
    j = job(tmp_path, "import time\nprint('thinking', flush=True)\ntime.sleep(600)\n", timeout=300)
    j.stall_timeout = 1.0
    end = run_to_end(Attempt.start(j), limit=60)
    assert end.stalled and not end.timed_out and not end.reaped
    verdict = judge(j, end, output_ok=False, said="", missing_output="")
    assert (verdict.kind, verdict.failure_class, verdict.error) == ("error", STALLED, "stalled: no output for 1s")


def test_an_agent_that_keeps_talking_is_not_stalled(tmp_path):
    script = "import time\nfor _ in range(8):\n    print('working', flush=True)\n    time.sleep(0.3)\n"
    j = job(tmp_path, script, timeout=300)
    j.stall_timeout = 1.5
    end = run_to_end(Attempt.start(j), limit=60)
    assert not end.stalled and end.exit_code == 0


def test_an_agent_exec_refuses_is_named_with_its_errno(tmp_path):
    j = job(tmp_path, "")
    agent = tmp_path / "agent.sh"
    agent.write_text("no shebang here\n")
    agent.chmod(0o755)
    j.argv = [str(agent)]
    try:
        Attempt.start(j)
    except OSError as exc:
        assert exec_failure(exc, j) == f"cannot start the agent {agent}: Exec format error (ENOEXEC)"
    else:
        raise AssertionError("the agent started")
