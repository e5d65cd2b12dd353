"""Every GitPython call: autocommit of the registry and manifests, and the registry's history (SPEC §7).

Imported only by commands that write with autocommit on, or read history, so
GitPython never slows ``smb list-sites``.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import SmbError
from .workspace import Workspace


def _repo(workspace: Workspace):
    try:
        import git
    except ImportError as exc:  # GitPython needs the git binary too
        raise SmbError(f"git autocommit is on but git is unavailable: {exc}") from None
    try:
        return git.Repo(workspace.root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None


def _git_config(repo, key: str) -> str:
    import git

    try:
        return repo.git.config("--get", key).strip()
    except git.GitCommandError:  # exit 1: the key is not set
        return ""


def _identity_env(repo) -> dict[str, str]:
    # A fresh machine may have no user.email; a commit must still succeed from cron.
    # Ask git itself: GitPython's config_reader() ignores GIT_CONFIG_GLOBAL/XDG and its
    # get_value(default=None) raises NoSectionError when there is no [user] at all.
    env = {}
    if not _git_config(repo, "user.name") and "GIT_AUTHOR_NAME" not in os.environ:
        env.update(GIT_AUTHOR_NAME="smb", GIT_COMMITTER_NAME="smb")
    if not _git_config(repo, "user.email") and "GIT_AUTHOR_EMAIL" not in os.environ:
        env.update(GIT_AUTHOR_EMAIL="smb@localhost", GIT_COMMITTER_EMAIL="smb@localhost")
    return env


def commit_registry(workspace: Workspace, message: str) -> str | None:
    """Commit REGISTRY.md and the batch manifests, nothing else; never push. Returns the sha or None."""
    repo = _repo(workspace)
    if repo is None:
        return None
    top = Path(repo.working_tree_dir)
    paths = [workspace.registry, *sorted(workspace.batches.glob("Batch_*.md"))]
    rel = [str(p.relative_to(top)) for p in paths if p.exists()]
    import git

    try:
        repo.git.add("--", *rel)
        if not repo.git.diff("--cached", "--name-only", "--", *rel).strip():
            return None  # nothing changed since the last commit
        with repo.git.custom_environment(**_identity_env(repo)):
            # --only: other staged work of the operator stays out of our commit.
            repo.git.commit("-m", message, "--only", "--no-verify", "--", *rel)
    except git.GitCommandError as exc:
        raise SmbError(f"git commit of the registry failed: {exc.stderr.strip() or exc}") from None
    return repo.head.commit.hexsha


def registry_history(workspace: Workspace, domain: str, limit: int = 200) -> list[dict]:
    """The domain's status in each commit of REGISTRY.md that changed it, oldest first."""
    from .registry import parse

    repo = _repo(workspace)
    if repo is None:
        return []
    top = Path(repo.working_tree_dir)
    rel = str(workspace.registry.relative_to(top))
    history: list[dict] = []
    last = None
    try:
        commits = list(repo.iter_commits(paths=rel, max_count=limit))
    except Exception:  # no commits yet, or the path was never committed
        return []
    for commit in reversed(commits):
        try:
            text = (commit.tree / rel).data_stream.read().decode("utf-8", "replace")
        except KeyError:
            continue
        row = parse(text).row(domain)
        state = row.status if row is not None else None
        if state != last:
            history.append({"ts": commit.committed_date, "event": "commit", "domain": domain, "to": state,
                            "commit": commit.hexsha[:10], "message": commit.summary})
            last = state
    return history
