"""Write the feature table: Databricks Feature Engineering in Unity Catalog when enabled, else a plain table.

The feature store client exists only on Databricks ML runtimes, so it is imported only when
`feature_store.enabled` is true AND the code runs on Databricks; locally the same features go
to a Parquet table and the rest of the pipeline reads them the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..spark.session import on_databricks
from .tables import qualified_name, write_table

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


def uses_feature_store(config: dict[str, Any]) -> bool:
    return bool((config.get("feature_store") or {}).get("enabled")) and on_databricks()


def write_features(
    spark: SparkSession, df: DataFrame, config: dict[str, Any], *, key: str, description: str
) -> str:
    """Create or merge into the feature table; returns its name or location."""
    if not uses_feature_store(config):
        return write_table(df, config, "features")
    from databricks.feature_engineering import FeatureEngineeringClient

    name = qualified_name(config, "features")
    client = FeatureEngineeringClient()
    if spark.catalog.tableExists(name):
        client.write_table(name=name, df=df, mode="merge")
    else:
        client.create_table(name=name, primary_keys=[key], df=df, description=description)
    return name
