"""`mlstack diff`: your changes since the recorded render, and what the next update would bring."""

from __future__ import annotations

import shutil

import pytest

from helpers.template_repos import TemplateRepo, append, commit_all, copy_project, fingerprint, generate, invoke
from mlstack.errors import FINDINGS


@pytest.fixture(scope="module")
def origin(tmp_path_factory):
    root = tmp_path_factory.mktemp("diff")
    template = TemplateRepo(root / "template")
    return template, generate(template, root / "out")


@pytest.fixture
def project(origin, tmp_path):
    return copy_project(origin[1], tmp_path / "project")


def diff(project, *args):
    return invoke("diff", "-C", str(project), "--trust", *args)


def test_fresh_project_has_no_differences_and_exit_code_zero(origin, project):
    result = diff(project, "--exit-code", "--to", origin[0].first_tag)
    assert result.exit_code == 0, result.output
    assert "since the pristine render of template v1.0.0" in result.output and ": none" in result.output
    assert "nothing to update" in result.output


def test_diff_lists_your_changes_and_the_pending_update_with_conflicts(origin, project):
    template = origin[0]
    template.release("v1.1.0", lambda t: append(t.project / "Makefile", "\ntemplate-target:\n\techo v1.1\n"))
    append(project / "Makefile", "\nteam-target:\n\techo team\n")
    (project / "docs" / "team.md").write_text("ours\n")
    commit_all(project)
    append(project / "README.md", "\nuncommitted note\n")  # the work tree counts, committed or not
    before = fingerprint(project)

    result = diff(project, "--to", "v1.1.0", "--exit-code")

    assert result.exit_code == FINDINGS
    mine, _, update = result.output.partition("Updating to template v1.1.0 would bring:")
    assert "A docs/team.md" in mine and "M Makefile" in mine and "M README.md" in mine
    assert ".mlstack/answers.yml" not in result.output
    assert "M Makefile" in update and "Would conflict (1):" in update and "Makefile" in update
    assert fingerprint(project) == before


def test_patch_shows_the_changed_lines_in_both_directions(origin, project):
    template = origin[0]
    template.release("v1.2.0", lambda t: append(t.project / "README.md", "\nREADME line from v1.2\n"))
    append(project / "Makefile", "\n# team comment\n")
    commit_all(project)
    result = diff(project, "--to", "v1.2.0", "--patch")
    assert result.exit_code == 0, result.output
    assert "+# team comment" in result.output
    assert "+README line from v1.2" in result.output


def test_local_diff_works_without_reaching_the_template(origin, tmp_path):
    template = TemplateRepo(tmp_path / "gone-template")
    project = generate(template, tmp_path / "out")
    shutil.rmtree(template.path)
    append(project / "Makefile", "\n# local\n")
    result = diff(project, "--local", "--exit-code")
    assert result.exit_code == FINDINGS
    assert "M Makefile" in result.output and "Updating" not in result.output
