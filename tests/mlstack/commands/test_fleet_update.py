"""`mlstack fleet update`: a template release rolled out to a fleet whose remotes are real bare repositories.

The git side is real: every repository has a local bare remote, reached through
https://github.com/acme/<name>.git by a test-only `url.<file>.insteadOf` (so git pushes to disk
while the code-host client sees owner/repo). The --open-pr tests run the real GitHub client
against tests/helpers/code_host_server.py, a local server answering as GitHub's REST API documents.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from helpers import git
from helpers.code_host_server import GITHUB_TOKEN, WRONG_TOKEN, PlatformServer
from helpers.template_repos import TemplateRepo, append, commit_all, copy_project, generate, invoke
from mlstack.commands.fleet_update import RolloutSettings, fleet_update, is_done, select_wave
from mlstack.commands.update import update_project
from mlstack.errors import FINDINGS, INVALID_INPUT
from mlstack.rollout_state import RolloutEntry, load_state, save_state

V2 = "v2.0.0"
BRANCH = f"mlstack/update-{V2}"
OLD_BRANCH = "mlstack/update-v1.5.0"
TEAM_BRANCH = "mlstack/update-v1.2.0"  # named like mlstack's, but a team's commit: never deleted
GITHUB = "https://github.com/acme/"


def bare(work: Path, remote: Path) -> Path:
    """A bare remote holding every branch of `work` (HEAD: main)."""
    git(work, "switch", "--quiet", "main")
    subprocess.run(["git", "clone", "--quiet", "--bare", str(work), str(remote)], check=True, capture_output=True)
    return remote


@pytest.fixture(scope="module")
def prototypes(tmp_path_factory):
    """One generated project (template v1.0.0) turned into a bare remote per kind of repository.

    Tests copy these remotes (a copy of a bare repository is cheap; a generation is not).
    """
    root = tmp_path_factory.mktemp("fleet-update")
    template = TemplateRepo(root / "template")
    template.release("v1.5.0", lambda t: append(t.project / "docs" / "v15.md", "added by v1.5\n"))
    template.release(V2, lambda t: append(t.project / "README.md", "\nv2 line from the template\n"), base="v1.5.0")
    project = generate(template, root / "out")
    protos = root / "protos"
    work = root / "work"

    def kind(name, change=None) -> Path:
        copy = copy_project(project, work / name)
        if change:
            change(copy)
        return bare(copy, protos / f"{name}.git")

    kind("clean")
    kind("edited", lambda p: (append(p / "Makefile", "\nteam-target:\n\techo team\n"), commit_all(p)))
    kind("conflict", lambda p: (append(p / "README.md", "\nteam line in the same place\n"), commit_all(p)))

    def current(p):
        assert update_project(p, to=V2, trust=True).status == "updated"
    kind("current", current)

    def older(p):
        assert update_project(p, to="v1.5.0", trust=True, branch=True).status == "updated"
        git(p, "switch", "--quiet", "main")
        git(p, "switch", "--quiet", "-c", TEAM_BRANCH)
        append(p / "notes.md", "the team's own work on a branch with an mlstack-like name\n")
        commit_all(p)
    kind("older", older)
    kind("refused")
    hook = protos / "refused.git" / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'pushes to this repository need a review' >&2\nexit 1\n")
    hook.chmod(0o755)
    plain = work / "not-mlstack"
    plain.mkdir(parents=True)
    (plain / "README.md").write_text("a service, not made by mlstack\n")
    git(plain, "init", "--quiet", "--initial-branch=main")
    commit_all(plain, "first")
    bare(plain, protos / "not-mlstack.git")
    return template, protos


@pytest.fixture
def remotes(prototypes, tmp_path, monkeypatch):
    """Fresh copies of the prototype remotes, reachable as https://github.com/acme/<name>.git."""
    template, protos = prototypes
    folder = tmp_path / "remotes"
    shutil.copytree(protos, folder, symlinks=True)
    config = tmp_path / "gitconfig"
    config.write_text(f'[url "file://{folder}/"]\n\tinsteadOf = {GITHUB}\n'
                      "[user]\n\tname = Platform Team\n\temail = platform@example.com\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    return template, folder


def refs(remote: Path) -> str:
    return git(remote, "for-each-ref", "--format=%(refname) %(objectname)")


def branch_tip(remote: Path, branch: str) -> str | None:
    done = subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}"], cwd=remote,
                          capture_output=True, text=True)
    return done.stdout.strip() or None


def fleet(*args: str):
    return invoke("fleet", "update", *args)


