"""`mlstack update`: merge a newer template version into a generated repository, losing nothing.

nf-core's model: the exact render of each template version is committed on the pristine
branch (`mlstack/template`), and git merges it into the user's branch with the *recorded*
pristine commit as the merge base. Every local edit either survives or shows up as a normal
git conflict. Errors leave branches, HEAD, index and work tree exactly as they were.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from mlstack import __version__
from mlstack.answers import Asker, parse_set_options, shown_value
from mlstack.answers_file import RECORD_PATH, ProjectRecord, parse_record
from mlstack.errors import RepoStateError, TemplateError, one_line
from mlstack.gitrepo import Change, ConflictEntry, GitRepo, TreeMerge, open_repo
from mlstack.migrations import (
    Plan,
    load_migrations,
    migrate_answers,
    migrate_files,
    plan,
    read_migrations,
)
from mlstack.record import CarriedAnswers, carry_answers
from mlstack.template import (
    BUNDLED,
    Template,
    TemplateSource,
    decide_source,
    load_contract,
    open_template,
)
from mlstack.update_recovery import UpdateLock, refuse_if_interrupted, roll_back, update_lock
from mlstack.versions import highest_version

UPDATE_BRANCH_PREFIX = "mlstack/update-"
CONFLICT_KINDS = {
    frozenset({1, 2, 3}): "changed by you and by the template",
    frozenset({1, 3}): "deleted by you, changed by the template",
    frozenset({2, 3}): "added by you and by the template",
}


@dataclass
class Conflict:
    path: str
    kind: str


@dataclass
class UpdateResult:
    """What an update did (or, with --dry-run, would do)."""

    status: str  # "updated", "conflicts", "up-to-date" or "dry-run"
    branch: str
    from_version: str
    to_version: str
    template_changes: list[Change] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    answers: CarriedAnswers | None = None
    migrations: list[str] = field(default_factory=list)
    migration_commit: str | None = None
    merge_commit: str | None = None
    pristine_commit: str | None = None
    start_commit: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def has_conflicts(self) -> bool:
        return bool(self.conflicts)


@dataclass
class PristineBase:
    """The recorded pristine commit (the merge base) and the pristine branch's tip."""

    commit: str
    branch: str
    tip: str
    # Where a missing pristine branch is recreated from (a remote branch or the recorded commit).
    recreate_from: str | None = None

    @property
    def branch_missing(self) -> bool:
        return self.recreate_from is not None

    def note(self, dry_run: bool) -> str | None:
        """What happens to a missing pristine branch, in the tense of what this run does."""
        if not self.branch_missing:
            return None
        done = "an update would recreate it" if dry_run else "recreated"
        return f"branch {self.branch} was missing: {done} {self.recreate_from}"


@dataclass
class Rendered:
    """A target version rendered and committed (as an object, no ref yet) on the pristine line."""

    template_version: str
    template_source: str
    commit: str
    tree: str
    answers: CarriedAnswers
    plan: Plan
    migration_notes: list[str]


@dataclass
class UpdatePlan:
    """One update worked out (target rendered, merge base found, new record made), not yet applied.

    A plan lives inside plan_update's `with` block: the template checkout, the update lock
    and (for a preview) the scratch object store stay open until it is previewed or applied.
    """

    repo: GitRepo
    result: UpdateResult
    base: PristineBase
    rendered: Rendered
    template: Template
    new_record: ProjectRecord | None  # None when the repository is already up to date
    lock: UpdateLock | None  # None for a preview: nothing may be written
    ran_template_code: bool


