"""Step 7: detect data drift, prediction drift and performance decay; signal when to retrain.

Compares the latest scored batch with the training split the model learned from: PSI plus
a KS (numeric) or chi-square (categorical) test per feature, PSI of the risk scores, and,
once outcomes have arrived for the batch, the drop in the configured metric against the
test split. The training side is the reference profile stored with the model version when it
was trained (never the training table); the batch is counted into the same bins in Spark, so
only counts reach the driver, whatever the batch size. Writes report.json, summary.md and
drift.png under reports/monitor/.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..core.drift import (
    FeatureDrift,
    ReferenceProfile,
    categorical_drift,
    decide_retrain,
    drift_rows,
    numeric_drift,
    numeric_psi,
)
from ..core.evaluation import metrics_from_summary
from ..core.features import parse_feature_mappings
from ..core.plots import drift_figure
{%- if cookiecutter.serving %}
from ..core.serving_metrics import serving_metric_values, serving_summary_lines
{%- endif %}
from ..io import tracking
from ..io.reports import report_dir, write_json, write_text
from ..io.tables import read_table, table_exists
from ..spark.profiles import batch_counts
from ..spark.scoring import ALL_ROWS, score_summaries
from .common import PipelineError, StepContext, entry_point
{%- if cookiecutter.serving %}
from .serving_health import serving_health
{%- endif %}
from .train import PROFILE_ARTIFACT, SCORE_COLUMN


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
    first = batch.select("model_version").first()
    if first is None:
        raise PipelineError(f"monitoring.batch_id={batch_id!r}: no predictions with this batch id")
    model_version = str(first["model_version"])
    stored = tracking.version_artifact(name, model_version, PROFILE_ARTIFACT)
    if stored is None:
        raise PipelineError(
            f"{name} v{model_version} has no {PROFILE_ARTIFACT}: it was trained before profiles were "
            "stored with each version; train and deploy a new version to monitor it"
        )
    # The inputs of the model that scored this batch, even if the selection has changed since.
    reference = ReferenceProfile.from_dict(stored)
    numeric_counts, categorical_counts = batch_counts(batch, reference, score=SCORE_COLUMN)
    score_counts, score_missing = numeric_counts[SCORE_COLUMN]
    batch_rows = int(sum(score_counts)) + score_missing  # every scored row has a score bin

    drift_settings = settings["drift"]
    limits = {
        "psi_threshold": float(drift_settings["psi_threshold"]),
        "p_value_threshold": float(drift_settings["p_value_threshold"]),
    }
    drifts = [
        *(numeric_drift(feature, profile, *numeric_counts[feature], **limits)
          for feature, profile in reference.numeric.items()),
        *(categorical_drift(feature, counts, categorical_counts[feature], **limits)
          for feature, counts in reference.categorical.items()),
    ]
    order = tracking.version_input_columns(name, model_version)  # the model's input order, as before
    drifts.sort(key=lambda d: order.index(d.feature) if d.feature in order else len(order))
    prediction_psi = numeric_psi(reference.scores, score_counts, score_missing)
    mappings = parse_feature_mappings(config["feature_mappings"])
    performance = _performance(context, reference, batch, mappings.entity_key, mappings.label)
    decision = decide_retrain(drifts, prediction_psi, performance.get("drop"), settings)

    folder = report_dir(config, "monitor")
    report: dict[str, Any] = {
        "environment": context.env,
        "monitored_at": tracking.utc_now(),
        "model": name,
        "model_version": model_version,
        "batch_id": batch_id,
        "batch_rows": batch_rows,
        "reference_rows": reference.rows,
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
    figure = drift_figure(reference, numeric_counts, categorical_counts, [(d.feature, d.psi) for d in top])
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
    context: StepContext, reference: ReferenceProfile, batch: Any, key: str, label: str
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
    labelled = batch.select(key, "risk_score").join(outcomes, on=key, how="inner")
    summaries = score_summaries(labelled, label=label, score="risk_score", threshold=threshold)
    summary = summaries.get(ALL_ROWS)
    result["labelled_rows"] = summary.rows if summary else 0
    both_classes = summary is not None and 0 < summary.positives < summary.rows
    if summary is None or summary.rows < int(settings["min_labelled_rows"]) or not both_classes:
        result["note"] = f"fewer than {settings['min_labelled_rows']} labelled rows with both classes"
        return result
    baseline = reference.baseline_metrics.get(metric)
    if baseline is None:
        result["note"] = f"the model version's test {metric} was not recorded"
        return result
    current = metrics_from_summary(summary)[metric]
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


run = entry_point(monitor)

if __name__ == "__main__":
    sys.exit(run.main())
