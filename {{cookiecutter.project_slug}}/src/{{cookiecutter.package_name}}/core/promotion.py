"""The gates a challenger must pass to become champion: thresholds, fairness, and the champion itself.

And who may promote it: `needs_approval` keeps a triggered retrain's challenger in prod waiting
for the approval every prod release needs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from .evaluation import FairnessResult

# Environments where a person approves every promotion: the prod release waits for the protected
# `prod` environment in CI. Not a setting, so no configuration can waive it.
APPROVAL_ENVIRONMENTS = ("prod",)
AWAITING_APPROVAL = "awaiting_approval"


@dataclass(frozen=True)
class Check:
    """One gate: its name, whether it passed, and a sentence saying why."""

    name: str
    passed: bool
    detail: str


@dataclass
class ValidationOutcome:
    checks: list[Check] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    @property
    def failures(self) -> list[Check]:
        return [check for check in self.checks if not check.passed]

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "checks": [asdict(check) for check in self.checks]}


def check_thresholds(metrics: dict[str, float], thresholds: dict[str, dict[str, float]]) -> list[Check]:
    """Each configured metric bound ({min: x} and/or {max: y}) against the challenger's metrics."""
    checks = []
    for metric, bounds in thresholds.items():
        value = metrics.get(metric)
        if value is None:
            raise ValueError(f"validation.thresholds.{metric}: unknown metric; use one of {sorted(metrics)}")
        for bound, limit in (bounds or {}).items():
            if bound not in ("min", "max"):
                raise ValueError(f"validation.thresholds.{metric}.{bound}: use min or max")
            ok = not math.isnan(value) and (value >= limit if bound == "min" else value <= limit)
            relation = ">=" if bound == "min" else "<="
            checks.append(
                Check(f"threshold:{metric}:{bound}", ok, f"{metric}={value:.4f}, needs {relation} {limit}")
            )
    return checks


def check_fairness(result: FairnessResult | None, max_gap: float) -> Check:
    """The metric may differ between judged groups by at most `max_gap`; None: no attribute configured."""
    if result is None:
        return Check(
            "fairness",
            True,
            "NOT CHECKED: validation.fairness.sensitive_attribute is not set "
            "(name a passthrough column to judge the gap across its groups)",
        )
    values = ", ".join(f"{g}={result.per_group[g][result.metric]:.3f}" for g in result.judged_groups)
    detail = f"{result.metric} gap across {result.attribute} = {result.gap:.3f} (max {max_gap}); {values}"
    return Check(f"fairness:{result.attribute}", result.gap <= max_gap, detail)


def check_champion(
    challenger: dict[str, float],
    champion: dict[str, float] | None,
    *,
    metric: str,
    min_improvement: float,
    champion_version: str | None = None,
    incomparable: str | None = None,
) -> Check:
    """The challenger must beat the current champion by `min_improvement`; with no champion it passes.

    `incomparable` says why the champion could not be scored on these rows (it was trained on
    columns the feature table no longer has, e.g. before another table was adopted): then the
    challenger replaces it on the other gates alone, and the check says so.
    """
    if incomparable is not None:
        detail = f"champion v{champion_version} not compared: {incomparable}"
        return Check("champion_challenger", True, detail)
    if champion is None:
        return Check(
            "champion_challenger", True, "no champion yet: the first validated model becomes champion"
        )
    new, old = challenger[metric], champion[metric]
    ok = new >= old + min_improvement
    verdict = "beats" if ok else "does not beat"
    detail = (
        f"challenger {metric}={new:.4f} {verdict} champion v{champion_version} {metric}={old:.4f} "
        f"by the required margin {min_improvement}"
    )
    return Check("champion_challenger", ok, detail)


def judge_challenger(
    metrics: dict[str, float],
    fairness: FairnessResult | None,
    champion_metrics: dict[str, float] | None,
    settings: dict[str, Any],
    *,
    champion_version: str | None = None,
    champion_incomparable: str | None = None,
) -> ValidationOutcome:
    """Every gate of `validation` settings, in order: thresholds, fairness, then the champion.

    The one place that decides which checks promote a model; both engines' validate_model call it
    with metrics computed the same way for challenger and champion.
    """
    gate = settings["champion_challenger"]
    return ValidationOutcome(
        [
            *check_thresholds(metrics, settings["thresholds"]),
            check_fairness(fairness, float(settings["fairness"]["max_gap"])),
            check_champion(
                metrics,
                champion_metrics,
                metric=gate["metric"],
                min_improvement=float(gate["min_improvement"]),
                champion_version=champion_version,
                incomparable=champion_incomparable,
            ),
        ]
    )


def needs_approval(environment: str, *, version_tags: Mapping[str, str], triggered_run: bool) -> bool:
    """Whether promoting this challenger waits for a person: in prod, when a trigger (not a release) made it.

    Either sign suffices: the version's `triggered_by` tag (set by `train`) or the trigger of the
    run that deploys (the training job's parameters), so losing one cannot skip the approval.
    """
    triggered = triggered_run or bool(version_tags.get("triggered_by"))
    return environment in APPROVAL_ENVIRONMENTS and triggered