@contextmanager
def plan_update(
    project: Path,
    *,
    to: str | None = None,
    set_options: list[str] | None = None,
    asker: Asker | None = None,
    preview: bool = False,
    trust: bool = False,
    template_spec: str | None = None,
    run_template_code: bool = True,
    repo: GitRepo | None = None,
) -> Iterator[UpdatePlan]:
    """Plan merging template version `to` (default: the latest) into the checked-out branch.

    A preview plan writes nothing into the repository, not even git objects (they go to a
    scratch object store, which `diff` keeps open, passing its `repo`, until it has shown the
    patch); run_template_code False (previews only) renders without the template's hooks,
    question validators or migration code, see render_version.
    """
    repo = repo or open_repo(project)
    with repo.scratch_objects() if preview else nullcontext():
        # Before the clean-tree check: a killed update is what usually dirtied the tree.
        refuse_if_interrupted(repo)
        if not preview:
            repo.require_clean("updating")
        head_branch = repo.current_branch()
        if head_branch is None:
            raise RepoStateError("HEAD is detached; check out the branch to update (e.g. git switch main)")
        record = head_record(repo)
        # Trust is decided here, before any git command or connection names the source: the recorded
        # one comes from a file a pull request can change.
        source = decide_source(template_spec or record.source, trust=trust,
                               recorded_in=None if template_spec else f"{RECORD_PATH} at HEAD")
        if head_branch == record.pristine_branch:
            raise RepoStateError(f"{head_branch} holds pristine template renders that only mlstack writes; "
                                 "check out your own branch (e.g. git switch main) and update that")
        overrides = parse_set_options(set_options or [])
        with _locked(repo, not preview) as lock:
            base = locate_pristine(repo, record)
            with open_template(source, target_ref(source, to)) as template:
                _check_bundled_version(template, to)
                rendered = render_version(repo, template, record, overrides, asker, base,
                                          run_template_code=run_template_code)
                result = UpdateResult("dry-run" if preview else "updated", head_branch, record.version,
                                      rendered.template_version, answers=rendered.answers,
                                      pristine_commit=rendered.commit, start_commit=repo.rev("HEAD"))
                result.migrations = [str(step) for step in rendered.plan.steps] + rendered.migration_notes
                if rendered.plan.skipped_reason:
                    result.notes.append(f"migrations not run: {rendered.plan.skipped_reason}")
                if base.note(preview):
                    result.notes.append(base.note(preview))
                if not run_template_code and template.source != BUNDLED and _has_hooks(template):
                    result.notes.append("previewed without running the template's hooks: files they would add "
                                        "or change beyond `_prune` and the answers file are not shown "
                                        "(`mlstack update --dry-run` renders with them)")
                new_record = None
                if rendered.tree == repo.tree_of(base.commit):
                    result.status = "up-to-date"
                else:
                    result.template_changes = repo.changes(base.commit, rendered.commit, exclude=(RECORD_PATH,))
                    new_record = ProjectRecord(
                        source=rendered.template_source, version=rendered.template_version,
                        answers=rendered.answers.answers, user_set=rendered.answers.user_keys,
                        pristine_branch=base.branch, pristine_commit=rendered.commit, mlstack_version=__version__)
                yield UpdatePlan(repo, result, base, rendered, template, new_record, lock, run_template_code)


def preview_update(plan: UpdatePlan) -> UpdateResult:
    """What applying the plan would change and where it would conflict; nothing is written."""
    result, rendered, repo = plan.result, plan.rendered, plan.repo
    if plan.new_record is None:
        return result
    if any(step.files_step or "migrate_files" in step.unrun_code for step in rendered.plan.steps):
        result.notes.append("file migrations are not simulated by --dry-run; "
                            "the conflicts shown assume your files as they are")
    merge = repo.merge_trees(repo.tree_of(plan.base.commit), repo.tree_of("HEAD"), rendered.tree)
    result.conflicts, result.kept, _ = classify(merge)
    return result


def apply_update(plan: UpdatePlan, *, branch: bool = False) -> UpdateResult:
    """Merge the planned render into the repository (on a new branch mlstack/update-<version> with `branch`)."""
    if plan.lock is None or not plan.ran_template_code:
        raise ValueError("only a plan made to be applied, with the template's hooks and migrations, can be applied")
    if plan.new_record is None:
        return plan.result
    return _apply(plan.repo, plan.result, plan.base, plan.rendered, plan.new_record, plan.template, branch,
                  plan.lock)


def update_project(project: Path, *, dry_run: bool = False, branch: bool = False, **options) -> UpdateResult:
    """plan_update, then preview_update (dry_run) or apply_update: what `mlstack update` does."""
    with plan_update(project, preview=dry_run, **options) as plan:
        return preview_update(plan) if dry_run else apply_update(plan, branch=branch)


