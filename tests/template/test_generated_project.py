"""Generated projects install in a fresh virtualenv, pass their own tests (the end-to-end ML
pipeline included) and lint clean; a non-default variant does too."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from mlstack.cli import app

# The generated end-to-end test: every one of these must have run and passed, not been skipped.
PIPELINE_TESTS = (
    "test_a_model_version_is_registered_and_holds_the_champion_alias",
    "test_every_trial_is_tracked_and_the_model_has_signature_and_importance",
    "test_predictions_are_written_with_model_version_run_id_and_time",
    "test_drift_is_reported_on_the_drifted_batch_and_not_on_the_fresh_one",
    "test_a_worse_challenger_is_not_promoted",
    "test_broken_input_fails_validation_naming_the_column",
    "test_the_command_line_prints_one_error_line_and_exits_1",
    "test_the_engine_brings_no_table_to_the_driver_unless_it_is_single_node",
)
# Both training engines on the sample, and the monitor against the statistics it used to compute on pandas.
ENGINE_TESTS = (
    "test_the_monitor_agrees_with_the_sample_statistics_on_fresh_and_drifted_batches",
    "test_the_other_engine_is_judged_like_with_like_and_monitored_alike",
)
VARIANT = {"project_name": "Clinic Variant", "feature_store": "false",
           "training_engine": "single_node"}
SERVING = {"project_name": "Triage Serving", "serving": "true", "cloud": "aws", "ci_platform": "gitlab"}
# The serving project's own tests that must have run and passed (smoke test and end to end included).
SERVING_TESTS = (
    "test_scoring_service.py::test_the_service_scores_sample_rows_with_the_champion",
    "test_scoring_service.py::test_a_bad_request_gets_a_4xx_naming_the_field",
    "test_scoring_service.py::test_stopping_leaves_a_request_log_without_payloads",
    "test_serving_end_to_end.py::test_champion_scores_feature_rows_and_the_monitor_reports_the_traffic",
)


def init(out: Path, answers: dict[str, str] | None = None) -> Path:
    options = [arg for key, value in (answers or {}).items() for arg in ("--set", f"{key}={value}")]
    result = CliRunner().invoke(app, ["init", "--no-input", "-o", str(out), *options], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    (project,) = [p for p in out.iterdir() if p.is_dir()]
    return project


@pytest.fixture(scope="module")
def default_project(tmp_path_factory) -> Path:
    return init(tmp_path_factory.mktemp("generated"))


@pytest.fixture(scope="module")
def installed_project(default_project, project_venv):
    """The default project installed with the library versions of its (default) runtime, 18 LTS ML."""
    lock = default_project / "constraints" / "dbr-18-ml.txt"
    project_venv.install("--constraint", str(lock), "-e", f"{default_project}[dev]")
    return default_project


@pytest.fixture(scope="module")
def variant_project(tmp_path_factory, installed_project, project_venv) -> Path:
    """Feature store off, another package name; reuses the installed dependencies."""
    project = init(tmp_path_factory.mktemp("variant"), VARIANT)
    project_venv.install("--no-deps", "-e", str(project))
    return project


@pytest.fixture(scope="module")
def serving_project(tmp_path_factory, installed_project, project_venv) -> Path:
    """Real-time serving on; reuses the installed dependencies (serving needs no others)."""
    project = init(tmp_path_factory.mktemp("serving"), SERVING)
    project_venv.install("--no-deps", "-e", str(project))
    return project


def test_generated_project_test_suite_passes_with_the_pipeline_test(installed_project, project_venv):
    result = project_venv.run("pytest", "-v", "-p", "no:cacheprovider", cwd=installed_project)
    output = result.stdout
    assert result.returncode == 0, output[-4000:] + result.stderr[-2000:]
    for name in PIPELINE_TESTS:
        assert f"test_pipeline_end_to_end.py::{name} PASSED" in output, f"{name} did not run and pass"
    for name in ENGINE_TESTS:
        assert f"test_training_engines.py::{name} PASSED" in output, f"{name} did not run and pass"
    project = yaml.safe_load((installed_project / "configs" / "project.yml").read_text())
    assert project["training"]["engine"] == "distributed"  # the default, so this run covered it
    assert " passed" in output and " skipped" not in output.splitlines()[-1]


def test_the_suite_runs_on_the_library_versions_of_databricks_runtime_18_lts_ml(installed_project, project_venv):
    names = ("pyspark", "mlflow", "mlflow-skinny", "scikit-learn", "pandas", "numpy", "hyperopt")
    script = f"import importlib.metadata as m; print(' '.join(m.version(n) for n in {names!r}))"
    result = project_venv.run("python", "-c", script, cwd=installed_project)
    assert result.stdout.split() == ["4.1.0", "3.8.1", "3.8.1", "1.6.1", "2.2.3", "2.1.3", "0.3.0"], result.stderr


def test_generated_project_is_lint_clean(installed_project, project_venv):
    result = project_venv.run("ruff", "check", "src", "tests", cwd=installed_project)
    assert result.returncode == 0, result.stdout + result.stderr


def test_local_pipeline_command_is_documented_and_wired(installed_project):
    makefile = (installed_project / "Makefile").read_text()
    assert "PACKAGE := maternal_health_risk" in makefile
    assert "pipeline:" in makefile and "-m $(PACKAGE).pipelines --env $(ENV) --sample-data" in makefile
    for step in ("validate_data", "build_features", "train", "validate_model", "deploy", "batch_inference", "monitor"):
        assert (installed_project / "src" / "maternal_health_risk" / "pipelines" / f"{step}.py").is_file(), step
        notebook = (installed_project / "notebooks" / f"{step}.py").read_text()
        assert notebook.startswith("# Databricks notebook source")
        assert "env = start_step(dbutils)" in notebook
        assert f"from maternal_health_risk.pipelines.{step} import run" in notebook


def test_variant_without_feature_store_passes_its_unit_tests(variant_project, project_venv):
    project = yaml.safe_load((variant_project / "configs" / "project.yml").read_text())
    assert project["feature_store"]["enabled"] is False
    assert project["training"]["engine"] == "single_node"
    staging = yaml.safe_load((variant_project / "configs" / "staging.yml").read_text())
    assert staging["catalog"] == "staging" and staging["mlflow"]["registry_uri"] == "databricks-uc"
    assert staging["mlflow"]["registered_model"] == "staging.clinic_variant.clinic_variant_model"
    lint = project_venv.run("ruff", "check", "src", "tests", cwd=variant_project)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    result = project_venv.run("pytest", "-q", "-p", "no:cacheprovider", "-m", "not integration", cwd=variant_project)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout


def test_serving_project_passes_its_whole_suite_with_the_smoke_test(serving_project, project_venv):
    lint = project_venv.run("ruff", "check", "src", "tests", cwd=serving_project)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    # The training-engine tests are the default project's (same code); serving adds nothing to them.
    result = project_venv.run("pytest", "-v", "-p", "no:cacheprovider", "-m", "not engines", cwd=serving_project)
    output = result.stdout
    assert result.returncode == 0, output[-4000:] + result.stderr[-2000:]
    for name in SERVING_TESTS:
        assert f"tests/serving/{name} PASSED" in output, f"{name} did not run and pass"
    makefile = (serving_project / "Makefile").read_text()
    assert "serve:  ## " in makefile and "-m $(PACKAGE).serving --env $(ENV)" in makefile
