"""Step 4: decide whether the challenger may become champion.

On the test split it checks the metric thresholds, fairness across the sensitive attribute,
and that the challenger beats the current champion by the configured margin (core/promotion.py
decides; this step fetches the inputs and records the outcome). Challenger and champion are
scored on the same test rows, in Spark, with each version's own logged model and inputs, and
their metrics come from the same Spark aggregations whatever engine trained them. Results are
logged to MLflow and written on the model version (tags and description), where `deploy`
reads them.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..core.evaluation import FairnessResult, fairness_from_groups, finite, metrics_from_summary
from ..core.promotion import ValidationOutcome, judge_challenger
from ..io import tracking
from ..io.reports import report_dir, write_json
from ..spark.scoring import ALL_ROWS, score_summaries
from .common import ModelRejected, PipelineError, StepContext, entry_point
from .model_data import load_feature_table


@dataclass
class ModelValidationResult:
    model_name: str
    version: str
    outcome: ValidationOutcome
    metrics: dict[str, float] = field(default_factory=dict)
    champion_version: str | None = None
    report_path: str | None = None

    @property
    def passed(self) -> bool:
        return self.outcome.passed

    def summary(self) -> str:
        if self.passed:
            return f"{self.model_name} v{self.version} passed validation: ready to deploy"
        reasons = "; ".join(f"{c.name}: {c.detail}" for c in self.outcome.failures)
        return f"{self.model_name} v{self.version} rejected: {reasons}"


def validate_model(context: StepContext) -> ModelValidationResult:
    """Judge the challenger; raise ModelRejected when it fails and validation.fail_on_rejection is true."""
    import mlflow

    config = context.config
    settings = config["validation"]
    tracking.configure_mlflow(config)
    name = tracking.model_name(config)
    challenger = tracking.version_by_alias(name, tracking.CHALLENGER)
    if challenger is None:
        raise PipelineError(f"model {name!r} has no '{tracking.CHALLENGER}' version: run train first")
    champion = tracking.version_by_alias(name, tracking.CHAMPION)
    if champion is not None and champion.version == challenger.version:
        champion = None  # re-validating the current champion: nothing to compare against

    table = load_feature_table(context)
    fairness_settings = settings["fairness"]
    attribute = fairness_settings["sensitive_attribute"]
    if attribute is not None and attribute not in table.df.columns:
        raise PipelineError(
            f"validation.fairness.sensitive_attribute={attribute!r}: not in the feature table; "
            "add it to feature_mappings.yml passthrough"
        )
    test = table.rows("test")
    metrics, fairness, test_rows = _judge_inputs(context, name, challenger.version, test, table, attribute)
    champion_metrics = None
    incomparable = None
    if champion is not None:
        # The champion may use other features than the challenger: each is scored on its own inputs,
        # unless it learnt from columns this feature table lacks (another table was adopted since).
        lacking = [c for c in tracking.version_input_columns(name, champion.version) if c not in test.columns]
        if lacking:
            shown = ", ".join(lacking[:5]) + (", ..." if len(lacking) > 5 else "")
            incomparable = f"it was trained on columns this feature table lacks ({shown})"
        else:
            champion_metrics = _judge_inputs(context, name, champion.version, test, table, attribute)[0]
    outcome = judge_challenger(
        metrics,
        fairness,
        champion_metrics,
        settings,
        champion_version=champion.version if champion else None,
        champion_incomparable=incomparable,
    )

    report: dict[str, Any] = {
        "model": name,
        "version": challenger.version,
        "environment": context.env,
        "validated_at": tracking.utc_now(),
        "test_rows": test_rows,
        "metrics": metrics,
        "champion_version": champion.version if champion else None,
        "champion_metrics": champion_metrics,
        "fairness": vars(fairness) if fairness else None,
        **outcome.to_dict(),
    }
    folder = report_dir(config, "validate_model")
    report_path = str(write_json(folder, "report.json", report))
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    with mlflow.start_run(run_name=f"validate-{context.env}-v{challenger.version}-{stamp}") as run:
        mlflow.set_tags(
            {
                "pipeline_step": "validate_model",
                "environment": context.env,
                "model_version": challenger.version,
                "validation_status": _status(outcome),
            }
        )
        mlflow.log_metrics(finite(metrics, "test_"))
        if fairness is not None:
            mlflow.log_metric(f"fairness_{fairness.metric}_gap", fairness.gap)
        mlflow.log_dict(report, "validation_report.json")

    tracking.tag_version(
        name,
        challenger.version,
        {
            "validation_status": _status(outcome),
            "validation_run_id": run.info.run_id,
            "validated_at": report["validated_at"],
            **{
                f"test_{k}": f"{metrics[k]:.4f}"
                for k in ("roc_auc", "average_precision", "recall")
                if k in metrics
            },
            **({f"fairness_{fairness.metric}_gap": f"{fairness.gap:.4f}"} if fairness else {}),
        },
        description=_description(outcome, challenger.version),
    )

    result = ModelValidationResult(
        name, challenger.version, outcome, metrics, champion.version if champion else None, report_path
    )
    if not outcome.passed and settings.get("fail_on_rejection", True):
        raise ModelRejected(result.summary())
    return result


def _judge_inputs(
    context: StepContext, name: str, version: str, test: Any, table: Any, attribute: str | None
) -> tuple[dict[str, float], FairnessResult | None, int]:
    """A version's metrics, fairness (None without an attribute) and row count on the test rows, in Spark."""
    from pyspark.sql import functions as F

    config = context.config
    settings = config["validation"]["fairness"]
    label = table.mappings.label
    scorer = tracking.scoring_udf(context.spark, f"models:/{name}/{version}")
    inputs = tracking.version_input_columns(name, version)
    by = [F.col(attribute)] if attribute else []
    scored = test.select(
        F.col(label), *by, F.element_at(scorer(*[F.col(c) for c in inputs]), -1).alias("score")
    )
    threshold = float(config["training"]["decision_threshold"])
    groups = score_summaries(scored, label=label, score="score", threshold=threshold, by=attribute)
    overall = groups.pop(ALL_ROWS)
    if attribute is None:
        return metrics_from_summary(overall), None, overall.rows
    fairness = fairness_from_groups(
        {group: (metrics_from_summary(summary), summary.positives) for group, summary in groups.items()},
        attribute=attribute,
        metric=settings["metric"],
        min_group_positives=int(settings["min_group_positives"]),
    )
    return metrics_from_summary(overall), fairness, overall.rows


def _status(outcome: ValidationOutcome) -> str:
    return "passed" if outcome.passed else "rejected"


def _description(outcome: ValidationOutcome, version: str) -> str:
    lines = [f"Validation of version {version}: {_status(outcome).upper()}"]
    lines += [f"- [{'ok' if c.passed else 'FAIL'}] {c.name}: {c.detail}" for c in outcome.checks]
    return "\n".join(lines)


run = entry_point(validate_model)

if __name__ == "__main__":
    sys.exit(run.main())