def _apply(repo: GitRepo, result: UpdateResult, base: PristineBase, rendered: Rendered,
           new_record: ProjectRecord, template: Template, branch: bool, lock: UpdateLock) -> UpdateResult:
    """Every write of an update, undone as a whole if any step fails.

    Everything is first built as git objects (migrations run in a scratch checkout); the lock
    file records what to restore, including how the work tree will move, before each write.
    """
    target = result.branch
    if branch:
        target = update_branch_name(repo, rendered.template_version)
    start = repo.rev("HEAD") or ""
    snapshot = repo.snapshot([base.branch, result.branch], [target] if branch else [])
    lock.record(snapshot)
    try:
        if rendered.commit != base.tip or base.branch_missing:
            repo.update_branch(base.branch, rendered.commit, None if base.branch_missing else base.tip,
                               f"mlstack update: render template {rendered.template_version}")
        if branch:
            repo.switch_to_new_branch(target)
            result.branch = target
        head = _run_file_migrations(repo, result, rendered, template, start)
        merge = repo.merge_trees(repo.tree_of(base.commit), repo.tree_of(head), rendered.tree)
        result.conflicts, result.kept, staged = classify(merge)
        tree = merge.tree
        if result.conflicts:
            tree = repo.relabel_conflict_markers(tree, [c.path for c in result.conflicts], merge.oids, {
                "ours": target, "theirs": f"template {result.to_version}", "base": f"template {result.from_version}"})
        final_tree = write_record(repo, tree, new_record)
        message = merge_message(result, new_record, target)
        repo.require_room_for(start, final_tree)  # before the record: a refusal moves nothing
        snapshot.work_tree = [repo.tree_of(start), final_tree]
        lock.record(snapshot)
        if not result.conflicts:
            merge_commit = repo.commit_tree(final_tree, [head, rendered.commit], message)
            repo.checkout_tree(start, final_tree)
            repo.update_branch(target, merge_commit, start, f"mlstack update: merge template {result.to_version}")
            result.merge_commit = merge_commit
            result.status = "updated"
        else:
            repo.checkout_tree(start, final_tree)
            repo.stage_conflicts(staged)
            if head != start:
                repo.update_branch(target, head, start, "mlstack update: template migrations")
            conflict_list = "".join(f"#\t{c.path}\n" for c in result.conflicts)
            repo.start_merge_state(rendered.commit, f"{message}\n# Conflicts:\n{conflict_list}", head)
            result.status = "conflicts"
    except BaseException as failure:
        roll_back(repo, snapshot, lock, failure)
        raise
    lock.settle()
    return result


def _run_file_migrations(repo: GitRepo, result: UpdateResult, rendered: Rendered, template: Template,
                         head: str) -> str:
    """Run the migrations' file steps on a scratch checkout of `head`; their commit (or `head`)."""
    steps = [step for step in rendered.plan.steps if step.files_step]
    if not steps:
        return head
    with repo.scratch_checkout(head) as (folder, env):
        ran = migrate_files(steps, folder, dict(rendered.answers.answers))
        repo.run("add", "--all", env=env)
        tree = repo.run("write-tree", env=env).strip()
    if tree == repo.tree_of(head):
        return head
    lines = "".join(f"- {step}\n" for step in ran)
    message = (f"Migrate for template {rendered.template_version} (mlstack update)\n\n"
               f"Steps shipped with the template, run before merging it:\n{lines}")
    commit = repo.commit_tree(tree, [head], message)
    result.migration_commit = commit
    return commit


def classify(merge: TreeMerge) -> tuple[list[Conflict], list[str], list[ConflictEntry]]:
    """(conflicts for the user, files kept because only the template deleted them, index entries)."""
    conflicts: list[Conflict] = []
    kept: list[str] = []
    stages = merge.stages_by_path()
    for path in sorted(stages):
        if path == RECORD_PATH:
            continue  # mlstack writes this file itself in the merge
        if stages[path] == {1, 2}:
            kept.append(path)  # the merged tree holds your version; the deletion is reported
            continue
        conflicts.append(Conflict(path, CONFLICT_KINDS.get(frozenset(stages[path]), "conflicting changes")))
    conflicted = {c.path for c in conflicts}
    staged = [entry for entry in merge.entries if entry.path in conflicted]
    return conflicts, kept, staged


def write_record(repo: GitRepo, tree: str, record: ProjectRecord) -> str:
    """The merged tree with mlstack's own answers file (new version, answers, pristine commit)."""
    return repo.tree_with_file(tree, RECORD_PATH, record.to_text())


def merge_message(result: UpdateResult, record: ProjectRecord, branch: str) -> str:
    return (f"Merge template {result.to_version} into {branch} (mlstack update)\n\n"
            f"Template: {record.source}\n"
            f"From version {result.from_version} to {result.to_version}\n"
            f"Pristine render: {record.pristine_commit}\n")


