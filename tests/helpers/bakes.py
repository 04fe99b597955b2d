"""Baked projects for the CI/CD tests: each (cloud, CI platform, answers) is rendered once per session.

The bakes skip git setup (nothing here needs history) and keep cookiecutter's replay files in
a private temporary folder, so they can be shared across test modules cheaply.
"""

from __future__ import annotations

import atexit
import functools
import itertools
import json
import re
import shutil
import tempfile
from pathlib import Path

import yaml

from helpers import CI_PLATFORMS, CLOUDS, REPO_ROOT

COMBINATIONS = list(itertools.product(CLOUDS, CI_PLATFORMS))
# The CI credential variables of the shared contract (HELPERS.md), per cloud.
CONTRACT_VARIABLES = {
    "azure": {"DATABRICKS_HOST", "DATABRICKS_CLIENT_ID", "ARM_CLIENT_ID", "ARM_TENANT_ID", "ARM_SUBSCRIPTION_ID"},
    "aws": {"DATABRICKS_HOST", "DATABRICKS_CLIENT_ID", "AWS_ROLE_ARN"},
    "gcp": {"DATABRICKS_HOST", "DATABRICKS_CLIENT_ID", "GCP_WORKLOAD_IDENTITY_PROVIDER", "GCP_SERVICE_ACCOUNT"},
}
CUSTOM_BRANCHES = {"dev_branch": "develop", "main_branch": "trunk", "release_branch": "production"}
_BASE = Path(tempfile.mkdtemp(prefix="mlstack-ci-bakes-"))
atexit.register(shutil.rmtree, _BASE, ignore_errors=True)


@functools.cache
def _bake(cloud: str, ci_platform: str, extra: str) -> Path:
    from cookiecutter.main import cookiecutter

    config = _BASE / "cookiecutter.yml"
    if not config.exists():
        config.write_text(f"replay_dir: {_BASE / 'replay'}\ncookiecutters_dir: {_BASE / 'templates'}\n")
    out = Path(tempfile.mkdtemp(prefix=f"{cloud}-{ci_platform}-", dir=_BASE))
    context = {
        "cloud": cloud,
        "ci_platform": ci_platform,
        "_mlstack": {"source": "", "mlstack_version": "", "template_version": "", "user_keys": [], "git_init": False},
        **json.loads(extra),
    }
    return Path(cookiecutter(str(REPO_ROOT), no_input=True, extra_context=context, output_dir=str(out),
                             config_file=str(config)))


def baked(cloud: str, ci_platform: str, **answers) -> Path:
    """The generated project for these answers (rendered on first use, then reused)."""
    return _bake(cloud, ci_platform, json.dumps(answers, sort_keys=True))


class _Yaml12Loader(yaml.SafeLoader):
    """YAML 1.2 booleans only: GitHub's `on:` key must stay the string "on"."""


_Yaml12Loader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|false)$"), list("tf"))


def load_yaml(path: Path):
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_Yaml12Loader)  # noqa: S506 - SafeLoader subclass


CI_FILE_GLOBS = {
    "github_actions": [".github/workflows/*.yml", ".github/dependabot.yml"],
    "azure_devops": [".azure-pipelines/*.yml", ".azure-pipelines/templates/*.yml"],
    "gitlab": [".gitlab-ci.yml"],
}


def ci_files(project: Path, ci_platform: str) -> list[Path]:
    return sorted(path for pattern in CI_FILE_GLOBS[ci_platform] for path in project.glob(pattern))
