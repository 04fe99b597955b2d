"""Health of the real-time endpoint: judge its request counts, error rates and latency.

Pure logic: `pipelines/serving_health.py` aggregates the traffic in Spark (local request log
or Databricks inference table) and hands the figures here. These are operational alerts for
the team that runs the endpoint; they never trigger a retrain on their own.
"""

from __future__ import annotations

from typing import Any


def serving_alerts(figures: dict[str, Any], limits: dict[str, Any]) -> list[str]:
    """One line per exceeded limit; nothing is judged below `min_requests` requests."""
    requests = int(figures.get("requests") or 0)
    if requests < int(limits["min_requests"]):
        return []
    alerts = []
    error_rate = float(figures.get("server_error_rate") or 0.0)
    if error_rate > float(limits["max_server_error_rate"]):
        alerts.append(
            f"server errors: {error_rate:.1%} of {requests} requests answered 5xx "
            f"> {float(limits['max_server_error_rate']):.1%}"
        )
    p99 = (figures.get("latency_ms") or {}).get("p99")
    if p99 is not None and float(p99) > float(limits["max_p99_latency_ms"]):
        alerts.append(f"latency: p99 {float(p99):.0f} ms > {float(limits['max_p99_latency_ms']):.0f} ms")
    return alerts


def serving_summary_lines(section: dict[str, Any]) -> list[str]:
    """The Markdown lines of the monitoring summary about the endpoint."""
    lines = ["", "## Real-time serving", ""]
    hours = section.get("lookback_hours")
    if not section.get("requests"):
        return [*lines, f"No requests in the last {hours} h ({section.get('note', 'no traffic')})."]
    latency = section["latency_ms"]
    lines += [
        f"{section['requests']} requests in the last {hours} h from {section['source']}: "
        f"{section['server_error_rate']:.2%} server errors (5xx), "
        f"{section['client_error_rate']:.2%} rejected (4xx).",
        f"Latency: p50 {latency['p50']:.1f} ms, p95 {latency['p95']:.1f} ms, p99 {latency['p99']:.1f} ms "
        f"(max {latency['max']:.1f} ms).",
    ]
    if section["alerts"]:
        lines += ["", "**Serving alerts:**", *(f"- {alert}" for alert in section["alerts"])]
    return lines


def serving_metric_values(section: dict[str, Any]) -> dict[str, float]:
    """The figures logged to the monitoring run in MLflow (absent ones are left out)."""
    if not section.get("requests"):
        return {"serving_requests": 0.0}
    return {
        "serving_requests": float(section["requests"]),
        "serving_server_error_rate": float(section["server_error_rate"]),
        "serving_client_error_rate": float(section["client_error_rate"]),
        "serving_latency_p50_ms": float(section["latency_ms"]["p50"]),
        "serving_latency_p99_ms": float(section["latency_ms"]["p99"]),
        "serving_alerts": float(len(section["alerts"])),
    }
