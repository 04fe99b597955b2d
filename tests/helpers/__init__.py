"""Helpers shared by both test trees (tests/mlstack/ and tests/template/); fixtures are in tests/conftest.py.

- this module: where things are (REPO_ROOT), the template's choices, git, template copies;
- `helpers.venv`: the virtualenv generated projects are installed into;
- `helpers.bakes`: projects baked once per session for the generated-repo tests;
- `helpers.template_repos`: versioned template repositories for the update/diff/link tests;
- `helpers.policy_repos`: tiny synthetic repositories for the policy (check) tests.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SOURCE_ROOT = REPO_ROOT / "src" / "mlstack"
CLOUDS = ("azure", "aws", "gcp")
CI_PLATFORMS = ("github_actions", "azure_devops", "gitlab")
TEMPLATE_PARTS = ("cookiecutter.json", "hooks", "{{cookiecutter.project_slug}}")


def project_files(project: Path) -> set[str]:
    """Every file of a generated project, as posix paths relative to it (.git excluded)."""
    return {
        p.relative_to(project).as_posix()
        for p in project.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(project).parts
    }


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


def default_ctrl_c() -> None:
    """In a child, before exec: Ctrl-C acts as in a terminal even when pytest itself was started
    with `&`, which makes SIGINT ignored, and ignored signals stay ignored across exec."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
