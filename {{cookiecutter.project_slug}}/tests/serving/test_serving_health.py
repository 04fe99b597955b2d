"""The monitor's serving figures, aggregated in Spark from a request log with known traffic."""

import json
from datetime import UTC, datetime, timedelta

from {{ cookiecutter.package_name }}.pipelines.common import StepContext
from {{ cookiecutter.package_name }}.pipelines.serving_health import serving_health


def write_log(path, entries):
    path.write_text("".join(json.dumps(entry) + "\n" for entry in entries))


def entry(when, status, latency):
    stamp = when.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {
        "request_time": stamp,
        "request_id": "x",
        "status_code": status,
        "execution_duration_ms": latency,
        "rows": 1,
        "model_version": "1",
    }


def test_rates_and_percentiles_cover_the_lookback_window_only(make_config, spark, tmp_path):
    now = datetime.now(UTC)
    log = tmp_path / "requests.jsonl"
    traffic = [entry(now - timedelta(minutes=i), 200, 5.0) for i in range(90)]
    traffic += [entry(now, 503, 20.0)] * 4 + [entry(now, 422, 1.0)] * 6
    traffic += [entry(now - timedelta(hours=30), 500, 9000.0)] * 50  # outside the 24 h window
    write_log(log, traffic)
    config = make_config(f"serving.request_log={log}", "serving.inference_table=null")
    section = serving_health(StepContext(config, spark))
    assert section["requests"] == 100 and section["source"].startswith("request log")
    assert abs(section["server_error_rate"] - 0.04) < 1e-9 and abs(section["client_error_rate"] - 0.06) < 1e-9
    assert section["latency_ms"]["p50"] == 5.0 and section["latency_ms"]["max"] == 20.0
    assert section["alerts"] == ["server errors: 4.0% of 100 requests answered 5xx > 1.0%"]


def test_no_traffic_yet_is_a_note_not_an_error(make_config, spark, tmp_path):
    config = make_config(f"serving.request_log={tmp_path / 'none.jsonl'}", "serving.inference_table=null")
    section = serving_health(StepContext(config, spark))
    assert section["requests"] == 0 and section["alerts"] == [] and "make serve" in section["note"]
