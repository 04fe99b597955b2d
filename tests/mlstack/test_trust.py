"""Which template sources mlstack trusts, decided once and before any git or network call (issue 15).

A repository's `.mlstack/answers.yml` is attacker-controlled (a pull request can change it), so
the source it records is untrusted input: it must never reach git as an option, and an untrusted
one must be refused before anything contacts it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from helpers import git
from helpers.template_repos import TemplateRepo, commit_all, copy_project, generate
from mlstack import errors
from mlstack.cli import app
from mlstack.template import is_trusted_source

runner = CliRunner()


@pytest.fixture(scope="module")
def bundled_project(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("trust")
    result = runner.invoke(app, ["init", "--no-input", "-o", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out / "maternal-health-risk"


def with_recorded_source(project: Path, source: str) -> None:
    """What a hostile pull request does: change the recorded template source and commit it."""
    import yaml

    path = project / ".mlstack" / "answers.yml"
    data = yaml.safe_load(path.read_text())
    data["template"]["source"] = source
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    commit_all(project, "change the template source")


@pytest.fixture
def hostile(bundled_project, tmp_path, monkeypatch):
    """A copy of the project, run from inside it, whose origin is a local repository (git would run
    upload-pack locally for a bare `git ls-remote --upload-pack=...`)."""
    project = copy_project(bundled_project, tmp_path / "project")
    monkeypatch.chdir(project)
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "--quiet", "--bare", str(remote))
    git(project, "remote", "add", "origin", str(remote))
    marker = tmp_path / "pwned"
    return project, marker


@pytest.mark.parametrize("command", [["diff", "--exit-code"], ["update", "--no-input"],
                                     ["update", "--dry-run", "--no-input"]])
def test_recorded_option_looking_source_never_runs_a_command(hostile, command):
    project, marker = hostile
    with_recorded_source(project, f"--upload-pack=touch {marker};x.git")
    for trust in ([], ["--trust"]):
        result = runner.invoke(app, [*command, "-C", str(project), *trust])
        assert not marker.exists(), "a command from .mlstack/answers.yml ran"
        assert result.exit_code == errors.REPO_STATE, result.output
        assert "template.source '--upload-pack=" in result.output and "not a template path or git URL" \
            in result.output


def test_untrusted_recorded_source_is_refused_before_it_is_contacted(hostile):
    project, _ = hostile
    with_recorded_source(project, "https://unreachable.invalid/platform/template.git")
    result = runner.invoke(app, ["diff", "-C", str(project)])
    assert result.exit_code == errors.UNTRUSTED_TEMPLATE, result.output
    assert "unreachable.invalid" in result.output and "not trusted" in result.output


def test_no_git_command_reaches_an_untrusted_source(hostile, tmp_path, monkeypatch):
    """A git on PATH that logs its arguments: none may name the recorded source before the refusal."""
    project, _ = hostile
    with_recorded_source(project, "https://unreachable.invalid/platform/template.git")
    log = tmp_path / "git-calls.log"
    wrapper = tmp_path / "bin" / "git"
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> {log}\nexec {shutil.which("git")} "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{wrapper.parent}:{Path(shutil.which('git')).parent}")
    for command in (["diff"], ["update", "--dry-run", "--no-input"]):
        result = runner.invoke(app, [*command, "-C", str(project)])
        assert result.exit_code == errors.UNTRUSTED_TEMPLATE, result.output
    calls = log.read_text()
    assert "rev-parse" in calls  # the wrapper did see mlstack's own git calls
    assert "unreachable.invalid" not in calls and "ls-remote" not in calls and "clone" not in calls


# --- normalised, boundary-aware trusted prefixes ------------------------------------------------

@pytest.mark.parametrize("source,trusted", [
    ("{root}/trusted/ml", True),
    ("{root}/trusted", True),
    ("file://{root}/trusted/ml.git", True),
    ("file://{root}/trusted/../evil", False),
    ("{root}/trusted/../evil", False),
    ("file://{root}/trusted/%2e%2e/evil", False),
    ("{root}/trusted-evil", False),
    ("file://{root}/trusted-evil/x.git", False),
    ("https://git.example.com/platform/ml.git", True),
    ("https://GIT.example.com:443/platform/./ml.git", True),
    ("https://git.example.com/platform/../evil/ml.git", False),
    ("https://git.example.com/platform/%2E%2E/evil/ml.git", False),
    ("https://git.example.com/platform-evil/ml.git", False),
    ("https://git.example.com@evil.example/platform/ml.git", False),
    ("https://git.example.com.evil.example/platform/ml.git", False),
    ("http://git.example.com/platform/ml.git", False),
    ("git@git.example.com:platform/ml.git", True),
    ("git@git.example.com:platform-evil/ml.git", False),
    ("gh:acme/ml-template", True),
    ("gh:acme-evil/ml-template", False),
    ("--upload-pack=x;/trusted/ml.git", False),
])
def test_trusted_prefixes_are_compared_after_normalising_at_path_boundaries(tmp_path, monkeypatch, source,
                                                                           trusted):
    (tmp_path / "trusted" / "ml").mkdir(parents=True)
    (tmp_path / "evil").mkdir()
    (tmp_path / "trusted-evil").mkdir()
    prefixes = [f"{tmp_path}/trusted/", "https://git.example.com/platform", "git@git.example.com:platform",
                "https://github.com/acme"]
    monkeypatch.setenv("MLSTACK_TRUSTED_TEMPLATES", ",".join(prefixes))
    assert is_trusted_source(source.format(root=tmp_path)) is trusted


@pytest.mark.parametrize("prefix_form", ["file://{}", "{}"])
def test_dotdot_out_of_a_trusted_prefix_runs_no_hook_on_init(tmp_path, monkeypatch, prefix_form):
    trusted = tmp_path / "trusted"
    trusted.mkdir()
    evil = tmp_path / "evil"
    evil.mkdir()
    (evil / "cookiecutter.json").write_text(json.dumps({"project_slug": "proj"}))
    (evil / "{{cookiecutter.project_slug}}").mkdir()
    (evil / "{{cookiecutter.project_slug}}" / "README.md").write_text("x\n")
    (evil / "hooks").mkdir()
    marker = tmp_path / "hook-ran"
    (evil / "hooks" / "pre_gen_project.py").write_text(f"open({str(marker)!r}, 'w').write('x')\n")
    git(evil, "init", "--quiet")
    git(evil, "add", "--all")
    git(evil, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "-m", "evil")
    monkeypatch.setenv("MLSTACK_TRUSTED_TEMPLATES", prefix_form.format(trusted))
    for spec in (f"file://{trusted}/../evil", f"{trusted}/../evil"):
        result = runner.invoke(app, ["init", "--no-input", "-o", str(tmp_path / "out"), "--template", spec])
        assert result.exit_code == errors.UNTRUSTED_TEMPLATE, result.output
        assert not marker.exists()


@pytest.mark.parametrize("prefix_form", ["file://{}", "{}"])
def test_dotdot_in_the_recorded_source_runs_no_migration_on_update(tmp_path, monkeypatch, prefix_form):
    """The update reads the source from answers.yml: `<trusted>/../evil` there is not trusted either."""
    trusted = tmp_path / "trusted"
    trusted.mkdir()
    template = TemplateRepo(tmp_path / "evil")
    project = generate(template, tmp_path / "out")
    marker = tmp_path / "migration-ran"

    def hostile_migration(t: TemplateRepo) -> None:
        folder = t.path / "hooks" / "migrations"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "0001_evil.py").write_text(f'"""Evil."""\nAPPLIES_TO = ">=0"\nopen({str(marker)!r}, "w")\n'
                                             "def migrate_answers(answers):\n    pass\n")
    template.release("v2.0.0", hostile_migration)
    with_recorded_source(project, f"file://{trusted}/../evil")
    monkeypatch.setenv("MLSTACK_TRUSTED_TEMPLATES", prefix_form.format(trusted))
    result = runner.invoke(app, ["update", "-C", str(project), "--no-input", "--to", "v2.0.0"])
    assert result.exit_code == errors.UNTRUSTED_TEMPLATE, result.output
    assert not marker.exists()