FLEET = ["clean", "conflict", "current", "not-mlstack", "refused", "older", "edited"]


def test_canary_then_the_rest_with_push_gives_every_outcome_and_a_rerun_changes_nothing(remotes, tmp_path):
    template, folder = remotes
    listing = tmp_path / "repos.txt"
    listing.write_text("# the fleet\n" + "".join(f"{GITHUB}{name}.git\n" for name in FLEET))
    before = {name: refs(folder / f"{name}.git") for name in FLEET}
    mains = {name: branch_tip(folder / f"{name}.git", "main") for name in FLEET}
    options = ["--from", str(listing), "--template", template.url, "--trust", "--push", "-j", "2"]

    canary = fleet(*options, "--canary", "2")

    assert canary.exit_code == 0, canary.output
    state_file = tmp_path / "repos.rollout.json"
    state = load_state(state_file)
    assert {key: entry.outcome for key, entry in state.items()} == {
        f"{GITHUB}clean.git": "updated", f"{GITHUB}conflict.git": "conflicted"}
    assert "the team resolves it in its clone: git switch main && git pull --ff-only && git fetch origin " \
           f"mlstack/template && mlstack update --branch --to {V2}" in canary.output
    assert state[f"{GITHUB}conflict.git"].conflicts == ["README.md"]
    assert refs(folder / "current.git") == before["current"]  # the canary stopped after two

    rest = fleet(*options, "--wave", "10")

    assert rest.exit_code == FINDINGS, rest.output  # two repositories failed
    state = load_state(state_file)
    outcome = {key.removeprefix(GITHUB).removesuffix(".git"): entry for key, entry in state.items()}
    assert {name: entry.outcome for name, entry in outcome.items()} == {
        "clean": "updated", "conflict": "conflicted", "current": "up-to-date", "not-mlstack": "failed",
        "refused": "failed", "older": "updated", "edited": "updated"}
    assert outcome["not-mlstack"].reason == ("not an mlstack repository: main has no committed "
                                             ".mlstack/answers.yml (adopt it with `mlstack link`)")
    assert outcome["refused"].reason == ("push refused: mlstack/template [remote rejected] (pre-receive hook "
                                         f"declined); {BRANCH} [remote rejected] (pre-receive hook declined)")
    assert (outcome["refused"].check, outcome["refused"].validate, outcome["refused"].pushed) == (
        "ok", "passed", False)
    assert (outcome["conflict"].branch, outcome["conflict"].pushed) == (None, False)
    for name in ("clean", "older", "edited"):
        entry = outcome[name]
        assert (entry.branch, entry.pushed, entry.from_version, entry.version) == (BRANCH, True, "v1.0.0", V2)
        assert entry.check in ("ok", "drift", "update") and entry.validate == "passed"
        assert branch_tip(folder / f"{name}.git", BRANCH) == entry.commit
    assert outcome["older"].notes.count(f"superseded {OLD_BRANCH} (deleted on the remote)") == 1
    assert branch_tip(folder / "older.git", OLD_BRANCH) is None
    assert f"left {TEAM_BRANCH} alone: it holds commits mlstack did not make" in outcome["older"].notes
    assert branch_tip(folder / "older.git", TEAM_BRANCH) is not None
    for name in ("conflict", "current", "not-mlstack", "refused"):
        assert refs(folder / f"{name}.git") == before[name], name  # nothing pushed
    assert {name: branch_tip(folder / f"{name}.git", "main") for name in FLEET} == mains

    state_text = state_file.read_text()
    after = {name: refs(folder / f"{name}.git") for name in FLEET}
    for again in (fleet(*options, "--wave", "10"), fleet(*options, "--canary", "2"), fleet(*options)):
        assert again.exit_code == 0, again.output
        assert "0 updated, 0 up-to-date, 0 conflicted, 0 failed, 0 skipped" in again.output
    assert state_file.read_text() == state_text
    assert {name: refs(folder / f"{name}.git") for name in FLEET} == after

    for name in ("clean", "older", "edited"):
        clone = tmp_path / "merge" / name
        subprocess.run(["git", "clone", "--quiet", f"{GITHUB}{name}.git", str(clone)], check=True,
                       capture_output=True)
        git(clone, "merge", "--quiet", "--no-edit", f"origin/{BRANCH}")
        assert git(clone, "status", "--porcelain") == ""
        assert "v2 line from the template" in (clone / "README.md").read_text()
        assert "version: v2.0.0" in (clone / ".mlstack" / "answers.yml").read_text()

    shown = ["clean", "conflict", "not-mlstack"]
    report = invoke("fleet", "report", *(f"{GITHUB}{name}.git" for name in shown), "--state", str(state_file),
                    "--format", "json", "--cache-dir", str(tmp_path / "report-cache"), "-j", "2")
    rows = {row["repo"].removeprefix(GITHUB).removesuffix(".git"): row for row in json.loads(report.output)["repos"]}
    assert {name: (rows[name]["rollout"], rows[name]["update_branch"]) for name in shown} == {
        "clean": (f"updated {V2}", BRANCH), "conflict": (f"conflicted {V2}", None),
        "not-mlstack": (f"failed {V2}", None)}
    assert rows["clean"]["template_version"] == "v1.0.0"  # the default branch, until the team merges


def test_a_remote_update_branch_for_this_version_is_skipped_and_a_lost_state_file_is_rebuilt(remotes, tmp_path):
    template, folder = remotes
    targets = [f"{GITHUB}clean.git"]
    settings = RolloutSettings(V2, template.url, trust=True, push=True)
    first = fleet_update(targets, settings, state_path=tmp_path / "a.json", jobs=1)
    assert [o.entry.outcome for o in first.outcomes] == ["updated"]
    pushed = refs(folder / "clean.git")
    second = fleet_update(targets, settings, state_path=tmp_path / "lost.json", jobs=1)
    entry = second.outcomes[0].entry
    assert (entry.outcome, entry.branch, entry.reason) == ("skipped", BRANCH, f"the remote already has branch {BRANCH}")
    assert entry.commit == first.outcomes[0].entry.commit
    assert refs(folder / "clean.git") == pushed


def test_a_local_checkout_is_checked_against_the_rollouts_policy_and_its_uncommitted_changes_are_named(
        remotes, tmp_path):
    """A local path is cloned (never written); --policy is what the update branch must pass."""
    template, folder = remotes
    local = tmp_path / "local"
    subprocess.run(["git", "clone", "--quiet", str(folder / "clean.git"), str(local)], check=True)
    append(local / "Makefile", "\n# work in progress\n")
    strict = tmp_path / "strict.yml"
    strict.write_text("params:\n  min_template_version: v3.0.0\n")
    state_file = tmp_path / "state.json"
    options = [str(local), "--state", str(state_file), "--template", template.url, "--trust", "-j", "1"]
    main_before = git(local, "rev-parse", "HEAD")

    refused = fleet(*options, "--policy", str(strict))

    assert refused.exit_code == FINDINGS, refused.output
    entry = load_state(state_file)[str(local)]
    assert (entry.outcome, entry.reason) == ("failed", "check: the update branch fails the policy (TPL001); "
                                                       "not pushed")
    retried = fleet(*options, "--retry-failed")
    assert retried.exit_code == 0, retried.output
    entry = load_state(state_file)[str(local)]
    assert entry.outcome == "updated"
    assert "note: the local checkout has uncommitted changes: they are not part of this update" in retried.output
    assert git(local, "rev-parse", "HEAD") == main_before and "# work in progress" in (local / "Makefile").read_text()
    assert git(local, "branch", "--list", BRANCH) == ""  # not pushed: nothing reached the checkout


@pytest.fixture
def github_api(monkeypatch):
    """The local server answering like GitHub's REST API (pulls, issue comments), as MLSTACK_GITHUB_API_URL."""
    server = PlatformServer()
    monkeypatch.setenv("MLSTACK_GITHUB_API_URL", f"{server.url}/github")
    yield server.github
    server.close()


def test_open_pr_opens_a_pull_request_with_the_template_changes_and_closes_the_superseded_one(
        remotes, tmp_path, github_api, monkeypatch):
    """The real GitHub client against the local server that answers as docs.github.com/rest/pulls documents."""
    _, folder = remotes
    shutil.copytree(folder / "older.git", folder / "churn.git")
    older_request = github_api.add(OLD_BRANCH)
    monkeypatch.setenv("GITHUB_TOKEN", GITHUB_TOKEN)
    state_file = tmp_path / "state.json"
    result = fleet(f"{GITHUB}churn.git", "--state", str(state_file), "--to", V2, "--trust", "--push", "--open-pr",
                   "-j", "1")
    assert result.exit_code == 0, result.output
    opened = [pull for pull in github_api.pulls.values() if pull["head"]["ref"] == BRANCH]
    assert len(opened) == 1
    pull = opened[0]
    assert load_state(state_file)[f"{GITHUB}churn.git"].request_url == pull["html_url"]
    assert (pull["base"]["ref"], pull["title"]) == ("main", f"Update to template {V2} (mlstack)")
    assert "- `M README.md`" in pull["body"] and "- `A docs/v15.md`" in pull["body"]  # since the render main records
    assert "`mlstack check`: " in pull["body"] and "`mlstack validate`: passed" in pull["body"]
    assert older_request["state"] == "closed"
    assert github_api.comments == [(older_request["number"], f"Superseded by {pull['html_url']} (template {V2}, "
                                                             "mlstack fleet update).")]
    assert GITHUB_TOKEN not in result.output + state_file.read_text()


def test_an_expired_token_is_a_note_on_the_repositorys_line_and_the_compare_url_is_recorded(
        remotes, tmp_path, github_api, monkeypatch):
    """The local GitHub-shaped server answers 401 "Bad credentials", as the API does for an expired token."""
    monkeypatch.setenv("GITHUB_TOKEN", WRONG_TOKEN)
    state_file = tmp_path / "state.json"
    result = fleet(f"{GITHUB}clean.git", "--state", str(state_file), "--to", V2, "--trust", "--push", "--open-pr",
                   "-j", "1")
    assert result.exit_code == 0, result.output
    entry = load_state(state_file)[f"{GITHUB}clean.git"]
    assert (entry.outcome, entry.pushed) == ("updated", True)
    assert entry.request_url == f"https://github.com/acme/clean/compare/main...{BRANCH}?expand=1"
    assert "GITHUB_TOKEN was refused" in result.output and WRONG_TOKEN not in result.output
    assert github_api.pulls == {}


# --- waves, failures and the state file, on repositories that fail fast ------------------------------

def test_max_failures_stops_starting_repositories_and_the_next_wave_resumes(tmp_path):
    missing = [str(tmp_path / f"gone-{i}") for i in range(5)]
    state_file = tmp_path / "state.json"
    settings = RolloutSettings(V2, work_dir=str(tmp_path / "work"))
    report = fleet_update(missing, settings, state_path=state_file, max_failures=2, jobs=1)
    assert [o.entry.outcome for o in report.outcomes] == ["failed", "failed"]
    assert report.outcomes[0].entry.reason.startswith("clone:")
    assert report.not_started == missing[2:] and report.stopped_by == "--max-failures 2 reached"
    assert sorted(load_state(state_file)) == sorted(missing[:2])

    resumed = fleet_update(missing, settings, state_path=state_file, wave=2, jobs=1)
    assert [o.repo for o in resumed.outcomes if not o.from_state] == missing[2:4]
    retried = fleet_update(missing, settings, state_path=state_file, canary=1, retry_failed=True, jobs=1)
    assert [(o.repo, o.from_state) for o in retried.outcomes] == [(missing[0], False)]
    assert list((tmp_path / "work").iterdir()) == []  # each work area is removed after its repository


def test_wave_selection_follows_the_list_and_the_state_file():
    targets = ["a", "b", "c", "d", "e"]
    state = {"a": RolloutEntry("updated", V2), "b": RolloutEntry("failed", V2), "c": RolloutEntry("updated", "v1.5.0"),
             "https://host/x.git": RolloutEntry("conflicted", V2)}
    assert select_wave(targets, state, V2, canary=2) == ([], ["a", "b"])
    assert select_wave(targets, state, V2, wave=2) == (["c", "d"], [])
    assert select_wave(targets, state, V2, wave=2, retry_failed=True) == (["b", "c"], [])
    assert select_wave(targets, state, V2) == (["c", "d", "e"], ["a", "b"])
    assert select_wave(["https://user:secret@host/x.git"], state, V2) == ([], ["https://user:secret@host/x.git"])
    assert not is_done(state["c"], V2) and is_done(state["c"], "v1.5.0")


def test_state_file_round_trips_and_bad_options_are_one_line_errors(tmp_path):
    path = tmp_path / "s.json"
    save_state(path, {"r": RolloutEntry("updated", V2, branch=BRANCH, notes=["superseded x"])})
    assert load_state(path)["r"].notes == ["superseded x"]
    assert json.loads(path.read_text())["repos"]["r"]["branch"] == BRANCH
    for args, message in ((["x", "--state", str(path), "--to", V2, "--canary", "1", "--wave", "1"], "choose one"),
                          (["x", "--state", str(path), "--to", V2, "--open-pr"], "--open-pr needs --push"),
                          (["x", "--state", str(path)], "--to VERSION"),
                          (["x", "--to", V2], "--state FILE")):
        result = fleet(*args)
        assert result.exit_code == INVALID_INPUT, result.output
        assert message in result.output and len(result.output.strip().splitlines()) == 1
