"""Step 5: promote the validated challenger to champion by moving MLflow aliases.

Deploy code, not models: each environment trains and validates its own model from the code
of its branch, so this step only ever promotes a version registered in the same environment.
Who promoted which version, when, and from which commit is recorded as tags on the version.
In prod, a challenger a triggered retrain produced is not promoted here: it waits for the approval
every prod release needs (core/promotion.needs_approval; docs/monitoring.md says how to grant it).
{%- if cookiecutter.serving %}
On Databricks the serving endpoint then serves the new champion (io/serving_endpoint.py).
{%- endif %}
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from ..core.promotion import AWAITING_APPROVAL, needs_approval
from ..core.retraining import RetrainTrigger
from ..io import tracking
from ..spark.session import on_databricks
from .common import PipelineError, StepContext, entry_point


@dataclass
class DeployResult:
    model_name: str
    version: str
    previous_champion: str | None
    promoted: bool
    awaiting_approval: bool = False  # validated, but a triggered retrain made it: a person decides
{%- if cookiecutter.serving %}
    serving: str | None = None  # what happened to the serving endpoint, when one is configured
{%- endif %}

    def summary(self) -> str:
        if self.awaiting_approval:
            before = f"v{self.previous_champion}" if self.previous_champion else "none"
            return (
                f"{self.model_name} v{self.version} passed validation but comes from a triggered retrain: "
                f"it awaits approval and the champion stays {before} (docs/monitoring.md)"
            )
        if not self.promoted:
            return f"{self.model_name} v{self.version} is already '{tracking.CHAMPION}': nothing to do"
        before = f"v{self.previous_champion}" if self.previous_champion else "none"
{%- if cookiecutter.serving %}
        line = f"{self.model_name} v{self.version} is now '{tracking.CHAMPION}' (previous champion: {before})"
        return f"{line}\n{self.serving}" if self.serving else line
{%- else %}
        return f"{self.model_name} v{self.version} is now '{tracking.CHAMPION}' (previous champion: {before})"
{%- endif %}


def deploy(context: StepContext) -> DeployResult:
    """Move `champion` to the challenger if validate_model passed it; refuse otherwise."""
    config = context.config
    tracking.configure_mlflow(config)
    name = tracking.model_name(config)
    challenger = tracking.version_by_alias(name, tracking.CHALLENGER)
    champion = tracking.version_by_alias(name, tracking.CHAMPION)
    if challenger is None:
        if champion is not None:
            return DeployResult(name, champion.version, None, promoted=False)
        raise PipelineError(
            f"model {name!r} has no '{tracking.CHALLENGER}' version: run train and validate_model first"
        )
    status = challenger.tags.get("validation_status", "missing")
    if status != "passed":
        raise PipelineError(
            f"{name} v{challenger.version} has validation_status={status!r}: only a version that "
            "passed validate_model can become champion"
        )
    if champion is not None and champion.version == challenger.version:
        tracking.delete_alias(name, tracking.CHALLENGER)
        return DeployResult(name, challenger.version, None, promoted=False)
    trigger = RetrainTrigger.from_config(config)
    if needs_approval(context.env, version_tags=challenger.tags, triggered_run=trigger is not None):
        if challenger.tags.get("promotion_status") != AWAITING_APPROVAL:
            # For the person approving (docs/monitoring.md): since when it waits, and which champion it beat.
            tracking.tag_version(
                name,
                challenger.version,
                {
                    "promotion_status": AWAITING_APPROVAL,
                    "awaiting_approval_since": tracking.utc_now(),
                    "judged_against_champion": champion.version if champion else "none",
                },
            )
        before = champion.version if champion else None
        return DeployResult(name, challenger.version, before, promoted=False, awaiting_approval=True)

    # Spark only tells who runs a job on Databricks; locally the OS user is enough (and starts no JVM).
    actor = tracking.current_actor(context.spark if on_databricks() else None)
    commit = tracking.current_commit(config)
    tracking.set_alias(name, tracking.CHAMPION, challenger.version)
    tracking.delete_alias(name, tracking.CHALLENGER)
    tracking.tag_version(
        name,
        challenger.version,
        {
            "deployed_by": actor,
            "deployed_at": tracking.utc_now(),
            "deployed_from_commit": commit,
            "deployed_environment": context.env,
            "previous_champion_version": champion.version if champion else "none",
        },
    )
    if champion is not None:
        tracking.tag_version(
            name,
            champion.version,
            {"replaced_by_version": challenger.version, "retired_at": tracking.utc_now()},
        )
{%- if cookiecutter.serving %}
    result = DeployResult(name, challenger.version, champion.version if champion else None, promoted=True)
    if on_databricks():
        # Terraform passes the current champion on every apply as well, so both agree on what the
        # endpoint serves. Locally there is no endpoint to move.
        from ..io.serving_endpoint import follow_champion

        result.serving = follow_champion(config, challenger.version)
    return result
{%- else %}
    return DeployResult(name, challenger.version, champion.version if champion else None, promoted=True)
{%- endif %}


run = entry_point(deploy)

if __name__ == "__main__":
    sys.exit(run.main())
