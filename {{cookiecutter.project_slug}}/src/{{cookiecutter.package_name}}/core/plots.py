"""Figures for people: feature importance and drift. Pure: they return figures, callers save them."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .drift import ReferenceProfile, psi_bins


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # no display on clusters and CI
    import matplotlib.pyplot as plt

    return plt


def feature_importance_figure(table: pd.DataFrame, measure: str, top: int = 20) -> Any:
    """Horizontal bars of feature importance (`measure` says which), largest at the top."""
    plt = _pyplot()
    shown = table.head(top).iloc[::-1]
    figure, axis = plt.subplots(figsize=(7, 0.3 * len(shown) + 1.2))
    axis.barh(shown["feature"], shown["importance"], xerr=shown.get("std"), color="#3b6ea8")
    axis.set_xlabel(measure)
    axis.set_title("Feature importance")
    figure.tight_layout()
    return figure


def drift_figure(
    reference: ReferenceProfile,
    numeric_counts: dict[str, tuple[list[int], int]],
    categorical_counts: dict[str, dict[str, int]],
    features: list[tuple[str, float]],
) -> Any:
    """Reference vs current shares per PSI bin (numeric) or category of each (feature, psi) given."""
    plt = _pyplot()
    count = max(len(features), 1)
    columns = min(3, count)
    rows = int(np.ceil(count / columns))
    figure, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.0 * rows), squeeze=False)
    for axis, (name, psi) in zip(axes.ravel(), features, strict=False):
        if name in reference.numeric:
            profile = reference.numeric[name]
            ref = np.append(psi_bins(profile.edges, profile.counts, profile.psi_edges), profile.missing)
            counts, missing = numeric_counts[name]
            cur = np.append(psi_bins(profile.edges, counts, profile.psi_edges), missing)
            edges = [f"{e:.3g}" for e in profile.psi_edges]
            labels = [f"<{edges[0]}" if edges else "all", *(f">={e}" for e in edges), "missing"]
        else:
            labels = sorted(set(reference.categorical[name]) | set(categorical_counts[name]))
            ref = np.array([reference.categorical[name].get(c, 0) for c in labels], dtype=float)
            cur = np.array([categorical_counts[name].get(c, 0) for c in labels], dtype=float)
        positions = np.arange(len(labels))
        axis.bar(positions - 0.2, ref / max(ref.sum(), 1), 0.4, label="reference", color="#3b6ea8")
        axis.bar(positions + 0.2, cur / max(cur.sum(), 1), 0.4, label="current", color="#d1495b")
        axis.set_xticks(positions, labels, rotation=30, fontsize=7)
        axis.set_title(f"{name} (PSI {psi:.2f})", fontsize=9)
    for axis in axes.ravel()[len(features) :]:
        axis.axis("off")
    axes.ravel()[0].legend(fontsize=7)
    figure.tight_layout()
    return figure
