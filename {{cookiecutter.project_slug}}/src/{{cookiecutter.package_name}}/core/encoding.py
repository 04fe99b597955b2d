"""The distributed engine's preprocessing as data: fill values and one-hot categories, then the encoding.

The plan is fitted in Spark on the training rows (spark/encoding.py) and applied twice with the
same rules: as Spark columns when the model trains on the cluster, and here on pandas when the
logged model scores a batch or a REST request (io/booster_model.py), with no JVM needed.
Missing values are filled as configs/imputation.yml says; a category never seen in training
encodes as all zeros, like scikit-learn's OneHotEncoder(handle_unknown="ignore").
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .features import FeatureSpec, Imputation


@dataclass(frozen=True)
class EncodedFeature:
    """One model input: its fill value for missing readings and, if categorical, its categories."""

    name: str
    kind: str  # "numeric" (numeric and binary features) or "categorical"
    fill: Any = None
    categories: tuple[str, ...] = ()

    @property
    def columns(self) -> list[str]:
        """The encoded column names: the feature itself, or one indicator per category."""
        if self.kind == "numeric":
            return [self.name]
        return [f"{self.name}__{index}" for index in range(len(self.categories))]


@dataclass(frozen=True)
class EncodingPlan:
    features: tuple[EncodedFeature, ...] = field(default_factory=tuple)

    @property
    def columns(self) -> list[str]:
        return [column for feature in self.features for column in feature.columns]

    def source_of(self) -> dict[str, str]:
        """Encoded column -> the feature it came from (for importance per feature)."""
        return {column: feature.name for feature in self.features for column in feature.columns}

    def to_dict(self) -> dict[str, Any]:
        return {"features": [asdict(feature) for feature in self.features]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EncodingPlan:
        return cls(
            tuple(
                EncodedFeature(f["name"], f["kind"], f.get("fill"), tuple(f.get("categories") or ()))
                for f in data["features"]
            )
        )


def statistics_needed(features: list[FeatureSpec], imputation: dict[str, Imputation]) -> dict[str, str]:
    """feature -> the statistic its plan needs from the training rows: mean, median, most_frequent or none."""
    needed = {}
    for feature in features:
        plan = imputation[feature.name]
        needed[feature.name] = "none" if plan.strategy == "constant" else plan.strategy
    return needed


def encoding_plan(
    features: list[FeatureSpec],
    imputation: dict[str, Imputation],
    statistics: dict[str, Any],
    categories: dict[str, list[str]],
) -> EncodingPlan:
    """The plan from each feature's statistic (as `statistics_needed` asked) and categorical values seen."""
    encoded = []
    for feature in features:
        plan = imputation[feature.name]
        fill = plan.fill_value if plan.strategy == "constant" else statistics.get(feature.name)
        if feature.type == "categorical":
            fill = None if fill is None else str(fill)
            seen = sorted({str(value) for value in categories.get(feature.name, [])} | ({fill} - {None}))
            encoded.append(EncodedFeature(feature.name, "categorical", fill, tuple(seen)))
        else:
            encoded.append(EncodedFeature(feature.name, "numeric", None if fill is None else float(fill)))
    return EncodingPlan(tuple(encoded))


def encode(frame: pd.DataFrame, plan: EncodingPlan) -> np.ndarray:
    """The model's input matrix for raw feature rows (missing numbers stay NaN when no fill is known)."""
    blocks = []
    for feature in plan.features:
        values = frame[feature.name]
        if feature.kind == "numeric":
            numbers = pd.to_numeric(values, errors="coerce").astype(float)
            if feature.fill is not None:
                numbers = numbers.fillna(feature.fill)
            blocks.append(numbers.to_numpy(dtype=float)[:, None])
        else:
            text = values.astype(object).where(values.notna(), feature.fill)
            indicators = [(text == category).to_numpy(dtype=float) for category in feature.categories]
            blocks.append(np.column_stack(indicators) if indicators else np.empty((len(frame), 0)))
    return np.hstack(blocks) if blocks else np.empty((len(frame), 0))
