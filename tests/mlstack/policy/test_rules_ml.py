"""ML rules read the generated configs, Terraform and code: a fresh project passes, each safeguard turned off fails.

Projects are the template's own (helpers.bakes, once per session), edited the way a team might.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from helpers.bakes import baked
from mlstack.policy import ml_config
from mlstack.policy.engine import run_check
from mlstack.policy.policy_file import parse_policy
from mlstack.policy.repo import RepoFacts

TODAY = dt.date(2026, 11, 23)
PROJECT, PROD = "configs/project.yml", "configs/prod.yml"
PACKAGE = "src/maternal_health_risk"
MODULE = "terraform/modules/ml_project"


@pytest.fixture
def project(tmp_path) -> Path:
    copy = tmp_path / "repo"
    shutil.copytree(baked("azure", "github_actions"), copy, symlinks=True)
    return copy


def ml_findings(root: Path, rule: str, **params):
    report = run_check(root, parse_policy({"params": params}, "test-policy"), select=[rule], today=TODAY)
    return [(f.path, f.line, f.message) for f in report.findings]


def messages(root: Path, rule: str, **params):
    return [(path, message) for path, _line, message in ml_findings(root, rule, **params)]


def edit(root: Path, path: str, old: str, new: str) -> None:
    file = root / path
    text = file.read_text()
    assert old in text, f"{old!r} not in {path}"
    file.write_text(text.replace(old, new, 1))


def append(root: Path, path: str, text: str) -> None:
    file = root / path
    file.write_text(file.read_text() + text)


@pytest.mark.parametrize("serving", [False, True])
@pytest.mark.parametrize("rule", ["ML101", "ML102", "ML103", "ML104", "ML105", "ML106", "ML107"])
def test_a_fresh_project_passes(rule, serving):
    assert ml_findings(baked("azure", "github_actions", serving=serving), rule) == []


def test_environment_configs_merge_each_file_over_project_yml():
    repo = RepoFacts(baked("azure", "github_actions"))
    configs, problems = ml_config.environment_configs(repo.files, repo.yaml)
    assert problems == [] and set(configs) == {"local", "dev", "staging", "prod"}
    assert configs["prod"]["training"]["hyperopt"]["max_evals"] == 40  # prod.yml wins ...
    assert configs["prod"]["training"]["hyperopt"]["metric"] == "average_precision"  # ... deeply
    assert ml_config.setting(configs["prod"], "validation.fail_on_rejection") is True


def test_a_disabled_validation_gate_is_a_finding(project):
    edit(project, PROJECT, "fail_on_rejection: true", "fail_on_rejection: false")
    found = ml_findings(project, "ML101")
    line = next(n for n, text in enumerate((project / PROJECT).read_text().splitlines(), 1)
                if "fail_on_rejection:" in text)
    assert found == [(PROJECT, line, f"{env}: the validation gate is off (fail_on_rejection is not true): a rejected "
                                     "challenger would still be deployed") for env in ("staging", "prod")]


def test_a_gate_turned_off_in_prod_only_points_at_prod_yml(project):
    append(project, PROD, "\nvalidation:\n  fail_on_rejection: false\n  thresholds:\n    roc_auc: {min: null}\n")
    assert messages(project, "ML101") == [
        (PROD, "prod: the validation gate is off (fail_on_rejection is not true): a rejected challenger would still "
               "be deployed"),
        (PROD, "prod: validation.thresholds has no numeric min/max threshold")]


def test_thresholds_must_be_numbers(project):
    edit(project, PROJECT, "roc_auc: {min: 0.70}", 'roc_auc: {min: "high"}')
    assert messages(project, "ML101") == [
        (PROJECT, f"{env}: validation.thresholds has no numeric min/max threshold") for env in ("staging", "prod")]


def test_a_negative_min_improvement_is_a_finding(project):
    edit(project, PROJECT, "min_improvement: 0.005", "min_improvement: -0.01")
    assert messages(project, "ML102") == [
        (PROJECT, f"{env}: champion_challenger.min_improvement is -0.01, below 0: a worse model could replace the "
                  "champion") for env in ("staging", "prod")]
    edit(project, PROJECT, "min_improvement: -0.01", "min_improvement: 0.005")
    assert messages(project, "ML102", min_champion_improvement=0.01) == [
        (PROJECT, f"{env}: champion_challenger.min_improvement is 0.005, below 0.01: a worse model could replace "
                  "the champion") for env in ("staging", "prod")]


def test_fairness_needs_an_attribute_and_a_gap_within_the_policy(project):
    edit(project, PROJECT, "sensitive_attribute: demographic_group", "sensitive_attribute: null")
    edit(project, PROJECT, "max_gap: 0.20", "max_gap: 0.35")
    assert messages(project, "ML103") == [
        (PROJECT, message) for env in ("staging", "prod") for message in (
            f"{env}: validation.fairness.sensitive_attribute is not set",
            f"{env}: validation.fairness.max_gap is 0.35, the policy allows 0 to 0.2")]
    edit(project, PROJECT, "sensitive_attribute: null", "sensitive_attribute: demographic_group")
    assert messages(project, "ML103", max_fairness_gap=0.4) == []
    assert messages(project, "ML103", max_fairness_gap=0.1)[0][1].endswith("is 0.35, the policy allows 0 to 0.1")


def test_monitoring_needs_drift_thresholds_and_an_unpaused_prod_schedule(project):
    edit(project, PROD, "\nmonitoring:\n", "\nmonitoring:\n  drift:\n    p_value_threshold: 5\n")
    text = (project / MODULE / "jobs.tf").read_text()
    schedule = text.index('quartz_cron_expression = var.monitoring_schedule')
    pause = text.index('pause_status           = "UNPAUSED"', schedule)
    (project / MODULE / "jobs.tf").write_text(text[:pause] + 'pause_status           = "PAUSED"' +
                                              text[pause + len('pause_status           = "UNPAUSED"'):])
    assert messages(project, "ML104") == [
        (PROD, "prod: monitoring.drift needs psi_threshold > 0 and 0 < p_value_threshold < 1"),
        (f"{MODULE}/jobs.tf", "prod job `monitoring` has no unpaused schedule")]


def test_sample_data_configured_for_prod_is_a_finding(project):
    append(project, PROD, "\ninference:\n  input_table: drifted_scoring_data\n")
    assert messages(project, "ML105") == [(PROD, "prod: inference.input_table is the synthetic drifted demo batch")]


def test_a_prod_job_running_the_sample_data_notebook_is_a_finding(project):
    edit(project, f"{MODULE}/jobs.tf", 'notebook_path   = "notebooks/validate_data"',
         'notebook_path   = "notebooks/sample_data"')
    found = messages(project, "ML105")
    assert found and all(message.startswith("prod job `") and message.endswith("` runs the sample_data step")
                         for _path, message in found)


def test_an_input_example_of_real_rows_is_a_finding(project):
    edit(project, f"{PACKAGE}/io/tracking.py", '"input_example": anonymous_example(input_example),',
         '"input_example": input_example.head(5),')
    (project / f"{PACKAGE}/io/extra.py").write_text(
        "import mlflow\n\n\ndef log(model, frame):\n"
        "    mlflow.pyfunc.log_model('m', python_model=model, input_example=frame.iloc[:3])\n"
        "    mlflow.pyfunc.log_model('m', python_model=model, input_example=None)\n")
    found = ml_findings(project, "ML106")
    assert [(path, message) for path, _line, message in found] == [
        (f"{PACKAGE}/io/extra.py", "input_example=frame.iloc[:3] may copy patient records into the model"),
        (f"{PACKAGE}/io/tracking.py", "input_example=input_example.head(5) may copy patient records into the model")]
    assert found[0][1] == 5


def test_a_serving_endpoint_without_an_inference_table_is_a_finding(tmp_path):
    project = tmp_path / "serving"
    shutil.copytree(baked("azure", "github_actions", serving=True), project, symlinks=True)
    edit(project, f"{MODULE}/serving.tf", "      enabled           = true", "      enabled           = false")
    found = ml_findings(project, "ML107")
    assert [(p, m) for p, _l, m in found] == [(f"{MODULE}/serving.tf", "serving endpoint `champion` has no inference "
                                                                       "table")]
    assert found[0][1] == (project / MODULE / "serving.tf").read_text().splitlines().index(
        'resource "databricks_model_serving" "champion" {') + 1


def test_an_unreadable_config_is_reported_not_a_crash(project):
    (project / PROD).write_text("validation: [\n")
    report = run_check(project, parse_policy({}, "p"), select=["ML"], today=TODAY)
    assert [(f.rule, f.path, f.severity) for f in report.findings] == [("ML101", PROD, "warning")]
