"""Helpers for the update/diff/link tests: template repositories with versions, repo fingerprints."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from typer.testing import CliRunner

from helpers import git, make_template_repo
from mlstack.cli import app

PROJECT_DIR = "{{cookiecutter.project_slug}}"
runner = CliRunner()


def invoke(*args: str, input: str | None = None):
    return runner.invoke(app, list(args), input=input, catch_exceptions=False)


class TemplateRepo:
    """A git repository holding a copy of the template; `release` tags new versions of it."""

    def __init__(self, path: Path, first_tag: str = "v1.0.0"):
        self.path = make_template_repo(path, first_tag)
        self.first_tag = first_tag

    @property
    def url(self) -> str:
        return f"file://{self.path}"

    @property
    def project(self) -> Path:
        return self.path / PROJECT_DIR

    def release(self, tag: str, edit: Callable[[TemplateRepo], None], base: str | None = None) -> str:
        """Commit `edit` on top of `base` (default: the first version) and tag it `tag`."""
        git(self.path, "checkout", "--quiet", "--detach", base or self.first_tag)
        edit(self)
        git(self.path, "add", "--all")
        git(self.path, "commit", "--quiet", "--allow-empty", "-m", f"template {tag}")
        git(self.path, "tag", tag)
        return tag

    def edit_json(self, change: Callable[[dict], None]) -> None:
        """Change cookiecutter.json, keeping key order (new keys go before the private ones)."""
        path = self.path / "cookiecutter.json"
        data = json.loads(path.read_text())
        change(data)
        private = {k: data.pop(k) for k in list(data) if k.startswith("_")}
        data.update(private)
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")

    def add_question(self, key: str, default: object, prompt: str, used_in: str | None = None) -> None:
        def change(data: dict) -> None:
            data[key] = default
            data["__prompts__"][key] = prompt
        self.edit_json(change)
        if used_in:
            target = self.project / used_in
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(f"{key}: {{{{ cookiecutter.{key} }}}}\n")


def generate(template: TemplateRepo, out: Path, *args: str) -> Path:
    """`mlstack init` from the template's first version; returns the project."""
    result = invoke("init", "--no-input", "--trust", "--template", template.url, "--ref", template.first_tag,
                    "-o", str(out), *args)
    assert result.exit_code == 0, result.output
    return out / "maternal-health-risk"


def copy_project(project: Path, destination: Path) -> Path:
    shutil.copytree(project, destination, symlinks=True)
    return destination


def commit_all(project: Path, message: str = "user change") -> str:
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "--allow-empty", "-m", message)
    return git(project, "rev-parse", "HEAD")


def append(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(text)


def fingerprint(project: Path) -> dict:
    """Everything 'the repository exactly as before' means: refs, HEAD, index, work tree, merge state."""
    files = {}
    for root, dirs, names in os.walk(project):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in names:
            path = Path(root, name)
            files[path.relative_to(project).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    git_dir = project / ".git"
    return {
        "refs": git(project, "for-each-ref", "--format=%(refname) %(objectname)"),
        "head": (git_dir / "HEAD").read_text(),
        "index": git(project, "ls-files", "--stage"),
        "status": git(project, "status", "--porcelain=v1", "--untracked-files=all"),
        "files": files,
        "merge_state": sorted(name for name in ("MERGE_HEAD", "MERGE_MSG", "MERGE_MODE", "mlstack-update.lock")
                              if (git_dir / name).exists()),
    }


def recorded(project: Path, revision: str | None = None) -> dict:
    import yaml

    text = git(project, "show", f"{revision}:.mlstack/answers.yml") if revision \
        else (project / ".mlstack" / "answers.yml").read_text()
    return yaml.safe_load(text)


def parents(project: Path, revision: str = "HEAD") -> list[str]:
    return git(project, "rev-list", "--parents", "-n", "1", revision).split()[1:]
