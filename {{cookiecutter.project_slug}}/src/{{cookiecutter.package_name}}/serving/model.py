"""The model a scoring service serves: the registry's `champion` (or a pinned version), loaded once."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..core.scoring_request import InputColumn
from ..io import tracking


class ServingError(RuntimeError):
    """The service cannot start; the message says what to do."""


@dataclass
class ServedModel:
    """A loaded model version with what a caller needs to know about it."""

    name: str
    version: str
    alias: str | None
    run_id: str | None
    columns: list[InputColumn]
    example: list[dict[str, Any]]
    _model: Any

    def predict(self, frame: pd.DataFrame) -> list[Any]:
        """Scores as plain lists: per row [P(not high risk), P(high risk)] for the default model."""
        return np.asarray(self._model.predict(frame)).tolist()

    def metadata(self) -> dict[str, Any]:
        return {
            "model_name": self.name,
            "model_version": self.version,
            "alias": self.alias,
            "run_id": self.run_id,
            "inputs": [{"name": c.name, "type": c.type, "required": c.required} for c in self.columns],
        }


def load_served_model(config: dict[str, Any], version: str | None = None) -> ServedModel:
    """Resolve `champion` (unless `version` pins one), then load the model and its signature."""
    # The per-file download bars would be the only output of a quiet service.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    import mlflow
    import mlflow.pyfunc
    from mlflow.exceptions import MlflowException
    from mlflow.models import Model

    tracking.configure_mlflow(config)
    name = tracking.model_name(config)
    alias = None
    if version is None:
        champion = tracking.version_by_alias(name, tracking.CHAMPION)
        if champion is None:
            raise ServingError(
                f"model {name!r} has no '{tracking.CHAMPION}' version yet: run `make pipeline` "
                "(or train, validate_model and deploy) first"
            )
        version, run_id, alias = champion.version, champion.run_id, tracking.CHAMPION
    else:
        try:
            run_id = tracking.client().get_model_version(name, version).run_id
        except MlflowException:
            raise ServingError(f"model {name!r} has no version {version!r}") from None
    local = mlflow.artifacts.download_artifacts(artifact_uri=f"models:/{name}/{version}")
    metadata = Model.load(local)
    if metadata.signature is None or metadata.signature.inputs is None:
        raise ServingError(f"{name} v{version} was logged without a signature, so requests cannot be checked")
    columns = input_columns(metadata.signature.inputs)
    example = metadata.load_input_example(local)
    return ServedModel(
        name=name,
        version=str(version),
        alias=alias,
        run_id=run_id,
        columns=columns,
        example=_records(example),
        _model=mlflow.pyfunc.load_model(local),
    )


def input_columns(schema: Any) -> list[InputColumn]:
    """The signature's named inputs; a tensor signature has none, and this service needs names."""
    columns = []
    for spec in schema.inputs:
        if not getattr(spec, "name", None):
            raise ServingError(
                "the model signature has unnamed (tensor) inputs; this service scores table rows"
            )
        type_name = getattr(spec.type, "name", str(spec.type))
        columns.append(InputColumn(spec.name, str(type_name), bool(getattr(spec, "required", True))))
    return columns


def _records(example: Any) -> list[dict[str, Any]]:
    if not isinstance(example, pd.DataFrame):
        return []
    # to_json turns NaN into null, which is what a caller sends for a missing value.
    return json.loads(example.to_json(orient="records"))
