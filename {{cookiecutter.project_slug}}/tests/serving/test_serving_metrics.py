"""Serving alerts: judged only with enough traffic, one line per exceeded limit."""

from {{ cookiecutter.package_name }}.core.serving_metrics import (
    serving_alerts,
    serving_metric_values,
    serving_summary_lines,
)

LIMITS = {"min_requests": 20, "max_server_error_rate": 0.01, "max_p99_latency_ms": 300}


def figures(requests=100, server_error_rate=0.0, p99=50.0):
    return {
        "requests": requests,
        "server_error_rate": server_error_rate,
        "client_error_rate": 0.05,
        "latency_ms": {"p50": 10.0, "p95": 30.0, "p99": p99, "max": p99 + 1},
        "lookback_hours": 24,
        "source": "request log",
    }


def test_healthy_traffic_raises_no_alert():
    assert serving_alerts(figures(), LIMITS) == []


def test_server_errors_and_slow_p99_each_raise_one_alert():
    alerts = serving_alerts(figures(server_error_rate=0.03, p99=450.0), LIMITS)
    assert len(alerts) == 2
    assert alerts[0].startswith("server errors: 3.0% of 100 requests") and "p99 450 ms > 300 ms" in alerts[1]


def test_too_little_traffic_is_not_judged():
    assert serving_alerts(figures(requests=5, server_error_rate=0.5, p99=9999.0), LIMITS) == []


def test_summary_and_metrics_show_the_figures():
    section = {**figures(server_error_rate=0.03), "alerts": ["server errors: 3.0% ..."]}
    text = "\n".join(serving_summary_lines(section))
    assert "100 requests in the last 24 h" in text and "p99 50.0 ms" in text and "Serving alerts" in text
    assert serving_metric_values(section)["serving_server_error_rate"] == 0.03
    quiet = {"requests": 0, "alerts": [], "lookback_hours": 24, "note": "no request log yet"}
    assert "No requests in the last 24 h (no request log yet)" in "\n".join(serving_summary_lines(quiet))
    assert serving_metric_values(quiet) == {"serving_requests": 0.0}
