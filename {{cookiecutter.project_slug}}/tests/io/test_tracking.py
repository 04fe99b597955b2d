"""MLflow setup stays inside the configured folder; aliases read back as versions or None."""

from pathlib import Path

import mlflow

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
