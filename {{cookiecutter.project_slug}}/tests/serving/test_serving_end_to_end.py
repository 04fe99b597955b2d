"""The pipeline's champion served for real: feature rows scored, traffic in the monitoring report."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.config import apply_overrides
from {{ cookiecutter.package_name }}.io import tracking
from {{ cookiecutter.package_name }}.io.tables import read_table
from {{ cookiecutter.package_name }}.pipelines.common import StepContext
from {{ cookiecutter.package_name }}.pipelines.monitor import monitor
from {{ cookiecutter.package_name }}.serving.__main__ import build_server

pytestmark = pytest.mark.integration


def test_champion_scores_feature_rows_and_the_monitor_reports_the_traffic(pipeline, spark, call):
    context, run = pipeline
    log = Path(context.config["paths"]["root"]) / "serving" / "requests.jsonl"
    config = apply_overrides(context.config, [f"serving.request_log={log}"])
    server = build_server(config, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        champion = tracking.version_by_alias(tracking.model_name(config), tracking.CHAMPION)
        assert server.service.model.version == champion.version
        inputs = [column.name for column in server.service.model.columns]
        features = read_table(spark, config, "features").limit(40).toPandas()
        rows = json.loads(features[inputs].to_json(orient="records"))
        for start in range(0, len(rows), 2):
            status, answer = call(f"{server.url}/invocations", {"dataframe_records": rows[start : start + 2]})
            assert status == 200 and len(answer["predictions"]) == 2
        for _ in range(2):
            assert call(f"{server.url}/invocations", {"dataframe_records": [{"age": "x"}]})[0] == 422
    finally:
        server.shutdown()
        server.server_close()
        server.service.log.close()

    result = monitor(StepContext(config, spark))
    report = json.loads((Path(result.report_dir) / "report.json").read_text())
    section = report["serving"]
    assert section["requests"] == 22 and section["server_error_rate"] == 0
    assert section["client_error_rate"] == pytest.approx(2 / 22)
    assert 0 < section["latency_ms"]["p50"] <= section["latency_ms"]["p99"] <= section["latency_ms"]["max"]
    assert "## Real-time serving" in (Path(result.report_dir) / "summary.md").read_text()
