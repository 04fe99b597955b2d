"""The monitoring loop on the sample: the drifted batch of the `pipeline` run triggers one guarded
retrain, tagged with its batch and reasons and judged like any challenger; nothing else retriggers.

Batches scored here go to their own predictions table, so the pipeline's table keeps its two batches
for the other end-to-end tests.
"""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import pytest

from {{ cookiecutter.package_name }}.config import apply_overrides
from {{ cookiecutter.package_name }}.io import tracking
from {{ cookiecutter.package_name }}.pipelines import monitor as monitor_step
from {{ cookiecutter.package_name }}.pipelines import retrain_if_needed as retrain_step
from {{ cookiecutter.package_name }}.pipelines.batch_inference import batch_inference
from {{ cookiecutter.package_name }}.pipelines.common import StepContext
from {{ cookiecutter.package_name }}.pipelines.deploy import deploy
from {{ cookiecutter.package_name }}.pipelines.monitor import MonitorResult, monitor
from {{ cookiecutter.package_name }}.pipelines.retrain_if_needed import retrain_on_trigger
from {{ cookiecutter.package_name }}.pipelines.validate_model import validate_model

pytestmark = pytest.mark.integration
OWN_TABLE = "tables.predictions=loop_predictions"
DRIFTED_INPUT = "inference.input_table=drifted_scoring_data"


def with_settings(context: StepContext, *overrides: str) -> StepContext:
    return StepContext(apply_overrides(context.config, list(overrides)), context.spark)


def champion_version(context: StepContext) -> str:
    return tracking.version_by_alias(tracking.model_name(context.config), tracking.CHAMPION).version


def triggered_monitor_runs(context: StepContext) -> list:
    return tracking.triggered_retrains(tracking.configure_mlflow(context.config))


def test_the_drifted_batch_triggers_exactly_one_retrain_and_the_fresh_one_none(pipeline):
    context, run = pipeline
    fresh, drifted, retrain = run.results["monitor"], run.results["monitor_drifted"], run.results["retrain"]
    assert not fresh.retrain and not fresh.triggered and fresh.decision == "no retrain recommended"
    assert fresh.task_values()["trigger_retrain"] is False
    assert drifted.retrain and drifted.triggered and drifted.decision == "retrain started"
    assert drifted.task_values() == {
        "retrain": True,
        "trigger_retrain": True,
        "batch_id": drifted.batch_id,
        "reasons": "; ".join(drifted.reasons),
        "monitor_run_id": drifted.run_id,
    }
    assert [past.batch_id for past in triggered_monitor_runs(context)] == [drifted.batch_id]
    assert "train" in retrain.steps and "validate_model" in retrain.steps  # judged like any challenger
    report = json.loads((Path(retrain.report_dir) / "report.json").read_text())
    assert report["batch_id"] == drifted.batch_id and report["reasons"] == drifted.reasons
    assert report["outcome"] == retrain.outcome and report["validation"] in ("passed", "rejected")
    summary = (Path(retrain.report_dir) / "summary.md").read_text()
    assert drifted.reasons[0] in summary and retrain.outcome in summary
    report = json.loads((Path(drifted.report_dir) / "report.json").read_text())
    assert report["retraining"]["triggered"] is True


def test_the_triggered_run_and_version_say_who_started_them_and_why_and_were_judged(pipeline):
    context, run = pipeline
    drifted, retrain = run.results["monitor_drifted"], run.results["retrain"]
    trained = retrain.steps["train"]
    expected = {
        "triggered_by": "monitor",
        "trigger_batch_id": drifted.batch_id,
        "trigger_reasons": "; ".join(drifted.reasons),
        "trigger_monitor_run_id": drifted.run_id,
    }
    run_tags = mlflow.get_run(trained.run_id).data.tags
    assert {key: run_tags.get(key) for key in expected} == expected
    version = tracking.client().get_model_version(trained.model_name, trained.version)
    assert {key: version.tags.get(key) for key in expected} == expected
    assert version.tags["validation_status"] in ("passed", "rejected")
    promoted = retrain.promoted_version
    assert promoted in (None, trained.version)
    # The champion is the retrain's challenger only if it passed validation and was deployed.
    assert champion_version(context) == (promoted or run.results["train"].version)
    assert (version.tags["validation_status"] == "passed") is (promoted is not None)


def test_monitoring_again_within_the_interval_starts_nothing_and_a_fresh_batch_recommends_nothing(pipeline):
    context, run = pipeline
    drifted = run.results["monitor_drifted"]
    again = monitor(with_settings(context, DRIFTED_INPUT))
    assert again.retrain and not again.triggered
    assert f"batch {drifted.batch_id} already triggered a retrain" in again.decision

    # A new drifted batch: the drift recommends a retrain, the minimum interval holds it back.
    own = with_settings(context, OWN_TABLE, DRIFTED_INPUT)
    batch_inference(own)
    held = monitor(own)
    assert held.retrain and not held.triggered and "monitoring.retrain.min_interval_hours" in held.decision
    assert "not started" in held.summary() and held.decision in held.summary()

    # A fresh batch from the training distribution, scored by today's champion: nothing to retrain for.
    fresh = with_settings(context, OWN_TABLE)
    batch_inference(fresh)
    calm = monitor(fresh)
    assert not calm.retrain and not calm.triggered and calm.drifted_features == []
    assert [past.batch_id for past in triggered_monitor_runs(context)] == [drifted.batch_id]


