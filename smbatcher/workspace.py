"""Finding the workspace root and naming the paths inside it (SPEC §1)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import UsageError

MARKER = ".smbatcher"


@dataclass(frozen=True)
class Workspace:
    root: Path

    @property
    def smb_dir(self) -> Path:
        return self.root / MARKER

    @property
    def config_file(self) -> Path:
        return self.smb_dir / "config.toml"

    @property
    def registry(self) -> Path:
        return self.smb_dir / "REGISTRY.md"

    @property
    def lock_file(self) -> Path:
        return self.smb_dir / "REGISTRY.md.lock"

    @property
    def batches(self) -> Path:
        return self.smb_dir / "batches"

    @property
    def designs(self) -> Path:
        return self.smb_dir / "designs"

    @property
    def runs(self) -> Path:
        return self.smb_dir / "runs"

    @property
    def backups(self) -> Path:
        return self.smb_dir / "backups"

    @property
    def tmp(self) -> Path:
        return self.smb_dir / "tmp"

    @property
    def design_cache(self) -> Path:
        return self.smb_dir / "design-cache"

    @property
    def prompts(self) -> Path:
        return self.smb_dir / "prompts"

    @property
    def sites(self) -> Path:
        return self.root / "sites"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def events(self) -> Path:
        return self.logs / "events.jsonl"

    # Paths built from a domain: callers pass domains that passed
    # registry.normalize_domain, so none can hold "/" or "..".
    def manifest(self, batch: str) -> Path:
        return self.batches / f"Batch_{batch}.md"

    def design_file(self, domain: str) -> Path:
        return self.designs / f"{domain}-DESIGN.md"

    def site_dir(self, domain: str) -> Path:
        return self.sites / f"{domain}-v1"

    def site_log(self, domain: str, phase: str, attempt: int) -> Path:
        return self.logs / "sites" / domain / f"{phase}-{attempt}.log"

    def run_log(self, phase: str, batch: str, wave: int | None = None) -> Path:
        suffix = f"-wave-{wave}" if wave else ""
        return self.logs / f"{phase}-{batch}{suffix}.log"

    def rel(self, path: Path) -> str:
        """A path as the operator would type it from the workspace root."""
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)


def find_workspace(root: str | os.PathLike | None = None) -> Workspace:
    """``--root`` beats ``$SMB_ROOT`` beats walking up from the current folder."""
    explicit = root if root is not None else os.environ.get("SMB_ROOT") or None
    if explicit is not None:
        path = Path(explicit).expanduser().absolute()
        if not (path / MARKER).is_dir():
            raise UsageError(f"no smb workspace at {path} (no {MARKER}/ folder; create one with: smb init {path})")
        return Workspace(path)
    here = Path.cwd().absolute()
    for folder in (here, *here.parents):
        if (folder / MARKER).is_dir():
            return Workspace(folder)
    raise UsageError(f"no smb workspace found in {here} or above (create one with: smb init)")


def enclosing_workspace(directory: str | os.PathLike) -> Workspace | None:
    """The workspace ``directory`` lies inside (not counting ``directory`` itself), if any."""
    path = Path(directory).expanduser().absolute()
    for folder in path.parents:
        if (folder / MARKER).is_dir():
            return Workspace(folder)
    return None


def create_workspace(directory: str | os.PathLike, *, allow_nested: bool = True) -> tuple[Workspace, list[str]]:
    """``smb init``: make the skeleton; never overwrite an existing registry or config.

    ``allow_nested=False`` (``smb init`` without ``--force``) refuses a folder inside another
    workspace: run from ``sites/`` it silently made a second, empty workspace whose commands then
    showed 0 sites (issue 22). Initialising an existing workspace again is not nesting.
    """
    from .config import default_config_text
    from .fs import write_new
    from .registry import new_registry_text

    workspace = Workspace(Path(directory).expanduser().absolute())
    if not allow_nested and not workspace.smb_dir.is_dir():
        outer = enclosing_workspace(workspace.root)
        if outer is not None:
            raise UsageError(f"{workspace.root} is inside the workspace {outer.root}; nothing was created "
                             f"(smb commands run here use {outer.root}; smb init --force makes a nested one)")
    created: list[str] = []
    folders = (workspace.smb_dir, workspace.batches, workspace.designs, workspace.runs, workspace.backups,
               workspace.tmp, workspace.design_cache, workspace.sites, workspace.logs)
    for path in (workspace.root, *folders):
        if path.exists() and not path.is_dir():
            raise UsageError(f"cannot make a workspace: {path} exists and is not a folder; nothing was created")
    try:
        for folder in folders:
            if not folder.is_dir():
                folder.mkdir(parents=True, exist_ok=True)
                created.append(workspace.rel(folder) + "/")
        for path, text in ((workspace.config_file, default_config_text()), (workspace.registry, new_registry_text())):
            if path.is_dir():
                raise UsageError(f"cannot make a workspace: {workspace.rel(path)} is a folder, not a file")
            if write_new(path, text):  # all or nothing; an existing file is never overwritten
                created.append(workspace.rel(path))
    except OSError as exc:
        from .errors import os_error

        raise os_error(exc, exc.filename or str(workspace.root), "create") from None
    return workspace, created
