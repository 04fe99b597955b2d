"""Fit the distributed engine's preprocessing in one Spark aggregation, and apply it as Spark columns.

The rules (core/encoding.py) are the ones the logged model applies to pandas at scoring time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.encoding import EncodingPlan, encoding_plan, statistics_needed
from ..core.features import FeatureSpec, Imputation

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

# percentile_approx accuracy: a relative rank error of about 1 / 10,000.
QUANTILE_ACCURACY = 10000


def fit_encoding(
    df: DataFrame, features: list[FeatureSpec], imputation: dict[str, Imputation]
) -> EncodingPlan:
    """Fill values (mean, approximate median, most frequent) and categories seen, from `df`'s rows."""
    from pyspark.sql import functions as F

    needed = statistics_needed(features, imputation)
    expressions = []
    for feature in features:
        column = F.col(feature.name)
        statistic = needed[feature.name]
        if statistic == "mean":
            expressions.append(F.avg(column).alias(f"s_{feature.name}"))
        elif statistic == "median":
            expressions.append(F.percentile_approx(column, 0.5, QUANTILE_ACCURACY).alias(f"s_{feature.name}"))
        elif statistic == "most_frequent":
            expressions.append(F.mode(column).alias(f"s_{feature.name}"))
        if feature.type == "categorical":
            expressions.append(F.collect_set(column.cast("string")).alias(f"c_{feature.name}"))
    row = df.agg(*expressions).first().asDict() if expressions else {}
    statistics = {f.name: row.get(f"s_{f.name}") for f in features}
    categories = {f.name: list(row.get(f"c_{f.name}") or []) for f in features if f.type == "categorical"}
    return encoding_plan(features, imputation, statistics, categories)


def encoded_columns(plan: EncodingPlan) -> list[Column]:
    """The model's inputs as double columns, named as `plan.columns` (missing without fill -> NaN)."""
    from pyspark.sql import functions as F

    columns = []
    for feature in plan.features:
        raw = F.col(feature.name)
        if feature.kind == "numeric":
            fill = F.lit(float("nan")) if feature.fill is None else F.lit(float(feature.fill))
            columns.append(F.coalesce(raw.cast("double"), fill).alias(feature.name))
            continue
        text = (
            raw.cast("string")
            if feature.fill is None
            else F.coalesce(raw.cast("string"), F.lit(feature.fill))
        )
        for category, name in zip(feature.categories, feature.columns, strict=True):
            columns.append(F.when(text == F.lit(category), 1.0).otherwise(0.0).alias(name))
    return columns
