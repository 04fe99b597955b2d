"""`mlstack update` on real git repositories: clean merges, conflicts, answers, refusals and rollback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from helpers import git
from helpers.template_repos import (
    TemplateRepo,
    append,
    commit_all,
    copy_project,
    fingerprint,
    generate,
    invoke,
    parents,
    recorded,
)
from mlstack.commands.update import update_project
from mlstack.errors import FINDINGS, INVALID_INPUT, REPO_STATE, TEMPLATE_ERROR

NOTES = "docs/upgrade-notes.md"


@pytest.fixture(scope="module")
def origin(tmp_path_factory):
    """A template repository at v1.0.0 and a project generated from it (owner_team set by the user)."""
    root = tmp_path_factory.mktemp("origin")

    def notes(template: TemplateRepo) -> None:
        (template.project / NOTES).write_text("".join(f"note {i}\n" for i in range(1, 11)))

    template = TemplateRepo(root / "template", first_tag="v0.9.0")
    template.release("v1.0.0", notes)
    template.first_tag = "v1.0.0"
    project = generate(template, root / "out", "--set", "owner_team=clinical-ml")
    return template, project


@pytest.fixture
def template(origin) -> TemplateRepo:
    return origin[0]


@pytest.fixture
def project(origin, tmp_path):
    return copy_project(origin[1], tmp_path / "project")


def update(project, *args, input=None):
    return invoke("update", "-C", str(project), "--trust", *args, input=input)


def set_line(path, number, text):
    lines = path.read_text().splitlines(keepends=True)
    lines[number - 1] = text + "\n"
    path.write_text("".join(lines))


# --- clean merges ------------------------------------------------------------------------------

def test_clean_update_merges_template_changes_into_user_changes_with_two_parents(template, project):
    def v2(t):
        set_line(t.project / NOTES, 2, "note 2 from template v2")
        (t.project / "docs" / "new-in-v2.md").write_text("added by v2\n")
    tag = template.release("v2.0.0", v2)
    set_line(project / NOTES, 9, "note 9 edited by the team")
    append(project / "Makefile", "\nteam-target:\n\techo team\n")
    before = commit_all(project)
    old_pristine = git(project, "rev-parse", "mlstack/template")

    result = update(project, "--to", tag, "--no-input")

    assert result.exit_code == 0, result.output
    assert "Updated main to template v1.0.0 -> v2.0.0" in result.output
    assert "A docs/new-in-v2.md" in result.output and f"M {NOTES}" in result.output
    notes = (project / NOTES).read_text()
    assert "note 2 from template v2" in notes and "note 9 edited by the team" in notes
    assert "team-target:" in (project / "Makefile").read_text()
    assert (project / "docs" / "new-in-v2.md").read_text() == "added by v2\n"
    new_pristine = git(project, "rev-parse", "mlstack/template")
    assert parents(project) == [before, new_pristine]
    assert parents(project, new_pristine) == [old_pristine]
    meta = recorded(project)
    assert meta["template"]["version"] == "v2.0.0"
    assert meta["template"]["pristine_commit"] == new_pristine
    assert git(project, "status", "--porcelain") == ""
    assert git(project, "branch", "--show-current") == "main"


def test_update_without_changes_on_either_side_is_already_up_to_date(template, project):
    before = fingerprint(project)
    result = update(project, "--to", "v1.0.0", "--no-input")
    assert result.exit_code == 0, result.output
    assert "Already up to date" in result.output
    assert fingerprint(project) == before


def test_update_to_latest_picks_the_highest_version_tag(tmp_path):
    template = TemplateRepo(tmp_path / "template")
    project = generate(template, tmp_path / "out")
    for tag in ("v1.9.0", "v1.10.0", "v1.2.0"):
        template.release(tag, lambda t, tag=tag: append(t.project / "README.md", f"\nrelease {tag}\n"))
    result = update(project, "--no-input")
    assert result.exit_code == 0, result.output
    assert recorded(project)["template"]["version"] == "v1.10.0"
    assert "release v1.10.0" in (project / "README.md").read_text()


def test_branch_option_merges_on_an_update_branch_and_leaves_main_alone(template, project):
    tag = template.release("v2.0.1", lambda t: append(t.project / "README.md", "\nv2.0.1 line\n"))
    main_before = git(project, "rev-parse", "main")
    result = update(project, "--to", tag, "--no-input", "--branch")
    assert result.exit_code == 0, result.output
    assert git(project, "branch", "--show-current") == "mlstack/update-v2.0.1"
    assert git(project, "rev-parse", "main") == main_before
    assert parents(project)[0] == main_before
    assert "Review the update on branch mlstack/update-v2.0.1" in result.output
    git(project, "switch", "--quiet", "main")
    again = update(project, "--to", tag, "--no-input", "--branch")
    assert again.exit_code == REPO_STATE and "branch mlstack/update-v2.0.1 already exists" in again.output


def test_template_hooks_with_git_side_effects_do_not_run_on_update(template, project):
    tag = template.release("v2.0.2", lambda t: append(t.project / "README.md", "\nv2.0.2 line\n"))
    branches_before = {b: git(project, "rev-parse", b) for b in ("dev", "release")}
    result = update(project, "--to", tag, "--no-input")
    assert result.exit_code == 0, result.output
    branches = set(git(project, "branch", "--format=%(refname:short)").split())
    assert branches == {"main", "dev", "release", "mlstack/template"}
    assert {b: git(project, "rev-parse", b) for b in ("dev", "release")} == branches_before
    assert git(project, "rev-list", "--count", "mlstack/template") == "2"
    assert not any(p.name == ".git" for p in project.rglob(".git") if p.parent != project)


# --- conflicts -----------------------------------------------------------------------------------

def test_conflict_exits_1_with_normal_git_merge_state_that_abort_undoes(template, project):
    tag = template.release("v2.1.0", lambda t: set_line(t.project / NOTES, 5, "note 5 by the template"))
    set_line(project / NOTES, 5, "note 5 by the team")
    commit_all(project)
    git(project, "config", "merge.conflictStyle", "diff3")  # shows the base's label too
    before = fingerprint(project)

    result = update(project, "--to", tag, "--no-input")

    assert result.exit_code == FINDINGS, result.output
    assert f"{NOTES}  (changed by you and by the template)" in result.output
    assert "git merge --abort" in result.output
    assert git(project, "diff", "--name-only", "--diff-filter=U") == NOTES
    assert git(project, "rev-parse", "MERGE_HEAD") == git(project, "rev-parse", "mlstack/template")
    text = (project / NOTES).read_text()
    assert ("<<<<<<< main\nnote 5 by the team\n||||||| template v1.0.0\nnote 5\n"
            "=======\nnote 5 by the template\n>>>>>>> template v2.1.0\n") in text
    assert recorded(project, "HEAD")["template"]["version"] == "v1.0.0"  # not before the merge commit
    assert recorded(project)["template"]["version"] == "v2.1.0"  # staged for it

    git(project, "merge", "--abort")
    after = fingerprint(project)
    assert {k: v for k, v in after.items() if k != "refs"} == {k: v for k, v in before.items() if k != "refs"}
    render = git(project, "rev-parse", "mlstack/template")
    assert update(project, "--to", tag, "--no-input").exit_code == FINDINGS
    assert git(project, "rev-parse", "mlstack/template") == render  # the same render is reused, not re-committed


def test_resolving_conflicts_and_committing_records_the_new_version(template, project):
    tag = template.release("v2.1.1", lambda t: set_line(t.project / NOTES, 5, "note 5 by the template"))
    set_line(project / NOTES, 5, "note 5 by the team")
    before = commit_all(project)
    assert update(project, "--to", tag, "--no-input").exit_code == FINDINGS
    set_line(project / NOTES, 5, "note 5 agreed")
    text = (project / NOTES).read_text()
    (project / NOTES).write_text("".join(line for line in text.splitlines(keepends=True)
                                         if not line.startswith(("<<<<<<<", "=======", ">>>>>>>"))
                                         and "by the te" not in line))
    git(project, "add", NOTES)
    git(project, "commit", "--quiet", "--no-edit")
    assert parents(project) == [before, git(project, "rev-parse", "mlstack/template")]
    assert recorded(project, "HEAD")["template"]["version"] == "v2.1.1"
    assert "Merge template v2.1.1 into main" in git(project, "log", "-1", "--format=%s")


def test_user_deleted_file_that_the_template_changes_is_a_visible_conflict(template, project):
    tag = template.release("v2.2.0", lambda t: set_line(t.project / NOTES, 1, "note 1 by the template"))
    git(project, "rm", "--quiet", NOTES)
    commit_all(project)
    result = update(project, "--to", tag, "--no-input")
    assert result.exit_code == FINDINGS, result.output
    assert f"{NOTES}  (deleted by you, changed by the template)" in result.output
    assert "deleted by us" in git(project, "status")


def test_template_deleted_file_that_the_user_edited_is_kept_and_reported(template, project):
    tag = template.release("v2.3.0", lambda t: (t.project / NOTES).unlink())
    set_line(project / NOTES, 3, "note 3 kept by the team")
    commit_all(project)
    result = update(project, "--to", tag, "--no-input")
    assert result.exit_code == 0, result.output
    assert "Kept (the template deleted these files, but you had changed them" in result.output
    assert f"  {NOTES}" in result.output
    assert "note 3 kept by the team" in (project / NOTES).read_text()
    assert git(project, "status", "--porcelain") == ""


def test_template_deleted_file_the_user_never_touched_is_removed(template, project):
    tag = template.release("v2.3.1", lambda t: (t.project / NOTES).unlink())
    result = update(project, "--to", tag, "--no-input")
    assert result.exit_code == 0, result.output
    assert not (project / NOTES).exists()


# --- history shapes --------------------------------------------------------------------------------

def test_squash_merged_previous_update_still_uses_the_recorded_pristine_base(template, project):
    template.release("v3.0.0", lambda t: append(t.project / NOTES, "line added by v3.0\n"))
    v31 = template.release("v3.1.0", lambda t: append(t.project / NOTES, "line added by v3.1\n"), base="v3.0.0")
    assert update(project, "--to", "v3.0.0", "--no-input", "--branch").exit_code == 0
    git(project, "switch", "--quiet", "main")
    git(project, "merge", "--quiet", "--squash", "mlstack/update-v3.0.0")
    git(project, "commit", "--quiet", "-m", "Update template to v3.0.0 (squashed)")
    git(project, "branch", "--quiet", "-D", "mlstack/update-v3.0.0")
    # git merge-base now finds the v1 render; the recorded v3.0.0 render is the right base.
    assert git(project, "merge-base", "main", "mlstack/template") != recorded(project)["template"]["pristine_commit"]

    result = update(project, "--to", v31, "--no-input")

    assert result.exit_code == 0, result.output
    assert (project / NOTES).read_text().endswith("line added by v3.0\nline added by v3.1\n")
    assert "M docs/upgrade-notes.md" in result.output


def test_clone_without_the_pristine_branch_recreates_it_at_the_recorded_commit(template, project, tmp_path):
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "--quiet", "--single-branch", "--branch", "main", str(project), str(clone))
    recorded_commit = recorded(clone)["template"]["pristine_commit"]
    tag = template.release("v4.0.0", lambda t: append(t.project / NOTES, "line added by v4\n"))
    result = update(clone, "--to", tag, "--no-input")
    assert result.exit_code == 0, result.output
    assert "branch mlstack/template was missing: recreated at the recorded pristine commit" in result.output
    assert parents(clone, "mlstack/template") == [recorded_commit]


def test_dry_run_without_the_pristine_branch_says_it_would_recreate_it(template, project, tmp_path):
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "--quiet", "--single-branch", "--branch", "main", str(project), str(clone))
    tag = template.release("v4.0.9", lambda t: append(t.project / NOTES, "line added by v4\n"))
    result = update(clone, "--to", tag, "--no-input", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "branch mlstack/template was missing: an update would recreate it at the recorded pristine" \
        in result.output
    assert "recreated" not in result.output
    assert git(clone, "branch", "--list", "mlstack/template") == ""


def test_clone_with_only_the_remote_pristine_branch_restores_it_from_there(template, project, tmp_path):
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "--quiet", str(project), str(clone))
    tag = template.release("v4.0.1", lambda t: append(t.project / NOTES, "line added by v4.0.1\n"))
    result = update(clone, "--to", tag, "--no-input")
    assert result.exit_code == 0, result.output
    assert "recreated from origin/mlstack/template" in result.output


def test_clone_missing_the_recorded_pristine_commit_refuses_with_a_fetch_hint(template, project, tmp_path):
    template.release("v4.1.0", lambda t: append(t.project / NOTES, "line added by v4.1\n"))
    assert update(project, "--to", "v4.1.0", "--no-input", "--branch").exit_code == 0
    git(project, "switch", "--quiet", "main")
    git(project, "merge", "--quiet", "--squash", "mlstack/update-v4.1.0")
    git(project, "commit", "--quiet", "-m", "squashed update")
    clone = tmp_path / "clone"
    # a file:// URL makes git transfer only what main reaches (a plain path copies every object)
    git(tmp_path, "clone", "--quiet", "--single-branch", "--branch", "main", f"file://{project}", str(clone))
    before = fingerprint(clone)
    result = update(clone, "--to", "v4.1.0", "--no-input")
    assert result.exit_code == REPO_STATE
    assert "is not in this clone" in result.output
    assert "git fetch origin mlstack/template:mlstack/template" in result.output
    assert fingerprint(clone) == before


# --- refusals and rollback -------------------------------------------------------------------------

@pytest.mark.parametrize("dirt", ["modified", "staged", "untracked"])
def test_dirty_tree_refuses_and_changes_nothing(template, project, dirt):
    tag = template.release(f"v5.0.0-{dirt}", lambda t: append(t.project / NOTES, "v5\n"))
    if dirt == "untracked":
        (project / "scratch.py").write_text("x = 1\n")
    else:
        append(project / "Makefile", "\n# local\n")
        if dirt == "staged":
            git(project, "add", "Makefile")
    before = fingerprint(project)
    result = update(project, "--to", tag, "--no-input")
    assert result.exit_code == REPO_STATE
    assert "commit or stash" in result.output
    assert fingerprint(project) == before


def test_an_ignored_local_file_where_the_template_adds_one_is_never_overwritten(template, project):
    tag = template.release("v5.0.1", lambda t: (t.project / "configs" / "override.yml").write_text("tpl: 1\n"))
    append(project / ".git" / "info" / "exclude", "configs/override.yml\n")
    (project / "configs" / "override.yml").write_text("mine: 1\n")
    before = fingerprint(project)
    result = update(project, "--to", tag, "--no-input")
    assert result.exit_code == REPO_STATE and "configs/override.yml; move them aside" in result.output
    assert fingerprint(project) == before


def test_detached_head_and_pristine_branch_checkouts_are_refused(project):
    git(project, "checkout", "--quiet", "--detach")
    assert update(project, "--no-input").exit_code == REPO_STATE
    git(project, "checkout", "--quiet", "mlstack/template")
    result = update(project, "--no-input")
    assert result.exit_code == REPO_STATE and "only mlstack writes" in result.output


def test_a_repository_not_generated_by_mlstack_is_pointed_to_link(tmp_path):
    git(tmp_path, "init", "--quiet")
    (tmp_path / "a.txt").write_text("a\n")
    commit_all(tmp_path)
    result = update(tmp_path, "--no-input")
    assert result.exit_code == REPO_STATE and "mlstack link" in result.output


def test_a_second_update_while_one_runs_is_refused(template, project):
    (project / ".git" / "mlstack-update.lock").write_text(str(os.getpid()))  # a live process holds it
    result = update(project, "--to", "v1.0.0", "--no-input")
    assert result.exit_code == REPO_STATE and "another mlstack update is running" in result.output


KILLED_UPDATE = """
import os, signal, sys
from mlstack import gitrepo
original = getattr(gitrepo.GitRepo, {point!r})
def then_killed(self, *args, **kwargs):
    original(self, *args, **kwargs)
    if {point!r} != "update_branch" or args[0] == "mlstack/template":
        os.kill(os.getpid(), signal.SIGKILL)
