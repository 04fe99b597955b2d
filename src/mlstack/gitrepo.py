"""Git plumbing for update, diff and link: clean-tree checks, pristine commits, merges, rollback.

Everything goes through the `git` command line (git >= 2.38 for `merge-tree --write-tree`).
Merges are computed in the object store first and only then written to the work tree, so
a failure before the last step leaves branches, index and files untouched.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from mlstack.errors import GitError, RepoStateError, one_line

FALLBACK_IDENTITY = {
    "GIT_AUTHOR_NAME": "mlstack",
    "GIT_AUTHOR_EMAIL": "mlstack@localhost",
    "GIT_COMMITTER_NAME": "mlstack",
    "GIT_COMMITTER_EMAIL": "mlstack@localhost",
}
# Variables that would point our commands at another repository, index, object store or work tree.
_INHERITED_GIT_VARIABLES = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_PREFIX", "GIT_OBJECT_DIRECTORY",
                            "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_COMMON_DIR", "GIT_NAMESPACE")
# A repository's own config must not make mlstack's git commands run a program: core.fsmonitor
# is a command that status, diff and ls-files start (a checked repository's .git/config is not ours).
SAFE_GIT_CONFIG = ("-c", "core.fsmonitor=false")
_CONFLICT_MARKER = re.compile(r"^(<{7}|\|{7}|>{7}) ([0-9a-f]{7,40})(:.*)?$")


@dataclass(frozen=True)
class ConflictEntry:
    """One index stage of a conflicted path, as `git merge-tree` reports it."""

    mode: str
    oid: str
    stage: int
    path: str


@dataclass
class TreeMerge:
    """The result of a three-way merge computed without touching the work tree."""

    tree: str
    entries: list[ConflictEntry] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    # The throwaway commits' ids by role (ours/theirs/base): they label the conflict markers.
    oids: dict[str, str] = field(default_factory=dict)

    def stages_by_path(self) -> dict[str, set[int]]:
        stages: dict[str, set[int]] = {}
        for entry in self.entries:
            stages.setdefault(entry.path, set()).add(entry.stage)
        return stages


@dataclass(frozen=True)
class Change:
    """One line of `git diff --name-status`: status letter, path, and the old path of a rename."""

    status: str
    path: str
    old_path: str | None = None

    def __str__(self) -> str:
        if self.old_path:
            return f"{self.status} {one_line(self.old_path)} -> {one_line(self.path)}"
        return f"{self.status} {one_line(self.path)}"


@contextmanager
def signals_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait until the block ends: for work that must not stop half-way.

    Git children started inside inherit the blocked signals, so a Ctrl-C in the terminal (sent
    to the whole process group) cannot kill them half-way either. A signal that arrived is
    delivered when the block ends.
    """
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class GitRepo:
    """A work tree's git repository, driven through the git command line."""

    def __init__(self, root: Path):
        self.root = root
        self._env = {k: v for k, v in os.environ.items() if k not in _INHERITED_GIT_VARIABLES}
        self._identity: dict[str, str] | None = None
        self._git_dir: Path | None = None

    # --- running git -----------------------------------------------------------------------

    def run(self, *args: str, input: str | bytes | None = None, env: Mapping[str, str] | None = None,
            check: bool = True, text: bool = True) -> str:
        """git's stdout; a failure becomes GitError with git's own line of complaint."""
        done = self.completed(*args, input=input, env=env, text=text)
        if check and done.returncode != 0:
            if done.returncode < 0:
                raise GitError(f"git {args[0]} was killed by signal {-done.returncode}")
            raise GitError(f"git {args[0]} failed: {git_complaint(done.stderr)}")
        return done.stdout

    def completed(self, *args: str, input: str | bytes | None = None, env: Mapping[str, str] | None = None,
                  text: bool = True) -> subprocess.CompletedProcess:
        """Run git to the end, even when mlstack is interrupted meanwhile.

        subprocess.run kills its child on Ctrl-C or SIGTERM; a git killed half-way leaves
        `index.lock` behind and a half-written work tree, so mlstack lets the child finish and
        then re-raises. An index lock left by a child that died of a signal (SIGKILL from
        outside) was its own: it is removed.
        """
        environment = {**self._env, **(env or {})}
        if isinstance(input, str):
            input = input.encode("utf-8", "surrogateescape")
        index_lock = self._index_lock(environment)
        lock_was_there = index_lock is not None and index_lock.exists()
        process = None
        try:
            # Held while starting: a signal between fork and communicate() would lose the child.
            # (Children inherit the mask, so the terminal's Ctrl-C does not stop git half-way.)
            with signals_held():
                process = subprocess.Popen(["git", *SAFE_GIT_CONFIG, *args], cwd=self.root, env=environment,
                                           stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            out, err = process.communicate(input)
        except BaseException:
            if process is not None:
                with signals_held():
                    process.communicate()
            raise
        if process.returncode < 0 and index_lock is not None and not lock_was_there:
            index_lock.unlink(missing_ok=True)
        if text:
            out, err = (stream.decode("utf-8", "surrogateescape") for stream in (out, err))
        return subprocess.CompletedProcess(process.args, process.returncode, out, err)

    def _index_lock(self, environment: Mapping[str, str]) -> Path | None:
        """The lock file of the index a command would write (None until the git dir is known)."""
        if "GIT_INDEX_FILE" in environment:
            return Path(environment["GIT_INDEX_FILE"] + ".lock")
        return self._git_dir / "index.lock" if self._git_dir is not None else None

    def ok(self, *args: str) -> bool:
        return self.completed(*args).returncode == 0

    @property
    def git_dir(self) -> Path:
        if self._git_dir is None:
            self._git_dir = Path(self.run("rev-parse", "--absolute-git-dir").strip())
        return self._git_dir

    # --- reading state ---------------------------------------------------------------------

    def rev(self, name: str) -> str | None:
        """The object id `name` points at, or None when there is no such ref or object."""
        done = self.completed("rev-parse", "--verify", "--quiet", "--end-of-options", name)
        return done.stdout.strip() if done.returncode == 0 else None

    def has_commit(self, oid: str) -> bool:
        return self.ok("cat-file", "-e", "--end-of-options", f"{oid}^{{commit}}")

    def tree_of(self, commit: str) -> str:
        return self.run("rev-parse", "--verify", "--end-of-options", f"{commit}^{{tree}}").strip()

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        return self.ok("merge-base", "--is-ancestor", "--end-of-options", ancestor, descendant)

    def current_branch(self) -> str | None:
        done = self.completed("symbolic-ref", "--quiet", "--short", "HEAD")
        return done.stdout.strip() if done.returncode == 0 else None

    def branch_exists(self, branch: str) -> bool:
        return self.rev(f"refs/heads/{branch}") is not None

    def remote_branches_named(self, branch: str) -> list[str]:
        """Remote-tracking refs ending in /<branch>, e.g. refs/remotes/origin/mlstack/template."""
        refs = self.run("for-each-ref", "--format=%(refname)", "refs/remotes/").split()
        return [ref for ref in refs if ref.split("/", 3)[-1] == branch]

    def show_file(self, commit: str, path: str) -> str | None:
        done = self.completed("show", "--end-of-options", f"{commit}:{path}")
        return done.stdout if done.returncode == 0 else None

    def status_lines(self) -> list[str]:
        """Uncommitted changes and untracked files (ignored files excluded), one line each."""
        out = self.run("status", "--porcelain=v1", "-z", "--untracked-files=all")
        entries = [entry for entry in out.split("\0") if entry]
        lines, skip_next = [], False
        for entry in entries:
            if skip_next:  # the source path of a rename
                skip_next = False
                continue
            lines.append(entry)
            skip_next = entry[0] in "RC"
        return lines

    def operation_in_progress(self) -> str | None:
        """The git operation (merge, rebase, ...) left unfinished in this repository, if any."""
        git_dir = self.git_dir
        for marker, name in (("MERGE_HEAD", "merge"), ("CHERRY_PICK_HEAD", "cherry-pick"),
                             ("REVERT_HEAD", "revert"), ("rebase-merge", "rebase"),
                             ("rebase-apply", "rebase or am"), ("BISECT_LOG", "bisect")):
            if (git_dir / marker).exists():
                return name
        return None

    def require_clean(self, action: str) -> None:
        """Refuse to go on with uncommitted changes, untracked files or an unfinished operation."""
        operation = self.operation_in_progress()
        if operation:
            raise RepoStateError(f"a git {operation} is in progress; finish or abort it before {action}")
        dirty = self.status_lines()
        if dirty:
            shown = ", ".join(one_line(line[3:]) for line in dirty[:5]) + (" ..." if len(dirty) > 5 else "")
            raise RepoStateError(
                f"the work tree has uncommitted changes or untracked files ({shown}); "
                f"commit or stash them (git stash --include-untracked) before {action}",
                details=[f"error: the work tree is not clean, so nothing was changed: {shown}",
                         f"error: commit or stash them (git stash --include-untracked) before {action}"])

    def changes(self, old: str, new: str | None = None, *, exclude: tuple[str, ...] = ()) -> list[Change]:
        """name-status differences between two commits/trees (None: the work tree), renames found."""
        args = ["diff", "--no-ext-diff", "--no-color", "--name-status", "-z", "-M", "--end-of-options", old]
        if new:
            args.append(new)
        args += ["--", "."] + [f":(exclude){path}" for path in exclude]
        fields = [f for f in self.run(*args).split("\0") if f]
        changes, index = [], 0
        while index < len(fields):
            status = fields[index][0]
            if status in "RC":
                changes.append(Change(status, fields[index + 2], fields[index + 1]))
                index += 3
            else:
                changes.append(Change(status, fields[index + 1]))
                index += 2
        return changes

    def patch(self, old: str, new: str | None = None, *, exclude: tuple[str, ...] = ()) -> str:
        args = ["diff", "--no-ext-diff", "--no-color", "-M", "--end-of-options", old]
        if new:
            args.append(new)
        return self.run(*args, "--", ".", *[f":(exclude){path}" for path in exclude])

    # --- writing objects (no ref, index or work tree changes) --------------------------------

    def identity(self) -> dict[str, str]:
        """Environment for commits: the user's identity, or mlstack's when none is configured."""
        if self._identity is None:
            self._identity = {} if self.ok("var", "GIT_COMMITTER_IDENT") and self.ok("var", "GIT_AUTHOR_IDENT") \
                else dict(FALLBACK_IDENTITY)
        return self._identity

    def commit_tree(self, tree: str, parents: list[str], message: str) -> str:
        args = ["commit-tree", tree]
        for parent in parents:
            args += ["-p", parent]
        return self.run(*args, input=message, env=self.identity()).strip()

    def commit_directory(self, directory: Path, parents: list[str], message: str) -> tuple[str, str]:
        """Commit every file of `directory` (honouring only its own .gitignore files); (commit, tree)."""
        with self._temporary_index() as env:
            tree_env = {**env, "GIT_WORK_TREE": str(directory)}
            files = self.run("ls-files", "-z", "--others", "--exclude-per-directory=.gitignore",
                             env=tree_env)
            names = [name for name in files.split("\0") if name and not name.startswith(".git/")]
            if names:
                self.run("update-index", "--add", "-z", "--stdin", input="\0".join(names) + "\0", env=tree_env)
            tree = self.run("write-tree", env=env).strip()
        return self.commit_tree(tree, parents, message), tree

    def tree_with_file(self, tree: str, path: str, content: str) -> str:
        """`tree` with `path` replaced by (or added as) a regular file holding `content`."""
        blob = self.run("hash-object", "-w", "--stdin", "--path", path, input=content).strip()
        with self._temporary_index() as env:
            self.run("read-tree", "--end-of-options", tree, env=env)
            self.run("update-index", "--add", "--cacheinfo", f"100644,{blob},{path}", env=env)
            return self.run("write-tree", env=env).strip()

    def merge_trees(self, base_tree: str, ours_tree: str, theirs_tree: str) -> TreeMerge:
        """Three-way merge of trees with an explicit base (git's ort strategy), nothing written out.

        `merge-tree --merge-base` needs git 2.40; this works from 2.38: two throwaway commits
        whose only common ancestor is a commit of the base tree make git use exactly that base.
        """
        base = self.commit_tree(base_tree, [], "mlstack merge base")
        ours = self.commit_tree(ours_tree, [base], "mlstack merge: ours")
        theirs = self.commit_tree(theirs_tree, [base], "mlstack merge: theirs")
        done = self.completed("merge-tree", "--write-tree", "-z", "--messages", "--end-of-options", ours, theirs)
        if done.returncode not in (0, 1):
            raise GitError(f"git merge-tree failed (mlstack needs git 2.38 or newer): {git_complaint(done.stderr)}")
        merge = _parse_merge_tree(done.stdout)
        merge.oids = {"ours": ours, "theirs": theirs, "base": base}
        return merge

    # --- writing refs, index and work tree ----------------------------------------------------

    def update_branch(self, branch: str, new: str, old: str | None, message: str) -> None:
        """Move (or create, when old is None) a branch, failing if someone moved it meanwhile."""
        self.run("update-ref", "-m", message, "--end-of-options", f"refs/heads/{branch}", new, old or "0" * 40)

    def require_room_for(self, current: str, target: str) -> None:
        """Refuse when a file `target` adds would land on something already in the work tree.

        git itself treats ignored files as expendable and would overwrite them silently (a
        local `.env`, say); a file the update adds must not land on anything already there.
        """
        added = self.run("diff", "--name-only", "--no-renames", "--diff-filter=A", "-z", "--end-of-options",
                         current, target)
        in_the_way = [path for path in added.split("\0") if path and _occupied(self.root, path)]
        if in_the_way:
            shown = ", ".join(one_line(p) for p in in_the_way[:5]) + (" ..." if len(in_the_way) > 5 else "")
            raise RepoStateError(f"the update adds files where you have untracked (ignored) files: {shown}; "
                                 "move them aside and run the update again (nothing was changed)")

    def checkout_tree(self, current: str, target: str) -> None:
        """Move index and work tree from `current` to `target`, refusing to overwrite untracked files."""
        self.require_room_for(current, target)
        self.run("update-index", "-q", "--refresh", check=False)
        self.run("read-tree", "-m", "-u", "--end-of-options", current, target)

    def stage_conflicts(self, entries: list[ConflictEntry]) -> None:
        """Record conflicted paths in the index as git merge does (stages 1-3, no stage 0)."""
        if not entries:
            return
        lines = [f"0 {'0' * 40}\t{path}" for path in sorted({e.path for e in entries})]
        lines += [f"{e.mode} {e.oid} {e.stage}\t{e.path}" for e in entries]
        self.run("update-index", "--index-info", input="\n".join(lines) + "\n")

    def relabel_conflict_markers(self, tree: str, paths: list[str], oids: Mapping[str, str],
                                 labels: Mapping[str, str]) -> str:
        """`tree` with the throwaway commit ids in its conflict markers replaced by names people
        recognise, done on the blobs, so the work tree is written once, from a tree mlstack knows."""
        entries = self.tree_entries(tree)
        replaced: list[tuple[str, str, str]] = []
        for path in paths:
            mode, oid = entries.get(path, ("", ""))
            if mode not in ("100644", "100755"):
                continue
            data = self.run("cat-file", "blob", oid, text=False)
            lines = data.split(b"\n")
            changed = False
            for index, line in enumerate(lines):
                carriage = line.endswith(b"\r")
                body = line[:-1] if carriage else line
                match = _CONFLICT_MARKER.match(body.decode("utf-8", "surrogateescape"))
                if not match:
                    continue
                for role, role_oid in oids.items():
                    if role_oid.startswith(match.group(2)) and role in labels:
                        text = f"{match.group(1)} {labels[role]}{match.group(3) or ''}"
                        lines[index] = text.encode("utf-8", "surrogateescape") + (b"\r" if carriage else b"")
                        changed = True
                        break
            if changed:
                blob = self.run("hash-object", "-w", "--no-filters", "--stdin", input=b"\n".join(lines)).strip()
                replaced.append((mode, blob, path))
        if not replaced:
            return tree
        with self._temporary_index() as env:
            self.run("read-tree", "--end-of-options", tree, env=env)
            for mode, blob, path in replaced:
                self.run("update-index", "--cacheinfo", f"{mode},{blob},{path}", env=env)
            return self.run("write-tree", env=env).strip()

    def tree_entries(self, tree: str) -> dict[str, tuple[str, str]]:
        """Every file of a tree (recursively): path -> (mode, object id)."""
        out = self.run("ls-tree", "-r", "-z", "--full-tree", "--end-of-options", tree)
        entries = {}
        for record in out.split("\0"):
            if record:
                meta, _, path = record.partition("\t")
                mode, _kind, oid = meta.split()
                entries[path] = (mode, oid)
        return entries

    def start_merge_state(self, theirs: str, message: str, orig_head: str) -> None:
        """The files git merge leaves for a stopped merge: `git commit` and `git merge --abort` work."""
        git_dir = self.git_dir
        (git_dir / "MERGE_HEAD").write_text(theirs + "\n", encoding="utf-8")
        (git_dir / "MERGE_MSG").write_text(message, encoding="utf-8")
        (git_dir / "MERGE_MODE").write_text("no-ff", encoding="utf-8")
        self.run("update-ref", "ORIG_HEAD", orig_head)

    def clear_merge_state(self) -> None:
        git_dir = self.git_dir
        for name in ("MERGE_HEAD", "MERGE_MSG", "MERGE_MODE", "AUTO_MERGE"):
            (git_dir / name).unlink(missing_ok=True)

    def unmerged_paths(self) -> list[str]:
        out = self.run("diff", "--name-only", "--diff-filter=U", "-z")
        return sorted({p for p in out.split("\0") if p})

    @contextmanager
    def scratch_objects(self) -> Iterator[None]:
        """Objects written inside the block go to a temporary store, deleted afterwards.

        `update --dry-run` and `diff` commit renders and merges as objects to compare them;
        with this, they leave the repository's object store exactly as it was.
        """
        if "GIT_OBJECT_DIRECTORY" in self._env:
            yield  # already inside one
            return
        objects = self.run("rev-parse", "--git-path", "objects").strip()
        store = Path(tempfile.mkdtemp(prefix="mlstack-objects-"))
        self._env.update({"GIT_OBJECT_DIRECTORY": str(store),
                          "GIT_ALTERNATE_OBJECT_DIRECTORIES": str((self.root / objects).resolve())})
        try:
            yield
        finally:
            self._env.pop("GIT_OBJECT_DIRECTORY", None)
            self._env.pop("GIT_ALTERNATE_OBJECT_DIRECTORIES", None)
            shutil.rmtree(store, ignore_errors=True)

    @contextmanager
    def scratch_checkout(self, commit: str) -> Iterator[tuple[Path, dict[str, str]]]:
        """The files of `commit` in a temporary folder, with a temporary index for `git add` there.

        Template migrations run here, not in the work tree: whatever they do before a kill,
        the user's files are untouched, and the result is committed from this folder.
        """
        folder = Path(tempfile.mkdtemp(prefix="mlstack-checkout-"))
        try:
            with self._temporary_index() as env:
                env = {**env, "GIT_WORK_TREE": str(folder)}
                self.run("read-tree", "--end-of-options", commit, env=env)
                self.run("checkout-index", "--all", "--force", env=env)
                yield folder, env
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    @contextmanager
    def _temporary_index(self) -> Iterator[dict[str, str]]:
        handle, name = tempfile.mkstemp(prefix="mlstack-index-")
        os.close(handle)
        os.unlink(name)  # git creates it; an empty existing file would be "corrupt"
        try:
            yield {"GIT_INDEX_FILE": name}
        finally:
            Path(name).unlink(missing_ok=True)
            Path(name + ".lock").unlink(missing_ok=True)

    # --- all-or-nothing ------------------------------------------------------------------------

    def snapshot(self, branches: list[str], created_branches: list[str] | None = None) -> Snapshot:
        """Where HEAD and the given branches point now, to put them back after a failure."""
        return Snapshot(
            head_branch=self.current_branch(),
            head_commit=self.rev("HEAD"),
            branches={branch: self.rev(f"refs/heads/{branch}") for branch in branches},
            orig_head=self.rev("ORIG_HEAD"),
            created_branches=list(created_branches or []),
        )

    def switch_to_new_branch(self, branch: str) -> None:
        """Create `branch` at HEAD and make it HEAD, without touching index or files (no hooks run)."""
        self.update_branch(branch, self.rev("HEAD") or "", None, "mlstack: new branch")
        self.run("symbolic-ref", "HEAD", f"refs/heads/{branch}")

    def object_ids_of_files(self, paths: list[str]) -> dict[str, tuple[str, str] | None]:
        """What each work-tree path holds, as a tree would: (kind, blob id), or None when absent.

        Regular files are hashed by git (with the repository's filters, as `git add` would);
        a symlink is its target text; a directory is ("dir", "").
        """
        found: dict[str, tuple[str, str] | None] = {}
        regular = []
        for path in paths:
            full = self.root / path
            if full.is_symlink():
                target = os.fsencode(os.readlink(full))
                found[path] = ("link", self._blob_id(target))
            elif full.is_file():
                regular.append(path)
            elif full.is_dir():
                found[path] = ("dir", "")
            else:
                found[path] = None
        for start in range(0, len(regular), 200):
            chunk = regular[start:start + 200]
            ids = self.run("hash-object", "--", *chunk).split()
            found.update({path: ("file", oid) for path, oid in zip(chunk, ids, strict=True)})
        return found

    def _blob_id(self, data: bytes) -> str:
        algorithm = self.run("rev-parse", "--show-object-format").strip() or "sha1"
        return hashlib.new(algorithm.replace("-", ""), b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class Snapshot:
    """HEAD, branch tips and ORIG_HEAD before an operation, and how it moves the work tree.

    restore() puts back what the operation changed and nothing else.
    """

    head_branch: str | None
    head_commit: str | None
    branches: dict[str, str | None]
    orig_head: str | None
    created_branches: list[str] = field(default_factory=list)
    # [tree before, tree after] once the operation is about to move index and work tree.
    work_tree: list[str] | None = None

    def restore(self, repo: GitRepo) -> list[str]:
        """Back to the snapshot; returns the paths changed since that were left as they are.

        In the work tree only the paths the operation moves are put back, and only when each
        still holds its version from before or after the move: anything else was changed
        since, and restoring it would destroy work, so RepoStateError names those paths and
        nothing is changed. Untracked files and edits to other paths stay. Run with signals
        held, it is safe to repeat after a kill.
        """
        lock = repo.git_dir / "index.lock"
        if lock.exists():
            raise RepoStateError(f"{lock} exists: another git command is running in this repository, or one was "
                                 "killed; if none is running, delete that file")
        touched, before, after = self._moved_paths(repo)
        current = repo.object_ids_of_files(sorted(touched))
        changed = [path for path in sorted(touched) if current[path] not in (None, ("dir", ""), _as_state(
            before.get(path)), _as_state(after.get(path)))]
        if changed:
            shown = ", ".join(one_line(path) for path in changed[:5]) + (" ..." if len(changed) > 5 else "")
            raise RepoStateError(
                f"{shown}: changed after the interrupted update wrote {'them' if len(changed) > 1 else 'it'} "
                "(neither as before the update nor as it left them); move your version out of the repository, "
                "then run `mlstack update --recover` again (nothing was changed)")
        repo.clear_merge_state()
        if self.head_branch and repo.current_branch() != self.head_branch:
            repo.run("symbolic-ref", "HEAD", f"refs/heads/{self.head_branch}")
        for branch in self.created_branches:
            if branch != self.head_branch and repo.branch_exists(branch):
                repo.run("update-ref", "-d", f"refs/heads/{branch}")
        for branch, oid in self.branches.items():
            if oid is None:
                if repo.branch_exists(branch):
                    repo.run("update-ref", "-d", f"refs/heads/{branch}")
            elif repo.rev(f"refs/heads/{branch}") != oid:
                repo.run("update-ref", f"refs/heads/{branch}", oid)
        if self.orig_head:
            repo.run("update-ref", "ORIG_HEAD", self.orig_head, check=False)
        else:
            repo.run("update-ref", "-d", "ORIG_HEAD", check=False)
        if self.work_tree:
            self._restore_work_tree(repo, sorted(touched), before, current)
        return self._left_alone(repo, touched)

    def _moved_paths(self, repo: GitRepo) -> tuple[set[str], dict, dict]:
        if not self.work_tree:
            return set(), {}, {}
        before, after = (repo.tree_entries(tree) for tree in self.work_tree)
        touched = {path for path in set(before) | set(after) if before.get(path) != after.get(path)}
        return touched, before, after

    def _restore_work_tree(self, repo: GitRepo, touched: list[str], before: dict,
                           current: dict[str, tuple[str, str] | None]) -> None:
        """Index back to the old tree; each moved path back to its old version (or gone)."""
        repo.run("read-tree", "--end-of-options", self.work_tree[0])
        for path in touched:
            full = repo.root / path
            if current[path] is not None and current[path] != ("dir", ""):
                full.unlink(missing_ok=True)
        for path in touched:
            if path not in before:
                _remove_empty_parents(repo.root, repo.root / path)
        restore = [path for path in touched if path in before]
        for path in restore:
            if (repo.root / path).is_dir() and not (repo.root / path).is_symlink():
                raise RepoStateError(f"{one_line(path)} is a folder holding files that are not the update's; move "
                                     "them out of the repository and run `mlstack update --recover` again")
        if restore:
            repo.run("checkout-index", "--force", "-z", "--stdin", input="\0".join(restore) + "\0")
        repo.run("update-index", "-q", "--refresh", check=False)

    def _left_alone(self, repo: GitRepo, touched: set[str]) -> list[str]:
        """Uncommitted changes the restore kept: made after the operation, in paths it did not move."""
        return [line[3:] for line in repo.status_lines() if line[3:] not in touched]


def _as_state(entry: tuple[str, str] | None) -> tuple[str, str] | None:
    """A tree entry (mode, id) in object_ids_of_files' terms."""
    if entry is None:
        return None
    mode, oid = entry
    return ("link", oid) if mode == "120000" else ("file", oid) if mode.startswith("100") else ("other", oid)


def _remove_empty_parents(root: Path, path: Path) -> None:
    """Remove the folders above `path` that are now empty, up to (not including) `root`."""
    for parent in path.parents:
        if parent == root or root not in parent.parents:
            return
        try:
            parent.rmdir()
        except OSError:
            return


def open_repo(path: Path) -> GitRepo:
    """The repository whose work tree contains `path` (its top level), or RepoStateError."""
    path = path.resolve()
    if not path.is_dir():
        raise RepoStateError(f"{path}: no such directory")
    done = subprocess.run(["git", *SAFE_GIT_CONFIG, "rev-parse", "--show-toplevel"], cwd=path,
                          capture_output=True, text=True,
                          env={k: v for k, v in os.environ.items() if k not in _INHERITED_GIT_VARIABLES})
    if done.returncode != 0:
        raise RepoStateError(f"{path} is not inside a git repository; run `git init` and commit the project first")
    repo = GitRepo(Path(done.stdout.strip()))
    if repo.rev("HEAD") is None:
        raise RepoStateError(f"{repo.root} has no commits yet; commit the project first")
    return repo


# --- repositories elsewhere: templates, policies and fleet targets -----------------------------------

def fetch_environment() -> dict[str, str]:
    """The environment for git commands that reach a template, policy or fleet repository."""
    from mlstack.urls import ALLOWED_PROTOCOLS

    return {**{k: v for k, v in os.environ.items() if k not in _INHERITED_GIT_VARIABLES},
            "GIT_ALLOW_PROTOCOL": ALLOWED_PROTOCOLS}


class CloneError(GitError):
    """A repository could not be cloned; `missing_ref` when it could, but has no such ref."""

    def __init__(self, message: str, *, missing_ref: bool = False):
        super().__init__(message)
        self.missing_ref = missing_ref


def clone(url: str, into: Path, *, ref: str | None = None, all_branches: bool = False,
          history: bool = False) -> Path:
    """Clone `url` into `into` shallowly (with `history`: one branch's whole history), at `ref` if given.

    A ref a shallow clone can't name (a commit id) falls back to a full clone checked out at it.
    `url` and `ref` may come from a repository's files: both reach git only after
    `--end-of-options` or as an option's own value, never where git would read an option.
    CloneError says why, in git's words with any credentials removed.
    """
    from mlstack.urls import redact

    env = fetch_environment()
    git = ["git", *SAFE_GIT_CONFIG]
    depth = ["--single-branch"] if history else ["--depth", "1"]  # --depth implies --single-branch
    shallow = [*git, "clone", "--quiet", *depth, *(["--no-single-branch"] if all_branches else []),
               *([f"--branch={ref}"] if ref else []), "--end-of-options", url, str(into)]
    done = subprocess.run(shallow, capture_output=True, text=True, env=env)
    if done.returncode == 0:
        return into
    shutil.rmtree(into, ignore_errors=True)
    done = subprocess.run([*git, "clone", "--quiet", "--no-checkout", "--end-of-options", url, str(into)],
                          capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise CloneError(redact(git_complaint(done.stderr)))
    commit = subprocess.run([*git, "-C", str(into), "rev-parse", "--verify", "--quiet", "--end-of-options",
                             f"{ref or 'HEAD'}^{{commit}}"], capture_output=True, text=True, env=env)
    checkout = subprocess.run([*git, "-C", str(into), "checkout", "--quiet", "--detach", commit.stdout.strip()],
                              capture_output=True, text=True, env=env) if commit.returncode == 0 else commit
    if checkout.returncode != 0:
        raise CloneError(redact(git_complaint(checkout.stderr or "unknown ref")), missing_ref=True)
    return into


def remote_tags(url: str) -> list[str]:
    """The tag names of the repository at `url` (GitError in git's words, credentials removed)."""
    from mlstack.urls import redact

    done = subprocess.run(["git", *SAFE_GIT_CONFIG, "ls-remote", "--tags", "--refs", "--end-of-options", url],
                          capture_output=True, text=True, env=fetch_environment())
    if done.returncode != 0:
        raise GitError(redact(git_complaint(done.stderr) if done.stderr.strip() else "git failed"))
    return [line.split("refs/tags/", 1)[1] for line in done.stdout.splitlines() if "refs/tags/" in line]


def _occupied(root: Path, path: str) -> bool:
    """Whether something in the work tree sits where `path` (or one of its folders) would go."""
    target = root / path
    if target.exists() or target.is_symlink():
        return True
    return any(parent.is_file() or parent.is_symlink() for parent in target.parents
               if parent != root and root in parent.parents)


def _parse_merge_tree(output: str) -> TreeMerge:
    """Parse `git merge-tree --write-tree -z --messages` output."""
    parts = output.split("\0")
    merge = TreeMerge(tree=parts[0].strip())
    index = 1
    while index < len(parts) and parts[index]:
        info, _, path = parts[index].partition("\t")
        mode, oid, stage = info.split()
        merge.entries.append(ConflictEntry(mode, oid, int(stage), path))
        index += 1
    index += 1  # the empty field between conflicted entries and messages
    while index < len(parts) and parts[index]:
        try:
            count = int(parts[index])
        except ValueError:
            break
        # <count> NUL <paths...> NUL <type> NUL <message> NUL
        index += 1 + count
        if index + 1 >= len(parts):
            break
        merge.messages.append(parts[index + 1].strip())
        index += 2
    return merge


def git_complaint(text: str) -> str:
    """git's own complaint: its `fatal:`/`error:` line (which names the file), else its last line."""
    lines = [line.strip() for line in (text or "").strip().splitlines() if line.strip()]
    for line in lines:
        if line.startswith(("fatal:", "error:")):
            return line.split(":", 1)[1].strip()
    return lines[-1] if lines else "unknown error"
