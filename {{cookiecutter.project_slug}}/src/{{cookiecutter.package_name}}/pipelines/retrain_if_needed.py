"""The monitoring job, locally: monitor the latest batch, and retrain when the monitor triggers it.

    python -m {{ cookiecutter.package_name }}.pipelines.retrain_if_needed --env local    (make retrain-if-needed)

On Databricks the monitoring job does the same in three tasks (terraform/modules/ml_project/jobs.tf):
`monitor`, the condition `retrain_triggered` on its task value `trigger_retrain`, and `retrain`,
which runs the training job (validate_data -> ... -> deploy) with the trigger as job parameters.
Here train -> validate_model -> deploy run in this process with the trigger as `training.trigger`.
A rejected challenger is an outcome, not an error: the champion stays and the report says why.
Writes reports/retrain/<time>/report.json and summary.md.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..config import apply_overrides
from ..core.retraining import trigger_overrides
from ..io import tracking
from ..io.reports import report_dir, write_json, write_text
from .common import ModelRejected, StepContext, entry_point, summary_line
from .deploy import DeployResult, deploy
from .monitor import MonitorResult, monitor
from .train import TrainResult, train
from .validate_model import validate_model

# What the training job runs after its data steps; the sample's features are already built.
RETRAIN_STEPS = (("train", train), ("validate_model", validate_model), ("deploy", deploy))
StepRunner = Callable[[str, Callable[[StepContext], Any], StepContext], Any]


@dataclass
class RetrainResult:
    """The monitor's decision and, when it started one, what the retrain did."""

    monitor: MonitorResult
    champion_before: str | None = None
    steps: dict[str, Any] = field(default_factory=dict)  # step -> its result, or the rejection
    report_dir: str = ""

    @property
    def promoted_version(self) -> str | None:
        """The retrain's challenger when deploy made it champion, else None."""
        deployed = self.steps.get("deploy")
        return deployed.version if isinstance(deployed, DeployResult) and deployed.promoted else None

    @property
    def outcome(self) -> str:
        """One line: what the triggered retrain ended with, and what the champion is now."""
        if not self.monitor.triggered:
            return f"no retrain: {self.monitor.decision}"
        stays = (
            f"the champion stays v{self.champion_before}" if self.champion_before else "there is no champion"
        )
        trained = self.steps.get("train")
        version = f"v{trained.version}" if isinstance(trained, TrainResult) else "the challenger"
        judged = self.steps.get("validate_model")
        if isinstance(judged, ModelRejected) or (judged is not None and not judged.passed):
            reasons = str(judged).split(" rejected: ", 1)[-1] if isinstance(judged, ModelRejected) else (
                "; ".join(f"{c.name}: {c.detail}" for c in judged.outcome.failures)
            )
            return f"retrain {version} rejected, {stays}: {reasons}"
        deployed = self.steps.get("deploy")
        if isinstance(deployed, DeployResult):
            return f"retrain {version}: {summary_line(deployed).splitlines()[0]}"
        return f"retrain {version} did not finish, {stays}"

    def summary(self) -> str:
        if not self.monitor.triggered:
            return self.monitor.summary()
        return f"{self.monitor.summary()}\n{self.outcome}"


def retrain_on_trigger(
    context: StepContext, result: MonitorResult, run_step: StepRunner | None = None
) -> RetrainResult:
    """train -> validate_model -> deploy with the trigger of `result`, then the retrain report."""
    run_step = run_step or (lambda label, step, step_context: step(step_context))
    name = tracking.model_name(context.config)
    champion = tracking.version_by_alias(name, tracking.CHAMPION)
    retrain = RetrainResult(result, champion.version if champion else None)
    if not result.triggered:
        return retrain
    overrides = trigger_overrides(result.trigger().parameters())
    triggered = StepContext(apply_overrides(context.config, overrides), context.spark)
    for label, step in RETRAIN_STEPS:
        try:
            retrain.steps[label] = run_step(label, step, triggered)
        except ModelRejected as rejection:
            retrain.steps[label] = rejection
        if label == "validate_model" and not getattr(retrain.steps[label], "passed", False):
            break  # a rejected challenger is never deployed
    retrain.report_dir = str(_write_report(context, retrain))
    return retrain


def retrain_if_needed(context: StepContext) -> RetrainResult:
    """Monitor the latest batch; when the guard rails let its recommendation through, retrain."""
    return retrain_on_trigger(context, monitor(context))


def _write_report(context: StepContext, retrain: RetrainResult) -> Any:
    result = retrain.monitor
    trained = retrain.steps.get("train")
    judged = retrain.steps.get("validate_model")
    report = {
        "environment": context.env,
        "finished_at": tracking.utc_now(),
        "batch_id": result.batch_id,
        "reasons": result.reasons,
        "monitor_run_id": result.run_id,
        "monitor_report": result.report_dir,
        "champion_before": retrain.champion_before,
        "challenger_version": trained.version if isinstance(trained, TrainResult) else None,
        "validation": (
            "not run" if judged is None else "passed" if getattr(judged, "passed", False) else "rejected"
        ),
        "outcome": retrain.outcome,
    }
    folder = report_dir(context.config, "retrain")
    write_json(folder, "report.json", report)
    lines = [
        f"# Triggered retrain: batch `{result.batch_id}`",
        "",
        "Why the monitor started it:",
        *(f"- {reason}" for reason in result.reasons),
        "",
        f"Challenger: {report['challenger_version'] or 'none'}; validation: {report['validation']}.",
        "",
        f"**{retrain.outcome}**",
        "",
        f"Monitoring report: `{result.report_dir}`",
        "",
    ]
    write_text(folder, "summary.md", "\n".join(lines))
    return folder


run = entry_point(retrain_if_needed)

if __name__ == "__main__":
    sys.exit(run.main())
