"""Drift statistics from profiles: PSI plus a KS (numeric) or chi-square (categorical) test per feature.

A profile is a handful of counts: per numeric feature, rows per bin of a fine quantile grid of the
training split (and missing rows); per categorical feature, rows per category. The reference
profile is computed once when a model is trained and stored with its version; each batch is
counted into the same bins in Spark (spark/profiles.py), so the monitor never rereads the
training table and only these counts reach the driver.

A feature counts as drifted when its shift is both large (PSI above the threshold) and
statistically real (test p-value below the threshold): PSI alone flags noise on small batches,
and tests alone flag trivial shifts on large ones. PSI uses the reference's deciles (a coarsening
of the fine grid); KS compares the two distributions at every grid edge.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from scipy import stats

_EPSILON = 1e-4
MISSING = "<missing>"
# Quantile levels of the fine grid (percentiles 1..99; the deciles are among them) and of PSI's bins.
GRID_LEVELS = tuple(round(level / 100, 2) for level in range(1, 100))
DECILE_LEVELS = tuple(round(level / 10, 1) for level in range(1, 10))
QUANTILE_LEVELS = (0.0, *GRID_LEVELS, 1.0)


@dataclass
class FeatureDrift:
    feature: str
    kind: str
    psi: float
    test: str
    p_value: float
    drifted: bool


@dataclass
class RetrainDecision:
    retrain: bool
    reasons: list[str] = field(default_factory=list)


@dataclass
class NumericProfile:
    """Rows per bin: bin 0 is below edges[0], bin i is [edges[i-1], edges[i]), the last from edges[-1] up."""

    edges: list[float]
    counts: list[int]
    missing: int
    psi_edges: list[float]

    @property
    def present(self) -> int:
        return int(sum(self.counts))


def grid_from_quantiles(quantiles: list[float | None]) -> tuple[list[float], list[float]]:
    """(fine grid edges, PSI decile edges) from the values at QUANTILE_LEVELS (min, percentiles, max).

    As with np.quantile bins whose outer edges are opened to infinity, a decile equal to the minimum
    or the maximum is no edge; every PSI edge is also a grid edge, so PSI bins are unions of grid bins.
    """
    values = [float(q) for q in quantiles if q is not None and np.isfinite(q)]
    if len(values) < 2:
        return [], []
    low, high = min(values), max(values)
    by_level = dict(zip(QUANTILE_LEVELS, quantiles, strict=True))
    deciles = sorted({float(by_level[level]) for level in DECILE_LEVELS if by_level[level] is not None})
    psi_edges = [d for d in deciles if low < d < high]
    grid = sorted(
        {float(by_level[level]) for level in GRID_LEVELS if by_level[level] is not None} | set(psi_edges)
    )
    return grid, psi_edges


def bin_counts(values: np.ndarray, edges: list[float]) -> tuple[np.ndarray, int]:
    """Rows per grid bin and missing rows, on the driver (what spark/profiles.py counts in Spark)."""
    values = np.asarray(values, dtype=float)
    missing = np.isnan(values)
    index = np.searchsorted(np.asarray(edges, dtype=float), values[~missing], side="right")
    return np.bincount(index, minlength=len(edges) + 1), int(missing.sum())


def psi_from_counts(reference: np.ndarray, current: np.ndarray) -> float:
    """Population stability index of two count vectors over the same bins."""
    reference, current = np.asarray(reference, dtype=float), np.asarray(current, dtype=float)
    ref = np.clip(reference / max(reference.sum(), 1), _EPSILON, None)
    cur = np.clip(current / max(current.sum(), 1), _EPSILON, None)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def psi_bins(edges: list[float], counts: Any, psi_edges: list[float]) -> np.ndarray:
    """Grid counts merged into PSI's decile bins."""
    lower = [-np.inf, *edges]
    index = np.searchsorted(np.asarray(psi_edges, dtype=float), lower, side="right")
    return np.bincount(index, weights=np.asarray(counts, dtype=float), minlength=len(psi_edges) + 1)


def numeric_psi(reference: NumericProfile, counts: Any, missing: int) -> float:
    """PSI over the reference's decile bins, with missing values as a bin of their own."""
    ref = np.append(psi_bins(reference.edges, reference.counts, reference.psi_edges), reference.missing)
    cur = np.append(psi_bins(reference.edges, counts, reference.psi_edges), missing)
    return psi_from_counts(ref, cur)


