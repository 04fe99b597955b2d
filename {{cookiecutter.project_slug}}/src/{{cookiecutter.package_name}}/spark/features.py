"""Compute the feature table in Spark from configs/feature_mappings.yml (one select, no UDFs)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.features import FeatureConfigError, FeatureMappings

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

SPARK_TYPES = {"numeric": "double", "binary": "double", "categorical": "string"}


def nan_to_null(df: DataFrame) -> DataFrame:
    """Floating-point NaN becomes null: Spark orders NaN above every number, so `bmi >= 30` is true for it."""
    from pyspark.sql import functions as F

    columns = [
        F.when(F.isnan(F.col(f.name)), F.lit(None)).otherwise(F.col(f.name)).alias(f.name)
        if f.dataType.typeName() in ("double", "float")
        else F.col(f.name)
        for f in df.schema.fields
    ]
    return df.select(*columns)


def build_feature_table(
    raw: DataFrame, mappings: FeatureMappings, *, include_label: bool = True
) -> DataFrame:
    """Key, passthrough columns, every mapped feature (numeric and binary as double) and maybe the label."""
    from pyspark.sql import functions as F

    clean = nan_to_null(raw)
    missing = [c for c in (mappings.entity_key, *mappings.passthrough) if c not in clean.columns]
    if missing:
        raise FeatureConfigError(f"feature_mappings: input table lacks column(s) {missing}")
    columns = [F.col(mappings.entity_key), *(F.col(c) for c in mappings.passthrough)]
    columns += [F.expr(f.expr).cast(SPARK_TYPES[f.type]).alias(f.name) for f in mappings.features]
    if include_label:
        if mappings.label not in clean.columns:
            raise FeatureConfigError(
                f"feature_mappings.label={mappings.label!r}: not a column of the input table"
            )
        columns.append(F.col(mappings.label).cast("int").alias(mappings.label))
    try:
        features = clean.select(*columns)
        features.schema  # noqa: B018 - forces analysis now (Spark Connect defers it), so errors name the feature
    except Exception as error:  # noqa: BLE001 - re-raised with the feature that caused it
        raise _explain(clean, mappings, error) from error
    return features


def _explain(clean: DataFrame, mappings: FeatureMappings, error: Exception) -> Exception:
    """Find the feature whose expression Spark rejected and name it with Spark's first line."""
    from pyspark.sql import functions as F

    for feature in mappings.features:
        try:
            clean.select(F.expr(feature.expr)).schema  # noqa: B018
        except Exception as feature_error:  # noqa: BLE001
            first_line = str(feature_error).strip().splitlines()[0]
            return FeatureConfigError(
                f"feature_mappings.feature_groups.{feature.group}.features.{feature.name}: "
                f"expr {feature.expr!r} fails: {first_line}"
            )
    return error
