"""The default generated project installs in a fresh virtualenv and passes its own checks."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from mlstack.cli import app


@pytest.fixture(scope="module")
def default_project(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("generated")
    result = CliRunner().invoke(app, ["init", "--no-input", "-o", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out / "maternal-health-risk"


@pytest.fixture(scope="module")
def installed_project(default_project, project_venv):
    project_venv.install("-e", f"{default_project}[dev]")
    return default_project


def test_generated_project_test_suite_passes(installed_project, project_venv):
    result = project_venv.run("pytest", "-q", "-p", "no:cacheprovider", cwd=installed_project)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout


def test_generated_project_is_lint_clean(installed_project, project_venv):
    result = project_venv.run("ruff", "check", "src", "tests", cwd=installed_project)
    assert result.returncode == 0, result.stdout + result.stderr