def locate_pristine(repo: GitRepo, record: ProjectRecord) -> PristineBase:
    """The recorded pristine commit and the pristine branch, recovering the branch if possible.

    The merge base is always the recorded commit, never whatever `git merge-base` finds: a
    squash-merged earlier update hides it from the history.
    """
    commit = record.pristine_commit
    branch = record.pristine_branch
    if not commit:
        raise RepoStateError(f"{RECORD_PATH} records no pristine commit, so there is no safe merge base; "
                             "adopt the repository with `mlstack link`")
    if not repo.has_commit(commit):
        raise RepoStateError(
            f"the recorded pristine commit {commit[:12]} is not in this clone (was branch {branch} fetched?), "
            f"so there is no safe merge base; run `git fetch origin {branch}:{branch}` and retry")
    tip = repo.rev(f"refs/heads/{branch}")
    if tip is None:
        for remote in repo.remote_branches_named(branch):
            remote_tip = repo.rev(remote)
            if remote_tip and repo.is_ancestor(commit, remote_tip):
                return PristineBase(commit, branch, remote_tip, f"from {remote.removeprefix('refs/remotes/')}")
        return PristineBase(commit, branch, commit, f"at the recorded pristine commit {commit[:12]}")
    if not repo.is_ancestor(commit, tip):
        raise RepoStateError(f"branch {branch} does not contain the recorded pristine commit {commit[:12]} "
                             f"(it was moved or rewritten); restore it with `git branch -f {branch} {commit}`")
    return PristineBase(commit, branch, tip)


def target_ref(source: TemplateSource, to: str | None) -> str | None:
    """The template ref to render: --to, else the highest version tag of a git template."""
    if source.location == BUNDLED:
        return None
    if to:
        return to
    if source.is_git:
        return latest_tag(source)
    return None


def latest_tag(source: TemplateSource) -> str | None:
    """The highest version-looking tag of a template repository; None means its default branch."""
    from mlstack.errors import GitError
    from mlstack.gitrepo import remote_tags

    try:
        return highest_version(remote_tags(source.location))
    except GitError as error:
        raise TemplateError(f"cannot list the versions of template {source.shown}: {error.message}") from error


def _check_bundled_version(template: Template, to: str | None) -> None:
    if template.source == BUNDLED and to and to.lstrip("vV") != template.version.lstrip("vV"):
        raise TemplateError(f"this mlstack bundles template version {template.version}, not {to}; install "
                            f"the mlstack release that bundles it (pip install 'mlstack=={to.lstrip('vV')}') "
                            "and run mlstack update again")


def render_version(repo: GitRepo, template: Template, record: ProjectRecord, overrides: dict[str, str],
                   asker: Asker | None, base: PristineBase, *, run_template_code: bool = True) -> Rendered:
    """Carry the answers over, render the version without git side effects, commit it as an object.

    Without template code the migrations are read, not run (their renames apply, their code
    steps are named), answers are not checked by the template's validators, and the render
    reproduces only the hooks' declared effects (`_prune` and the answers file).
    """
    from mlstack.commands.init import generation_meta
    from mlstack.render import render_into_temp

    migrations = load_migrations(template.path) if run_template_code else read_migrations(template.path)
    steps = plan(migrations, record.version, template.version)
    answers = dict(record.answers)
    user_set = list(record.user_set)
    notes = migrate_answers(steps.steps, answers, user_set)
    contract = load_contract(template) if run_template_code else None
    carried = carry_answers(template.context, contract, answers, user_set, overrides, asker, template.version)
    meta = generation_meta(template, carried.user_keys, git_init=False)
    scratch = Path(tempfile.mkdtemp(prefix="mlstack-update-"))
    try:
        _workdir, project = render_into_temp(template, carried.answers, meta, scratch,
                                             run_hooks=run_template_code)
        shutil.rmtree(project / ".git", ignore_errors=True)  # a hook that ran git anyway: never ours
        commit, tree = repo.commit_directory(
            project, [base.tip], f"Render template {template.version} (pristine, written by mlstack)\n")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if base.tip != base.commit and repo.tree_of(base.tip) == tree:
        commit = base.tip  # an earlier, abandoned update already committed this exact render
    return Rendered(template.version, template.source, commit, tree, carried, steps, notes)


def _has_hooks(template: Template) -> bool:
    """Whether the template ships cookiecutter hooks (whose effects a code-free preview lacks)."""
    hooks = template.path / "hooks"
    return any(hooks.glob("pre_gen_project.*")) or any(hooks.glob("post_gen_project.*"))


