"""Model quality: classification metrics, per-group fairness, and feature importance.

Metrics come from scores on the driver (`classification_metrics`) or from a `ScoreSummary`, the
handful of sums Spark aggregates over any number of rows (spark/scoring.py); both give the same
names and, on the same rows, the same values (ties in the ranking metrics aside, see ScoreSummary).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)


def classification_metrics(y_true: Any, scores: Any, threshold: float = 0.5) -> dict[str, float]:
    """Ranking and thresholded metrics for a binary classifier's positive-class scores."""
    y = np.asarray(y_true).astype(int)
    p = np.asarray(scores, dtype=float)
    flagged = (p >= threshold).astype(int)
    both_classes = len(np.unique(y)) == 2
    return {
        "roc_auc": float(roc_auc_score(y, p)) if both_classes else float("nan"),
        "average_precision": float(average_precision_score(y, p)) if both_classes else float("nan"),
        "recall": float(recall_score(y, flagged, zero_division=0)),
        "precision": float(precision_score(y, flagged, zero_division=0)),
        "f1": float(f1_score(y, flagged, zero_division=0)),
        "brier": float(brier_score_loss(y, p)),
        "flagged_rate": float(flagged.mean()) if len(flagged) else 0.0,
        "rows": float(len(y)),
    }


@dataclass(frozen=True)
class ScoreSummary:
    """Sufficient statistics of (label, score) pairs for every metric `classification_metrics` gives.

    `auc_pairs`: over positive rows, the negatives scored below them (ties count half), so ROC AUC is
    auc_pairs / (positives * negatives). `precision_sum`: over positive rows, the precision at their
    own score, so average precision is precision_sum / positives. Spark computes both with scores
    rounded to 6 decimals, which only merges near-ties.
    """

    rows: int
    positives: int
    flagged: int
    flagged_positives: int
    squared_error: float
    auc_pairs: float
    precision_sum: float

    @property
    def negatives(self) -> int:
        return self.rows - self.positives


def metrics_from_summary(summary: ScoreSummary) -> dict[str, float]:
    """The metrics of `classification_metrics`, from a ScoreSummary instead of every score."""
    positives, negatives, flagged = summary.positives, summary.negatives, summary.flagged
    both_classes = positives > 0 and negatives > 0
    recall = summary.flagged_positives / positives if positives else 0.0
    precision = summary.flagged_positives / flagged if flagged else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "roc_auc": summary.auc_pairs / (positives * negatives) if both_classes else float("nan"),
        "average_precision": summary.precision_sum / positives if both_classes else float("nan"),
        "recall": float(recall),
        "precision": float(precision),
        "f1": float(f1),
        "brier": summary.squared_error / summary.rows if summary.rows else float("nan"),
        "flagged_rate": flagged / summary.rows if summary.rows else 0.0,
        "rows": float(summary.rows),
    }


def finite(metrics: dict[str, float], prefix: str = "") -> dict[str, float]:
    """The metrics MLflow can store: NaN (e.g. ROC AUC of a one-class sample) left out, names prefixed."""
    return {f"{prefix}{name}": value for name, value in metrics.items() if not np.isnan(value)}


def positive_scores(predictions: Any) -> np.ndarray:
    """The positive-class probability from whatever a model's predict returned (1 or 2 columns)."""
    values = (
        predictions.to_numpy()
        if isinstance(predictions, pd.DataFrame | pd.Series)
        else np.asarray(predictions)
    )
    if values.ndim == 2:
        return values[:, -1].astype(float)
    return values.astype(float)


@dataclass
class FairnessResult:
    """A metric per group of the sensitive attribute, and the gap between judged groups."""

    attribute: str
    metric: str
    per_group: dict[str, dict[str, float]] = field(default_factory=dict)
    gap: float = 0.0
    judged_groups: list[str] = field(default_factory=list)


def fairness_by_group(
    y_true: Any,
    scores: Any,
    groups: Any,
    *,
    attribute: str,
    metric: str,
    threshold: float,
    min_group_positives: int,
) -> FairnessResult:
    """`metric` in every group of scores held on the driver; see `fairness_from_groups`."""
    frame = pd.DataFrame(
        {
            "y": np.asarray(y_true).astype(int),
            "p": np.asarray(scores, dtype=float),
            "g": pd.Series(np.asarray(groups, dtype=object)).fillna(MISSING_GROUP).astype(str),
        }
    )
    per_group = {
        str(group): (classification_metrics(rows["y"], rows["p"], threshold), int(rows["y"].sum()))
        for group, rows in frame.groupby("g", sort=True)
    }
    return fairness_from_groups(
        per_group, attribute=attribute, metric=metric, min_group_positives=min_group_positives
    )


MISSING_GROUP = "<missing>"


def fairness_from_groups(
    per_group: dict[str, tuple[dict[str, float], int]],
    *,
    attribute: str,
    metric: str,
    min_group_positives: int,
) -> FairnessResult:
    """The gap in `metric` between groups, from each group's (metrics, positive cases).

    The gap is max - min over groups with enough positive cases to judge: recall on a handful of
    positives is noise, so such groups are reported but not judged.
    """
    result = FairnessResult(attribute=attribute, metric=metric)
    for group in sorted(per_group):
        metrics, positives = per_group[group]
        if metric not in metrics:
            raise ValueError(f"validation.fairness.metric={metric!r}: use one of {sorted(metrics)}")
        rows = metrics["rows"]
        result.per_group[group] = {
            "rows": float(rows),
            "positives": float(positives),
            metric: metrics[metric],
        }
        if positives >= min_group_positives and 0 < positives < rows:
            result.judged_groups.append(group)
    values = [result.per_group[g][metric] for g in result.judged_groups]
    result.gap = float(max(values) - min(values)) if len(values) >= 2 else 0.0
    return result


def permutation_importance_table(
    model: Any, x: pd.DataFrame, y: pd.Series, *, seed: int, repeats: int = 3, max_rows: int = 1000
) -> pd.DataFrame:
    """How much ROC AUC drops when each input feature is shuffled, largest first (works for any model)."""
    from sklearn.inspection import permutation_importance

    if len(x) > max_rows:
        x = x.sample(n=max_rows, random_state=seed)
        y = y.loc[x.index]
    result = permutation_importance(model, x, y, scoring="roc_auc", n_repeats=repeats, random_state=seed)
    table = pd.DataFrame(
        {"feature": list(x.columns), "importance": result.importances_mean, "std": result.importances_std}
    )
    return table.sort_values("importance", ascending=False).reset_index(drop=True)
