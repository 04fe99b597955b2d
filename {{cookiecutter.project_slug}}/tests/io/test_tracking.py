"""MLflow setup stays inside the configured folder; aliases read back as versions or None."""

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd

from {{ cookiecutter.package_name }}.io import tracking


def test_relative_sqlite_store_resolves_against_the_repository(make_config, tmp_path):
    config = make_config(
        f"repo_root={tmp_path}",
        "mlflow.tracking_uri=sqlite:///.store/mlflow.db",
        "mlflow.registry_uri=sqlite:///.store/mlflow.db",
        "mlflow.artifact_location=.store/artifacts",
    )
    tracking.configure_mlflow(config)
    assert mlflow.get_tracking_uri() == f"sqlite:///{tmp_path / '.store' / 'mlflow.db'}"
    experiment = mlflow.get_experiment_by_name(config["mlflow"]["experiment"])
    assert experiment.artifact_location.startswith((tmp_path / ".store" / "artifacts").as_uri())


def test_alias_of_an_unknown_model_is_none(make_config):
    tracking.configure_mlflow(make_config())
    assert tracking.version_by_alias("no_such_model", tracking.CHAMPION) is None


def test_commit_comes_from_the_environment_first(make_config, monkeypatch):
    monkeypatch.setenv("GIT_COMMIT", "abc123")
    assert tracking.current_commit(make_config()) == "abc123"
    monkeypatch.delenv("GIT_COMMIT")
    for variable in ("GITHUB_SHA", "CI_COMMIT_SHA", "BUILD_SOURCEVERSION"):
        monkeypatch.delenv(variable, raising=False)
    assert tracking.current_commit(make_config(f"repo_root={Path('/')}")) == "unknown"


def test_the_stored_input_example_holds_no_real_row():
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "age": rng.integers(16, 45, 300).astype(float),
            "bmi": np.where(rng.random(300) < 0.2, np.nan, rng.normal(27, 4, 300)),
            "insurance_type": rng.choice(["medicaid", "commercial", "uninsured"], 300, p=[0.5, 0.4, 0.1]),
            "never_recorded": np.full(300, np.nan),
        }
    )
    example = tracking.anonymous_example(frame)
    assert list(example.columns) == list(frame.columns) and len(example) == 5
    assert (example.dtypes == frame.dtypes).all()
    real_rows = set(frame[["age", "bmi", "insurance_type"]].itertuples(index=False, name=None))
    assert not real_rows & set(example[["age", "bmi", "insurance_type"]].itertuples(index=False, name=None))
    assert example["age"].between(frame["age"].min(), frame["age"].max()).all()
    assert example["age"].is_monotonic_increasing and example["bmi"].notna().all()
    assert example["insurance_type"].iloc[0] == "medicaid" and example["never_recorded"].isna().all()
