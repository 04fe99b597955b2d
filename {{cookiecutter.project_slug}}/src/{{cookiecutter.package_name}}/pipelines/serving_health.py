"""Latency and error figures of the real-time endpoint, for the monitoring report.

Reads the endpoint's requests of the last `monitoring.serving.lookback_hours`: on Databricks
from the inference table the Model Serving endpoint logs to (`serving.inference_table`),
locally from the service's request log (`serving.request_log`). Both have the columns
`request_time`, `status_code` and `execution_duration_ms`, so one Spark aggregation serves both.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..config import resolve_path
from ..core.serving_metrics import serving_alerts
from ..io.reports import local_path
from .common import StepContext

PERCENTILES = (0.5, 0.95, 0.99)


def serving_health(context: StepContext) -> dict[str, Any]:
    """Requests, 5xx and 4xx rates, latency percentiles and alerts over the lookback window."""
    config = context.config
    limits = config["monitoring"]["serving"]
    hours = float(limits["lookback_hours"])
    section: dict[str, Any] = {"lookback_hours": hours, "requests": 0, "alerts": []}
    requests, source = _requests(context)
    if requests is None:
        section["note"] = source
        return section
    section["source"] = source
    section.update(_figures(requests, hours))
    section["alerts"] = serving_alerts(section, limits)
    return section


def _requests(context: StepContext) -> tuple[Any, str]:
    """The request records and where they came from, or (None, why there are none)."""
    settings = context.config.get("serving") or {}
    table = settings.get("inference_table")
    if table:
        if not context.spark.catalog.tableExists(table):
            return None, f"inference table {table} does not exist yet (the endpoint has had no traffic)"
        return context.spark.table(table), f"inference table {table}"
    log = settings.get("request_log")
    if log:
        path = local_path(resolve_path(context.config, log))
        if not Path(path).is_file() or Path(path).stat().st_size == 0:
            return None, f"no request log at {path} yet (start the service with `make serve`)"
        return context.spark.read.json(str(path)), f"request log {path}"
    return None, "no inference table or request log configured for this environment"


def _figures(requests: Any, hours: float) -> dict[str, Any]:
    from pyspark.sql import functions as F

    recent = requests.select(
        F.col("request_time").cast("timestamp").alias("request_time"),
        F.col("status_code").cast("int").alias("status_code"),
        F.col("execution_duration_ms").cast("double").alias("latency_ms"),
    ).where(F.col("request_time") >= F.current_timestamp() - F.expr(f"INTERVAL {int(hours * 3600)} SECONDS"))
    row = recent.agg(
        F.count(F.lit(1)).alias("requests"),
        F.sum((F.col("status_code") >= 500).cast("int")).alias("server_errors"),
        F.sum(((F.col("status_code") >= 400) & (F.col("status_code") < 500)).cast("int")).alias(
            "client_errors"
        ),
        F.percentile_approx("latency_ms", list(PERCENTILES), 10000).alias("percentiles"),
        F.max("latency_ms").alias("max_latency"),
        F.min("request_time").alias("first"),
        F.max("request_time").alias("last"),
    ).first()
    count = int(row["requests"] or 0)
    if count == 0:
        return {"requests": 0, "note": f"no requests in the last {hours:g} h"}
    p50, p95, p99 = (float(value) for value in row["percentiles"])
    return {
        "requests": count,
        "server_error_rate": (row["server_errors"] or 0) / count,
        "client_error_rate": (row["client_errors"] or 0) / count,
        "latency_ms": {"p50": p50, "p95": p95, "p99": p99, "max": float(row["max_latency"])},
        "first_request": row["first"].isoformat() if row["first"] else None,
        "last_request": row["last"].isoformat() if row["last"] else None,
    }
