"""`mlstack link`: adopt a plain-cookiecutter repository so the next update brings only the template delta."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from cookiecutter.main import cookiecutter

from helpers import git
from helpers.template_repos import TemplateRepo, append, commit_all, fingerprint, generate, invoke, parents, recorded
from mlstack.errors import REPO_STATE


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> TemplateRepo:
    return TemplateRepo(tmp_path_factory.mktemp("link") / "template")


def plain_cookiecutter_repo(template: TemplateRepo, out: Path, replay_dir: Path, **answers) -> Path:
    """What a team has after `cookiecutter <template>` and `git init`: no mlstack metadata at all."""
    config = out.parent / "cookiecutter-config.yml"
    config.write_text(f"replay_dir: {replay_dir}\ncookiecutters_dir: {out.parent / 'cc'}\n")
    project = Path(cookiecutter(f"git+{template.url}", checkout=template.first_tag, no_input=True, output_dir=str(out),
                                extra_context={**answers, "_mlstack": {"git_init": False}},
                                config_file=str(config)))
    shutil.rmtree(project / ".git", ignore_errors=True)
    shutil.rmtree(project / ".mlstack", ignore_errors=True)
    git(project, "init", "--quiet", "--initial-branch=main")
    commit_all(project, "Initial project from cookiecutter")
    return project


def replay_file(replay_dir: Path) -> Path:
    return next(replay_dir.glob("*.json"))


def link(project: Path, *args: str):
    return invoke("link", "-C", str(project), "--trust", "--no-input", *args)


def test_link_changes_no_project_file_and_the_next_update_brings_only_the_template_delta(template, tmp_path):
    project = plain_cookiecutter_repo(template, tmp_path / "out", tmp_path / "replay", cloud="gcp",
                                      owner_team="radiology-ml")
    append(project / "Makefile", "\nteam-target:\n\techo ours\n")
    readme = project / "README.md"
    readme.write_text("Team notes.\n\n" + readme.read_text())
    before_link = commit_all(project, "team changes")
    files_before = fingerprint(project)["files"]

    result = link(project, "--template", template.url, "--ref", template.first_tag,
                  "--answers-file", str(replay_file(tmp_path / "replay")))

    assert result.exit_code == 0, result.output
    assert "Linked main to template v1.0.0" in result.output
    assert "M Makefile" in result.output and "M README.md" in result.output
    files_after = fingerprint(project)["files"]
    assert set(files_after) - set(files_before) == {".mlstack/answers.yml"}
    assert {k: v for k, v in files_after.items() if k in files_before} == files_before
    assert git(project, "diff", "--name-only", before_link, "HEAD") == ".mlstack/answers.yml"
    pristine = git(project, "rev-parse", "mlstack/template")
    assert parents(project) == [before_link, pristine] and parents(project, pristine) == []
    meta = recorded(project)
    assert meta["template"]["pristine_commit"] == pristine and meta["template"]["version"] == "v1.0.0"
    assert meta["answers"]["cloud"] == "gcp"
    assert set(meta["user_set"]) == {"cloud", "owner_team"}  # answers equal to defaults follow the template

    def v2(t):
        append(t.project / "README.md", "\nAdded in template v2.\n")
        (t.project / "docs" / "v2.md").write_text("new in v2\n")
    template.release("v2.0.0", v2)
    before_update = git(project, "rev-parse", "HEAD")
    result = invoke("update", "-C", str(project), "--trust", "--no-input", "--to", "v2.0.0")

    assert result.exit_code == 0, result.output
    changed = set(git(project, "diff", "--name-only", before_update, "HEAD").split())
    assert changed == {"README.md", "docs/v2.md", ".mlstack/answers.yml"}
    readme = (project / "README.md").read_text()
    assert "Team notes." in readme and "Added in template v2." in readme
    assert "team-target:" in (project / "Makefile").read_text()
    delta = git(project, "diff", before_update, "HEAD", "--", "README.md")
    changed_lines = [line for line in delta.splitlines()
                     if line.startswith(("+", "-")) and not line.startswith(("+++", "---"))]
    assert changed_lines == ["+", "+Added in template v2."]


def test_link_reads_template_and_commit_from_a_cruft_file(template, tmp_path):
    project = plain_cookiecutter_repo(template, tmp_path / "out", tmp_path / "replay")
    commit = git(template.path, "rev-parse", f"{template.first_tag}^{{commit}}")
    cruft = tmp_path / ".cruft.json"
    context = json.loads(replay_file(tmp_path / "replay").read_text())
    cruft.write_text(json.dumps({"template": template.url, "commit": commit, "context": context}))
    result = link(project, "--answers-file", str(cruft))
    assert result.exit_code == 0, result.output
    assert "Your files match that render exactly." in result.output
    meta = recorded(project)
    assert meta["template"]["source"] == template.url and meta["template"]["version"] == template.first_tag
    assert meta["user_set"] == []


def test_link_refuses_a_repository_mlstack_already_tracks(template, tmp_path):
    project = generate(template, tmp_path / "out")
    before = fingerprint(project)
    result = link(project, "--template", template.url)
    assert result.exit_code == REPO_STATE and "already linked" in result.output
    assert fingerprint(project) == before


def test_link_refuses_a_dirty_tree(template, tmp_path):
    project = plain_cookiecutter_repo(template, tmp_path / "out", tmp_path / "replay")
    (project / "scratch.txt").write_text("wip\n")
    before = fingerprint(project)
    result = link(project, "--template", template.url, "--ref", template.first_tag)
    assert result.exit_code == REPO_STATE and "commit or stash" in result.output
    assert fingerprint(project) == before
