"""MLflow at the edge: tracking setup, model logging, the registry and its aliases.

Works with MLflow 2.x (Databricks Runtime 15.4 LTS ML ships 2.13) and 3.x (PyPI): options that
exist in only one of them are passed only when the installed version accepts them.
Promotion uses aliases (`challenger`, `champion`), never the deprecated stages.
"""

from __future__ import annotations

import getpass
import inspect
import logging
import os
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..config import resolve_path
from ..core.retraining import PastTrigger

CHAMPION = "champion"
CHALLENGER = "challenger"


def configure_mlflow(config: dict[str, Any]) -> str:
    """Point MLflow at this environment's tracking server, registry and experiment; returns its id."""
    # Per-file download bars would flood every step's log (models carry their code since engines/).
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    # Creating a local store logs every schema migration (MLflow 3.8 on stderr): keep errors one line.
    for noisy in ("alembic", "mlflow.store.db.utils"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    import mlflow

    settings = config["mlflow"]
    tracking_uri = _local_uri(config, settings["tracking_uri"])
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(_local_uri(config, settings["registry_uri"]))
    name = settings["experiment"]
    experiment = mlflow.get_experiment_by_name(name)
    if experiment is None:
        location = settings.get("artifact_location")
        artifact_location = Path(resolve_path(config, location)).resolve().as_uri() if location else None
        if artifact_location:
            Path(resolve_path(config, location)).mkdir(parents=True, exist_ok=True)
        experiment_id = mlflow.create_experiment(name, artifact_location=artifact_location)
    else:
        experiment_id = experiment.experiment_id
    mlflow.set_experiment(experiment_id=experiment_id)
    return experiment_id


def _local_uri(config: dict[str, Any], uri: str) -> str:
    """A relative sqlite path is relative to the repository root, wherever the command runs."""
    prefix = "sqlite:///"
    if uri.startswith(prefix) and not uri[len(prefix) :].startswith("/"):
        path = Path(resolve_path(config, uri[len(prefix) :]))
        path.parent.mkdir(parents=True, exist_ok=True)
        return prefix + str(path)
    return uri


def model_name(config: dict[str, Any]) -> str:
    return str(config["mlflow"]["registered_model"])


def log_sklearn_model(model: Any, input_example: Any, *, artifact_name: str = "model") -> Any:
    """Log a fitted scikit-learn model whose pyfunc returns class probabilities; returns ModelInfo.

    The signature is inferred from all of `input_example`; the example stored with the model is
    `anonymous_example` of it, because real rows would copy patient records into every model.
    """
    import mlflow
    import mlflow.sklearn
    from mlflow.models import infer_signature

    signature = infer_signature(input_example, model.predict_proba(input_example))
    options: dict[str, Any] = {
        "signature": signature,
        "input_example": anonymous_example(input_example),
        "pyfunc_predict_fn": "predict_proba",
        # Explicit requirements: inferring them costs seconds per model and can pick up the whole venv.
        "pip_requirements": pip_requirements("mlflow", "scikit-learn", "pandas", "numpy", "scipy"),
    }
    options.update(model_location(mlflow.sklearn.log_model, artifact_name))
    accepted = inspect.signature(mlflow.sklearn.log_model).parameters
    if "skops_trusted_types" in accepted:  # MLflow 3 saves with skops locally: trust this model's own types
        options["skops_trusted_types"] = _skops_types(model)
    return mlflow.sklearn.log_model(model, **options)


def anonymous_example(frame: Any, rows: int = 5) -> Any:
    """Example rows copied from no patient: per-column quantiles, or the most frequent values.

    Each column is summarised on its own (10th to 90th percentile of numbers, the commonest
    categories), so a row is not a record of the data and tells no more than those summaries,
    yet every value is realistic and typed like the training data. All-missing columns stay missing.
    """
    import numpy as np
    import pandas as pd

    levels = np.linspace(0.1, 0.9, rows)
    columns = {}
    for name in frame.columns:
        values = frame[name].dropna()
        if values.empty:
            columns[name] = pd.Series([None] * rows, dtype=frame[name].dtype)
        elif pd.api.types.is_numeric_dtype(frame[name]) and not pd.api.types.is_bool_dtype(frame[name]):
            quantiles = values.quantile(levels, interpolation="nearest").to_numpy()
            columns[name] = pd.Series(quantiles, dtype=frame[name].dtype)
        else:
            common = values.value_counts().index.tolist()
            columns[name] = pd.Series([common[i % len(common)] for i in range(rows)], dtype=frame[name].dtype)
    return pd.DataFrame(columns)


def model_location(log_model: Any, artifact_name: str) -> dict[str, str]:
    """Where a model goes in its run: MLflow 3 calls it `name`, MLflow 2 `artifact_path`."""
    accepted = inspect.signature(log_model).parameters
    return {"name": artifact_name} if "name" in accepted else {"artifact_path": artifact_name}


def pip_requirements(*packages: str) -> list[str]:
    """Exact pins of the installed `packages` (inferring them costs seconds and may pick up the venv)."""
    from importlib.metadata import version

    return [f"{name}=={version(name)}" for name in packages]


def _skops_types(model: Any) -> list[str]:
    try:
        import skops.io as sio
    except ImportError:
        return []
    return sio.get_untrusted_types(data=sio.dumps(model))


@dataclass(frozen=True)
class RegisteredVersion:
    name: str
    version: str
    run_id: str | None
    tags: dict[str, str]


def client() -> Any:
    from mlflow import MlflowClient

    return MlflowClient()


def register_model(model_uri: str, name: str, tags: dict[str, str]) -> RegisteredVersion:
    """Register a new version of `name` with audit tags."""
    import mlflow

    version = mlflow.register_model(model_uri, name)
    mlflow_client = client()
    for key, value in tags.items():
        mlflow_client.set_model_version_tag(name, version.version, key, value)
    return RegisteredVersion(name, str(version.version), version.run_id, dict(tags))


def version_by_alias(name: str, alias: str) -> RegisteredVersion | None:
    """The version holding `alias`, or None when the alias (or the model) does not exist yet."""
    from mlflow.exceptions import MlflowException

    try:
        version = client().get_model_version_by_alias(name, alias)
    except MlflowException:
        return None
    return RegisteredVersion(name, str(version.version), version.run_id, dict(version.tags or {}))


def set_alias(name: str, alias: str, version: str) -> None:
    client().set_registered_model_alias(name, alias, version)


def delete_alias(name: str, alias: str) -> None:
    client().delete_registered_model_alias(name, alias)


def tag_version(name: str, version: str, tags: dict[str, str], description: str | None = None) -> None:
    """Tags (and optionally the description) shown on the model version's page."""
    mlflow_client = client()
    for key, value in tags.items():
        mlflow_client.set_model_version_tag(name, version, key, str(value))
    if description is not None:
        mlflow_client.update_model_version(name, version, description=description)


def load_scoring_model(name: str, version: str) -> Any:
    import mlflow.pyfunc

    return mlflow.pyfunc.load_model(f"models:/{name}/{version}")


def model_input_columns(model: Any) -> list[str]:
    """The input columns a logged model expects (its signature), so each version gets its own features."""
    return list(model.metadata.get_input_schema().input_names())


def version_input_columns(name: str, version: str) -> list[str]:
    """A registered version's input columns, read from its signature without loading the model."""
    import mlflow.models

    info = mlflow.models.get_model_info(f"models:/{name}/{version}")
    return list(info.signature.inputs.input_names())


def version_artifact(name: str, version: str, path: str) -> dict[str, Any] | None:
    """A JSON artifact of the run that logged a version (e.g. its reference profile), or None if absent."""
    import mlflow
    from mlflow.exceptions import MlflowException

    run_id = client().get_model_version(name, version).run_id
    try:
        return mlflow.artifacts.load_dict(f"runs:/{run_id}/{path}")
    except (MlflowException, OSError):
        return None


def scoring_udf(spark: Any, model_uri: str) -> Any:
    """A Spark UDF scoring with a logged model on the workers; it returns [P(0), P(1)] per row."""
    import mlflow.pyfunc

    return mlflow.pyfunc.spark_udf(spark, model_uri, result_type="array<double>", env_manager="local")


# --- the retrain guard's memory: monitoring runs that started a retrain ------------------------

MONITOR_STEP = "monitor"
RETRAIN_TRIGGERED_TAG = "retrain_triggered"


def triggered_retrains(experiment_id: str, limit: int = 1000) -> list[PastTrigger]:
    """Every monitoring run of this experiment that started a retrain, newest first.

    Their count is bounded by `monitoring.retrain.max_per_week`, so reading them all is cheap, and
    the record survives every job run: it is the same experiment the reports are logged to.
    """
    runs = client().search_runs(
        [experiment_id],
        filter_string=f"tags.pipeline_step = '{MONITOR_STEP}' and tags.{RETRAIN_TRIGGERED_TAG} = 'true'",
        order_by=["attributes.start_time DESC"],
        max_results=limit,
    )
    return [
        PastTrigger(
            datetime.fromtimestamp(run.info.start_time / 1000, UTC), str(run.data.tags.get("batch_id", ""))
        )
        for run in runs
    ]


# --- audit: who, when, which commit ---------------------------------------------------------


def utc_now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def current_actor(spark: Any | None = None) -> str:
    """Who runs this: the Databricks user or service principal (via Spark), else the OS user."""
    if spark is not None and "DATABRICKS_RUNTIME_VERSION" in os.environ:
        try:
            return str(spark.sql("SELECT current_user() AS actor").collect()[0]["actor"])
        except Exception:  # noqa: BLE001 - audit falls back rather than blocking a deploy
            pass
    return os.environ.get("GITHUB_ACTOR") or os.environ.get("GITLAB_USER_LOGIN") or getpass.getuser()


def current_commit(config: dict[str, Any]) -> str:
    """The git commit the code came from: $GIT_COMMIT (set by CI/jobs), else the checkout's HEAD."""
    for variable in ("GIT_COMMIT", "GITHUB_SHA", "CI_COMMIT_SHA", "BUILD_SOURCEVERSION"):
        if os.environ.get(variable):
            return os.environ[variable]
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=config["repo_root"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else "unknown"
