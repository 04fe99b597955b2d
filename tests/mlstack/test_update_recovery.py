"""Interrupted updates: recovery restores only what the update changed, and signals can't defeat it.

Interrupts are deterministic: a `git` wrapper first on PATH holds `.git/index.lock`, signals
mlstack or dies at a chosen git command, then runs the real git (issue 15: 2, 4, and the
reused-PID and dry-run decisions).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.template_repos import TemplateRepo, append, commit_all, copy_project, fingerprint, generate, invoke
from mlstack.errors import GIT_ERROR, INTERRUPTED, REPO_STATE

NOTES = "docs/upgrade-notes.md"
REAL_GIT = shutil.which("git")


@pytest.fixture(scope="module")
def origin(tmp_path_factory):
    root = tmp_path_factory.mktemp("recovery")

    def notes(template: TemplateRepo) -> None:
        (template.project / NOTES).write_text("".join(f"note {i}\n" for i in range(1, 11)))

    template = TemplateRepo(root / "template", first_tag="v0.9.0")
    template.release("v1.0.0", notes)
    template.first_tag = "v1.0.0"

    def v2(t: TemplateRepo) -> None:
        lines = (t.project / NOTES).read_text().splitlines(keepends=True)
        lines[4] = "note 5 by the template\n"
        (t.project / NOTES).write_text("".join(lines))
        (t.project / "docs" / "new-in-v2.md").write_text("new\n")
    template.release("v2.0.0", v2, base="v1.0.0")
    return template, generate(template, root / "out")


@pytest.fixture
def project(origin, tmp_path):
    project = copy_project(origin[1], tmp_path / "project")
    append(project / "Makefile", "\n# team\n")
    commit_all(project)
    return project


def run_mlstack(*args: str, path_dir: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if path_dir is not None:
        env["PATH"] = f"{path_dir}:{env['PATH']}"
    return subprocess.run([sys.executable, "-m", "mlstack", *args], capture_output=True, text=True, timeout=300,
                          env=env)


def git_wrapper(tmp_path: Path, body: str) -> Path:
    """A `git` first on PATH: `body` (sh) runs before the real git ($real_git); $args holds the arguments."""
    folder = tmp_path / "wrapped-git"
    folder.mkdir()
    script = folder / "git"
    script.write_text(f'#!/bin/sh\nargs="$*"\nreal_git={REAL_GIT}\nstate={tmp_path}/wrapper-state\n{body}\n'
                      'exec "$real_git" "$@"\n')
    script.chmod(0o755)
    return folder


KILLED_AFTER_CHECKOUT = """
import os, signal, sys
from mlstack import gitrepo
original = gitrepo.GitRepo.checkout_tree
def then_killed(self, *args, **kwargs):
    original(self, *args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)
gitrepo.GitRepo.checkout_tree = then_killed
from mlstack.cli import main
sys.argv = ["mlstack", "update", "-C", {project!r}, "--trust", "--to", "v2.0.0", "--no-input"]
main()
"""


def kill_after_checkout(project: Path) -> None:
    killed = subprocess.run([sys.executable, "-c", KILLED_AFTER_CHECKOUT.format(project=str(project))],
                            capture_output=True, text=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert (project / "docs" / "new-in-v2.md").exists()  # the kill left the work tree moved


# --- 2: --recover undoes the update and nothing else ------------------------------------------------

def test_recover_keeps_what_the_user_did_after_the_kill(project):
    before = fingerprint(project)
    kill_after_checkout(project)
    (project / "scratch.txt").write_text("mine, written after the kill\n")
    append(project / "README.md", "\nmy edit after the kill\n")
    readme = (project / "README.md").read_text()

    recovered = invoke("update", "-C", str(project), "--recover")

    assert recovered.exit_code == 0, recovered.output
    assert (project / "scratch.txt").read_text() == "mine, written after the kill\n"
    assert (project / "README.md").read_text() == readme
    assert "left as they are" in recovered.output and "README.md" in recovered.output
    after = fingerprint(project)
    assert after["refs"] == before["refs"] and after["head"] == before["head"]
    assert after["index"] == before["index"] and after["merge_state"] == []
    changed = {path for path, digest in after["files"].items() if before["files"].get(path) != digest}
    assert changed == {"scratch.txt", "README.md"}
    assert set(before["files"]) - set(after["files"]) == set()


def test_recover_refuses_when_a_file_the_update_wrote_was_changed_since(project):
    before = fingerprint(project)
    kill_after_checkout(project)
    append(project / NOTES, "my line, added after the kill\n")
    stuck = fingerprint(project)

    refused = invoke("update", "-C", str(project), "--recover")

    assert refused.exit_code == REPO_STATE and NOTES in refused.output, refused.output
    assert "move" in refused.output
    assert fingerprint(project) == stuck  # the refusal changed nothing, not even the lock
    (project / NOTES).unlink()  # the user moved their version out of the way
    assert invoke("update", "-C", str(project), "--recover").exit_code == 0
    assert fingerprint(project) == before


# --- 4: signals while a git child runs, and during the rollback ----------------------------------

def test_sigterm_while_git_holds_the_index_lock_rolls_back_completely(project, tmp_path):
    wrapper = git_wrapper(tmp_path, """
