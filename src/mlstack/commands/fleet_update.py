"""`mlstack fleet update`: roll one template release out to many repositories, in waves, resumably.

Each repository is cloned into a work area of its own (a local path too: nothing is updated in
place, so no user's branch is ever written), updated on a new branch exactly as
`mlstack update --branch` does, and verified there with check and validate. With --push the
update branch and the pristine branch go to the repository's remote in one atomic, never
forced push; a conflicted update is never pushed. The state file is written after every
repository, so an interrupted or partial wave resumes where it stopped and a re-run is a no-op.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from mlstack.errors import InvalidInput, MlstackError, as_text, one_line
from mlstack.gitrepo import git_complaint
from mlstack.policy.policy_file import Policy
from mlstack.rollout_state import RolloutEntry, load_state, save_state
from mlstack.urls import redact

UPDATE_BRANCHES = "refs/remotes/origin/mlstack/update-"
MAX_LISTED_CHANGES = 100  # in a request's body; the branch itself has them all


@dataclass(frozen=True)
class RolloutSettings:
    """What every repository of one rollout is updated with (sent to each worker process)."""

    version: str
    template_spec: str | None = None
    trust: bool = False
    push: bool = False
    open_pr: bool = False
    work_dir: str = ""
    policy: Policy | None = None  # what the update branch is checked against (None: the built-in policy)


@dataclass
class RepoOutcome:
    """One repository's result: its state entry plus what only this run's report shows."""

    repo: str
    entry: RolloutEntry
    template_changes: list[str] = field(default_factory=list)
    migrations: list[str] = field(default_factory=list)
    team_command: str | None = None
    from_state: bool = False  # already done for this version per the state file: nothing was run


@dataclass
class RolloutReport:
    version: str
    state_path: Path
    outcomes: list[RepoOutcome]
    not_started: list[str]
    stopped_by: str | None = None

    def count(self, outcome: str) -> int:
        return sum(1 for o in self.outcomes if o.entry.outcome == outcome and not o.from_state)

    @property
    def failed(self) -> bool:
        return self.count("failed") > 0


class _Failed(Exception):
    """A repository's step failed: `reason` is its outcome line (no credentials)."""

    def __init__(self, reason: str, **fields):
        super().__init__(reason)
        self.reason = reason
        self.fields = fields


# --- choosing the wave ---------------------------------------------------------------------------------

def rollout_key(target: str) -> str:
    """The state file's key for a repository: the name fleet report gives its row."""
    from mlstack.commands.fleet import shown_target

    return shown_target(target)


def is_done(entry: RolloutEntry | None, version: str, *, retry_failed: bool = False) -> bool:
    """Whether a repository needs no more work for `version` (a failure counts, unless retried)."""
    if entry is None or entry.version != version:
        return False
    return not (retry_failed and entry.outcome == "failed")


def select_wave(targets: list[str], state: dict[str, RolloutEntry], version: str, *, canary: int | None = None,
                wave: int | None = None, retry_failed: bool = False) -> tuple[list[str], list[str]]:
    """(targets to update now, targets of this selection already done per the state file).

    --canary N is the first N of the list, whatever their state; --wave N the next N not done yet;
    neither: the whole list.
    """
    if canary is not None and wave is not None:
        raise InvalidInput("--canary and --wave: choose one (the canary is the first wave)")
    for name, value in (("--canary", canary), ("--wave", wave)):
        if value is not None and value < 1:
            raise InvalidInput(f"{name} {value}: must be at least 1")

    def done(target: str) -> bool:
        return is_done(state.get(rollout_key(target)), version, retry_failed=retry_failed)

    if canary is not None:
        chosen = targets[:canary]
    elif wave is not None:
        chosen = [t for t in targets if not done(t)][:wave]
    else:
        chosen = list(targets)
    return [t for t in chosen if not done(t)], [t for t in chosen if done(t)]


def rollout_version(to: str | None, template_spec: str | None, trust: bool) -> str:
    """The one release this rollout brings every repository to: --to, else --template's highest tag.

    Decided once, before any repository: the state file and the branch names depend on it.
    """
    if to:
        return to
    from mlstack.commands.update import latest_tag
    from mlstack.template import decide_source

    if template_spec:
        source = decide_source(template_spec, trust=trust)
        version = latest_tag(source) if source.is_git else None
        if version:
            return version
    raise InvalidInput("fleet update: name the release with --to VERSION (or pass a --template git URL whose "
                       "highest version tag is the release)")


