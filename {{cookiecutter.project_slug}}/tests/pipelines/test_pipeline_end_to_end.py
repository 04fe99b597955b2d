"""The whole local pipeline on a small synthetic sample: what `make pipeline` does, checked end to end.

The run itself is the `pipeline` fixture (tests/conftest.py), shared with other end-to-end tests.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.config import apply_overrides
from {{ cookiecutter.package_name }}.io import tracking
from {{ cookiecutter.package_name }}.io.tables import read_table, write_table
from {{ cookiecutter.package_name }}.pipelines import validate_data as validate_data_step
from {{ cookiecutter.package_name }}.pipelines.common import (
    DataContractViolation,
    ModelRejected,
    PipelineError,
    StepContext,
)
from {{ cookiecutter.package_name }}.pipelines.deploy import deploy
from {{ cookiecutter.package_name }}.pipelines.train import train
from {{ cookiecutter.package_name }}.pipelines.validate_data import validate_data
from {{ cookiecutter.package_name }}.pipelines.validate_model import validate_model

pytestmark = pytest.mark.integration


def test_a_model_version_is_registered_and_holds_the_champion_alias(pipeline):
    context, run = pipeline
    name = context.config["mlflow"]["registered_model"]
    champion = tracking.version_by_alias(name, tracking.CHAMPION)
    # The drifted batch's retrain (test_retrain_loop.py) replaced it only if its challenger passed validation.
    retrain = run.results["retrain"]
    assert champion is not None
    assert champion.version == (retrain.promoted_version or run.results["train"].version)
    assert champion.tags["validation_status"] == "passed"
    for audit_tag in ("deployed_by", "deployed_at", "deployed_from_commit", "trained_by", "git_commit"):
        assert champion.tags.get(audit_tag), audit_tag
    challenger = tracking.version_by_alias(name, tracking.CHALLENGER)
    if retrain.promoted_version:
        assert challenger is None
    else:  # the rejected retrain stays registered for inspection
        assert challenger.version == retrain.steps["train"].version
        assert challenger.tags["validation_status"] == "rejected"


def test_every_trial_is_tracked_and_the_model_has_signature_and_importance(pipeline):
    import mlflow

    context, run = pipeline
    train_run = mlflow.get_run(run.results["train"].run_id)
    trials = mlflow.search_runs(filter_string=f"tags.mlflow.parentRunId = '{train_run.info.run_id}'")
    assert len(trials) == context.config["training"]["hyperopt"]["max_evals"]
    assert "metrics.roc_auc" in trials.columns
    artifacts = {a.path for a in mlflow.MlflowClient().list_artifacts(train_run.info.run_id)}
    assert {"feature_importance.json", "feature_importance.png", "reference_profile.json"} <= artifacts
    info = mlflow.models.get_model_info(
        f"models:/{run.results['train'].model_name}/{run.results['train'].version}"
    )
    assert info.signature is not None and info.saved_input_example_info is not None


def test_predictions_are_written_with_model_version_run_id_and_time(pipeline, spark):
    context, run = pipeline
    predictions = read_table(spark, context.config, "predictions").toPandas()
    fresh = run.results["batch_inference"]
    batch = predictions[predictions.batch_id == fresh.batch_id]
    assert len(batch) == context.config["sample_data"]["scoring_rows"]
    assert set(batch.model_version) == {run.results["train"].version}
    assert batch.model_run_id.iloc[0] == run.results["train"].run_id
    assert batch.scored_at.notna().all() and batch.risk_score.between(0, 1).all()
    assert predictions.batch_id.nunique() == 2  # the fresh and the drifted batch were appended


def test_drift_is_reported_on_the_drifted_batch_and_not_on_the_fresh_one(pipeline):
    _, run = pipeline
    fresh, drifted = run.results["monitor"], run.results["monitor_drifted"]
    assert not fresh.retrain and fresh.drifted_features == []
    assert drifted.retrain and len(drifted.drifted_features) >= 2
    assert drifted.performance_drop is not None and drifted.performance_drop > 0.05
    report = json.loads((Path(drifted.report_dir) / "report.json").read_text())
    assert report["retrain"] is True and report["batch_id"] == drifted.batch_id
    assert (Path(drifted.report_dir) / "summary.md").read_text().count("Retrain recommended") == 1
    assert (Path(drifted.report_dir) / "drift.png").stat().st_size > 0


def test_a_worse_challenger_is_not_promoted(pipeline):
    context, _ = pipeline
    name = context.config["mlflow"]["registered_model"]
    champion_before = tracking.version_by_alias(name, tracking.CHAMPION).version
    # Only the weakest feature: a model that cannot beat the champion.
    weak = StepContext(
        apply_overrides(
            context.config,
            [
                "feature_selection.include_groups=[]",
                "feature_selection.include_features=[distance_to_clinic_km]",
                "feature_selection.exclude_features=[]",
                "training.hyperopt.max_evals=1",
            ],
        ),
        context.spark,
    )
    challenger = train(weak)
    with pytest.raises(ModelRejected, match="champion_challenger"):
        validate_model(weak)
    with pytest.raises(PipelineError, match="validation_status='rejected'"):
        deploy(weak)
    assert tracking.version_by_alias(name, tracking.CHAMPION).version == champion_before
    rejected = tracking.version_by_alias(name, tracking.CHALLENGER)
    assert rejected.version == challenger.version and rejected.tags["validation_status"] == "rejected"


def test_broken_input_fails_validation_naming_the_column(pipeline, spark):
    context, _ = pipeline
    good = read_table(spark, context.config, "training_data").toPandas()
    broken = good.assign(age=pd.Series([130] * 5 + list(good.age[5:]), dtype="int64"))
    broken_config = apply_overrides(context.config, ["tables.training_data=broken_history"])
    write_table(spark.createDataFrame(broken), broken_config, "training_data")
    with pytest.raises(DataContractViolation, match=r"age \(max: 5 value\(s\) above 60\)"):
        validate_data(StepContext(broken_config, spark))


def test_the_command_line_prints_one_error_line_and_exits_1(pipeline, overrides_at, capsys):
    context, _ = pipeline
    root = Path(context.config["paths"]["root"])
    settings = [arg for override in overrides_at(root) for arg in ("--set", override)]
    code = validate_data_step.run.main(
        ["--env", "local", *settings, "--set", "tables.training_data=broken_history"]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1
    assert err[0].startswith("error: ") and "age (max:" in err[0]


def test_the_engine_brings_no_table_to_the_driver_unless_it_is_single_node(pipeline, driver_transfers):
    """Distributed: every collect/toPandas of train, validate_model and monitor is a summary (a few
    thousand rows at most: quantiles, bin counts, one row per group), far below the 5,000-row table.
    Single node: the whole feature table is collected, which is that engine's premise."""
    context, run = pipeline
    rows = context.config["sample_data"]["training_rows"]
    steps = ("train", "validate_model", "monitor", "monitor_drifted")
    largest = {step: max((n for s, _, n in driver_transfers if s == step), default=0) for step in steps}
    assert all(largest.values()), largest  # each step was observed
    if context.config["training"]["engine"] == "distributed":
        assert max(largest.values()) <= 2000 < rows, largest
        assert not [t for t in driver_transfers if t[0] in steps and t[1] == "toPandas" and t[2] > 100]
    else:
        assert largest["train"] == rows and max(largest[s] for s in steps[1:]) <= 2000
