"""Drift statistics: PSI plus a KS test (numeric) or chi-square test (categorical) per feature.

A feature counts as drifted when its shift is both large (PSI above the threshold) and
statistically real (test p-value below the threshold): PSI alone flags noise on small batches,
and tests alone flag trivial shifts on large ones.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

_EPSILON = 1e-4
_MISSING = "<missing>"


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


def _psi_from_counts(reference: np.ndarray, current: np.ndarray) -> float:
    ref = np.clip(reference / max(reference.sum(), 1), _EPSILON, None)
    cur = np.clip(current / max(current.sum(), 1), _EPSILON, None)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def numeric_psi(reference: pd.Series, current: pd.Series, bins: int = 10) -> float:
    """PSI over the reference's quantile bins, with missing values as a bin of their own."""
    ref = pd.to_numeric(reference, errors="coerce").to_numpy(dtype=float)
    cur = pd.to_numeric(current, errors="coerce").to_numpy(dtype=float)
    present = ref[~np.isnan(ref)]
    edges = np.unique(np.quantile(present, np.linspace(0, 1, bins + 1))) if len(present) else np.array([0.0])
    edges[0], edges[-1] = -np.inf, np.inf
    if len(edges) < 2:
        edges = np.array([-np.inf, np.inf])

    def counts(values: np.ndarray) -> np.ndarray:
        finite = values[~np.isnan(values)]
        return np.append(np.histogram(finite, bins=edges)[0], np.isnan(values).sum()).astype(float)

    return _psi_from_counts(counts(ref), counts(cur))


def categorical_counts(reference: pd.Series, current: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Counts per category (missing included) over the union of categories seen in either sample."""
    ref = reference.astype(object).where(reference.notna(), _MISSING).astype(str)
    cur = current.astype(object).where(current.notna(), _MISSING).astype(str)
    categories = sorted(set(ref) | set(cur))
    ref_counts = ref.value_counts().reindex(categories, fill_value=0).to_numpy(dtype=float)
    cur_counts = cur.value_counts().reindex(categories, fill_value=0).to_numpy(dtype=float)
    return ref_counts, cur_counts


def feature_drift(
    name: str,
    kind: str,
    reference: pd.Series,
    current: pd.Series,
    *,
    psi_threshold: float,
    p_value_threshold: float,
) -> FeatureDrift:
    """Drift of one feature; binary features are compared as categories."""
    if kind == "numeric":
        psi = numeric_psi(reference, current)
        ref = pd.to_numeric(reference, errors="coerce").dropna()
        cur = pd.to_numeric(current, errors="coerce").dropna()
        p_value = float(stats.ks_2samp(ref, cur).pvalue) if len(ref) and len(cur) else 1.0
        test = "ks"
    else:
        ref_counts, cur_counts = categorical_counts(reference, current)
        psi = _psi_from_counts(ref_counts, cur_counts)
        table = np.vstack([ref_counts, cur_counts])
        table = table[:, table.sum(axis=0) > 0]
        p_value = float(stats.chi2_contingency(table)[1]) if table.shape[1] > 1 else 1.0
        test = "chi_square"
    drifted = psi > psi_threshold and p_value < p_value_threshold
    return FeatureDrift(name, kind, round(psi, 6), test, p_value, drifted)


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
