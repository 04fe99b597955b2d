"""Undo an update that was killed half-way (SIGKILL, a closed laptop, a cancelled CI job).

`mlstack update` holds `.git/mlstack-update.lock` while it runs. The lock names its process
(id and start time, so a reused process id is not mistaken for it) and, before the update's
first write, what HEAD and the branches it may move pointed to and how it will move the work
tree. A failure the update sees is undone at once; the record is removed only once that
undo has succeeded. A killed process undoes nothing: the record it leaves lets the next run
say so, and `mlstack update --recover` put back what the update changed, and nothing else.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from mlstack.errors import MlstackError, RepoStateError, one_line
from mlstack.gitrepo import GitRepo, Snapshot, open_repo, signals_held
from mlstack.render import process_alive

LOCK_NAME = "mlstack-update.lock"
RECOVER_COMMAND = "mlstack update --recover"


def process_start(pid: int) -> str | None:
    """When process `pid` started (clock ticks since boot, from /proc), or None where unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields_after_name = stat.rsplit(")", 1)[-1].split()
    return fields_after_name[19] if len(fields_after_name) > 19 else None


@dataclass
class UpdateInProgress:
    """What a lock file says: which process holds it and, once it writes, what to restore."""

    path: Path
    pid: int | None
    started: str | None
    snapshot: Snapshot | None

    @property
    def running(self) -> bool:
        """Whether the process that wrote the lock still runs (not merely a process with its id)."""
        if self.pid is None or not process_alive(self.pid):
            return False
        now = process_start(self.pid)
        return self.started is None or now is None or now == self.started


class UpdateLock:
    """The lock of a running update; `settled` says whether it may be removed when the update ends."""

    def __init__(self, repo: GitRepo, path: Path):
        self.repo = repo
        self.path = path
        self.settled = True

    def record(self, snapshot: Snapshot) -> None:
        """Write what to restore before the next write (atomically: a kill never tears it)."""
        self.settled = False
        _write(self.path, {**_identity(), "snapshot": asdict(snapshot)})

    def settle(self) -> None:
        """The repository is consistent again (the update finished, or its undo succeeded)."""
        self.settled = True


@contextmanager
def update_lock(repo: GitRepo) -> Iterator[UpdateLock]:
    """Hold the update lock; it stays behind only when a rollback could not finish."""
    path = repo.git_dir / LOCK_NAME
    try:
        descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError as error:
        raise RepoStateError(f"another mlstack update is running in this repository (or one crashed: "
                             f"`{RECOVER_COMMAND}` tells which)") from error
    os.write(descriptor, json.dumps(_identity()).encode())
    os.close(descriptor)
    lock = UpdateLock(repo, path)
    try:
        yield lock
    finally:
        if lock.settled:
            path.unlink(missing_ok=True)


def roll_back(repo: GitRepo, snapshot: Snapshot, lock: UpdateLock | None, failure: BaseException) -> None:
    """Undo a failed update, immune to further signals; the lock stays if the undo fails."""
    with signals_held():
        try:
            snapshot.restore(repo)
        except (MlstackError, OSError) as error:
            reason = error.message if isinstance(error, MlstackError) else str(error)
            raise RepoStateError(f"the update stopped ({_what_stopped(failure)}) and could not be undone: "
                                 f"{reason}; then `{RECOVER_COMMAND}` finishes undoing it") from failure
        if lock is not None:
            lock.settle()


def _what_stopped(failure: BaseException) -> str:
    if isinstance(failure, KeyboardInterrupt):
        return "interrupted"
    return failure.message if isinstance(failure, MlstackError) else f"{type(failure).__name__}: {failure}"


def read_progress(repo: GitRepo) -> UpdateInProgress | None:
    """The lock file's record; None without a lock. No snapshot: a run that had not written yet."""
    path = repo.git_dir / LOCK_NAME
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    if text.isdigit():  # written by mlstack before locks named the process start time
        return UpdateInProgress(path, int(text), None, None)
    try:
        data = json.loads(text)
        pid = int(data["pid"])
        started = str(data["process_start"]) if data.get("process_start") is not None else None
        if "snapshot" not in data:
            return UpdateInProgress(path, pid, started, None)
        known = {f.name for f in fields(Snapshot)}
        snapshot = Snapshot(**{k: v for k, v in data["snapshot"].items() if k in known})
        snapshot.created_branches = snapshot.created_branches or [str(b) for b in data.get("created_branches", [])]
        return UpdateInProgress(path, pid, started, snapshot)
    except (ValueError, TypeError, KeyError, AttributeError):
        # Unreadable (e.g. written by hand): nothing can be restored from it, but it can go.
        return UpdateInProgress(path, None, None, None)


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
    """Put back what the interrupted update changed (nothing else); the line to print."""
    repo = open_repo(project)
    found = read_progress(repo)
    if found is None:
        return "Nothing to recover: no interrupted mlstack update in this repository."
    if found.running:
        raise RepoStateError(f"mlstack update (process {found.pid}) is still running in this repository; "
                             "wait for it to finish")
    if found.snapshot is None:
        found.path.unlink(missing_ok=True)
        return "Removed the lock of an update that was interrupted before it changed anything."
    with signals_held():
        left = found.snapshot.restore(repo)
        found.path.unlink(missing_ok=True)
    message = f"Recovered: {_where(found.snapshot)} is back as it was before the interrupted update."
    if left:
        shown = ", ".join(one_line(path) for path in left[:10]) + (" ..." if len(left) > 10 else "")
        message += f" Changes made since, in files the update did not write, were left as they are: {shown}"
    return message


def _identity() -> dict[str, object]:
    return {"pid": os.getpid(), "process_start": process_start(os.getpid())}


def _write(path: Path, data: dict) -> None:
    staged = path.with_name(path.name + ".new")
    staged.write_text(json.dumps(data), encoding="utf-8")
    os.replace(staged, path)


def _where(snapshot: Snapshot) -> str:
    commit = (snapshot.head_commit or "")[:12]
    return f"{snapshot.head_branch} (at {commit})" if snapshot.head_branch else f"HEAD (at {commit})"
