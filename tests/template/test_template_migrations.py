"""This template's own migrations (hooks/migrations/), run by a real `mlstack update` of a repository
generated from an older version of the template.

The older version is this template with the answers of template 0.1.0 put back (the
`unity_catalog` question, `_template_version` 0.1.0, no migrations), committed and tagged in a
template repository; the current template is tagged v0.2.0 on the same repository.
"""

from __future__ import annotations

import json
import shutil

import pytest

from helpers import git
from helpers.template_repos import TemplateRepo, fingerprint, generate, invoke, recorded
from mlstack.errors import TEMPLATE_ERROR


def as_template_0_1_0(template: TemplateRepo) -> None:
    """Template 0.1.0's questions: Unity Catalog was optional (asked before the catalogs)."""
    path = template.path / "cookiecutter.json"
    data = json.loads(path.read_text())
    shaped = {}
    for key, value in data.items():
        if key == "catalog_dev":
            shaped["unity_catalog"] = True
        shaped[key] = value
    shaped["_template_version"] = "0.1.0"
    shaped["__prompts__"]["unity_catalog"] = "Use Unity Catalog?"
    path.write_text(json.dumps(shaped, indent=2) + "\n")
    shutil.rmtree(template.path / "hooks" / "migrations")


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> TemplateRepo:
    template = TemplateRepo(tmp_path_factory.mktemp("template") / "repo", first_tag="current")
    template.release("v0.1.0", as_template_0_1_0)
    template.release("v0.2.0", lambda t: None, base="current")
    template.first_tag = "v0.1.0"
    return template


def update_to_0_2_0(project):
    return invoke("update", "-C", str(project), "--trust", "--to", "v0.2.0", "--no-input")


def test_a_workspace_registry_project_is_stopped_with_the_reason_and_left_as_it_was(template, tmp_path):
    project = generate(template, tmp_path, "--set", "unity_catalog=no")
    assert recorded(project)["answers"]["unity_catalog"] is False
    before = fingerprint(project)

    result = update_to_0_2_0(project)

    assert result.exit_code == TEMPLATE_ERROR, result.output
    assert "migration 0001_unity_catalog_only failed" in result.output
    assert "workspace model registry (unity_catalog: false" in result.output
    assert "`unity_catalog: true` in .mlstack/answers.yml" in result.output
    assert fingerprint(project) == before


def test_a_unity_catalog_project_updates_and_forgets_the_question(template, tmp_path):
    project = generate(template, tmp_path)
    assert recorded(project)["answers"]["unity_catalog"] is True

    result = update_to_0_2_0(project)

    assert result.exit_code == 0, result.output
    assert "0001_unity_catalog_only: Unity Catalog is the only model registry" in result.output
    meta = recorded(project)
    assert meta["template"]["version"].lstrip("v") == "0.2.0"
    assert "unity_catalog" not in meta["answers"] and "unity_catalog" not in meta["user_set"]
    assert not (project / "terraform" / "modules" / "ml_project" / "registry_workspace.tf").exists()


def test_after_moving_to_unity_catalog_the_same_project_updates(template, tmp_path):
    project = generate(template, tmp_path, "--set", "unity_catalog=no")
    answers = project / ".mlstack" / "answers.yml"
    answers.write_text(answers.read_text().replace("unity_catalog: false", "unity_catalog: true"))
    git(project, "commit", "--quiet", "-am", "Models moved to Unity Catalog")

    result = update_to_0_2_0(project)

    assert result.exit_code == 0, result.output
    assert "unity_catalog" not in recorded(project)["answers"]
