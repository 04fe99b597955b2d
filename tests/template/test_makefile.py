"""The generated Makefile runs the tools of the environment the user is in, as real `make` sees it.

An activated virtualenv (VIRTUAL_ENV) wins; else the project's .venv; else the python on PATH
(a conda env or a CI image). `make install` creates .venv only when no virtualenv is active.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.bakes import baked


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    copy = tmp_path_factory.mktemp("makefile") / "project"
    shutil.copytree(baked("azure", "github_actions"), copy)
    return copy


def make(project: Path, *args: str, path: str = os.environ["PATH"], **env: str) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if key not in ("VIRTUAL_ENV", "CONDA_PREFIX")}
    environment.update(PATH=path, **env)
    return subprocess.run(["make", "--no-print-directory", *args], cwd=project, capture_output=True, text=True,
                          env=environment, timeout=300)


def virtualenv(where: Path) -> Path:
    if not (where / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True)
    return where


def test_an_activated_virtualenv_is_used_instead_of_dot_venv(project, tmp_path):
    """`make lint` in a shell with the mlstack test virtualenv active really runs (it used to exit 127)."""
    active = Path(sys.prefix)
    assert (active / "bin" / "ruff").exists(), "the test virtualenv has ruff (pyproject's test extras)"
    result = make(project, "lint", VIRTUAL_ENV=str(active), path=f"{active / 'bin'}:{os.environ['PATH']}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{active}/bin/ruff check src tests" in result.stdout
    dry = make(project, "-n", "test", "pipeline", VIRTUAL_ENV=str(virtualenv(tmp_path / "env")))
    assert f"{tmp_path}/env/bin/pytest" in dry.stdout and f"{tmp_path}/env/bin/python -m" in dry.stdout
    assert ".venv/bin" not in dry.stdout


def test_a_python_on_path_is_used_when_no_virtualenv_exists(project, tmp_path):
    conda = virtualenv(tmp_path / "conda-env")  # stands for any environment put first on PATH
    result = make(project, "-n", "test", path=f"{conda / 'bin'}:{os.environ['PATH']}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{conda}/bin/pytest"


def test_the_project_dot_venv_is_used_when_it_exists(project):
    dot_venv = virtualenv(project / ".venv")
    try:
        assert make(project, "-n", "test").stdout.strip() == ".venv/bin/pytest"
    finally:
        shutil.rmtree(dot_venv)


def test_install_creates_dot_venv_only_when_none_is_active(project, tmp_path):
    fresh = make(project, "-n", "install").stdout.splitlines()
    assert fresh[0].startswith("test -x .venv/bin/python || python3.11 -m venv .venv")
    assert all(line.startswith(".venv/bin/pip install") for line in fresh[1:]), fresh
    active = virtualenv(tmp_path / "env")
    inside = make(project, "-n", "install", VIRTUAL_ENV=str(active)).stdout.splitlines()
    assert inside[0].startswith(f"test -x {active}/bin/python ||")
    assert all(line.startswith(f"{active}/bin/pip install") for line in inside[1:]), inside
