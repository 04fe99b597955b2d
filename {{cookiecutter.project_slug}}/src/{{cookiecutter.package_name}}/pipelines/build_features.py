"""Step 2: compute the feature table from configs/feature_mappings.yml.

Every mapped feature is computed (in Spark, one select); the model later picks its inputs with
configs/feature_selection_config.yml. Written to the Databricks feature store when enabled and
running on Databricks, else to a Delta (cluster) or Parquet (local) table.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from ..core.features import parse_feature_mappings, select_features
from ..io.feature_store import uses_feature_store, write_features
from ..io.tables import read_table
from ..spark.features import build_feature_table
from .common import StepContext, entry_point


@dataclass
class FeatureResult:
    table: str
    rows: int
    features: int
    selected: int
    feature_store: bool

    def summary(self) -> str:
        where = "feature store table" if self.feature_store else "table"
        return (
            f"{self.features} features ({self.selected} selected for the model) for {self.rows} rows "
            f"written to {where} {self.table}"
        )


def build_features(context: StepContext) -> FeatureResult:
    """Read the training table, compute every feature, write the feature table."""
    mappings = parse_feature_mappings(context.config["feature_mappings"])
    # Fail on a bad selection now, not later in training.
    selected = select_features(mappings, context.config["feature_selection"])
    raw = read_table(context.spark, context.config, "training_data")
    features = build_feature_table(raw, mappings, include_label=True)
    table = write_features(
        context.spark,
        features,
        context.config,
        key=mappings.entity_key,
        description=f"Features of {context.config['project']['name']} (feature_mappings.yml)",
    )
    rows = read_table(context.spark, context.config, "features").count()
    return FeatureResult(
        table, rows, len(mappings.features), len(selected), uses_feature_store(context.config)
    )


run = entry_point(build_features)

if __name__ == "__main__":
    sys.exit(run.main())