def update_branch_name(repo: GitRepo, version: str) -> str:
    name = UPDATE_BRANCH_PREFIX + version
    if not repo.ok("check-ref-format", "--branch", name):
        name = UPDATE_BRANCH_PREFIX + "".join(c if c.isalnum() or c in "._-" else "-" for c in version)
    if repo.branch_exists(name):
        raise RepoStateError(f"branch {name} already exists; merge or delete it (git branch -D {name}) first")
    return name


def head_record(repo: GitRepo) -> ProjectRecord:
    text = repo.show_file("HEAD", RECORD_PATH)
    if text is None:
        raise RepoStateError(f"{repo.root} has no committed {RECORD_PATH}, so mlstack did not generate it; "
                             "adopt it first with `mlstack link`")
    return parse_record(text, f"{RECORD_PATH} at HEAD")


@contextmanager
def _locked(repo: GitRepo, enabled: bool) -> Iterator[UpdateLock | None]:
    if not enabled:
        yield None
        return
    with update_lock(repo) as lock:
        yield lock


def describe(result: UpdateResult) -> list[str]:
    """The summary printed after an update (or a dry run); names from the repository and the
    template are escaped, so none can move the cursor or forge a line."""
    return [one_line(line) for line in _summary(result)]


def _summary(result: UpdateResult) -> list[str]:
    lines: list[str] = []
    versions = f"{result.from_version} -> {result.to_version}"
    if result.status == "up-to-date":
        lines.append(f"Already up to date: {result.branch} matches template {result.to_version}; nothing changed.")
        return lines + [f"note: {note}" for note in result.notes]
    if result.status == "dry-run":
        lines.append(f"Dry run: what updating {result.branch} to template {versions} would do.")
    elif result.status == "updated":
        lines.append(f"Updated {result.branch} to template {versions} "
                     f"(merge commit {result.merge_commit[:12] if result.merge_commit else '?'}).")
    else:
        lines.append(f"Merging template {versions} into {result.branch} stopped with "
                     f"{len(result.conflicts)} conflict{'s' if len(result.conflicts) != 1 else ''}.")
    if result.template_changes:
        lines.append(f"Template changes ({len(result.template_changes)}):")
        lines += [f"  {change}" for change in result.template_changes]
    lines += _answer_lines(result.answers)
    if result.migrations:
        heading = "Migrations" + (f" (commit {result.migration_commit[:12]})" if result.migration_commit else "")
        lines.append(f"{heading}:")
        lines += [f"  {step}" for step in result.migrations]
    if result.kept:
        lines.append("Kept (the template deleted these files, but you had changed them; delete them "
                     "yourself if you no longer need them):")
        lines += [f"  {path}" for path in result.kept]
    lines += [f"note: {note}" for note in result.notes]
    if result.conflicts:
        verb = "Would conflict" if result.status == "dry-run" else "Conflicts"
        lines.append(f"{verb} ({len(result.conflicts)}):")
        lines += [f"  {c.path}  ({c.kind})" for c in result.conflicts]
    if result.status == "conflicts":
        lines.append("Resolve the files above (git status lists them), `git add` them and `git commit` to "
                     "finish the merge; `git merge --abort` cancels it.")
        if result.migration_commit:
            lines.append(f"The migrations are commit {result.migration_commit[:12]}; to undo the whole update "
                         f"after aborting: git reset --keep {result.start_commit[:12] if result.start_commit else ''}")
    elif result.status == "dry-run":
        lines.append("Nothing was changed (dry run).")
    elif result.branch.startswith(UPDATE_BRANCH_PREFIX):
        lines.append(f"Review the update on branch {result.branch} and merge it like any other branch.")
    if result.status in ("updated", "conflicts"):
        lines.append("Push the pristine branch with your branch so clones can update too: "
                     "git push origin mlstack/template")
    return lines


def _answer_lines(answers: CarriedAnswers | None) -> list[str]:
    if answers is None:
        return []
    lines = []
    for key, value in answers.new_questions.items():
        lines.append(f"  new question {key} = {shown_value(value)}")
    for key, (old, new) in answers.followed_defaults.items():
        lines.append(f"  {key}: {shown_value(old)} -> {shown_value(new)} (you never set it, so it follows the "
                     "template's default)")
    for key, (old, new) in answers.changed_by_set.items():
        lines.append(f"  {key}: {shown_value(old)} -> {shown_value(new)} (--set)")
    for key in answers.dropped:
        lines.append(f"  {key}: no longer asked by the template (dropped)")
    return ["Answers:", *lines] if lines else []
