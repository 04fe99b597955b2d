"""Step 7: detect data drift, prediction drift and performance decay; signal when to retrain.

Compares the latest scored batch with the training split the model learned from: PSI plus
a KS (numeric) or chi-square (categorical) test per feature, PSI of the risk scores, and,
once outcomes have arrived for the batch, the drop in the configured metric against the
test split. Writes report.json, summary.md and drift.png under reports/monitor/.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from ..core.drift import FeatureDrift, decide_retrain, drift_rows, feature_drift, numeric_psi
from ..core.evaluation import classification_metrics, positive_scores
from ..core.plots import drift_figure
{%- if cookiecutter.serving %}
from ..core.serving_metrics import serving_metric_values, serving_summary_lines
{%- endif %}
from ..io import tracking
from ..io.reports import report_dir, write_json, write_text
from ..io.tables import read_table, table_exists
from .common import PipelineError, StepContext, cli_main, run_step
from .model_data import load_model_data
{%- if cookiecutter.serving %}
from .serving_health import serving_health
{%- endif %}


@dataclass
class MonitorResult:
    batch_id: str
    model_version: str
    retrain: bool
    reasons: list[str] = field(default_factory=list)
    drifted_features: list[str] = field(default_factory=list)
    prediction_psi: float = 0.0
    performance_drop: float | None = None
    report_dir: str = ""

    def summary(self) -> str:
        if self.retrain:
            return f"RETRAIN recommended for batch {self.batch_id}: " + "; ".join(self.reasons)
        return f"no drift in batch {self.batch_id} (model v{self.model_version}); report: {self.report_dir}"


def monitor(context: StepContext) -> MonitorResult:
    """Monitor the latest batch (or monitoring.batch_id) of the predictions table."""
    import mlflow
    from pyspark.sql import functions as F

    config = context.config
    settings = config["monitoring"]
    tracking.configure_mlflow(config)
    name = tracking.model_name(config)
    predictions = read_table(context.spark, config, "predictions")
    batch_id = settings.get("batch_id") or _latest_batch(predictions)
    batch = predictions.where(F.col("batch_id") == batch_id)
    current = batch.toPandas()
    if current.empty:
        raise PipelineError(f"monitoring.batch_id={batch_id!r}: no predictions with this batch id")
    model_version = str(current["model_version"].iloc[0])

    data = load_model_data(context)
    seed = int(config["training"]["seed"])
    reference = data.rows("train")
    reference = reference.sample(
        n=min(len(reference), int(settings["reference_sample_rows"])), random_state=seed
    )
    model = tracking.load_scoring_model(name, model_version)
    # Judge the inputs of the model that scored this batch, even if the selection has changed since.
    inputs = [data.mappings.feature(column) for column in tracking.model_input_columns(model)]
    reference_scores = positive_scores(model.predict(reference[[f.name for f in inputs]]))

    drift_settings = settings["drift"]
    drifts = [
        feature_drift(
            f.name,
            "numeric" if f.type == "numeric" else "categorical",
            reference[f.name],
            current[f.name],
            psi_threshold=float(drift_settings["psi_threshold"]),
            p_value_threshold=float(drift_settings["p_value_threshold"]),
        )
        for f in inputs
    ]
    prediction_psi = numeric_psi(pd.Series(reference_scores), current["risk_score"])
    performance = _performance(context, data, batch, model, data.mappings.entity_key, data.mappings.label)
    decision = decide_retrain(drifts, prediction_psi, performance.get("drop"), settings)

    folder = report_dir(config, "monitor")
    report: dict[str, Any] = {
        "environment": context.env,
        "monitored_at": tracking.utc_now(),
        "model": name,
        "model_version": model_version,
        "batch_id": batch_id,
        "batch_rows": len(current),
        "reference_rows": len(reference),
        "retrain": decision.retrain,
        "reasons": decision.reasons,
        "prediction_psi": prediction_psi,
        "performance": performance,
        "features": drift_rows(drifts),
    }
{%- if cookiecutter.serving %}
    # Operational figures of the real-time endpoint; they alert but never decide a retrain.
    report["serving"] = serving_health(context)
{%- endif %}
    write_json(folder, "report.json", report)
    top = sorted(drifts, key=lambda d: -d.psi)[:9]
    figure = drift_figure(reference, current, [(d.feature, d.kind, d.psi) for d in top])
    figure.savefig(folder / "drift.png", dpi=90)
    write_text(folder, "summary.md", _summary_markdown(report, drifts))
    _close(figure)

    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    with mlflow.start_run(run_name=f"monitor-{context.env}-{stamp}"):
        mlflow.set_tags(
            {
                "pipeline_step": "monitor",
                "environment": context.env,
                "batch_id": batch_id,
                "model_version": model_version,
                "retrain": str(decision.retrain).lower(),
            }
        )
        metrics = {
            "drifted_features": float(sum(d.drifted for d in drifts)),
            "prediction_psi": prediction_psi,
            "retrain": float(decision.retrain),
        }
        if performance.get("drop") is not None:
            metrics["performance_drop"] = performance["drop"]
{%- if cookiecutter.serving %}
        metrics.update(serving_metric_values(report["serving"]))
{%- endif %}
        mlflow.log_metrics(metrics)
        mlflow.log_artifacts(str(folder), "monitoring_report")

    return MonitorResult(
        batch_id,
        model_version,
        decision.retrain,
        decision.reasons,
        [d.feature for d in drifts if d.drifted],
        prediction_psi,
        performance.get("drop"),
        str(folder),
    )


def _latest_batch(predictions: Any) -> str:
    from pyspark.sql import functions as F

    latest = predictions.orderBy(F.col("scored_at").desc()).select("batch_id").first()
    if latest is None:
        raise PipelineError("the predictions table is empty: run batch_inference first")
    return str(latest["batch_id"])


def _performance(
    context: StepContext, data: Any, batch: Any, model: Any, key: str, label: str
) -> dict[str, Any]:
    """The metric on the batch's outcomes vs. on the test split; drop is None without enough labels."""
    settings = context.config["monitoring"]["performance"]
    metric = settings["metric"]
    threshold = float(context.config["training"]["decision_threshold"])
    result: dict[str, Any] = {"metric": metric, "labelled_rows": 0, "drop": None}
    if not table_exists(context.spark, context.config, "outcomes"):
        result["note"] = "no outcomes table yet"
        return result
    outcomes = read_table(context.spark, context.config, "outcomes").select(key, label)
    labelled = batch.select(key, "risk_score").join(outcomes, on=key, how="inner").toPandas()
    result["labelled_rows"] = len(labelled)
    if len(labelled) < int(settings["min_labelled_rows"]) or labelled[label].nunique() < 2:
        result["note"] = f"fewer than {settings['min_labelled_rows']} labelled rows with both classes"
        return result
    test = data.rows("test")
    test_scores = positive_scores(model.predict(test[tracking.model_input_columns(model)]))
    baseline = classification_metrics(data.y(test), test_scores, threshold)[metric]
    current = classification_metrics(labelled[label], labelled["risk_score"], threshold)[metric]
    result.update({"baseline": baseline, "current": current, "drop": baseline - current})
    return result


