"""Splitting and hyperparameter search: pure functions over pandas, no Spark or MLflow.

The Hyperopt `trials` object is passed in, so the same search runs with `Trials` on a laptop
and `SparkTrials` on a cluster.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .evaluation import classification_metrics

SPLIT_NAMES = {2: ("train", "test"), 3: ("train", "validation", "test")}


class TrainingConfigError(ValueError):
    """split_config or the search space is malformed."""


def parse_split_config(fractions: list[float]) -> dict[str, float]:
    """[0.8, 0.2] -> {'train': 0.8, 'test': 0.2}; three fractions add a validation split."""
    if not isinstance(fractions, list | tuple) or len(fractions) not in SPLIT_NAMES:
        raise TrainingConfigError(
            f"training.split_config={fractions!r}: give [train, test] or [train, validation, test]"
        )
    if any(not isinstance(f, int | float) or f <= 0 for f in fractions) or not math.isclose(
        sum(fractions), 1.0
    ):
        raise TrainingConfigError(
            f"training.split_config={fractions!r}: fractions must be positive and add up to 1"
        )
    return dict(zip(SPLIT_NAMES[len(fractions)], (float(f) for f in fractions), strict=True))


def stable_fraction(keys: pd.Series, salt: str) -> np.ndarray:
    """A number in [0, 1) per key that never changes between runs, machines or Python versions."""

    def bucket(key: object) -> float:
        digest = hashlib.sha256(f"{salt}:{key}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64

    return np.fromiter((bucket(k) for k in keys), dtype=float, count=len(keys))


def assign_splits(keys: pd.Series, fractions: dict[str, float], salt: str) -> pd.Series:
    """The split name of every key; a key always lands in the same split."""
    position = stable_fraction(keys, salt)
    names = list(fractions)
    edges = np.cumsum([fractions[name] for name in names])
    index = np.minimum(np.searchsorted(edges, position, side="right"), len(names) - 1)
    return pd.Series(np.array(names, dtype=object)[index], index=keys.index, name="split")


# --- the Hyperopt search space, from YAML --------------------------------------------------


def build_search_space(spec: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Hyperopt expressions from training.hyperopt.search_space."""
    from hyperopt import hp

    if not spec:
        raise TrainingConfigError("training.hyperopt.search_space: define at least one hyperparameter")
    space = {}
    for name, entry in spec.items():
        where = f"training.hyperopt.search_space.{name}"
        kind = (entry or {}).get("distribution")
        try:
            if kind == "uniform":
                space[name] = hp.uniform(name, float(entry["low"]), float(entry["high"]))
            elif kind == "loguniform":
                space[name] = hp.loguniform(
                    name, math.log(float(entry["low"])), math.log(float(entry["high"]))
                )
            elif kind == "quniform":
                space[name] = hp.quniform(
                    name, float(entry["low"]), float(entry["high"]), float(entry.get("q", 1))
                )
            elif kind == "choice":
                space[name] = hp.choice(name, list(entry["options"]))
            else:
                raise TrainingConfigError(
                    f"{where}.distribution={kind!r}: use uniform, loguniform, quniform or choice"
                )
        except KeyError as missing:
            raise TrainingConfigError(f"{where}: {kind} needs {missing.args[0]!r}") from None
    return space


def clean_params(params: dict[str, Any], spec: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Trial values as the model wants them: quniform values become ints, numpy scalars plain Python."""
    cleaned = {}
    for name, value in params.items():
        if isinstance(value, np.generic):
            value = value.item()
        if (spec.get(name) or {}).get("distribution") == "quniform":
            value = int(round(value))
        cleaned[name] = value
    return cleaned


@dataclass
class TrialRecord:
    """One Hyperopt trial: its number, hyperparameters and holdout metrics."""

    number: int
    params: dict[str, Any]
    metrics: dict[str, float]
    loss: float | None
    status: str


@dataclass
class TuningResult:
    best_params: dict[str, Any]
    best_metrics: dict[str, float]
    trials: list[TrialRecord] = field(default_factory=list)


def tune(
    build_model: Callable[[dict[str, Any]], Any],
    data: tuple[pd.DataFrame, pd.Series, pd.DataFrame, pd.Series],
    search_space_spec: dict[str, dict[str, Any]],
    *,
    metric: str,
    max_evals: int,
    trials: Any,
    seed: int,
    threshold: float = 0.5,
) -> TuningResult:
    """Search hyperparameters with TPE, scoring each trial on the holdout; maximises `metric`."""
    from hyperopt import STATUS_OK, fmin, tpe

    x_fit, y_fit, x_holdout, y_holdout = data
    if max_evals < 1:
        raise TrainingConfigError(f"training.hyperopt.max_evals={max_evals}: must be at least 1")

    def objective(params: dict[str, Any]) -> dict[str, Any]:
        cleaned = clean_params(params, search_space_spec)
        model = build_model(cleaned).fit(x_fit, y_fit)
        metrics = classification_metrics(y_holdout, model.predict_proba(x_holdout)[:, 1], threshold)
        if metric not in metrics:
            raise TrainingConfigError(f"training.hyperopt.metric={metric!r}: use one of {sorted(metrics)}")
        return {"loss": -metrics[metric], "status": STATUS_OK, "metrics": metrics, "params": cleaned}

    fmin(
        objective,
        build_search_space(search_space_spec),
        algo=tpe.suggest,
        max_evals=max_evals,
        trials=trials,
        rstate=np.random.default_rng(seed),
        show_progressbar=False,
    )
    records = [
        TrialRecord(
            number=index,
            params=(trial["result"] or {}).get("params", {}),
            metrics=(trial["result"] or {}).get("metrics", {}),
            loss=(trial["result"] or {}).get("loss"),
            status=str((trial["result"] or {}).get("status", "fail")),
        )
        for index, trial in enumerate(trials.trials)
    ]
    finished = [r for r in records if r.status == STATUS_OK and r.loss is not None]
    if not finished:
        raise TrainingConfigError("every Hyperopt trial failed; check the search space and the training data")
    best = min(finished, key=lambda r: r.loss)
    return TuningResult(best_params=best.params, best_metrics=best.metrics, trials=records)
