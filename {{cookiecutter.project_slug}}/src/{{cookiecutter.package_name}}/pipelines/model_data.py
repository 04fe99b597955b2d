"""The feature table as pandas, with each row's split: what training, validation and monitoring read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..core.features import (
    FeatureMappings,
    FeatureSpec,
    imputation_plan,
    parse_feature_mappings,
    select_features,
)
from ..core.training import assign_splits, parse_split_config
from ..io.tables import read_table
from .common import PipelineError, StepContext


@dataclass
class ModelData:
    frame: pd.DataFrame
    mappings: FeatureMappings
    features: list[FeatureSpec]
    imputation: dict[str, Any]

    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.features]

    def rows(self, *splits: str) -> pd.DataFrame:
        return self.frame[self.frame["split"].isin(splits)]

    def x(self, frame: pd.DataFrame) -> pd.DataFrame:
        return frame[self.feature_names]

    def y(self, frame: pd.DataFrame) -> pd.Series:
        return frame[self.mappings.label].astype(int)


def model_inputs(config: dict[str, Any]) -> tuple[FeatureMappings, list[FeatureSpec], dict[str, Any]]:
    """Mappings, the selected features and their imputation, all from configs/."""
    mappings = parse_feature_mappings(config["feature_mappings"])
    features = select_features(mappings, config["feature_selection"])
    return mappings, features, imputation_plan(features, config["imputation"], mappings.names())


def load_model_data(context: StepContext) -> ModelData:
    """Read the feature table into pandas and assign every row its stable split."""
    config = context.config
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
    frame = df.toPandas()
    fractions = parse_split_config(config["training"]["split_config"])
    frame["split"] = assign_splits(
        frame[mappings.entity_key], fractions, str(config["training"]["split_salt"])
    )
    return ModelData(frame=frame, mappings=mappings, features=features, imputation=imputation)