# --- the rollout -------------------------------------------------------------------------------------------

def fleet_update(targets: list[str], settings: RolloutSettings, *, state_path: Path, canary: int | None = None,
                 wave: int | None = None, max_failures: int | None = None, retry_failed: bool = False,
                 jobs: int | None = None, on_outcome: Callable[[RepoOutcome], None] | None = None) -> RolloutReport:
    """Update the selected repositories in parallel; save the state after each one.

    Once `max_failures` repositories failed, no further one is started (those running finish and
    are recorded); conflicts are not failures.
    """
    if max_failures is not None and max_failures < 1:
        raise InvalidInput(f"--max-failures {max_failures}: must be at least 1")
    if settings.open_pr and not settings.push:
        raise InvalidInput("--open-pr needs --push: a request is opened for the pushed update branch")
    state = load_state(state_path)
    run, already = select_wave(targets, state, settings.version, canary=canary, wave=wave,
                               retry_failed=retry_failed)
    outcomes = [RepoOutcome(rollout_key(t), state[rollout_key(t)], from_state=True) for t in already]
    failures = 0

    def stop() -> bool:
        return max_failures is not None and failures >= max_failures

    started: set[str] = set()
    with _work_area(settings.work_dir) as work_dir, _no_credential_prompts():
        settings = replace(settings, work_dir=str(work_dir))
        for outcome in _results(run, settings, jobs, stop, started):
            state[outcome.repo] = outcome.entry
            save_state(state_path, state)
            outcomes.append(outcome)
            failures += outcome.entry.outcome == "failed"
            if on_outcome:
                on_outcome(outcome)
    order = {rollout_key(t): i for i, t in enumerate(targets)}
    outcomes.sort(key=lambda o: order.get(o.repo, len(order)))
    not_started = [rollout_key(t) for t in run if t not in started]
    return RolloutReport(settings.version, state_path, outcomes, not_started,
                         f"--max-failures {max_failures} reached" if not_started else None)


def _results(run: list[str], settings: RolloutSettings, jobs: int | None, stop: Callable[[], bool],
             started: set[str]) -> Iterator[RepoOutcome]:
    """Each target's outcome as it completes; no new target starts once `stop()` says so."""
    workers = max(1, min(jobs or os.cpu_count() or 1, len(run) or 1))
    if workers == 1:
        for target in run:
            if stop():
                return
            started.add(target)
            yield update_one(target, settings)
        return
    queue = iter(run)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        running = {}

        def fill() -> None:
            while len(running) < workers and not stop():
                target = next(queue, None)
                if target is None:
                    return
                started.add(target)
                running[pool.submit(update_one, target, settings)] = target

        fill()
        while running:
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                target = running.pop(future)
                try:
                    outcome = future.result()
                except Exception as error:  # noqa: BLE001 - a worker that died is that repository's failure
                    outcome = _failed_outcome(target, settings, f"worker process failed ({type(error).__name__})")
                yield outcome
            fill()