def ks_test(reference: NumericProfile, counts: Any) -> float:
    """Two-sample KS p-value from the distributions at every grid edge (the asymptotic distribution)."""
    n, m = reference.present, int(np.sum(counts))
    if n == 0 or m == 0 or not reference.edges:
        return 1.0
    ref = np.cumsum(reference.counts)[:-1] / n
    cur = np.cumsum(np.asarray(counts, dtype=float))[:-1] / m
    statistic = float(np.max(np.abs(ref - cur)))
    return float(stats.kstwo.sf(statistic, max(1, round(n * m / (n + m)))))


def numeric_drift(
    name: str,
    reference: NumericProfile,
    counts: Any,
    missing: int,
    *,
    psi_threshold: float,
    p_value_threshold: float,
) -> FeatureDrift:
    psi = numeric_psi(reference, counts, missing)
    p_value = ks_test(reference, counts)
    drifted = psi > psi_threshold and p_value < p_value_threshold
    return FeatureDrift(name, "numeric", round(psi, 6), "ks", p_value, drifted)


def categorical_drift(
    name: str,
    reference: dict[str, int],
    current: dict[str, int],
    *,
    psi_threshold: float,
    p_value_threshold: float,
) -> FeatureDrift:
    """Drift of a categorical (or binary) feature from its counts per category, missing included."""
    categories = sorted(set(reference) | set(current))
    ref = np.array([reference.get(c, 0) for c in categories], dtype=float)
    cur = np.array([current.get(c, 0) for c in categories], dtype=float)
    psi = psi_from_counts(ref, cur)
    table = np.vstack([ref, cur])
    table = table[:, table.sum(axis=0) > 0]
    usable = table.shape[1] > 1 and table[0].sum() > 0 and table[1].sum() > 0
    p_value = float(stats.chi2_contingency(table)[1]) if usable else 1.0
    drifted = psi > psi_threshold and p_value < p_value_threshold
    return FeatureDrift(name, "categorical", round(psi, 6), "chi_square", p_value, drifted)


def decide_retrain(
    drifts: list[FeatureDrift],
    prediction_psi: float,
    performance_drop: float | None,
    settings: dict[str, Any],
) -> RetrainDecision:
    """Retrain when enough features drift, the scores drift, or (with labels) performance decays."""
    drift = settings["drift"]
    performance = settings["performance"]
    decision = RetrainDecision(retrain=False)
    drifted = [d.feature for d in drifts if d.drifted]
    if len(drifted) >= int(drift["min_drifted_features"]):
        decision.reasons.append(f"{len(drifted)} feature(s) drifted: {', '.join(drifted)}")
    if prediction_psi > float(drift["prediction_psi_threshold"]):
        decision.reasons.append(
            f"prediction drift: score PSI {prediction_psi:.3f} > {drift['prediction_psi_threshold']}"
        )
    if performance_drop is not None and performance_drop > float(performance["max_drop"]):
        decision.reasons.append(
            f"performance decay: {performance['metric']} dropped by {performance_drop:.3f}"
            f" > {performance['max_drop']}"
        )
    decision.retrain = bool(decision.reasons)
    return decision


def drift_rows(drifts: list[FeatureDrift]) -> list[dict[str, Any]]:
    return [asdict(d) for d in sorted(drifts, key=lambda d: -d.psi)]


@dataclass
class ReferenceProfile:
    """What the monitor compares a batch with, stored with the model version (reference_profile.json)."""

    rows: int
    numeric: dict[str, NumericProfile]
    categorical: dict[str, dict[str, int]]
    scores: NumericProfile
    baseline_metrics: dict[str, float] = field(default_factory=dict)

    @property
    def features(self) -> list[str]:
        return [*self.numeric, *self.categorical]

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "numeric": {name: asdict(profile) for name, profile in self.numeric.items()},
            "categorical": self.categorical,
            "scores": asdict(self.scores),
            "baseline_metrics": self.baseline_metrics,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReferenceProfile:
        return cls(
            rows=int(data["rows"]),
            numeric={name: NumericProfile(**profile) for name, profile in data["numeric"].items()},
            categorical={name: dict(counts) for name, counts in data["categorical"].items()},
            scores=NumericProfile(**data["scores"]),
            baseline_metrics=dict(data.get("baseline_metrics") or {}),
        )
