"""Organisation defaults pre-fill `mlstack init` answers; locked ones can't be asked or changed."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from helpers import copy_template
from mlstack.cli import app
from mlstack.errors import INVALID_INPUT

runner = CliRunner()
ORG = "defaults:\n  cloud: gcp\n  ci_platform: gitlab\n  owner_team: data-science\nlocked: [cloud, ci_platform]\n"


def recorded(project: Path) -> dict:
    return yaml.safe_load((project / ".mlstack" / "answers.yml").read_text())


@pytest.fixture
def org_file(tmp_path) -> Path:
    path = tmp_path / "org.yml"
    path.write_text(ORG)
    return path


def test_defaults_prefill_answers_and_stay_fixed_on_later_updates(tmp_path, org_file):
    result = runner.invoke(app, ["init", "--no-input", "-o", str(tmp_path / "o"), "--defaults", str(org_file)])
    assert result.exit_code == 0, result.output
    meta = recorded(tmp_path / "o" / "maternal-health-risk")
    assert (meta["answers"]["cloud"], meta["answers"]["ci_platform"]) == ("gcp", "gitlab")
    assert meta["answers"]["owner_team"] == "data-science"
    assert {"cloud", "ci_platform", "owner_team"} <= set(meta["user_set"])


def test_unlocked_default_can_be_overridden(tmp_path, org_file):
    result = runner.invoke(app, ["init", "--no-input", "-o", str(tmp_path / "o"), "--defaults", str(org_file),
                                 "--set", "owner_team=risk-team"])
    assert result.exit_code == 0
    assert recorded(tmp_path / "o" / "maternal-health-risk")["answers"]["owner_team"] == "risk-team"


def test_locked_answer_cannot_be_changed_with_set(tmp_path, org_file):
    out = tmp_path / "o"
    result = runner.invoke(app, ["init", "--no-input", "-o", str(out), "--defaults", str(org_file),
                                 "--set", "cloud=aws"])
    assert result.exit_code == INVALID_INPUT
    assert "--set: cloud is locked to 'gcp'" in result.output and not out.exists()


def test_locked_answer_repeated_with_the_same_value_is_fine(tmp_path, org_file):
    result = runner.invoke(app, ["init", "--no-input", "-o", str(tmp_path / "o"), "--defaults", str(org_file),
                                 "--set", "cloud=gcp"])
    assert result.exit_code == 0


def test_locked_questions_are_not_asked(tmp_path, org_file):
    result = runner.invoke(app, ["init", "-o", str(tmp_path / "o"), "--defaults", str(org_file)], input="\n" * 60)
    assert result.exit_code == 0, result.output
    assert "1. azure" not in result.output and "CI/CD platform" not in result.output  # cloud is not offered
    # The locked cloud still drives the conditional questions: the summary holds GCS's, not the others'.
    assert "tfstate_gcs_bucket" in result.output and "tfstate_s3_bucket" not in result.output
    assert "tfstate_azure_storage_account" not in result.output


def test_settings_file_points_at_the_org_defaults(tmp_path, org_file, monkeypatch):
    settings = tmp_path / "settings.yml"
    settings.write_text(f"org_defaults: {org_file}\n")
    monkeypatch.setenv("MLSTACK_SETTINGS", str(settings))
    assert runner.invoke(app, ["init", "--no-input", "-o", str(tmp_path / "o")]).exit_code == 0
    assert recorded(tmp_path / "o" / "maternal-health-risk")["answers"]["cloud"] == "gcp"


def test_a_template_fork_ships_its_own_org_defaults(tmp_path):
    fork = copy_template(tmp_path / "fork")
    (fork / "org-defaults.yml").write_text("defaults:\n  cloud: aws\nlocked: [cloud]\n")
    result = runner.invoke(app, ["init", "--no-input", "-o", str(tmp_path / "o"), "--template", str(fork), "--trust"])
    assert result.exit_code == 0, result.output
    assert recorded(tmp_path / "o" / "maternal-health-risk")["answers"]["cloud"] == "aws"


@pytest.mark.parametrize("content,message", [
    ("defaults: {cloud: gcp}\nlockd: [cloud]\n", "unknown key 'lockd' (did you mean 'locked'?)"),
    ("defaults: {cloud: gcp}\nlocked: [ci_platform]\n", "locked key 'ci_platform' needs a value"),
    ("defaults: {clod: gcp}\n", "unknown question 'clod' (did you mean 'cloud'?)"),
    ("defaults: {cloud: mars}\n", "cloud='mars': must be one of azure, aws, gcp"),
    ("defaults: [cloud]\n", "defaults must map question keys to values"),
    ("defaults: {cloud: [a, b]}\n", "defaults.cloud must be a single value"),
    ("defaults: {\n", "not valid YAML"),
])
def test_malformed_org_defaults_is_a_one_line_error(tmp_path, content, message):
    path = tmp_path / "org.yml"
    path.write_text(content)
    result = runner.invoke(app, ["init", "--no-input", "-o", str(tmp_path / "o"), "--defaults", str(path)])
    assert result.exit_code == INVALID_INPUT
    assert result.output.count("\n") == 1 and message in result.output
