"""TF rules judge each environment's jobs with that root's values, and fail on real breakages."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mlstack.cli import app
from mlstack.policy.engine import run_check
from mlstack.policy.policy_file import Policy, parse_policy
from mlstack.policy.repo import RepoFacts
from mlstack.policy.terraform_eval import clusters, environment_jobs, first

runner = CliRunner()
TODAY = dt.date(2026, 11, 23)
MODULE = "terraform/modules/ml_project"


def bake_once(tmp_path_factory, name: str, *options: str) -> Path:
    out = tmp_path_factory.mktemp(name)
    assert runner.invoke(app, ["init", "--no-input", "-o", str(out), *options]).exit_code == 0
    return out / "maternal-health-risk"


def copy_of(baked: Path, tmp_path: Path) -> Path:
    """A fresh copy of a baked project that a test may break."""
    copy = tmp_path / "repo"
    shutil.copytree(baked, copy, symlinks=True)
    return copy


@pytest.fixture(scope="module")
def baked(tmp_path_factory) -> Path:
    return bake_once(tmp_path_factory, "tf-check")


@pytest.fixture
def project(baked, tmp_path) -> Path:
    return copy_of(baked, tmp_path)


def edit(project: Path, path: str, old: str, new: str, count: int = 1) -> None:
    file = project / path
    text = file.read_text()
    assert old in text, f"{old!r} not in {path}"
    file.write_text(text.replace(old, new, count))


def test_jobs_are_evaluated_per_environment_with_the_roots_values(baked):
    jobs = environment_jobs(RepoFacts(baked))
    assert {(j.environment, j.name) for j in jobs} >= {("staging", "training"), ("prod", "training"),
                                                        ("prod", "inference"), ("prod", "monitoring")}
    prod = next(j for j in jobs if (j.environment, j.name) == ("prod", "training"))
    assert first(prod.body["git_source"])["branch"] == "release"
    assert clusters(prod)[0]["num_workers"] == 2
    assert prod.body["tags"]["environment"] == "prod"


BREAKERS = {
    "TF101": (lambda p: edit(p, f"{MODULE}/main.tf", "    template_version = var.template_version\n", ""),
              {}, "lacks tags: template_version"),
    "TF102": (lambda p: None, {"allowed_node_types": ["Standard_D8ds_v5"]}, "uses node type 'Standard_D4ds_v5'"),
    "TF103": (lambda p: edit(p, "terraform/prod/main.tf", "num_workers   = 2", "num_workers   = 50"),
              {}, "asks for 50 workers (ceiling 20)"),
    "TF104": (lambda p: edit(p, f"{MODULE}/jobs.tf", "service_principal_name = local.runner_application_id",
                             'user_name = "jane.doe@example.com"'), {}, "does not run as a service principal"),
    "TF105": (lambda p: edit(p, f"{MODULE}/jobs.tf", "on_failure = [var.owner_email]", "on_failure = []"),
              {}, "has no failure notification"),
    "TF106": (lambda p: edit(p, "terraform/prod/main.tf", 'git_branch   = "release"', 'git_branch   = "main"'),
              {}, "prod job `training` runs from branch 'main', expected 'release'"),
    "TF107": (lambda p: edit(p, f"{MODULE}/jobs.tf", 'data_security_mode = "SINGLE_USER"',
                             'data_security_mode = "NONE"'), {}, "uses access mode 'NONE'"),
    "TF108": (lambda p: edit(p, f"{MODULE}/jobs.tf", "max_concurrent_runs = 1", "max_concurrent_runs = 3"),
              {}, "allows 3 concurrent runs"),
}


@pytest.mark.parametrize("rule", sorted(BREAKERS))
def test_terraform_rule_fails_on_a_broken_project(project, rule):
    breaker, params, message = BREAKERS[rule]
    breaker(project)
    report = run_check(project, parse_policy({"params": params}, "p"), select=[rule], today=TODAY)
    hits = [f for f in report.findings if f.rule == rule]
    assert hits and any(message in f.message for f in hits), [f.message for f in report.findings]
    assert all(f.path.startswith("terraform/") and f.line for f in hits)


def test_only_the_broken_environment_is_reported(project):
    edit(project, "terraform/prod/main.tf", "num_workers   = 2", "num_workers   = 50")
    report = run_check(project, Policy(), select=["TF103"], today=TODAY)
    assert {f.message.split(" job")[0] for f in report.findings} == {"prod"}


@pytest.mark.parametrize("answers", [{"serverless": True}, {"feature_store": False},
                                     {"cloud": "aws"}, {"cloud": "gcp", "num_workers": "0"},
                                     {"serving": True, "cloud": "gcp"}])
def test_other_variants_pass_every_terraform_rule(tmp_path, answers):
    sets = [arg for key, value in answers.items() for arg in ("--set", f"{key}={value}")]
    assert runner.invoke(app, ["init", "--no-input", "-o", str(tmp_path), *sets]).exit_code == 0
    report = run_check(tmp_path / "maternal-health-risk", Policy(), select=["TF"], today=TODAY)
    assert report.findings == []
    assert re.search(r"TF10\d", " ".join(report.rules))


@pytest.fixture(scope="module")
def serving_baked(tmp_path_factory) -> Path:
    return bake_once(tmp_path_factory, "tf-check-serving", "--set", "serving=true")


@pytest.fixture
def serving_project(serving_baked, tmp_path) -> Path:
    return copy_of(serving_baked, tmp_path)


def test_a_serving_project_passes_every_rule_of_mlstack_check(serving_baked):
    assert (serving_baked / MODULE / "serving.tf").is_file()
    report = run_check(serving_baked, Policy(), today=TODAY)
    assert report.findings == [], [f"{f.rule}: {f.message}" for f in report.findings]
    assert "TF109" in report.rules and report.exit_code == 0


SERVING_BREAKERS = {
    "ungated": (lambda p: edit(p, f"{MODULE}/serving.tf", "  count = var.serving_model_version == null ? 0 : 1\n", ""),
                "serving endpoint `champion` is declared before any model version exists"),
    "fixed-version": (lambda p: edit(p, f"{MODULE}/serving.tf", "entity_version        = var.serving_model_version",
                                     'entity_version        = "3"'),
                      "serving endpoint `champion` serves a fixed model version"),
}


@pytest.mark.parametrize("breakage", sorted(SERVING_BREAKERS))
def test_serving_endpoint_rule_fails_an_endpoint_not_gated_on_the_champion_version(serving_project, breakage):
    breaker, message = SERVING_BREAKERS[breakage]
    breaker(serving_project)
    report = run_check(serving_project, Policy(), select=["TF109"], today=TODAY)
    [finding] = report.findings
    assert message in finding.message and finding.severity == "warning"
    assert finding.path == f"{MODULE}/serving.tf" and finding.line
