"""The built wheel carries the template: an installed mlstack works outside this checkout."""

from __future__ import annotations

import subprocess
import zipfile

import pytest

from helpers import REPO_ROOT, project_files
from helpers.venv import Venv, uv_command


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([*uv_command(), "build", "--quiet", "--wheel", "--out-dir", str(out), str(REPO_ROOT)],
                   check=True, capture_output=True)
    return next(out.glob("mlstack-*.whl"))


def test_wheel_contains_every_template_file_including_dotfiles(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    template_files = {
        p.relative_to(REPO_ROOT).as_posix()
        for part in ("hooks", "{{cookiecutter.project_slug}}")
        for p in (REPO_ROOT / part).rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    } | {"cookiecutter.json"}
    missing = {f for f in template_files if f"mlstack/template/{f}" not in names}
    assert not missing
    assert not any("__pycache__" in n for n in names if n.startswith("mlstack/template/"))


def test_installed_wheel_generates_a_project_outside_the_checkout(wheel, tmp_path):
    venv = Venv(tmp_path / "venv")
    subprocess.run([*uv_command(), "venv", "--quiet", str(venv.path)], check=True)
    venv.install(str(wheel))
    work = tmp_path / "elsewhere"
    work.mkdir()
    result = venv.run(str(venv.path / "bin" / "mlstack"), "init", "--no-input", "-o", "projects", cwd=work)
    assert result.returncode == 0, result.stderr
    project = work / "projects" / "maternal-health-risk"
    files = project_files(project)
    assert {".gitignore", ".github/workflows/ci.yml", ".mlstack/answers.yml", "pyproject.toml"} <= files
    version = venv.run(str(venv.path / "bin" / "mlstack"), "--version", cwd=work)
    assert version.stdout.strip().startswith("mlstack ") and "unknown" not in version.stdout
