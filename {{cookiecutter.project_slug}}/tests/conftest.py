"""Shared fixtures: one local SparkSession per test run, and configs that write only to tmp folders.

The tests run the pipeline on the invented example, wherever it is (configs/, or configs/example/
once `make adopt-table` has parked it there), so they pass whatever table the project adopted.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.config import load_config

CONFIG_DIR = Path(__file__).resolve().parents[1] / "configs"
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")


def local_overrides(root: Path) -> list[str]:
    """The example (even once a table is adopted), with every table, report and MLflow file under `root`."""
    return [
        "example.enabled=true",
        f"paths.root={root}",
        f"paths.reports={root / 'reports'}",
        f"mlflow.tracking_uri=sqlite:///{root / 'mlflow.db'}",
        f"mlflow.registry_uri=sqlite:///{root / 'mlflow.db'}",
        f"mlflow.artifact_location={root / 'mlartifacts'}",
        "training.hyperopt.max_evals=3",
        "sample_data.training_rows=5000",
        "sample_data.scoring_rows=1000",
    ]


@pytest.fixture(scope="session")
def config_at():
    """A function: the local config with every table, report and MLflow file under `root`."""

    def _config_at(root: Path, *overrides: str) -> dict:
        return load_config("local", CONFIG_DIR, overrides=[*local_overrides(root), *overrides])

    return _config_at


@pytest.fixture(scope="session")
def overrides_at():
    """A function: the `--set` values that point a command-line run at `root` (see local_overrides)."""
    return local_overrides


@pytest.fixture
def make_config(tmp_path, config_at):
    """The local config redirected to this test's tmp folder; extra 'key=value' overrides win."""

    def _make(*overrides: str) -> dict:
        return config_at(tmp_path, *overrides)

    return _make


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    """The one local SparkSession of the test run (starting one costs seconds)."""
    from {{ cookiecutter.package_name }}.spark.session import get_spark

    root = tmp_path_factory.mktemp("spark")
    session = get_spark(load_config("local", CONFIG_DIR, overrides=local_overrides(root)))
    yield session
    session.stop()


@pytest.fixture(scope="session")
def driver_transfers() -> list[tuple[str, str, int]]:
    """(step, call, rows) for every DataFrame.collect / toPandas during the `pipeline` run."""
    return []


@pytest.fixture(scope="session")
def pipeline(spark, tmp_path_factory, config_at, driver_transfers):
    """One full local run (sample data, all seven steps, fresh and drifted batches) for end-to-end tests.

    Every row a step brings to the driver is counted (driver_transfers), so a test can prove that the
    distributed engine never collects a table.
    """
    from {{ cookiecutter.package_name }}.pipelines import __main__ as runner
    from {{ cookiecutter.package_name }}.pipelines.common import StepContext

    root = tmp_path_factory.mktemp("pipeline")
    context = StepContext(config_at(root), spark)
    DataFrame = type(spark.range(1))  # Spark 4's classic DataFrame overrides the base class's methods
    current = {"step": "setup"}
    collect, to_pandas, timed = DataFrame.collect, DataFrame.toPandas, runner.PipelineRun.timed

    def counted_collect(self):
        rows = collect(self)
        driver_transfers.append((current["step"], "collect", len(rows)))
        return rows

    def counted_to_pandas(self):
        frame = to_pandas(self)
        driver_transfers.append((current["step"], "toPandas", len(frame)))
        return frame

    def step_named(self, label, step, step_context):
        current["step"] = label
        return timed(self, label, step, step_context)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DataFrame, "collect", counted_collect)
        patch.setattr(DataFrame, "toPandas", counted_to_pandas)
        patch.setattr(runner.PipelineRun, "timed", step_named)
        return context, runner.run_pipeline(context, with_sample_data=True)
