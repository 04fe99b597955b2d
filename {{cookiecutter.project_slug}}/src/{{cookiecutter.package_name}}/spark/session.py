"""The SparkSession: the cluster's own on Databricks, a small local one everywhere else."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import resolve_path

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def on_databricks() -> bool:
    """True inside a Databricks runtime (jobs, notebooks), where the platform owns the session."""
    return "DATABRICKS_RUNTIME_VERSION" in os.environ


def get_spark(config: dict[str, Any]) -> SparkSession:
    """The active session, or a local one configured from the environment's `spark` section."""
    from pyspark.sql import SparkSession

    if on_databricks():
        return SparkSession.builder.getOrCreate()
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    settings = config.get("spark") or {}
    # Local Spark binds to loopback only, and its Python workers must use this interpreter.
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    scratch = Path(resolve_path(config, config["paths"]["root"])) / "spark"
    builder = (
        SparkSession.builder.master(settings.get("master") or "local[2]")
        .appName(f"{config['project']['slug']}-{config['environment']}")
        .config("spark.sql.shuffle.partitions", str(settings.get("shuffle_partitions") or 4))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.warehouse.dir", str(scratch / "warehouse"))
        .config("spark.local.dir", str(scratch / "tmp"))
    )
    for key, value in (settings.get("conf") or {}).items():
        builder = builder.config(key, str(value))
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark
