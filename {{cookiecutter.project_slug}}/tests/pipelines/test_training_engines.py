"""Both engines on the sample: the other engine trains on the pipeline's feature table, is judged on the
same test rows as the champion, and the monitor (from the stored profile, in Spark) gives the report and
retrain decision that the sample statistics computed on the driver (the monitor before profiles) give.

Tolerance: PSI within 0.02 (approximate vs exact quantile bins), score PSI within 0.03, performance drop
within 0.005; the drifted features, the retrain decision and its reasons' kinds are identical.
"""

from __future__ import annotations

import json
from pathlib import Path

import mlflow.pyfunc
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from {{ cookiecutter.package_name }}.config import apply_overrides
from {{ cookiecutter.package_name }}.core.evaluation import classification_metrics
from {{ cookiecutter.package_name }}.io import tracking
from {{ cookiecutter.package_name }}.io.tables import read_table
from {{ cookiecutter.package_name }}.pipelines.batch_inference import batch_inference
from {{ cookiecutter.package_name }}.pipelines.common import StepContext
from {{ cookiecutter.package_name }}.pipelines.model_data import load_feature_table
from {{ cookiecutter.package_name }}.pipelines.monitor import monitor
from {{ cookiecutter.package_name }}.pipelines.train import train
from {{ cookiecutter.package_name }}.pipelines.validate_model import validate_model

pytestmark = [pytest.mark.integration, pytest.mark.engines]


def todays_monitor(context: StepContext, batch_id: str, version: str) -> dict:
    """The drift numbers as the monitor computed them before profiles: exact statistics on pandas samples."""
    config = context.config
    table = load_feature_table(context)
    reference = table.rows("fit", "holdout").toPandas()
    predictions = read_table(context.spark, config, "predictions").toPandas()
    current = predictions[predictions.batch_id == batch_id]
    name = tracking.model_name(config)
    model = mlflow.pyfunc.load_model(f"models:/{name}/{version}")
    inputs = tracking.model_input_columns(model)
    result = {}
    for feature in inputs:
        kind = table.mappings.feature(feature).type
        if kind == "numeric":
            ref, cur = reference[feature].astype(float), current[feature].astype(float)
            result[feature] = (
                _numeric_psi(ref, cur),
                float(stats.ks_2samp(ref.dropna(), cur.dropna()).pvalue),
            )
        else:
            ref = reference[feature].astype(object).where(reference[feature].notna(), "<missing>").astype(str)
            cur = current[feature].astype(object).where(current[feature].notna(), "<missing>").astype(str)
            cats = sorted(set(ref) | set(cur))
            a = ref.value_counts().reindex(cats, fill_value=0).to_numpy(float)
            b = cur.value_counts().reindex(cats, fill_value=0).to_numpy(float)
            table_ = np.vstack([a, b])[:, np.vstack([a, b]).sum(axis=0) > 0]
            result[feature] = (
                _psi(a, b),
                float(stats.chi2_contingency(table_)[1]) if table_.shape[1] > 1 else 1.0,
            )
    scores = np.asarray(model.predict(reference[inputs]))[:, -1]
    outcomes = read_table(context.spark, config, "outcomes").toPandas()
    labelled = current.merge(outcomes, on="patient_id")
    baseline = classification_metrics(
        table.rows("test").toPandas()["high_risk"],
        np.asarray(model.predict(table.rows("test").toPandas()[inputs]))[:, -1],
    )["roc_auc"]
    drop = baseline - classification_metrics(labelled["high_risk"], labelled["risk_score"])["roc_auc"]
    return {
        "features": result,
        "prediction_psi": _numeric_psi(pd.Series(scores), current["risk_score"]),
        "drop": drop,
    }


def _psi(reference: np.ndarray, current: np.ndarray) -> float:
    ref = np.clip(reference / max(reference.sum(), 1), 1e-4, None)
    cur = np.clip(current / max(current.sum(), 1), 1e-4, None)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def _numeric_psi(reference: pd.Series, current: pd.Series) -> float:
    ref, cur = reference.to_numpy(float), current.to_numpy(float)
    edges = np.unique(np.quantile(ref[~np.isnan(ref)], np.linspace(0, 1, 11)))
    edges[0], edges[-1] = -np.inf, np.inf

    def counts(values: np.ndarray) -> np.ndarray:
        return np.append(np.histogram(values[~np.isnan(values)], bins=edges)[0], np.isnan(values).sum())

    return _psi(counts(ref).astype(float), counts(cur).astype(float))


def assert_agrees_with_todays(context: StepContext, result) -> None:
    report = json.loads((Path(result.report_dir) / "report.json").read_text())
    expected = todays_monitor(context, result.batch_id, result.model_version)
    limits = context.config["monitoring"]["drift"]
    for row in report["features"]:
        psi, p_value = expected["features"][row["feature"]]
        assert abs(row["psi"] - psi) <= 0.02, (row, psi)
        assert row["drifted"] == (psi > limits["psi_threshold"] and p_value < limits["p_value_threshold"]), (
            row,
            psi,
            p_value,
        )
    assert abs(report["prediction_psi"] - expected["prediction_psi"]) <= 0.03
    assert abs(report["performance"]["drop"] - expected["drop"]) <= 0.005


def test_the_monitor_agrees_with_the_sample_statistics_on_fresh_and_drifted_batches(pipeline):
    context, run = pipeline
    drifted = StepContext(
        apply_overrides(context.config, ["inference.input_table=drifted_scoring_data"]), context.spark
    )
    assert_agrees_with_todays(context, run.results["monitor"])
    assert_agrees_with_todays(drifted, run.results["monitor_drifted"])


def test_the_other_engine_is_judged_like_with_like_and_monitored_alike(pipeline):
    context, run = pipeline
    engine = context.config["training"]["engine"]
    other = "single_node" if engine == "distributed" else "distributed"
    settings = [
        f"training.engine={other}",
        "training.hyperopt.max_evals=2",
        "validation.fail_on_rejection=false",
    ]
    other_context = StepContext(apply_overrides(context.config, settings), context.spark)
    champion_now = tracking.version_by_alias(tracking.model_name(context.config), tracking.CHAMPION).version
    trained = train(other_context)
    assert trained.engine == other
    judged = validate_model(other_context)
    champion = run.results["validate_model"]
    assert judged.champion_version == champion_now  # the pipeline's champion, or its retrain's
    first, second = (json.loads(Path(r.report_path).read_text()) for r in (champion, judged))
    assert first["test_rows"] == second["test_rows"]  # the same stable test rows, whatever the engine
    assert [c["name"].split(":")[0] for c in second["checks"]][-2:] == ["fairness", "champion_challenger"]
    assert abs(second["metrics"]["roc_auc"] - first["metrics"]["roc_auc"]) < 0.05

    # Score and monitor the drifted batch with the other engine's model: the same decision as the first one's.
    tracking.set_alias(tracking.model_name(context.config), tracking.CHAMPION, trained.version)
    step = StepContext(
        apply_overrides(other_context.config, ["inference.input_table=drifted_scoring_data"]), context.spark
    )
    batch_inference(step)
    result = monitor(step)
    assert (
        result.model_version == trained.version
        and result.retrain is run.results["monitor_drifted"].retrain is True
    )
    assert_agrees_with_todays(step, result)