def _summary_markdown(report: dict[str, Any], drifts: list[FeatureDrift]) -> str:
    verdict = "**Retrain recommended.**" if report["retrain"] else "No action needed."
    lines = [
        f"# Monitoring report: batch `{report['batch_id']}`",
        "",
        f"Model `{report['model']}` v{report['model_version']}, {report['batch_rows']} scored rows "
        f"compared with "
        f"{report['reference_rows']} training rows ({report['monitored_at']}).",
        "",
        verdict,
        *(f"- {reason}" for reason in report["reasons"]),
        "",
        f"Prediction drift (PSI of risk scores): {report['prediction_psi']:.3f}",
    ]
    performance = report["performance"]
    if performance.get("drop") is not None:
        lines.append(
            f"Performance ({performance['metric']}): {performance['current']:.3f} on "
            f"{performance['labelled_rows']} labelled rows vs {performance['baseline']:.3f} at validation"
        )
    else:
        lines.append(f"Performance: not assessed ({performance.get('note', 'no labels')})")
    lines += ["", "| feature | PSI | test | p-value | drifted |", "|---|---:|---|---:|:---:|"]
    for drift in sorted(drifts, key=lambda d: -d.psi):
        lines.append(
            f"| {drift.feature} | {drift.psi:.3f} | {drift.test} | {drift.p_value:.2g} | "
            f"{'yes' if drift.drifted else ''} |"
        )
{%- if cookiecutter.serving %}
    lines += serving_summary_lines(report["serving"])
{%- endif %}
    lines += ["", "![drift](drift.png)", ""]
    return "\n".join(lines)


def _close(figure: Any) -> None:
    import matplotlib.pyplot as plt

    plt.close(figure)


def run(env: str, overrides: Sequence[str] = ()) -> MonitorResult:
    """Entry point of the notebook and the command line."""
    return run_step(monitor, env, overrides)


def main(argv: Sequence[str] | None = None) -> int:
    return cli_main(monitor, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    sys.exit(main())
