"""A small champion in a throwaway registry: what the serving tests score against."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def serving_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("serving")


@pytest.fixture(scope="session")
def serving_overrides(serving_root, overrides_at) -> list[str]:
    """`--set` values that keep the registry and the request log of the serving tests in a tmp folder."""
    return [*overrides_at(serving_root), f"serving.request_log={serving_root / 'requests.jsonl'}"]


@pytest.fixture(scope="session")
def serving_config(config_at, serving_root) -> dict:
    return config_at(serving_root, f"serving.request_log={serving_root / 'requests.jsonl'}")


@pytest.fixture(scope="session")
def champion(serving_config, spark):
    """A model trained on synthetic features, logged with its signature and promoted to `champion`."""
    import mlflow

    from {{ cookiecutter.package_name }}.core.model import make_model
    from {{ cookiecutter.package_name }}.core.sample_data import generate_patients
    from {{ cookiecutter.package_name }}.io import tracking
    from {{ cookiecutter.package_name }}.pipelines.model_data import model_inputs
    from {{ cookiecutter.package_name }}.spark.features import build_feature_table, nan_to_null

    config = serving_config
    mappings, features, imputation = model_inputs(config)
    raw = nan_to_null(spark.createDataFrame(generate_patients(1500, seed=11)))
    frame = build_feature_table(raw, mappings).toPandas()
    inputs = frame[[feature.name for feature in features]]
    model = make_model(features, imputation, {"max_iter": 30}, class_weight="balanced", seed=1)
    model.fit(inputs, frame[mappings.label])
    tracking.configure_mlflow(config)
    with mlflow.start_run(run_name="serving-test-model"):
        info = tracking.log_sklearn_model(model, inputs)
    name = tracking.model_name(config)
    version = tracking.register_model(info.model_uri, name, {"purpose": "serving tests"})
    tracking.set_alias(name, tracking.CHAMPION, version.version)
    return version


def _call(
    url: str,
    payload: object | None = None,
    *,
    raw: bytes | None = None,
    content_type: str = "application/json",
):
    """(status, parsed JSON body) of one request; HTTP errors are answers here, not exceptions."""
    body = raw if raw is not None else (None if payload is None else json.dumps(payload).encode())
    request = urllib.request.Request(url, data=body, headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture(scope="session")
def call():
    """`call(url, payload)` -> (status, JSON answer): one HTTP request to a scoring service."""
    return _call
