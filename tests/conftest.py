"""Shared fixtures: isolated cookiecutter/mlstack settings, baking, a project venv (helpers: tests/helpers/)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import REPO_ROOT
from helpers.venv import Venv, uv_command


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path_factory, monkeypatch):
    """Keep cookiecutter replays and mlstack settings out of the real home directory."""
    home = tmp_path_factory.mktemp("home")
    config = home / "cookiecutter.yml"
    config.write_text(f"replay_dir: {home / 'replay'}\ncookiecutters_dir: {home / 'cookiecutters'}\n")
    monkeypatch.setenv("COOKIECUTTER_CONFIG", str(config))
    monkeypatch.setenv("MLSTACK_SETTINGS", str(home / "mlstack-settings.yml"))
    monkeypatch.delenv("MLSTACK_TRUSTED_TEMPLATES", raising=False)


@pytest.fixture
def bake(cookies):
    """Bake the template with pytest-cookies; return the project path, failing loudly."""

    def _bake(**answers):
        result = cookies.bake(extra_context=answers)
        assert result.exception is None, f"bake failed: {result.exception!r}"
        assert result.exit_code == 0
        return Path(result.project_path)

    return _bake


@pytest.fixture(scope="session")
def project_venv(tmp_path_factory) -> Venv:
    """One virtualenv per test session for generated projects (MLSTACK_TEST_VENV reuses one)."""
    reuse = os.environ.get("MLSTACK_TEST_VENV")
    if reuse and (Path(reuse) / "bin" / "python").exists():
        return Venv(Path(reuse))
    path = Path(reuse) if reuse else tmp_path_factory.mktemp("project-venv") / "venv"
    subprocess.run([*uv_command(), "venv", "--quiet", "--python", sys.executable, str(path)], check=True)
    return Venv(path)


def pytest_configure(config):
    """pytest-cookies bakes the template at this repository's root, wherever pytest runs from."""
    if getattr(config.option, "template", None) in (None, "."):
        config.option.template = str(REPO_ROOT)
