"""When a drift recommendation starts a retrain: the guard rails and the trigger a retrain carries.

The monitor recommends a retrain (drift.py); `decide_trigger` decides whether one starts now,
from `monitoring.retrain` and the retrains the monitor triggered before. Those past triggers are
the monitoring runs in the environment's MLflow experiment (io/tracking.py): a durable record
every environment already has, which the same rules read locally and on Databricks.
A triggered training run carries a `RetrainTrigger` (config `training.trigger`), recorded as
tags on its MLflow run and on the model version it registers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

TRIGGERED_BY_MONITOR = "monitor"
# Job parameter of the training job (and notebook widget) -> key of `training.trigger`.
TRIGGER_PARAMETERS = {
    "triggered_by": "by",
    "trigger_batch_id": "batch_id",
    "trigger_reasons": "reasons",
    "trigger_monitor_run_id": "monitor_run_id",
}
WEEK = timedelta(days=7)
# Tag values stay well below what every MLflow store accepts (5000 bytes).
MAX_TAG_CHARS = 1000


class RetrainConfigError(ValueError):
    """`monitoring.retrain` or `training.trigger` holds a value the loop cannot use."""


@dataclass(frozen=True)
class RetrainPolicy:
    """`monitoring.retrain`: whether a recommendation may start training, and how often."""

    enabled: bool
    min_interval_hours: float
    max_per_week: int

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> RetrainPolicy:
        enabled = settings.get("enabled")
        if not isinstance(enabled, bool):
            raise RetrainConfigError(f"monitoring.retrain.enabled={enabled!r}: use true or false")
        interval = settings.get("min_interval_hours")
        if isinstance(interval, bool) or not isinstance(interval, int | float) or interval < 0:
            raise RetrainConfigError(
                f"monitoring.retrain.min_interval_hours={interval!r}: use a number of hours >= 0, e.g. 24"
            )
        weekly = settings.get("max_per_week")
        if isinstance(weekly, bool) or not isinstance(weekly, int) or weekly < 1:
            raise RetrainConfigError(
                f"monitoring.retrain.max_per_week={weekly!r}: use a whole number >= 1 "
                "(set monitoring.retrain.enabled: false to stop triggered retrains)"
            )
        return cls(enabled, float(interval), weekly)


@dataclass(frozen=True)
class PastTrigger:
    """A monitoring run that started a retrain: when, and for which batch."""

    at: datetime
    batch_id: str


@dataclass(frozen=True)
class TriggerDecision:
    trigger: bool
    reason: str  # one sentence: what starts, or what stopped it and which setting to change


def decide_trigger(
    recommended: bool,
    policy: RetrainPolicy,
    history: Sequence[PastTrigger],
    *,
    batch_id: str,
    now: datetime,
    awaiting_approval: str | None = None,
) -> TriggerDecision:
    """Whether this recommendation starts a retrain now; every "no" names its reason.

    In order: nothing recommended; retraining off; this batch already triggered one (a batch
    never retriggers); a triggered challenger still awaits approval; the minimum interval since
    the last trigger; the weekly maximum.
    """
    if not recommended:
        return TriggerDecision(False, "no retrain recommended")
    if not policy.enabled:
        return TriggerDecision(False, "retraining is off here (monitoring.retrain.enabled: false)")
    same_batch = [past for past in history if past.batch_id == batch_id]
    if same_batch:
        when = max(past.at for past in same_batch)
        return TriggerDecision(False, f"batch {batch_id} already triggered a retrain at {_stamp(when)}")
    if awaiting_approval:
        return TriggerDecision(
            False,
            f"version {awaiting_approval} from an earlier triggered retrain awaits approval: "
            "approve or reject it first (docs/monitoring.md)",
        )
    if history:
        last = max(past.at for past in history)
        hours = (now - last).total_seconds() / 3600
        if hours < policy.min_interval_hours:
            return TriggerDecision(
                False,
                f"the last triggered retrain was {hours:.1f} h ago, at {_stamp(last)} "
                f"(monitoring.retrain.min_interval_hours: {policy.min_interval_hours:g})",
            )
    this_week = [past for past in history if now - past.at < WEEK]
    if len(this_week) >= policy.max_per_week:
        return TriggerDecision(
            False,
            f"{len(this_week)} triggered retrain(s) in the last 7 days "
            f"(monitoring.retrain.max_per_week: {policy.max_per_week})",
        )
    return TriggerDecision(True, "retrain started")


@dataclass(frozen=True)
class RetrainTrigger:
    """Who started a training run when it was not a person or CI: `training.trigger`."""

    by: str
    batch_id: str = ""
    reasons: str = ""
    monitor_run_id: str = ""

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> RetrainTrigger | None:
        """The run's trigger, or None for a training run a person or CI started."""
        settings = (config.get("training") or {}).get("trigger") or {}
        by = settings.get("by")
        if by in (None, ""):
            return None
        if by != TRIGGERED_BY_MONITOR:
            raise RetrainConfigError(
                f"training.trigger.by={by!r}: use {TRIGGERED_BY_MONITOR!r} or leave it empty"
            )
        return cls(
            by=str(by),
            batch_id=str(settings.get("batch_id") or ""),
            reasons=str(settings.get("reasons") or ""),
            monitor_run_id=str(settings.get("monitor_run_id") or ""),
        )

    def tags(self) -> dict[str, str]:
        """The tags on the training run and the model version it registers."""
        return {
            "triggered_by": self.by,
            "trigger_batch_id": self.batch_id,
            "trigger_reasons": self.reasons[:MAX_TAG_CHARS],
            "trigger_monitor_run_id": self.monitor_run_id,
        }

    def parameters(self) -> dict[str, str]:
        """The training job's parameters that carry this trigger (what the monitoring job passes)."""
        values = {"by": self.by, "batch_id": self.batch_id, "reasons": self.reasons,
                  "monitor_run_id": self.monitor_run_id}
        return {parameter: values[key] for parameter, key in TRIGGER_PARAMETERS.items()}


def trigger_overrides(parameters: Mapping[str, str]) -> list[str]:
    """`--set` values for `training.trigger` from the trigger's job parameters; none when empty.

    Values are written as JSON strings, which YAML reads back as the same text, so reasons such
    as "psi: 0.31" stay strings.
    """
    return [
        f"training.trigger.{key}={json.dumps(str(parameters[parameter]))}"
        for parameter, key in TRIGGER_PARAMETERS.items()
        if parameters.get(parameter)
    ]


def _stamp(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat()
