"""Step 4: decide whether the challenger may become champion.

On the test split it checks the metric thresholds, fairness across the sensitive attribute,
and that the challenger beats the current champion by the configured margin. Results are
logged to MLflow and written on the model version (tags and description), where `deploy`
reads them.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..core.evaluation import classification_metrics, fairness_by_group, finite, positive_scores
from ..core.promotion import ValidationOutcome, check_champion, check_fairness, check_thresholds
from ..io import tracking
from ..io.reports import report_dir, write_json
from .common import ModelRejected, PipelineError, StepContext, cli_main, run_step
from .model_data import load_model_data


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
    threshold = float(config["training"]["decision_threshold"])
    tracking.configure_mlflow(config)
    name = tracking.model_name(config)
    challenger = tracking.version_by_alias(name, tracking.CHALLENGER)
    if challenger is None:
        raise PipelineError(f"model {name!r} has no '{tracking.CHALLENGER}' version: run train first")
    champion = tracking.version_by_alias(name, tracking.CHAMPION)
    if champion is not None and champion.version == challenger.version:
        champion = None  # re-validating the current champion: nothing to compare against

    data = load_model_data(context)
    test = data.rows("test")
    y_test = data.y(test)
    challenger_scores = _scores(name, challenger.version, test)
    metrics = classification_metrics(y_test, challenger_scores, threshold)

    fairness_settings = settings["fairness"]
    attribute = fairness_settings["sensitive_attribute"]
    if attribute not in test.columns:
        raise PipelineError(
            f"validation.fairness.sensitive_attribute={attribute!r}: not in the feature table; "
            "add it to feature_mappings.yml passthrough"
        )
    fairness = fairness_by_group(
        y_test,
        challenger_scores,
        test[attribute],
        attribute=attribute,
        metric=fairness_settings["metric"],
        threshold=threshold,
        min_group_positives=int(fairness_settings["min_group_positives"]),
    )
    champion_metrics = None
    if champion is not None:
        # The champion may use other features than the challenger: each is scored on its own inputs.
        champion_scores = _scores(name, champion.version, test)
        champion_metrics = classification_metrics(y_test, champion_scores, threshold)
    gate = settings["champion_challenger"]
    outcome = ValidationOutcome(
        [
            *check_thresholds(metrics, settings["thresholds"]),
            check_fairness(fairness, float(fairness_settings["max_gap"])),
            check_champion(
                metrics,
                champion_metrics,
                metric=gate["metric"],
                min_improvement=float(gate["min_improvement"]),
                champion_version=champion.version if champion else None,
            ),
        ]
    )

    report: dict[str, Any] = {
        "model": name,
        "version": challenger.version,
        "environment": context.env,
        "validated_at": tracking.utc_now(),
        "test_rows": len(test),
        "metrics": metrics,
        "champion_version": champion.version if champion else None,
        "champion_metrics": champion_metrics,
        "fairness": vars(fairness),
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
            f"fairness_{fairness.metric}_gap": f"{fairness.gap:.4f}",
        },
        description=_description(outcome, challenger.version),
    )

    result = ModelValidationResult(
        name, challenger.version, outcome, metrics, champion.version if champion else None, report_path
    )
    if not outcome.passed and settings.get("fail_on_rejection", True):
        raise ModelRejected(result.summary())
    return result


def _scores(name: str, version: str, rows: Any) -> Any:
    model = tracking.load_scoring_model(name, version)
    return positive_scores(model.predict(rows[tracking.model_input_columns(model)]))


def _status(outcome: ValidationOutcome) -> str:
    return "passed" if outcome.passed else "rejected"


def _description(outcome: ValidationOutcome, version: str) -> str:
    lines = [f"Validation of version {version}: {_status(outcome).upper()}"]
    lines += [f"- [{'ok' if c.passed else 'FAIL'}] {c.name}: {c.detail}" for c in outcome.checks]
    return "\n".join(lines)


def run(env: str, overrides: Sequence[str] = ()) -> ModelValidationResult:
    """Entry point of the notebook and the command line."""
    return run_step(validate_model, env, overrides)


def main(argv: Sequence[str] | None = None) -> int:
    return cli_main(validate_model, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    sys.exit(main())
