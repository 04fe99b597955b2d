"""Smoke test of `make serve`: the real service on a free loopback port, scoring the champion."""

from __future__ import annotations

import json
import re
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.serving.__main__ import build_server
from {{ cookiecutter.package_name }}.serving.server import ScoringService

REPO_ROOT = Path(__file__).resolve().parents[2]
SECRET = "Jane Doe MRN 0042"


@pytest.fixture(scope="module")
def service_url(champion, serving_overrides):
    """`python -m <package>.serving` started on port 0; yields its URL, then stops it with SIGTERM."""
    settings = [arg for override in serving_overrides for arg in ("--set", override)]
    command = [
        sys.executable,
        "-m",
        "{{ cookiecutter.package_name }}.serving",
        "--env",
        "local",
        "--port",
        "0",
        *settings,
    ]
    process = subprocess.Popen(
        command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    banner = _read_line(process, timeout=120)
    match = re.search(r"at (http://127\.0\.0\.1:\d+)", banner)
    assert match, f"no URL in the service's first line: {banner!r}; stderr: {process.stderr.read()[-2000:]}"
    yield match.group(1), process
    if process.poll() is None:
        process.kill()


def _read_line(process: subprocess.Popen, timeout: float) -> str:
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if selector.select(timeout=1):
            return process.stdout.readline()
        if process.poll() is not None:
            return ""
    return ""


def test_the_service_scores_sample_rows_with_the_champion(service_url, champion, call):
    url, _ = service_url
    status, health = call(f"{url}/health")
    assert status == 200 and health["model_version"] == champion.version
    status, example = call(f"{url}/example")
    rows = example["dataframe_records"]
    assert status == 200 and len(rows) == 5
    status, scored = call(f"{url}/invocations", {"dataframe_records": rows})
    assert status == 200 and len(scored["predictions"]) == len(rows)
    for low, high in scored["predictions"]:
        assert 0 <= high <= 1 and abs(low + high - 1) < 1e-9
    columns = list(rows[0])
    split = {"dataframe_split": {"columns": columns, "data": [[row[c] for c in columns] for row in rows]}}
    assert call(f"{url}/invocations", split) == (200, scored)


def test_a_bad_request_gets_a_4xx_naming_the_field(service_url, call):
    url, _ = service_url
    _, example = call(f"{url}/example")
    row = example["dataframe_records"][0]
    status, answer = call(f"{url}/invocations", {"dataframe_records": [{**row, "systolic_bp": SECRET}]})
    assert status == 422 and answer["field"] == "systolic_bp"
    assert answer["message"] == "dataframe_records[0].systolic_bp: expected a number, got a string"
    status, answer = call(
        f"{url}/invocations", {"dataframe_records": [{k: v for k, v in row.items() if k != "age"}]}
    )
    assert status == 422 and answer["field"] == "age" and "missing" in answer["message"]
    assert call(f"{url}/invocations", raw=b"{oops")[0] == 400
    assert call(f"{url}/invocations", {"dataframe_records": [row]}, content_type="text/plain")[0] == 415
    assert call(f"{url}/invocations", raw=b" " * (1_048_576 + 1))[0] == 413
    assert call(f"{url}/nowhere")[0] == 404


def test_stopping_leaves_a_request_log_without_payloads(service_url, serving_root, call):
    url, process = service_url
    call(f"{url}/ping")
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    assert "stopped" in process.stdout.read()
    log = (serving_root / "requests.jsonl").read_text()
    entries = [json.loads(line) for line in log.splitlines()]
    statuses = [entry["status_code"] for entry in entries]
    assert 200 in statuses and 422 in statuses and 413 in statuses
    assert {"request_time", "status_code", "execution_duration_ms", "model_version"} <= set(entries[0])
    assert SECRET not in log and "systolic_bp" not in log


def test_routes_and_methods_in_process(champion, serving_config):
    server = build_server(serving_config, "127.0.0.1", 0)
    try:
        service: ScoringService = server.service
        metadata = service.handle("GET", "/metadata", None, b"")
        assert metadata.status == 200 and metadata.body["alias"] == "champion"
        assert {"name": "age", "type": "double", "required": True} in metadata.body["inputs"]
        assert service.handle("GET", "/invocations", None, b"").status == 405
        assert service.handle("DELETE", "/health", None, b"").status == 405
        assert service.handle("POST", "/invocations", "application/json; charset=utf-8", b"[]").status == 400
    finally:
        server.server_close()


def test_no_champion_is_one_clear_error_line(serving_overrides, tmp_path, capsys):
    from {{ cookiecutter.package_name }}.serving.__main__ import main

    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    code = main(
        [
            "--env",
            "local",
            "--port",
            "0",
            *[a for o in serving_overrides for a in ("--set", o)],
            "--set",
            f"mlflow.tracking_uri={empty}",
            "--set",
            f"mlflow.registry_uri={empty}",
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and "has no 'champion' version yet" in err[0]