def test_make_retrain_if_needed_monitors_the_latest_batch_and_starts_nothing_it_already_started(
    pipeline, overrides_at, capsys
):
    context, run = pipeline
    drifted = run.results["monitor_drifted"]
    root = Path(context.config["paths"]["root"])
    settings = [arg for item in overrides_at(root) for arg in ("--set", item)]
    assert retrain_step.run.main(["--env", "local", *settings]) == 0
    summary = capsys.readouterr().out.splitlines()[0]
    assert summary.startswith(f"RETRAIN recommended for batch {drifted.batch_id}, not started: ")
    assert f"batch {drifted.batch_id} already triggered a retrain" in summary
    assert [past.batch_id for past in triggered_monitor_runs(context)] == [drifted.batch_id]


def test_no_predictions_ends_the_monitor_with_one_line_and_no_retrain(pipeline, overrides_at, capsys):
    context, _ = pipeline
    champion = champion_version(context)
    result = monitor(with_settings(context, "tables.predictions=never_scored"))
    assert not result.triggered
    assert result.summary().startswith("nothing to monitor: no predictions table yet")
    assert result.task_values()["trigger_retrain"] is False

    root = Path(context.config["paths"]["root"])
    settings = [arg for item in overrides_at(root) for arg in ("--set", item)]
    code = monitor_step.run.main(["--env", "local", *settings, "--set", "monitoring.batch_id=no-such-batch"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and "monitoring.batch_id='no-such-batch'" in err[0]
    assert champion_version(context) == champion


def test_outcomes_that_never_arrive_are_reported_overdue_and_drift_alone_decides(pipeline):
    context, _ = pipeline
    late = with_settings(
        context,
        OWN_TABLE,
        "tables.outcomes=outcomes_never_arrived",
        "monitoring.performance.outcome_wait_days=0",
    )
    batch_inference(late)
    result = monitor(late)
    assert result.performance_drop is None and not result.triggered
    assert len(result.notes) == 1 and result.notes[0].startswith("outcomes overdue: 0 labelled rows")
    assert "outcome_wait_days" in result.summary() and len(result.summary().splitlines()) == 1


@pytest.fixture(scope="module")
def rejected_retrain(pipeline):
    """(champion before, result) of a triggered retrain that cannot pass: its roc_auc bar is out of reach."""
    context, _ = pipeline
    champion = champion_version(context)
    strict = with_settings(
        context, "training.hyperopt.max_evals=1", "validation.thresholds.roc_auc.min=0.999"
    )
    trigger = MonitorResult(
        "batch-x", champion, True, ["age: psi 0.40"], triggered=True, decision="retrain started"
    )
    return champion, retrain_on_trigger(strict, trigger)


def test_a_retrain_that_fails_validation_leaves_the_champion_and_says_so_in_one_line(
    pipeline, rejected_retrain
):
    context, _ = pipeline
    champion, retrain = rejected_retrain
    assert "deploy" not in retrain.steps and retrain.promoted_version is None
    outcome = retrain.outcome
    assert len(outcome.splitlines()) == 1
    version = retrain.steps["train"].version
    assert outcome.startswith(f"retrain v{version} rejected, the champion stays v{champion}")
    assert "roc_auc" in outcome
    assert champion_version(context) == champion
    assert json.loads((Path(retrain.report_dir) / "report.json").read_text())["validation"] == "rejected"


def test_in_prod_a_triggered_challenger_that_passes_validation_still_waits_for_approval(
    pipeline, rejected_retrain
):
    """The prod deploy task of a triggered retrain never moves `champion`, however good the challenger."""
    context, _ = pipeline
    champion, retrain = rejected_retrain
    trained = retrain.steps["train"]
    assert champion_version(context) == champion
    # Judge the same triggered challenger again with a margin it clears, to reach the approval gate.
    triggered = with_settings(
        context,
        "validation.champion_challenger.min_improvement=-1",
        'training.trigger.by="monitor"',
        'training.trigger.batch_id="batch-x"',
    )
    assert validate_model(triggered).passed
    in_prod = with_settings(triggered, "environment=prod")
    waiting = deploy(in_prod)
    assert waiting.version == trained.version and waiting.awaiting_approval and not waiting.promoted
    assert "awaits approval" in waiting.summary()
    assert champion_version(context) == champion
    # Without the run's trigger (someone reruns the deploy task by hand) the version's tag still holds it.
    untriggered = with_settings(context, "environment=prod")
    assert deploy(untriggered).awaiting_approval and champion_version(context) == champion
    version = tracking.client().get_model_version(trained.model_name, trained.version)
    assert version.tags["promotion_status"] == "awaiting_approval"
    assert version.tags["triggered_by"] == "monitor"
    # A new drifted batch waits too, until a person approves or rejects that version.
    drifted = with_settings(context, OWN_TABLE, DRIFTED_INPUT)
    batch_inference(drifted)
    again = monitor(drifted)
    assert again.retrain and not again.triggered and f"version {trained.version}" in again.decision
    # Leave the registry as the other tests expect it: no challenger waiting.
    tracking.delete_alias(trained.model_name, tracking.CHALLENGER)
