"""The generated repository explains its CI/CD: flow diagram, per-platform setup, release and rollback."""

from __future__ import annotations

import re

import pytest

from helpers import CI_PLATFORMS
from helpers.bakes import COMBINATIONS, CONTRACT_VARIABLES, CUSTOM_BRANCHES, baked

PLATFORM_DOC = {"github_actions": "docs/ci/github_actions.md", "azure_devops": "docs/ci/azure_devops.md",
                "gitlab": "docs/ci/gitlab.md"}


def test_layout_keeps_exactly_one_platform_doc_per_ci_platform():
    import json

    from helpers import REPO_ROOT

    prune = json.loads((REPO_ROOT / "cookiecutter.json").read_text())["_prune"]
    for platform, doc in PLATFORM_DOC.items():
        assert doc in prune["ci_platform"][platform]


@pytest.mark.parametrize("cloud,ci_platform", COMBINATIONS)
def test_platform_doc_lists_exactly_the_contract_variables_of_the_cloud(cloud, ci_platform):
    project = baked(cloud, ci_platform)
    for other in set(CI_PLATFORMS) - {ci_platform}:
        assert not (project / PLATFORM_DOC[other]).exists()
    doc = (project / PLATFORM_DOC[ci_platform]).read_text()
    documented = set(re.findall(r"^\s*\| `([A-Z][A-Z_]+)` \|", doc, flags=re.M))
    # No stored secret on any platform: every job federates (ci/identities.json).
    assert documented == set(CONTRACT_VARIABLES[cloud])
    links = re.findall(r"\]\(([^)#]+)\)", doc)
    assert links and all((project / PLATFORM_DOC[ci_platform]).parent.joinpath(link).resolve().is_file()
                         for link in links)


@pytest.mark.parametrize("ci_platform", CI_PLATFORMS)
def test_docs_show_the_flow_and_explain_release_and_rollback_with_the_answered_branches(ci_platform):
    project = baked("gcp", ci_platform, **CUSTOM_BRANCHES)
    architecture = (project / "docs" / "architecture.md").read_text()
    diagram = re.search(r"```mermaid\n(flowchart TD\n.*?)```", architecture, flags=re.S).group(1)
    for branch in CUSTOM_BRANCHES.values():
        assert f'"{branch}"' in diagram or f"{branch}:" in diagram or f"from {branch}" in diagram, branch
    assert "challenger beats champion" in diagram and "approval" in diagram and "integration run" in diagram
    release = (project / "docs" / "release.md").read_text()
    assert "git push origin trunk:production" in release and "champion" in release
    rollback = (project / "docs" / "rollback.md").read_text()
    assert "production" in rollback and "rollback_note" in rollback and "{%" not in rollback
    index = (project / "docs" / "README.md").read_text()
    for link in re.findall(r"\]\(([^)]+)\)", index) + re.findall(r"\]\(([^)#]+)\)", architecture):
        assert (project / "docs" / link).is_file(), link
    assert "make lint-ci" in (project / PLATFORM_DOC[ci_platform]).read_text()
    assert "lint-ci:" in (project / "Makefile").read_text()
