"""The distributed engine's model as MLflow logs it: the native XGBoost booster plus its encoding plan.

Training ran on Spark, but the logged pyfunc needs no JVM: it encodes rows with core/encoding.py
and predicts with the booster, so `mlflow.pyfunc.spark_udf` batch scoring and any REST endpoint
that loads MLflow models use the same two files. Like the scikit-learn model, it returns
[P(not high risk), P(high risk)] per row.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import mlflow.pyfunc
import numpy as np
import pandas as pd

from ..core.encoding import EncodingPlan, encode


class BoosterModel(mlflow.pyfunc.PythonModel):
    """Scores raw feature rows: fill and one-hot encode as in training, then the booster's probability."""

    def load_context(self, context: Any) -> None:
        import xgboost

        self._booster = xgboost.Booster()
        self._booster.load_model(context.artifacts["booster"])
        self._plan = EncodingPlan.from_dict(json.loads(Path(context.artifacts["encoding"]).read_text()))

    # No type hints here: MLflow would read them as a (list-based) input schema; the signature says it.
    def predict(self, context, model_input, params=None):  # noqa: ANN001, ANN201
        frame = model_input if isinstance(model_input, pd.DataFrame) else pd.DataFrame(model_input)
        return probabilities(self._booster, self._plan, frame)


def probabilities(booster: Any, plan: EncodingPlan, frame: pd.DataFrame) -> np.ndarray:
    """[P(0), P(1)] per row of raw features."""
    positive = np.asarray(booster.inplace_predict(encode(frame, plan)), dtype=float)
    return np.column_stack([1.0 - positive, positive])


def log_booster_model(
    booster: Any, plan: EncodingPlan, input_example: pd.DataFrame, *, artifact_name: str = "model"
) -> Any:
    """Log booster + plan as a pyfunc with the package code beside it; returns ModelInfo."""
    from mlflow.models import infer_signature

    from . import tracking

    with tempfile.TemporaryDirectory() as folder:
        package = Path(folder) / "code" / Path(__file__).resolve().parents[1].name
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
        shutil.copytree(Path(__file__).resolve().parents[1], package, ignore=ignore)
        booster_path, plan_path = Path(folder) / "booster.json", Path(folder) / "encoding.json"
        booster.save_model(str(booster_path))
        plan_path.write_text(json.dumps(plan.to_dict(), indent=2), encoding="utf-8")
        options: dict[str, Any] = {
            "python_model": BoosterModel(),
            "artifacts": {"booster": str(booster_path), "encoding": str(plan_path)},
            # The class lives in this package: ship it, so Spark workers and model endpoints import it.
            "code_paths": [str(package)],
            "signature": infer_signature(input_example, probabilities(booster, plan, input_example)),
            "input_example": tracking.anonymous_example(input_example),
            "pip_requirements": tracking.pip_requirements("mlflow", "xgboost", "pandas", "numpy", "scipy"),
        }
        options.update(tracking.model_location(mlflow.pyfunc.log_model, artifact_name))
        return mlflow.pyfunc.log_model(**options)
