"""What the tests share, one module per question (issue 9: one home instead of copies in test modules).

- ``registry``   names (``domains``), registry text and rows: ``write_registry``, ``statuses``, ``rows``
- ``workspaces`` whole workspaces: ``make_workspace`` (designs and built sites), ``make_sites`` + the
                 fake-agent config (``write_config``), run records (``write_run``, ``run_files``)
- ``cli``        running smb: ``run_smb`` / ``start_smb`` + ``collect`` in a real process, ``invoke``
                 in-process (CliRunner), ``explain`` for assertion messages, ``assert_one_line_error``
- ``waiting``    ``wait_for``: poll a condition up to a deadline (never sleep-and-hope)
- ``agents``     the fake agents in tests/agents/: ``agent_cmd``, their marker files, ``tagged`` processes
- ``processes``  real processes outside smb: sleepers, orphans, dead identities, ``stop``
- ``net``        ``closed_port`` for the doctor's network checks (loopback only)
- ``disks``      real small file systems (root only, else skipped): ``tmpfs_mounts``, ``fill`` to ENOSPC
- ``text``       agent text a terminal would act on: ``ESCAPES``, ``RAW_CONTROL`` (issue 22)
- ``dashboard``  event-log history (``add_events``, ``failure_event``, ...) and the dashboard ``Server`` process
- ``sessions``   agent sessions on disk (issue 21): ``write_session`` (record, folder, output, transcript)
- ``browser``    headless Chromium over the DevTools protocol (a pipe, no driver): ``Browser``, ``png_variety``

Test modules import from here, never from each other; fixtures live in tests/conftest.py.
``tests/`` is on ``sys.path`` (``pythonpath`` in pyproject.toml's pytest section), so it is
``from support.registry import domains``. Benchmarks add ``tests/`` to ``sys.path`` themselves.
"""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
