"""Undo an update that was killed half-way (SIGKILL, a closed laptop, a cancelled CI job).

`mlstack update` holds `.git/mlstack-update.lock` while it runs. Before its first write it
stores in that file where HEAD and the branches it may move pointed; a failure it sees is
undone at once, but a killed process undoes nothing. The record it leaves behind lets the next
run say so, and `mlstack update --recover` put the repository back from it.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from mlstack.errors import RepoStateError
from mlstack.gitrepo import GitRepo, Snapshot, open_repo
from mlstack.render import process_alive

LOCK_NAME = "mlstack-update.lock"
RECOVER_COMMAND = "mlstack update --recover"


@dataclass
class UpdateInProgress:
    """What a lock file says: which process holds it and, once it writes, what to restore."""

    path: Path
    pid: int | None
    snapshot: Snapshot | None
    created_branches: list[str]

    @property
    def running(self) -> bool:
        return self.pid is not None and process_alive(self.pid)


def save_progress(repo: GitRepo, snapshot: Snapshot, created_branches: list[str]) -> None:
    """Record what to restore before the update's first write (atomically: a kill never tears it)."""
    path = repo.git_dir / LOCK_NAME
    staged = path.with_name(path.name + ".new")
    staged.write_text(json.dumps({"pid": os.getpid(), "snapshot": asdict(snapshot),
                                  "created_branches": created_branches}), encoding="utf-8")
    os.replace(staged, path)


def read_progress(repo: GitRepo) -> UpdateInProgress | None:
    """The lock file's record; None without a lock. A bare PID is a run that had not written yet."""
    path = repo.git_dir / LOCK_NAME
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    if text.isdigit():
        return UpdateInProgress(path, int(text), None, [])
    try:
        data = json.loads(text)
        snapshot = Snapshot(**data["snapshot"])
        return UpdateInProgress(path, int(data["pid"]), snapshot, [str(b) for b in data["created_branches"]])
    except (ValueError, TypeError, KeyError):
        # Unreadable (e.g. written by hand): nothing can be restored from it, but it can go.
        return UpdateInProgress(path, None, None, [])


def refuse_if_interrupted(repo: GitRepo) -> None:
    """Stop an update that would start on top of a killed one, naming the command that undoes it."""
    found = read_progress(repo)
    if found is None or found.running:
        return  # no lock, or a live run: the lock itself refuses the second one
    if found.snapshot is None:
        raise RepoStateError(f"an earlier mlstack update was interrupted before it changed anything; "
                             f"`{RECOVER_COMMAND}` removes the lock it left")
    raise RepoStateError(f"an earlier mlstack update was interrupted half-way; `{RECOVER_COMMAND}` puts "
                         f"{_where(found.snapshot)} back as it was before that update")


def recover_update(project: Path) -> str:
    """Put the repository back as it was before the interrupted update; the line to print."""
    repo = open_repo(project)
    found = read_progress(repo)
    if found is None:
        return "Nothing to recover: no interrupted mlstack update in this repository."
    if found.running:
        raise RepoStateError(f"mlstack update (process {found.pid}) is still running in this repository; "
                             "wait for it to finish")
    if found.snapshot is not None:
        found.snapshot.restore(repo, found.created_branches)
    found.path.unlink(missing_ok=True)
    if found.snapshot is None:
        return "Removed the lock of an update that was interrupted before it changed anything."
    return f"Recovered: {_where(found.snapshot)} is back as it was before the interrupted update."


def _where(snapshot: Snapshot) -> str:
    commit = (snapshot.head_commit or "")[:12]
    return f"{snapshot.head_branch} (at {commit})" if snapshot.head_branch else f"HEAD (at {commit})"

