"""Step 7: detect data drift, prediction drift and performance decay; decide whether to retrain.

Compares the latest scored batch with the training split the model learned from: PSI plus
a KS (numeric) or chi-square (categorical) test per feature, PSI of the risk scores, and,
once outcomes have arrived for the batch, the drop in the configured metric against the
test split. The training side is the reference profile stored with the model version when it
was trained (never the training table); the batch is counted into the same bins in Spark, so
only counts reach the driver, whatever the batch size. A recommendation starts a retrain only
when the guard rails of `monitoring.retrain` allow it (core/retraining.py); the decision and its
reason are tagged on the monitoring run, where the next run's guard finds them. Writes
report.json, summary.md and drift.png under reports/monitor/.
"""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass, field
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
from ..core.promotion import AWAITING_APPROVAL
from ..core.retraining import TRIGGERED_BY_MONITOR, RetrainPolicy, RetrainTrigger, decide_trigger
{%- if cookiecutter.serving %}
from ..core.serving_metrics import serving_metric_values, serving_summary_lines
{%- endif %}
from ..io import tracking
from ..io.reports import report_dir, write_json, write_text
from ..io.tables import read_table, table_exists, table_location
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
    retrain: bool  # recommended by the drift and decay limits
    reasons: list[str] = field(default_factory=list)
    drifted_features: list[str] = field(default_factory=list)
    prediction_psi: float = 0.0
    performance_drop: float | None = None
    report_dir: str = ""
    triggered: bool = False  # the guard rails let the recommendation start a retrain
    decision: str = ""  # why it starts, or what stopped it
    run_id: str = ""  # the MLflow run holding this report
    notes: list[str] = field(default_factory=list)  # what the on-call person should know besides drift

    @classmethod
    def nothing_to_judge(cls, why: str) -> MonitorResult:
        """No scored batch to compare: nothing is recommended, nothing starts."""
        return cls(batch_id="", model_version="", retrain=False, decision=why, notes=[why])

    def summary(self) -> str:
        if not self.batch_id:
            return self.decision
        extra = "".join(f"; {note}" for note in self.notes)
        if self.triggered:
            return f"RETRAIN triggered for batch {self.batch_id}: " + "; ".join(self.reasons) + extra
        if self.retrain:
            return (
                f"RETRAIN recommended for batch {self.batch_id}, not started: {self.decision}; "
                "reasons: " + "; ".join(self.reasons) + extra
            )
        model = f"model v{self.model_version}"
        return f"no drift in batch {self.batch_id} ({model}){extra}; report: {self.report_dir}"

    def trigger(self) -> RetrainTrigger:
        """What a retrain this report starts carries: who, which batch, why, and this run."""
        return RetrainTrigger(TRIGGERED_BY_MONITOR, self.batch_id, "; ".join(self.reasons), self.run_id)

    def task_values(self) -> dict[str, Any]:
        """The job task values the notebook sets; the monitoring job's next tasks read them by name."""
        return {
            "retrain": self.retrain,
            "trigger_retrain": self.triggered,
            "batch_id": self.batch_id,
            "reasons": "; ".join(self.reasons),
            "monitor_run_id": self.run_id,
        }


def monitor(context: StepContext) -> MonitorResult:
    """Monitor the latest batch (or monitoring.batch_id) of the predictions table."""
    import mlflow
    from pyspark.sql import functions as F

    config = context.config
    settings = config["monitoring"]
    policy = RetrainPolicy.from_settings(settings["retrain"])
    experiment_id = tracking.configure_mlflow(config)
    name = tracking.model_name(config)
    if not table_exists(context.spark, config, "predictions"):
        return MonitorResult.nothing_to_judge(
            f"nothing to monitor: no predictions table yet ({table_location(config, 'predictions')}; "
            "batch_inference writes it); no retrain"
        )
    predictions = read_table(context.spark, config, "predictions")
    batch_id = settings.get("batch_id") or _latest_batch(predictions)
    if batch_id is None:
        return MonitorResult.nothing_to_judge(
            f"nothing to monitor: the predictions table ({table_location(config, 'predictions')}) "
            "has no batch yet; no retrain"
        )
    batch = predictions.where(F.col("batch_id") == batch_id)
    first = batch.select("model_version", "scored_at").first()
    if first is None:
        raise PipelineError(
            f"monitoring.batch_id={batch_id!r}: no predictions with this batch id; "
            "leave it null to judge the latest batch"
        )
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
    performance = _performance(
        context, reference, batch, mappings.entity_key, mappings.label, first["scored_at"]
    )
    decision = decide_retrain(drifts, prediction_psi, performance.get("drop"), settings)
    trigger = decide_trigger(
        decision.retrain,
        policy,
        tracking.triggered_retrains(experiment_id),
        batch_id=batch_id,
        now=datetime.now(UTC),
        awaiting_approval=_awaiting_approval(name),
    )

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
        "retraining": {"triggered": trigger.trigger, "decision": trigger.reason, "policy": asdict(policy)},
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
    with mlflow.start_run(run_name=f"monitor-{context.env}-{stamp}") as run:
        mlflow.set_tags(
            {
                "pipeline_step": tracking.MONITOR_STEP,
                "environment": context.env,
                "batch_id": batch_id,
                "model_version": model_version,
                "retrain": str(decision.retrain).lower(),
                # What the next monitoring run's guard reads (io/tracking.triggered_retrains).
                tracking.RETRAIN_TRIGGERED_TAG: str(trigger.trigger).lower(),
                "retrain_decision": trigger.reason[:MAX_DECISION_CHARS],
            }
        )
        metrics = {
            "drifted_features": float(sum(d.drifted for d in drifts)),
            "prediction_psi": prediction_psi,
            "retrain": float(decision.retrain),
            "retrain_triggered": float(trigger.trigger),
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
        triggered=trigger.trigger,
        decision=trigger.reason,
        run_id=run.info.run_id,
        notes=[performance["note"]] if performance.get("outcomes_overdue") else [],
    )


