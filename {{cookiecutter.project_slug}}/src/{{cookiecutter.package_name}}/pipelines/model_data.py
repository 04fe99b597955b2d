"""The feature table with each row's split and tuning role: what training and validation read.

`load_feature_table` stays in Spark (the distributed engine, validate_model, the reference
profile); only the single-node engine turns it into pandas on the driver (`ModelData`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..core.features import (
    FeatureMappings,
    FeatureSpec,
    imputation_plan,
    parse_feature_mappings,
    select_features,
)
from ..core.training import TuningPlan, tuning_plan
from ..io.tables import read_table
from ..spark.splits import with_roles
from .common import PipelineError, StepContext

if TYPE_CHECKING:
    import pandas as pd
    from pyspark.sql import DataFrame


@dataclass
class FeatureTable:
    """The features as a Spark DataFrame with `split` and `role` columns, and what the model uses of it."""

    df: DataFrame
    mappings: FeatureMappings
    features: list[FeatureSpec]
    imputation: dict[str, Any]
    plan: TuningPlan

    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.features]

    def rows(self, *roles: str) -> DataFrame:
        from pyspark.sql import functions as F

        return self.df.where(F.col("role").isin(list(roles)))


@dataclass
class ModelData:
    """The same table on the driver, for the single-node engine."""

    frame: pd.DataFrame
    mappings: FeatureMappings
    features: list[FeatureSpec]
    imputation: dict[str, Any]

    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.features]

    def rows(self, *roles: str) -> pd.DataFrame:
        return self.frame[self.frame["role"].isin(roles)]

    def x(self, frame: pd.DataFrame) -> pd.DataFrame:
        return frame[self.feature_names]

    def y(self, frame: pd.DataFrame) -> pd.Series:
        return frame[self.mappings.label].astype(int)


def model_inputs(config: dict[str, Any]) -> tuple[FeatureMappings, list[FeatureSpec], dict[str, Any]]:
    """Mappings, the selected features and their imputation, all from configs/."""
    mappings = parse_feature_mappings(config["feature_mappings"])
    features = select_features(mappings, config["feature_selection"])
    return mappings, features, imputation_plan(features, config["imputation"], mappings.names())


def load_feature_table(context: StepContext) -> FeatureTable:
    """The feature table (lazily, in Spark) with every row's stable split and role."""
    config = context.config
    settings = config["training"]
    mappings, features, imputation = model_inputs(config)
    df = read_table(context.spark, config, "features")
    missing = [
        name
        for name in [mappings.entity_key, mappings.label, *(f.name for f in features)]
        if name not in df.columns
    ]
    if missing:
        raise PipelineError(
            f"feature table lacks {missing}: run build_features after changing feature_mappings.yml"
        )
    plan = tuning_plan(settings["split_config"], settings["tuning_holdout"], str(settings["split_salt"]))
    return FeatureTable(with_roles(df, mappings.entity_key, plan), mappings, features, imputation, plan)


def load_model_data(table: FeatureTable) -> ModelData:
    """The whole feature table in pandas: the single-node engine's premise that it fits the driver."""
    return ModelData(table.df.toPandas(), table.mappings, table.features, table.imputation)