setattr(gitrepo.GitRepo, {point!r}, then_killed)
from mlstack.cli import main
sys.argv = ["mlstack", "update", "-C", {project!r}, "--trust", "--to", {tag!r}, "--no-input", *{extra!r}]
main()
"""


@pytest.mark.parametrize("point,extra", [("update_branch", []), ("checkout_tree", []),
                                         ("checkout_tree", ["--branch"])],
                         ids=["after-pristine-commit", "after-work-tree-moved", "on-an-update-branch"])
def test_update_killed_half_way_is_named_and_undone_by_one_command(template, project, point, extra):
    tag = template.release(f"v7.0.0-{point}-{len(extra)}",
                           lambda t: set_line(t.project / NOTES, 5, "note 5 by the template"))
    append(project / "Makefile", "\n# team\n")
    commit_all(project)
    before = fingerprint(project)
    script = KILLED_UPDATE.format(point=point, project=str(project), tag=tag, extra=extra)
    killed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert fingerprint(project) != before  # the kill left work half done

    again = update(project, "--to", tag, "--no-input")
    assert again.exit_code == REPO_STATE and "interrupted half-way; `mlstack update --recover`" in again.output
    recovered = update(project, "--recover")
    assert recovered.exit_code == 0 and "Recovered: main" in recovered.output
    assert fingerprint(project) == before
    assert update(project, "--to", tag, "--no-input").exit_code == 0


def test_a_stale_lock_from_before_any_write_is_named_and_removed(project):
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (project / ".git" / "mlstack-update.lock").write_text(gone.stdout.strip())
    before = fingerprint(project)
    result = update(project, "--to", "v1.0.0", "--no-input")
    assert result.exit_code == REPO_STATE and "interrupted before it changed anything" in result.output
    assert update(project, "--recover").exit_code == 0
    assert fingerprint(project) == {**before, "merge_state": []}
    assert "Nothing to recover" in update(project, "--recover").output


def test_failing_template_hook_exits_7_and_leaves_the_repository_as_it_was(template, project):
    def broken(t):
        append(t.path / "hooks" / "post_gen_project.py", "\nraise SystemExit('template bug')\n")
    tag = template.release("v5.1.0", broken)
    before = fingerprint(project)
    result = update(project, "--to", tag, "--no-input")
    assert result.exit_code == TEMPLATE_ERROR
    assert fingerprint(project) == before


class Injected(RuntimeError):
    pass


def fail_on(monkeypatch, owner, name, after_original=False):
    """Make owner.name raise Injected (after doing its real work, when asked)."""
    original = getattr(owner, name)

    def broken(*args, **kwargs):
        if after_original:
            original(*args, **kwargs)
        raise Injected(name)
    monkeypatch.setattr(owner, name, broken)


@pytest.mark.parametrize("stage,conflicting,branch", [
    ("render", False, False),                 # before anything is written
    ("record", False, True),                  # pristine branch moved, update branch created
    ("checkout", False, False),               # work tree and index moved, branch not yet
    ("stage_conflicts", True, False),          # work tree holds conflict markers
    ("merge_state", True, True),               # conflicts staged on the update branch
    ("interrupt", False, False),              # Ctrl-C after the work tree moved
])
def test_failure_half_way_leaves_branches_index_and_files_exactly_as_before(
        template, project, monkeypatch, stage, conflicting, branch):
    import mlstack.commands.update
    import mlstack.render
    from mlstack.gitrepo import GitRepo

    tag = template.release(f"v6.0.0-{stage}", lambda t: set_line(t.project / NOTES, 4, "note 4 by the template"))
    if conflicting:
        set_line(project / NOTES, 4, "note 4 by the team")
    append(project / "Makefile", "\n# team\n")
    commit_all(project)
    before = fingerprint(project)
    if stage == "render":
        fail_on(monkeypatch, mlstack.render, "render_into_temp")
    elif stage == "record":
        fail_on(monkeypatch, mlstack.commands.update, "write_record")
    elif stage == "checkout":
        fail_on(monkeypatch, GitRepo, "checkout_tree", after_original=True)
    elif stage == "stage_conflicts":
        fail_on(monkeypatch, GitRepo, "stage_conflicts", after_original=True)
    elif stage == "merge_state":
        fail_on(monkeypatch, GitRepo, "start_merge_state", after_original=True)
    else:
        original = GitRepo.checkout_tree

        def interrupted(self, *args):
            original(self, *args)
            raise KeyboardInterrupt
        monkeypatch.setattr(GitRepo, "checkout_tree", interrupted)

    with pytest.raises((Injected, KeyboardInterrupt)):
        update_project(project, to=tag, trust=True, branch=branch)

    assert fingerprint(project) == before


# --- answers -------------------------------------------------------------------------------------

def test_user_set_answers_stay_and_defaulted_answers_follow_changed_defaults(template, project):
    def v7(t):
        def change(data):
            data["owner_team"] = "platform-team"
            data["timezone"] = "Europe/Paris"
        t.edit_json(change)
        (t.project / "configs" / "schedule.yml").write_text("timezone: {{ cookiecutter.timezone }}\n")
    tag = template.release("v7.0.0", v7)
    result = update(project, "--to", tag, "--no-input")
    assert result.exit_code == 0, result.output
    answers = recorded(project)["answers"]
    assert answers["owner_team"] == "clinical-ml"
    assert answers["timezone"] == "Europe/Paris"
    assert "timezone: 'UTC' -> 'Europe/Paris' (you never set it" in result.output
    assert (project / "configs" / "schedule.yml").read_text() == "timezone: Europe/Paris\n"
    assert '"clinical-ml"' in (project / "configs" / "project.yml").read_text()


def test_new_question_takes_its_valid_default_with_no_input(template, project):
    tag = template.release("v7.1.0", lambda t: t.add_question("alert_channel", "#ml-alerts", "Alert channel",
                                                              used_in="configs/alerts.yml"))
    result = update(project, "--to", tag, "--no-input")
    assert result.exit_code == 0, result.output
    assert "new question alert_channel = '#ml-alerts'" in result.output
    assert (project / "configs" / "alerts.yml").read_text() == "alert_channel: #ml-alerts\n"
    assert "alert_channel" not in recorded(project)["user_set"]


def add_required_question(t):
    t.add_question("cost_center", "", "Cost center for cloud billing", used_in="configs/billing.yml")
    append(t.path / "hooks" / "template_questions.py",
           "\nRULES['cost_center'] = lambda value, answers: None if str(value).strip() else 'must not be empty'\n")


def test_new_question_without_a_valid_default_fails_with_no_input_naming_it(template, project):
    tag = template.release("v7.2.0", add_required_question)
    before = fingerprint(project)
    result = update(project, "--to", tag, "--no-input")
    assert result.exit_code == INVALID_INPUT
    assert "new question, cost_center" in result.output and "--set cost_center=VALUE" in result.output
    assert fingerprint(project) == before
    result = update(project, "--to", tag, "--no-input", "--set", "cost_center=cc-1234")
    assert result.exit_code == 0, result.output
    assert (project / "configs" / "billing.yml").read_text() == "cost_center: cc-1234\n"
    assert "cost_center" in recorded(project)["user_set"]


def test_interactive_update_asks_only_the_new_question(template, project):
    tag = template.release("v7.3.0", add_required_question)
    result = update(project, "--to", tag, input="cc-77\n")
    assert result.exit_code == 0, result.output
    assert result.output.count("Cost center for cloud billing") == 1
    assert "Project name" not in result.output
    assert (project / "configs" / "billing.yml").read_text() == "cost_center: cc-77\n"


def test_set_changes_an_answer_and_makes_it_sticky(template, project):
    result = update(project, "--to", "v1.0.0", "--no-input", "--set", "timezone=America/New_York")
    assert result.exit_code == 0, result.output
    meta = recorded(project)
    assert meta["answers"]["timezone"] == "America/New_York" and "timezone" in meta["user_set"]
    assert "timezone: 'UTC' -> 'America/New_York' (--set)" in result.output


def test_invalid_set_value_is_refused_before_anything_changes(project):
    before = fingerprint(project)
    result = update(project, "--to", "v1.0.0", "--no-input", "--set", "cloud=mars")
    assert result.exit_code == INVALID_INPUT and "cloud='mars'" in result.output
    assert fingerprint(project) == before


# --- dry run ---------------------------------------------------------------------------------------

def test_dry_run_reports_changes_and_predicted_conflicts_and_writes_nothing(template, project):
    tag = template.release("v8.0.0", lambda t: set_line(t.project / NOTES, 6, "note 6 by the template"))
    set_line(project / NOTES, 6, "note 6 by the team")
    commit_all(project)
    before = fingerprint(project)
    result = update(project, "--to", tag, "--no-input", "--dry-run")
    assert result.exit_code == FINDINGS
    assert "Dry run" in result.output and f"M {NOTES}" in result.output
    assert f"Would conflict (1):\n  {NOTES}" in result.output
    assert fingerprint(project) == before


# --- migrations ------------------------------------------------------------------------------------

RENAME_MIGRATION = '''"""Team notes moved from notes/team.md to docs/team-notes.md; owner_team is now team."""

APPLIES_TO = ">=1.0.0,<9.0.0"
RENAMED_ANSWERS = {"owner_team": "team"}


def migrate_files(project, answers):
    old = project / "notes" / "team.md"
    if old.exists():
        (project / "docs").mkdir(exist_ok=True)
        old.rename(project / "docs" / "team-notes.md")
'''


def rename_owner_team(t):
    t.edit_json(lambda data: data.update({k if k != "owner_team" else "team": v for k, v in data.items()}))

    def rename_key(data):
        renamed = {("team" if k == "owner_team" else k): v for k, v in data.items()}
        renamed["__prompts__"] = {("team" if k == "owner_team" else k): v for k, v in data["__prompts__"].items()}
        data.clear()
        data.update(renamed)
    t.edit_json(rename_key)
    for path in [*t.project.rglob("*"), t.path / "hooks" / "template_questions.py"]:
        if path.is_file():
            text = path.read_text()
            if "owner_team" in text:
                path.write_text(text.replace("cookiecutter.owner_team", "cookiecutter.team")
                                .replace('"owner_team"', '"team"'))
    migrations = t.path / "hooks" / "migrations"
    migrations.mkdir(exist_ok=True)
    (migrations / "0001_team_notes.py").write_text(RENAME_MIGRATION)


def test_migrations_in_range_run_as_their_own_commit_before_the_merge(template, project):
    tag = template.release("v9.0.0", rename_owner_team)
    (project / "notes").mkdir()
    (project / "notes" / "team.md").write_text("our notes\n")
    before = commit_all(project)

    result = update(project, "--to", tag, "--no-input")

    assert result.exit_code == 0, result.output
    assert "0001_team_notes: Team notes moved" in result.output
    migration_commit = parents(project)[0]
    assert parents(project, migration_commit) == [before]
    assert "Migrate for template v9.0.0" in git(project, "log", "-1", "--format=%s", migration_commit)
    assert (project / "docs" / "team-notes.md").read_text() == "our notes\n"
    assert not (project / "notes" / "team.md").exists()
    meta = recorded(project)
    assert meta["answers"]["team"] == "clinical-ml" and "owner_team" not in meta["answers"]
    assert "team" in meta["user_set"] and "owner_team" not in meta["user_set"]


def test_migrations_outside_their_range_do_not_run(template, project):
    def v9(t):
        rename_owner_team(t)
        path = t.path / "hooks" / "migrations" / "0001_team_notes.py"
        path.write_text(path.read_text().replace('">=1.0.0,<9.0.0"', '"<1.0.0"'))
    tag = template.release("v9.1.0", v9)
    (project / "notes").mkdir()
    (project / "notes" / "team.md").write_text("our notes\n")
    commit_all(project)
    result = update(project, "--to", tag, "--no-input")
    assert result.exit_code == 0, result.output
    assert (project / "notes" / "team.md").exists()
    assert "Migrations" not in result.output
    assert recorded(project)["answers"]["team"] == "ml-platform"  # the old answer was not carried over


def test_failing_migration_stops_the_update_and_changes_nothing(template, project):
    def v9(t):
        migrations = t.path / "hooks" / "migrations"
        migrations.mkdir(exist_ok=True)
        (migrations / "0002_broken.py").write_text(
            '"""Broken step."""\nAPPLIES_TO = "<9.2.0"\n\n\ndef migrate_files(project, answers):\n'
            '    (project / "half-done.txt").write_text("x")\n    raise ValueError("boom")\n')
        append(t.project / NOTES, "v9.2\n")
    tag = template.release("v9.2.0", v9)
    before = fingerprint(project)
    result = update(project, "--to", tag, "--no-input", "--branch")
    assert result.exit_code == TEMPLATE_ERROR and "migration 0002_broken failed" in result.output
    assert fingerprint(project) == before


# --- the bundled template ----------------------------------------------------------------------------

def test_bundled_template_updates_only_to_the_version_it_ships(tmp_path):
    result = invoke("init", "--no-input", "-o", str(tmp_path))
    assert result.exit_code == 0, result.output
    project = tmp_path / "maternal-health-risk"
    before = fingerprint(project)
    same = invoke("update", "-C", str(project), "--no-input")
    assert same.exit_code == 0 and "Already up to date" in same.output
    other = invoke("update", "-C", str(project), "--no-input", "--to", "99.0.0")
    assert other.exit_code == TEMPLATE_ERROR and "pip install 'mlstack==99.0.0'" in other.output
    assert fingerprint(project) == before


def test_a_preview_plan_cannot_be_applied(template, project):
    """plan -> preview/apply: a plan made without the template's code (diff's) is never written."""
    from mlstack.commands.update import apply_update, plan_update, preview_update

    tag = template.release("v9.5.0", lambda t: append(t.project / NOTES, "line added by v9.5\n"))
    head = git(project, "rev-parse", "HEAD")
    with plan_update(project, to=tag, preview=True, trust=True, run_template_code=False) as plan:
        assert preview_update(plan).status == "dry-run"
        with pytest.raises(ValueError, match="only a plan made to be applied"):
            apply_update(plan)
    assert git(project, "rev-parse", "HEAD") == head and git(project, "status", "--porcelain") == ""
