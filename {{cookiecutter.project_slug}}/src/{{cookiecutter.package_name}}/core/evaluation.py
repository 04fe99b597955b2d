"""Model quality: classification metrics, per-group fairness, and feature importance."""

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
    """`metric` in every group; the gap is max - min over groups with enough positive cases to judge.

    Recall on a handful of positives is noise, so such groups are reported but not judged.
    """
    frame = pd.DataFrame(
        {
            "y": np.asarray(y_true).astype(int),
            "p": np.asarray(scores, dtype=float),
            "g": pd.Series(np.asarray(groups, dtype=object)).fillna("<missing>").astype(str),
        }
    )
    result = FairnessResult(attribute=attribute, metric=metric)
    for group, rows in frame.groupby("g", sort=True):
        metrics = classification_metrics(rows["y"], rows["p"], threshold)
        if metric not in metrics:
            raise ValueError(f"validation.fairness.metric={metric!r}: use one of {sorted(metrics)}")
        result.per_group[str(group)] = {
            "rows": float(len(rows)),
            "positives": float(rows["y"].sum()),
            metric: metrics[metric],
        }
        if rows["y"].sum() >= min_group_positives and rows["y"].nunique() == 2:
            result.judged_groups.append(str(group))
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
