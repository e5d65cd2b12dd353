"""The builtin agent's CSS, JS and trade copy ship as package data and render from an installed copy."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

from support import REPO_ROOT

from smbatcher.agents.builtin import make_design, parse_design, render_site

ASSETS = REPO_ROOT / "smbatcher" / "agents" / "builtin" / "assets"


def _wheel_contents() -> dict[str, Path]:
    """What a wheel of the checkout holds: every module, plus the package-data globs of pyproject.toml.

    Building a real wheel needs setuptools and wheel in the venv (or the
    network); this reads the same table setuptools reads, so a new asset
    missing from it fails here.
    """
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contents = {
        path.relative_to(REPO_ROOT).as_posix(): path
        for path in (REPO_ROOT / "smbatcher").rglob("*.py")
        if "__pycache__" not in path.parts
    }
    for package, patterns in config["tool"]["setuptools"]["package-data"].items():
        folder = REPO_ROOT.joinpath(*package.split("."))
        for pattern in patterns:
            for path in folder.glob(pattern):
                contents[path.relative_to(REPO_ROOT).as_posix()] = path
    return contents


def test_every_builtin_asset_is_package_data():
    assets = {path.relative_to(REPO_ROOT).as_posix() for path in ASSETS.iterdir() if path.is_file()}
    assert {"site.css", "site.js"} <= {Path(name).name for name in assets}
    # The trades' copy is data too (one JSON file per group of trades).
    trades = {path.relative_to(REPO_ROOT).as_posix() for path in (ASSETS.parent / "trades").iterdir()}
    assert "smbatcher/agents/builtin/trades/neutral.json" in trades
    assets |= trades
    missing = assets - set(_wheel_contents())
    assert not missing, f"not in [tool.setuptools.package-data]: {sorted(missing)}"


def test_agent_runs_from_a_zipped_install(tmp_path):
    # A zip on sys.path is the strictest install: the assets are found through
    # importlib.resources or not at all (no files next to the modules).
    archive = tmp_path / "smbatcher.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for name, path in _wheel_contents().items():
            bundle.write(path, name)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SMB_", "PYTHON"))}
    env["PYTHONPATH"] = str(archive)

    def python(*args: str, **smb: str) -> subprocess.CompletedProcess:
        # -S: no site-packages, so the editable install of the checkout cannot answer the import.
        return subprocess.run([sys.executable, "-S", *args], env={**env, **smb}, cwd=tmp_path,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)

    where = python("-c", "import smbatcher.agents.builtin as b; print(b.__file__)")
    assert where.returncode == 0, where.stderr
    assert where.stdout.startswith(str(archive)), where.stdout

    design_file, site = tmp_path / "d.md", tmp_path / "site"
    designed = python("-m", "smbatcher.agents.builtin", SMB_PHASE="design", SMB_DOMAIN="green-leaf.io",
                      SMB_OUTPUT=str(design_file))
    assert designed.returncode == 0, designed.stderr
    built = python("-m", "smbatcher.agents.builtin", SMB_PHASE="implement", SMB_DOMAIN="green-leaf.io",
                   SMB_OUTPUT=str(site), SMB_DESIGN=str(design_file))
    assert built.returncode == 0, built.stderr

    expected = render_site(parse_design(make_design("green-leaf.io")), "green-leaf.io")
    assert {path.name: path.read_bytes().decode() for path in site.iterdir()} == expected
