"""Which generated files belong to which answer, so unchosen options leave no trace.

A file listed under a choice is kept only when that choice was made; the post-generation
hook deletes the others (whole files, never `{% if %}` around whole bodies). Patterns are
globs relative to the project root; `**` matches any depth. Boolean answers use the
values "yes" and "no".
"""

from __future__ import annotations

import fnmatch
import os
import shutil
from collections.abc import Mapping
from pathlib import Path

CHOICE_FILES: dict[str, dict[str, list[str]]] = {
    "cloud": {
        "azure": ["terraform/backends/azure/**", "terraform/bootstrap/cloud_azure.tf",
                  "terraform/bootstrap/state/state_azure.tf"],
        "aws": ["terraform/backends/aws/**", "terraform/bootstrap/cloud_aws.tf",
                "terraform/bootstrap/state/state_aws.tf"],
        "gcp": ["terraform/backends/gcp/**", "terraform/bootstrap/cloud_gcp.tf",
                "terraform/bootstrap/state/state_gcp.tf"],
    },
    "ci_platform": {
        "github_actions": [".github/**", "docs/ci/github_actions.md", "terraform/bootstrap/ci_github.tf"],
        "azure_devops": [".azure-pipelines/**", "docs/ci/azure_devops.md", "terraform/bootstrap/ci_azure_devops.tf"],
        "gitlab": [".gitlab-ci.yml", ".gitlab/**", "docs/ci/gitlab.md", "terraform/bootstrap/ci_gitlab.tf"],
    },
    "feature_store": {
        "yes": ["terraform/modules/ml_project/jobs_feature_engineering.tf"],
        "no": [],
    },
    "serving": {
        "yes": [
            "src/*/serving/**",
            "src/*/core/scoring_request.py",
            "src/*/core/serving_metrics.py",
            "src/*/io/serving_endpoint.py",
            "src/*/pipelines/serving_health.py",
            "tests/serving/**",
            "terraform/modules/ml_project/serving.tf",
            "ci/champion_version.py",
            "docs/serving.md",
        ],
        "no": [],
    },
    "unity_catalog": {
        "yes": ["terraform/modules/ml_project/registry_unity_catalog.tf", "terraform/bootstrap/unity_catalog.tf"],
        "no": ["terraform/modules/ml_project/registry_workspace.tf"],
    },
}


def _choice_value(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value).strip().lower()
    if text in {"true", "1", "y", "on"}:
        return "yes"
    if text in {"false", "0", "n", "off"}:
        return "no"
    return str(value)


def _matches(relative_path: str, pattern: str) -> bool:
    if pattern.endswith("/**"):
        # A folder and everything in it; `*` in the folder part matches one path component.
        prefix = pattern[:-3].split("/")
        parts = relative_path.split("/")
        return len(parts) > len(prefix) and all(
            fnmatch.fnmatchcase(part, glob) for part, glob in zip(parts, prefix)
        )
    return fnmatch.fnmatchcase(relative_path, pattern)


def unwanted_files(project_dir: Path, answers: Mapping[str, object]) -> list[Path]:
    """The files that belong only to choices these answers did not make."""
    unwanted_patterns = [
        pattern
        for question, files_by_value in CHOICE_FILES.items()
        for value, patterns in files_by_value.items()
        if _choice_value(answers.get(question)) != value
        for pattern in patterns
    ]
    found = []
    for root, dirs, files in os.walk(project_dir):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in files:
            path = Path(root, name)
            relative = path.relative_to(project_dir).as_posix()
            if any(_matches(relative, pattern) for pattern in unwanted_patterns):
                found.append(path)
    return sorted(found)


def prune(project_dir: Path, answers: Mapping[str, object]) -> list[Path]:
    """Delete the unwanted files and any directories they leave empty."""
    removed = unwanted_files(project_dir, answers)
    for path in removed:
        path.unlink()
    for root, _dirs, _files in sorted(os.walk(project_dir), key=lambda entry: -len(entry[0])):
        relative = Path(root).relative_to(project_dir).parts
        if relative and relative[0] != ".git" and not os.listdir(root):
            shutil.rmtree(root)
    return removed