@contextmanager
def _work_area(work_dir: str) -> Iterator[Path]:
    """Where repositories are cloned: --work-dir (kept), else a temporary folder removed after."""
    if work_dir:
        path = Path(work_dir).expanduser().resolve()
        path.mkdir(parents=True, exist_ok=True)
        yield path
        return
    path = Path(tempfile.mkdtemp(prefix="mlstack-fleet-update-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@contextmanager
def _no_credential_prompts() -> Iterator[None]:
    """git never waits for a password: a wave of 100 repositories must not stop at a prompt."""
    previous = os.environ.get("GIT_TERMINAL_PROMPT")
    os.environ["GIT_TERMINAL_PROMPT"] = "0"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("GIT_TERMINAL_PROMPT", None)
        else:
            os.environ["GIT_TERMINAL_PROMPT"] = previous


# --- one repository (runs in a worker process) -------------------------------------------------------------

def update_one(target: str, settings: RolloutSettings) -> RepoOutcome:
    """Clone, update on a new branch, verify, push and open a request; never raises."""
    area = Path(tempfile.mkdtemp(prefix=hashlib.sha256(target.encode()).hexdigest()[:12] + "-",
                                 dir=settings.work_dir or None))
    try:
        return _update_in(target, area / "repo", settings)
    except _Failed as failure:
        return _failed_outcome(target, settings, failure.reason, **failure.fields)
    except MlstackError as error:
        return _failed_outcome(target, settings, redact(as_text(error.message)))
    except Exception as error:  # noqa: BLE001 - one broken repository never stops the wave
        return _failed_outcome(target, settings, redact(as_text(f"internal error ({type(error).__name__}: {error})")))
    finally:
        shutil.rmtree(area, ignore_errors=True)


def _failed_outcome(target: str, settings: RolloutSettings, reason: str, **fields) -> RepoOutcome:
    return RepoOutcome(rollout_key(target), RolloutEntry("failed", settings.version, reason=one_line(reason),
                                                         **fields))


def _update_in(target: str, folder: Path, settings: RolloutSettings) -> RepoOutcome:
    from mlstack.answers_file import RECORD_PATH
    from mlstack.commands.update import apply_update, head_record, plan_update, update_branch_name
    from mlstack.errors import RepoStateError, TemplateError

    shown = rollout_key(target)
    repo = bring_in(target, folder)
    uncommitted = _uncommitted_note(target)
    default = repo.current_branch() or "HEAD"
    if repo.show_file("HEAD", RECORD_PATH) is None:
        raise _Failed(f"not an mlstack repository: {default} has no committed {RECORD_PATH} "
                      "(adopt it with `mlstack link`)")
    try:
        record = head_record(repo)
    except RepoStateError as error:
        raise _Failed(f"not an mlstack repository: {error.message}") from error
    fetch_mlstack_branches(repo, record.pristine_branch)
    branch = update_branch_name(repo, settings.version)
    remote_updates = _remote_update_branches(repo)
    if branch in remote_updates:
        entry = RolloutEntry("skipped", settings.version, from_version=record.version, branch=branch,
                             commit=remote_updates[branch], reason=f"the remote already has branch {branch}")
        entry.request_url = _existing_request(target, branch) if settings.open_pr else None
        return RepoOutcome(shown, entry)
    try:
        with plan_update(folder, to=settings.version, template_spec=settings.template_spec, trust=settings.trust,
                         repo=repo) as plan:
            result = apply_update(plan, branch=True)
    except TemplateError as error:
        stage = "migration" if error.message.startswith("migration") else "render"
        raise _Failed(f"{stage}: {error.message}", from_version=record.version) from error
    except MlstackError as error:
        raise _Failed(f"update: {error.message}", from_version=record.version) from error
    changes = [str(change) for change in result.template_changes]
    entry = RolloutEntry("updated", result.to_version, from_version=record.version,
                         notes=[*uncommitted, *result.notes])
    outcome = RepoOutcome(shown, entry, template_changes=changes, migrations=list(result.migrations))
    if result.status == "up-to-date":
        entry.outcome = "up-to-date"
        return outcome
    if result.has_conflicts:
        entry.outcome = "conflicted"  # its branch exists only in the work area: nothing is pushed
        entry.conflicts = [c.path for c in result.conflicts]
        outcome.team_command = team_command(default, settings, record.pristine_branch)
        return outcome
    entry.branch, entry.commit = result.branch, result.merge_commit
    _verify(folder, entry, settings.policy or Policy())
    if not settings.push:
        return outcome
    superseded = _superseded(repo, remote_updates, settings.version, record.pristine_branch, entry)
    _push(repo, branch, record.pristine_branch, superseded, entry)
    if settings.open_pr:
        _open_request(target, default, outcome, superseded)
    return outcome


def bring_in(target: str, folder: Path):
    """A fresh clone of the default branch with its whole history (CloneError: the `clone` failure)."""
    from mlstack.commands.fleet import is_remote
    from mlstack.gitrepo import CloneError, GitRepo, clone

    url = target if is_remote(target) else str(Path(target).expanduser().resolve())
    try:
        clone(url, folder, history=True)
    except CloneError as error:
        raise _Failed(f"clone: {error.message}") from error
    return GitRepo(folder)


def _uncommitted_note(target: str) -> list[str]:
    """A local checkout's uncommitted changes are not in the clone: say so rather than surprise."""
    from mlstack.commands.fleet import is_remote
    from mlstack.gitrepo import GitRepo

    if is_remote(target):
        return []
    done = GitRepo(Path(target).expanduser().resolve()).completed("status", "--porcelain", "--untracked-files=no")
    if done.returncode != 0 or not done.stdout.strip():
        return []
    return ["the local checkout has uncommitted changes: they are not part of this update (it starts from the "
            "committed default branch); commit them, or the team merges the update branch after them"]


def fetch_mlstack_branches(repo, pristine_branch: str) -> None:
    """The pristine branch (as a local branch, as a clone made by init has it) and the remote's
    update branches (remote-tracking): what the update and the superseding rule read."""
    updates = "+refs/heads/mlstack/update-*:refs/remotes/origin/mlstack/update-*"
    pristine = f"+refs/heads/{pristine_branch}:refs/heads/{pristine_branch}"
    done = repo.completed("fetch", "--quiet", "origin", pristine, updates, env=_remote_env())
    if done.returncode != 0:  # no pristine branch there? The update then says what it needs.
        done = repo.completed("fetch", "--quiet", "origin", updates, env=_remote_env())
    if done.returncode != 0:
        raise _Failed(f"clone: cannot fetch mlstack's branches: {redact(git_complaint(done.stderr))}")


def _remote_env() -> dict[str, str]:
    from mlstack.urls import ALLOWED_PROTOCOLS

    return {"GIT_ALLOW_PROTOCOL": ALLOWED_PROTOCOLS, "GIT_TERMINAL_PROMPT": "0"}


def _remote_update_branches(repo) -> dict[str, str]:
    """The remote's mlstack/update-* branches (as fetched): name -> commit."""
    out = repo.run("for-each-ref", "--format=%(refname) %(objectname)", UPDATE_BRANCHES.rstrip("-") + "-*")
    found = {}
    for line in out.splitlines():
        ref, oid = line.split()
        found[ref.removeprefix("refs/remotes/origin/")] = oid
    return found


def team_command(default: str, settings: RolloutSettings, pristine_branch: str) -> str:
    """What the team runs in its own clone to do the conflicted update and resolve it."""
    update = ["mlstack", "update", "--branch", "--to", settings.version]
    if settings.template_spec:
        update += ["--template", redact(settings.template_spec)]
    if settings.trust:
        update.append("--trust")
    steps = [["git", "switch", default], ["git", "pull", "--ff-only"], ["git", "fetch", "origin", pristine_branch],
             update]
    return " && ".join(shlex.join(step) for step in steps)


def _verify(folder: Path, entry: RolloutEntry, policy: Policy) -> None:
    """`mlstack check` (the rollout's policy) and `mlstack validate` (offline) on the update branch."""
    from mlstack.commands.validate import validate_directory
    from mlstack.policy.engine import run_check

    try:
        report = run_check(folder, policy)
    except MlstackError as error:
        raise _Failed(f"check: could not run ({error.message})", **_so_far(entry)) from error
    entry.check = report.outcome
    try:
        validation = validate_directory(folder, use_terraform=False)
        errors = len(validation.errors)
        entry.validate = "passed" if not errors else f"failed: {errors} error{'s' if errors != 1 else ''}"
    except MlstackError as error:
        entry.validate = f"not run: {one_line(error.message)}"
        errors = 0
    if report.outcome == "policy":
        rules = sorted({f.rule for f in report.findings if f.severity == "error"})
        raise _Failed(f"check: the update branch fails the policy ({', '.join(rules)}); not pushed",
                      **_so_far(entry))
    if errors:
        first = validation.errors[0]
        raise _Failed(f"validate: {entry.validate} on the update branch (first: {first.rule} {first.message}); "
                      "not pushed", **_so_far(entry))


def _so_far(entry: RolloutEntry) -> dict:
    return {"from_version": entry.from_version, "branch": entry.branch, "commit": entry.commit,
            "check": entry.check, "validate": entry.validate}


# --- superseding older update branches ------------------------------------------------------------------

def _superseded(repo, remote_updates: dict[str, str], version: str, pristine_branch: str,
                entry: RolloutEntry) -> dict[str, str]:
    """Older update branches mlstack may delete on the remote (name -> the commit seen there)."""
    from mlstack.commands.update import UPDATE_BRANCH_PREFIX
    from mlstack.versions import is_older

    deletable = {}
    for name, tip in sorted(remote_updates.items()):
        older = name.removeprefix(UPDATE_BRANCH_PREFIX)
        if not is_older(older, version):
            continue
        if made_by_mlstack(repo, tip, older, pristine_branch):
            deletable[name] = tip
            entry.notes.append(f"superseded {name} (deleted on the remote)")
        else:
            entry.notes.append(f"left {name} alone: it holds commits mlstack did not make")
    return deletable


def made_by_mlstack(repo, tip: str, version: str, pristine_branch: str) -> bool:
    """Whether `tip` is exactly a clean merge `mlstack update --branch` made for `version`.

    The safe rule for deleting an older update branch: its tip merges a commit of the pristine
    branch (second parent) that the answers file at the tip records for that version, and its
    tree is what mlstack's own three-way merge of that render gives. A team's commit on top, or a
    conflict resolved by hand, fails the test, and such a branch is never deleted.
    """
    from mlstack.answers_file import RECORD_PATH, parse_record
    from mlstack.commands.update import classify

    parents = repo.run("rev-list", "--parents", "-n", "1", "--end-of-options", tip).split()[1:]
    if len(parents) != 2:
        return False
    first, render = parents
    pristine_tip = repo.rev(f"refs/heads/{pristine_branch}")
    text, before = repo.show_file(tip, RECORD_PATH), repo.show_file(first, RECORD_PATH)
    if pristine_tip is None or text is None or before is None or not repo.is_ancestor(render, pristine_tip):
        return False
    try:
        record, old = parse_record(text, "update branch"), parse_record(before, "update branch")
    except MlstackError:
        return False
    if record.version != version or record.pristine_commit != render or not old.pristine_commit \
            or not repo.has_commit(old.pristine_commit):
        return False
    merge = repo.merge_trees(repo.tree_of(old.pristine_commit), repo.tree_of(first), repo.tree_of(render))
    conflicts, _, _ = classify(merge)
    return not conflicts and repo.tree_with_file(merge.tree, RECORD_PATH, text) == repo.tree_of(tip)


# --- pushing ----------------------------------------------------------------------------------------------------

def _push(repo, branch: str, pristine_branch: str, superseded: dict[str, str], entry: RolloutEntry) -> None:
    """One atomic push: the new branch, the pristine branch (fast-forward only) and the deletions.

    Nothing is forced: a pristine branch that moved on the remote is refused; a deletion is
    leased on the commit that was checked, so a branch someone pushed to since is not deleted.
    """
    leases = [f"--force-with-lease=refs/heads/{name}:{tip}" for name, tip in superseded.items()]
    refs = [f"refs/heads/{branch}:refs/heads/{branch}", f"refs/heads/{pristine_branch}:refs/heads/{pristine_branch}",
            *(f":refs/heads/{name}" for name in superseded)]
    done = repo.completed("push", "--atomic", "--porcelain", *leases, "origin", *refs,
                          env=_remote_env())
    if done.returncode != 0:
        raise _Failed(f"push refused: {_push_refusal(done.stdout, done.stderr)}", **_so_far(entry))
    entry.pushed = True


def _push_refusal(stdout: str, stderr: str) -> str:
    """git's reason for a refused push, from its porcelain lines (`!<TAB>from:to<TAB>summary (reason)`)."""
    reasons = []
    for line in stdout.splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and parts[0] == "!":
            reasons.append(f"{parts[1].split(':', 1)[-1].removeprefix('refs/heads/')} {parts[2]}")
    specific = [r for r in reasons if "atomic push failed" not in r]
    return redact(as_text("; ".join(specific or reasons) or git_complaint(stderr)))


# --- change requests ---------------------------------------------------------------------------------------

def _code_host(target: str):
    """The code-host client for the repository's remote, or None (a local path, an unknown host)."""
    from mlstack.commands.fleet import is_remote

    if not is_remote(target):
        return None
    from mlstack import code_hosts

    return code_hosts.host_for(redact(target))


def _existing_request(target: str, branch: str) -> str | None:
    from mlstack import code_hosts

    try:
        host = _code_host(target)
        request = host.find_open(branch) if host is not None and host.has_token() else None
    except code_hosts.CodeHostError:
        return None
    return request.url if request else None


def _open_request(target: str, default: str, outcome: RepoOutcome, superseded: dict[str, str]) -> None:
    """Open (or update) the request for the pushed branch; close the superseded ones' requests.

    Without a token, or on a host mlstack has no client for, the compare URL (where the team
    opens it in one click) is recorded instead, or a note when there is none.
    """
    from mlstack import code_hosts

    entry = outcome.entry
    host = _code_host(target)
    if host is None:
        entry.notes.append(f"no request opened: not a GitHub, GitLab or Azure DevOps remote; open one for "
                           f"{entry.branch} by hand")
        return
    if not host.has_token():
        entry.request_url = host.compare_url(default, entry.branch)
        entry.notes.append(f"no {host.platform} token in the environment: open the request at the compare URL")
        return
    try:
        request = host.open_or_update(entry.branch, default, request_title(entry), request_body(outcome))
        entry.request_url = request.url
        for name in superseded:
            old = host.find_open(name)
            if old is not None:
                host.close(old, f"Superseded by {request.url} (template {entry.version}, mlstack fleet update).")
                entry.notes.append(f"closed the request of {name}: {old.url}")
    except code_hosts.CodeHostError as error:
        entry.request_url = entry.request_url or host.compare_url(default, entry.branch)
        entry.notes.append(f"request not opened: {error}")


def request_title(entry: RolloutEntry) -> str:
    return f"Update to template {entry.version} (mlstack)"


def request_body(outcome: RepoOutcome) -> str:
    """What the reviewer needs: what the template changed, the migrations run, the verification."""
    entry = outcome.entry
    lines = [f"Template {entry.from_version} -> {entry.version}, merged by `mlstack fleet update` on branch "
             f"`{entry.branch}`; the template's pristine render is on `mlstack/template`.", "",
             f"### What the template changed ({len(outcome.template_changes)} files)", ""]
    shown = outcome.template_changes[:MAX_LISTED_CHANGES]
    lines += [f"- `{change}`" for change in shown] or ["- nothing but the recorded version"]
    if len(outcome.template_changes) > len(shown):
        lines.append(f"- ... and {len(outcome.template_changes) - len(shown)} more (see the branch's diff)")
    lines += ["", "### Migrations that ran", ""]
    lines += [f"- {step}" for step in outcome.migrations] or ["- none"]
    lines += ["", "### Verification on this branch", "", f"- `mlstack check`: {entry.check}",
              f"- `mlstack validate`: {entry.validate}"]
    if entry.notes:
        lines += ["", "### Notes", "", *(f"- {note}" for note in entry.notes)]
    lines += ["", "Review it like any other change and merge it; conflicts, if any, were not pushed."]
    return "\n".join(one_line(line) for line in lines) + "\n"


# --- the report --------------------------------------------------------------------------------------------

def describe_outcome(outcome: RepoOutcome) -> list[str]:
    """One line per repository (plus its conflicted files and the team's command)."""
    entry = outcome.entry
    if outcome.from_state:
        retry = "; --retry-failed tries it again" if entry.outcome == "failed" else ""
        return [one_line(f"skipped     {outcome.repo}: already {entry.outcome} for {entry.version} "
                         f"(state file){retry}")]
    detail = {
        "updated": lambda: f"{entry.from_version} -> {entry.version} on {entry.branch}"
                           f"{' (pushed)' if entry.pushed else ''}; check {entry.check}, validate {entry.validate}"
                           f"{'; ' + entry.request_url if entry.request_url else ''}",
        "up-to-date": lambda: f"already on {entry.version}",
        "conflicted": lambda: f"{entry.from_version} -> {entry.version}: {len(entry.conflicts)} conflicted "
                              "file(s), nothing pushed",
        "failed": lambda: entry.reason or "failed",
        "skipped": lambda: entry.reason or "skipped",
    }[entry.outcome]()
    lines = [one_line(f"{entry.outcome:<11} {outcome.repo}: {detail}")]
    lines += [one_line(f"    conflict: {path}") for path in entry.conflicts]
    if outcome.team_command:
        lines.append(one_line(f"    the team resolves it in its clone: {outcome.team_command}"))
    lines += [one_line(f"    note: {note}") for note in entry.notes if entry.outcome != "up-to-date"]
    return lines


def describe(report: RolloutReport, *, shown_as_they_came: bool = False) -> list[str]:
    """The report's lines; `shown_as_they_came`: without the repositories already printed one by one."""
    lines = [line for outcome in report.outcomes if outcome.from_state or not shown_as_they_came
             for line in describe_outcome(outcome)]
    lines += [one_line(f"not started {repo}: {report.stopped_by}") for repo in report.not_started]
    counts = ", ".join(f"{report.count(o)} {o}" for o in ("updated", "up-to-date", "conflicted", "failed",
                                                            "skipped"))
    already = sum(1 for o in report.outcomes if o.from_state)
    lines.append(one_line(f"template {report.version}: {counts}; {already} already done; "
                          f"{len(report.not_started)} not started; state in {report.state_path}"))
    return lines
