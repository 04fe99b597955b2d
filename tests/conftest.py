"""Shared fixtures: isolated cookiecutter/mlstack settings, baking helpers, a project venv."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
CLOUDS = ("azure", "aws", "gcp")
CI_PLATFORMS = ("github_actions", "azure_devops", "gitlab")


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


def project_files(project: Path) -> set[str]:
    """Every file of a generated project, as posix paths relative to it (.git excluded)."""
    return {
        p.relative_to(project).as_posix()
        for p in project.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(project).parts
    }


@dataclass
class Venv:
    """A virtualenv that generated projects get installed into and tested with."""

    path: Path

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    def install(self, *args: str) -> None:
        command = [*uv_command(), "pip", "install", "--quiet", "--python", str(self.python), *args]
        subprocess.run(command, check=True)

    def run(self, *args: str, cwd: Path, timeout: int = 1200, env: dict | None = None) -> subprocess.CompletedProcess:
        environment = {**os.environ, "PATH": f"{self.path / 'bin'}:{os.environ['PATH']}", **(env or {})}
        environment.pop("PYTHONPATH", None)
        return subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, timeout=timeout, env=environment)


def uv_command() -> list[str]:
    found = shutil.which("uv")
    if found:
        return [found]
    return [sys.executable, "-m", "uv"]


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


TEMPLATE_PARTS = ("cookiecutter.json", "hooks", "{{cookiecutter.project_slug}}")


def git(cwd: Path, *args: str) -> str:
    """Run git in `cwd` with a fixed identity; return stdout."""
    command = ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com", *args]
    return subprocess.run(command, cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def copy_template(destination: Path) -> Path:
    """A copy of this repository's template (work tree state) at `destination`."""
    destination.mkdir(parents=True, exist_ok=True)
    for part in TEMPLATE_PARTS:
        source = REPO_ROOT / part
        if source.is_dir():
            shutil.copytree(source, destination / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, destination / part)
    return destination


def make_template_repo(destination: Path, tag: str | None = None) -> Path:
    """A git repository holding a copy of the template, committed (and tagged when asked)."""
    copy_template(destination)
    git(destination, "init", "--quiet", "--initial-branch=main")
    git(destination, "add", "--all")
    git(destination, "commit", "--quiet", "-m", "template")
    if tag:
        git(destination, "tag", tag)
    return destination