case "$args" in *"read-tree -m -u"*)
  lock="$("$real_git" rev-parse --absolute-git-dir)/index.lock"
  : > "$lock"; kill -TERM $PPID; sleep 1; rm -f "$lock";;
esac""")
    before = fingerprint(project)
    result = run_mlstack("update", "-C", str(project), "--trust", "--to", "v2.0.0", "--no-input", path_dir=wrapper)
    assert result.returncode == INTERRUPTED, result.stderr
    assert fingerprint(project) == before
    assert not (project / ".git" / "index.lock").exists()


def test_a_git_child_killed_holding_the_index_lock_does_not_block_the_rollback(project, tmp_path):
    wrapper = git_wrapper(tmp_path, """
case "$args" in *"read-tree -m -u"*)
  : > "$("$real_git" rev-parse --absolute-git-dir)/index.lock"; kill -KILL $$;;
esac""")
    before = fingerprint(project)
    result = run_mlstack("update", "-C", str(project), "--trust", "--to", "v2.0.0", "--no-input", path_dir=wrapper)
    assert result.returncode == GIT_ERROR, result.stderr
    assert "read-tree" in result.stderr and result.stderr.count("\n") == 1
    assert fingerprint(project) == before
    assert not (project / ".git" / "index.lock").exists()


def test_a_second_sigterm_cannot_interrupt_the_rollback(project, tmp_path):
    # The first TERM arrives while the work tree is being moved; the second on the next git
    # command, which is the rollback's first.
    wrapper = git_wrapper(tmp_path, """
if [ -e "$state.1" ] && [ ! -e "$state.2" ]; then : > "$state.2"; kill -TERM $PPID; fi
case "$args" in *"read-tree -m -u"*) if [ ! -e "$state.1" ]; then : > "$state.1"; kill -TERM $PPID; fi;; esac""")
    before = fingerprint(project)
    result = run_mlstack("update", "-C", str(project), "--trust", "--to", "v2.0.0", "--no-input", path_dir=wrapper)
    assert Path(f"{tmp_path}/wrapper-state.2").exists(), "the second signal was not sent"
    assert result.returncode == INTERRUPTED, result.stderr
    assert fingerprint(project) == before


def test_the_recovery_record_stays_until_the_rollback_has_succeeded(project, tmp_path):
    """A lock held by another program makes the rollback fail: the record must survive for --recover."""
    wrapper = git_wrapper(tmp_path, """
case "$args" in *"read-tree -m -u"*)
  "$real_git" "$@"; : > "$("$real_git" rev-parse --absolute-git-dir)/index.lock"; exit 1;;
esac""")
    before = fingerprint(project)
    result = run_mlstack("update", "-C", str(project), "--trust", "--to", "v2.0.0", "--no-input", path_dir=wrapper)
    assert result.returncode == REPO_STATE, result.stderr
    assert "mlstack update --recover" in result.stderr and "index.lock" in result.stderr
    assert (project / ".git" / "mlstack-update.lock").exists()
    stuck = invoke("update", "-C", str(project), "--recover")
    assert stuck.exit_code == REPO_STATE and str(project / ".git" / "index.lock") in stuck.output
    (project / ".git" / "index.lock").unlink()  # the other program is gone
    assert invoke("update", "-C", str(project), "--recover").exit_code == 0
    assert fingerprint(project) == before


# --- a lock whose process id was reused -----------------------------------------------------------

def test_a_lock_whose_pid_now_belongs_to_another_process_is_not_a_running_update(project):
    """The killed update's PID now names this (live) test process, which started at another time."""
    before = fingerprint(project)
    head = (project / ".git" / "refs" / "heads" / "main").read_text().strip()
    lock = project / ".git" / "mlstack-update.lock"
    lock.write_text(json.dumps({"pid": os.getpid(), "process_start": "1", "created_branches": [], "snapshot": {
        "head_branch": "main", "head_commit": head, "branches": {}, "orig_head": None}}))
    result = invoke("update", "-C", str(project), "--recover")
    assert result.exit_code == 0 and "Recovered: main" in result.output, result.output
    assert not lock.exists() and fingerprint(project) == before


# --- --dry-run and diff write nothing, not even git objects ------------------------------------------

def git_dir_state(project: Path) -> dict[str, str]:
    state = {}
    for path in sorted((project / ".git").rglob("*")):
        if path.is_file():
            state[str(path.relative_to(project))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return state


def test_dry_run_and_diff_write_no_object_into_the_repository(project):
    before = git_dir_state(project)
    dry = invoke("update", "-C", str(project), "--trust", "--to", "v2.0.0", "--dry-run", "--no-input")
    assert dry.exit_code == 0 and "Dry run" in dry.output, dry.output
    diff = invoke("diff", "-C", str(project), "--trust", "--to", "v2.0.0", "--patch")
    assert "note 5 by the template" in diff.output, diff.output
    assert git_dir_state(project) == before