MAX_DECISION_CHARS = 500


def _latest_batch(predictions: Any) -> str | None:
    from pyspark.sql import functions as F

    latest = predictions.orderBy(F.col("scored_at").desc()).select("batch_id").first()
    return None if latest is None else str(latest["batch_id"])


def _awaiting_approval(name: str) -> str | None:
    """The challenger's version when an earlier triggered retrain left it waiting for approval.

    Once approved (made champion, docs/monitoring.md) it waits no more, whatever its tags say.
    """
    challenger = tracking.version_by_alias(name, tracking.CHALLENGER)
    if challenger is None or challenger.tags.get("promotion_status") != AWAITING_APPROVAL:
        return None
    champion = tracking.version_by_alias(name, tracking.CHAMPION)
    return None if champion is not None and champion.version == challenger.version else challenger.version


def _performance(
    context: StepContext, reference: ReferenceProfile, batch: Any, key: str, label: str, scored_at: Any
) -> dict[str, Any]:
    """The metric on the batch's outcomes vs. on the test split; drop is None without enough labels.

    Outcomes arrive after scoring; once a batch is `outcome_wait_days` old and still lacks them,
    `outcomes_overdue` says so (the feed is late or broken), and drift alone decides.
    """
    settings = context.config["monitoring"]["performance"]
    metric = settings["metric"]
    threshold = float(context.config["training"]["decision_threshold"])
    result: dict[str, Any] = {"metric": metric, "labelled_rows": 0, "drop": None}
    now = datetime.now(UTC).replace(tzinfo=None)  # scored_at is naive UTC (batch_inference)
    age_days = (now - scored_at).total_seconds() / 86400 if scored_at else 0.0
    wait_days = float(settings["outcome_wait_days"])

    def too_few(note: str) -> dict[str, Any]:
        result["note"] = note
        if age_days > wait_days:
            result["outcomes_overdue"] = True
            result["note"] = (
                f"outcomes overdue: {result['labelled_rows']} labelled rows "
                f"{age_days:.0f} days after scoring "
                f"(monitoring.performance.outcome_wait_days: {wait_days:g}); check the outcomes feed"
            )
        return result

    if not table_exists(context.spark, context.config, "outcomes"):
        return too_few("no outcomes table yet")
    outcomes = read_table(context.spark, context.config, "outcomes").select(key, label)
    labelled = batch.select(key, "risk_score").join(outcomes, on=key, how="inner")
    summaries = score_summaries(labelled, label=label, score="risk_score", threshold=threshold)
    summary = summaries.get(ALL_ROWS)
    result["labelled_rows"] = summary.rows if summary else 0
    both_classes = summary is not None and 0 < summary.positives < summary.rows
    if summary is None or summary.rows < int(settings["min_labelled_rows"]) or not both_classes:
        return too_few(f"fewer than {settings['min_labelled_rows']} labelled rows with both classes")
    baseline = reference.baseline_metrics.get(metric)
    if baseline is None:
        result["note"] = f"the model version's test {metric} was not recorded"
        return result
    current = metrics_from_summary(summary)[metric]
    result.update({"baseline": baseline, "current": current, "drop": baseline - current})
    return result


def _summary_markdown(report: dict[str, Any], drifts: list[FeatureDrift]) -> str:
    verdict = "**Retrain recommended.**" if report["retrain"] else "No action needed."
    retraining = report["retraining"]
    if retraining["triggered"]:
        started = "Retrain started: the training job trains, validates and deploys a challenger."
    elif report["retrain"]:
        started = f"Retrain not started: {retraining['decision']}."
    else:
        started = ""
    lines = [
        f"# Monitoring report: batch `{report['batch_id']}`",
        "",
        f"Model `{report['model']}` v{report['model_version']}, {report['batch_rows']} scored rows "
        f"compared with "
        f"{report['reference_rows']} training rows ({report['monitored_at']}).",
        "",
        verdict,
        *(f"- {reason}" for reason in report["reasons"]),
        *(["", started] if started else []),
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
