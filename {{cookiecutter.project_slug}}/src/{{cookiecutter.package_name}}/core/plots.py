"""Figures for people: feature importance and drift. Pure: they return figures, callers save them."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # no display on clusters and CI
    import matplotlib.pyplot as plt

    return plt


def feature_importance_figure(table: pd.DataFrame, top: int = 20) -> Any:
    """Horizontal bars of permutation importance, largest at the top."""
    plt = _pyplot()
    shown = table.head(top).iloc[::-1]
    figure, axis = plt.subplots(figsize=(7, 0.3 * len(shown) + 1.2))
    axis.barh(shown["feature"], shown["importance"], xerr=shown.get("std"), color="#3b6ea8")
    axis.set_xlabel("drop in ROC AUC when shuffled")
    axis.set_title("Permutation feature importance (test split)")
    figure.tight_layout()
    return figure


def _labels(values: pd.Series) -> pd.Series:
    """Category labels as text, missing values shown as '<missing>'."""
    return values.astype(object).where(values.notna(), "<missing>").astype(str)


def drift_figure(
    reference: pd.DataFrame, current: pd.DataFrame, features: list[tuple[str, str, float]]
) -> Any:
    """Reference vs current distribution for each (feature, kind, psi), most drifted first."""
    plt = _pyplot()
    count = max(len(features), 1)
    columns = min(3, count)
    rows = int(np.ceil(count / columns))
    figure, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.0 * rows), squeeze=False)
    for axis, (name, kind, psi) in zip(axes.ravel(), features, strict=False):
        if kind == "numeric":
            ref = pd.to_numeric(reference[name], errors="coerce").dropna()
            cur = pd.to_numeric(current[name], errors="coerce").dropna()
            bins = np.histogram_bin_edges(pd.concat([ref, cur]), bins=20)
            axis.hist(ref, bins=bins, density=True, alpha=0.55, label="reference", color="#3b6ea8")
            axis.hist(cur, bins=bins, density=True, alpha=0.55, label="current", color="#d1495b")
        else:
            ref = _labels(reference[name]).value_counts(normalize=True)
            cur = _labels(current[name]).value_counts(normalize=True)
            categories = sorted(set(ref.index) | set(cur.index))
            positions = np.arange(len(categories))
            axis.bar(
                positions - 0.2,
                ref.reindex(categories, fill_value=0),
                0.4,
                label="reference",
                color="#3b6ea8",
            )
            axis.bar(
                positions + 0.2, cur.reindex(categories, fill_value=0), 0.4, label="current", color="#d1495b"
            )
            axis.set_xticks(positions, categories, rotation=30, fontsize=7)
        axis.set_title(f"{name} (PSI {psi:.2f})", fontsize=9)
    for axis in axes.ravel()[len(features) :]:
        axis.axis("off")
    axes.ravel()[0].legend(fontsize=7)
    figure.tight_layout()
    return figure
