"""Read and write the pipeline's tables by logical name (configs/project.yml `tables`).

Locally a table is a Parquet folder under `<paths.root>/tables/`; on Databricks it is a managed
Delta table `<catalog>.<schema>.<name>` (or `<schema>.<name>` without Unity Catalog).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import ConfigError, resolve_path

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

# Which step first writes each table, for the "run X first" hint.
_WRITTEN_BY = {
    "training_data": "sample_data (or your ingestion job)",
    "scoring_data": "sample_data (or your ingestion job)",
    "drifted_scoring_data": "sample_data",
    "outcomes": "sample_data (or your ingestion job)",
    "features": "build_features",
    "predictions": "batch_inference",
}


class TableNotFound(RuntimeError):
    """A table the step needs has not been written yet."""


def table_name(config: dict[str, Any], logical: str) -> str:
    """The physical name of a logical table (e.g. 'features' -> 'patient_features')."""
    tables = config.get("tables") or {}
    if logical not in tables:
        raise ConfigError(f"tables.{logical}: not configured; add it to configs/project.yml")
    if tables[logical] is None:
        hint = "run make adopt-table TABLE=<table> KEY=<key column> LABEL=<label column>, or "
        raise ConfigError(
            f"tables.{logical} is not set: {hint if logical == 'training_data' else ''}"
            f"name the table in configs/project.yml (or configs/{config.get('environment')}.yml)"
        )
    return str(tables[logical])


def storage_format(config: dict[str, Any]) -> str:
    fmt = (config.get("storage") or {}).get("format", "parquet")
    if fmt not in ("parquet", "delta"):
        raise ConfigError(f"storage.format={fmt!r}: use parquet (local) or delta (Databricks)")
    return fmt


def qualified_name(config: dict[str, Any], logical: str) -> str:
    """`catalog.schema.table` (Unity Catalog) or `schema.table`; a dotted name is already qualified.

    So `tables.training_data: raw.ehr.pregnancies` reads another schema's table as it is.
    """
    name = table_name(config, logical)
    if "." in name:
        return name
    parts = [config.get("catalog"), config.get("schema"), name]
    return ".".join(str(p) for p in parts if p)


def table_location(config: dict[str, Any], logical: str) -> str:
    """Where a table lives: a folder for Parquet, a qualified name for Delta (for messages and reports)."""
    if storage_format(config) == "delta":
        return qualified_name(config, logical)
    return str(Path(resolve_path(config, config["paths"]["root"])) / "tables" / table_name(config, logical))


def table_exists(spark: SparkSession, config: dict[str, Any], logical: str) -> bool:
    """True when the table is named and written; a table set to null (e.g. no outcomes yet) never exists."""
    if (config.get("tables") or {}).get(logical, "") is None:
        return False
    if storage_format(config) == "delta":
        return bool(spark.catalog.tableExists(qualified_name(config, logical)))
    return Path(table_location(config, logical)).is_dir()


def read_table(spark: SparkSession, config: dict[str, Any], logical: str) -> DataFrame:
    """The table as a DataFrame; TableNotFound names the step that writes it."""
    if not table_exists(spark, config, logical):
        hint = _WRITTEN_BY.get(logical, "the step that writes it")
        raise TableNotFound(
            f"table {logical!r} ({table_location(config, logical)}) does not exist yet: run {hint} first"
        )
    if storage_format(config) == "delta":
        return spark.table(qualified_name(config, logical))
    return spark.read.parquet(table_location(config, logical))


def write_table(df: DataFrame, config: dict[str, Any], logical: str, *, mode: str = "overwrite") -> str:
    """Write (overwrite or append) and return where the table went."""
    location = table_location(config, logical)
    if storage_format(config) == "delta":
        writer = df.write.format("delta").mode(mode)
        if mode == "overwrite":
            writer = writer.option("overwriteSchema", "true")
        else:  # appended batches may carry new feature columns after a feature change
            writer = writer.option("mergeSchema", "true")
        writer.saveAsTable(location)
    else:
        df.write.mode(mode).parquet(location)
    return location
