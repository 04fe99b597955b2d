"""Splitting, the tuning plan and hyperparameter search: pure functions, no Spark or MLflow.

Both engines use them: the split of a row and its role in tuning follow from its key alone
(spark/splits.py computes the same hash in Spark). The search takes an `evaluate(params)`
function, so one Hyperopt loop drives a scikit-learn fit on the driver or an XGBoost fit on
the cluster; the `trials` object is passed in (`Trials`, or `SparkTrials` for single-node models).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

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
    edges = np.array(split_edges(fractions))
    index = np.minimum(np.searchsorted(edges, position, side="right"), len(names) - 1)
    return pd.Series(np.array(names, dtype=object)[index], index=keys.index, name="split")


def split_edges(fractions: dict[str, float]) -> list[float]:
    """Each split's upper edge on [0, 1): a row goes to the first split whose edge exceeds its position."""
    return [float(edge) for edge in np.cumsum([fractions[name] for name in fractions])]


# --- which rows tune, which score the trials, which the final model learns from ---------------

ROLES = ("fit", "holdout", "test")


@dataclass(frozen=True)
class TuningPlan:
    """How the splits are used in tuning: trials fit on `fit` rows and are scored on `holdout` rows; the best
    parameters are refit on both; `test` rows judge the result.

    With a validation split the holdout is that split; without one, `holdout_share` of the training
    split is held out by a second stable hash (salted with `inner_salt`), so it never changes either.
    """

    fractions: dict[str, float]
    salt: str
    holdout_share: float | None = None

    @property
    def inner_salt(self) -> str:
        return f"{self.salt}:tuning"

    @property
    def inner_fractions(self) -> dict[str, float]:
        share = float(self.holdout_share or 0.0)
        return {"fit": 1.0 - share, "holdout": share}


def tuning_plan(split_config: list[float], tuning_holdout: float, salt: str) -> TuningPlan:
    """The plan for `training.split_config` and `training.tuning_holdout`."""
    fractions = parse_split_config(split_config)
    if "validation" in fractions:
        return TuningPlan(fractions, str(salt))
    if not isinstance(tuning_holdout, int | float) or not 0 < float(tuning_holdout) < 1:
        raise TrainingConfigError(
            f"training.tuning_holdout={tuning_holdout!r}: a share between 0 and 1 of the training split"
        )
    return TuningPlan(fractions, str(salt), float(tuning_holdout))


def role_of(split: str, inner: str | None) -> str:
    """A row's role from its split and (without a validation split) its inner tuning split."""
    if split == "test":
        return "test"
    if split == "validation":
        return "holdout"
    return inner or "fit"


def assign_roles(keys: pd.Series, plan: TuningPlan) -> pd.DataFrame:
    """Each key's `split` and `role` (fit, holdout or test) under `plan`."""
    splits = assign_splits(keys, plan.fractions, plan.salt)
    if plan.holdout_share is None:
        inner = pd.Series([None] * len(keys), index=keys.index, dtype=object)
    else:
        inner = assign_splits(keys, plan.inner_fractions, plan.inner_salt)
    roles = [role_of(s, i) for s, i in zip(splits, inner, strict=True)]
    return pd.DataFrame({"split": splits, "role": pd.Series(roles, index=keys.index, dtype=object)})


# --- the Hyperopt search space, from YAML --------------------------------------------------


def build_search_space(
    spec: dict[str, dict[str, Any]], where: str = "training.hyperopt.search_space"
) -> dict[str, Any]:
    """Hyperopt expressions from the search space in YAML (`where` names it in errors)."""
    from hyperopt import hp

    if not spec:
        raise TrainingConfigError(f"{where}: define at least one hyperparameter")
    space = {}
    section = where
    for name, entry in spec.items():
        where = f"{section}.{name}"
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
    evaluate: Callable[[dict[str, Any]], dict[str, float]],
    search_space_spec: dict[str, dict[str, Any]],
    *,
    metric: str,
    max_evals: int,
    trials: Any,
    seed: int,
    where: str = "training.hyperopt.search_space",
) -> TuningResult:
    """Search hyperparameters with TPE, maximising `metric` of `evaluate(params)` (the holdout metrics)."""
    from hyperopt import STATUS_OK, fmin, tpe

    if max_evals < 1:
        raise TrainingConfigError(f"training.hyperopt.max_evals={max_evals}: must be at least 1")

    def objective(params: dict[str, Any]) -> dict[str, Any]:
        cleaned = clean_params(params, search_space_spec)
        metrics = evaluate(cleaned)
        if metric not in metrics:
            raise TrainingConfigError(f"training.hyperopt.metric={metric!r}: use one of {sorted(metrics)}")
        return {"loss": -metrics[metric], "status": STATUS_OK, "metrics": metrics, "params": cleaned}

    fmin(
        objective,
        build_search_space(search_space_spec, where),
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
    finished = [r for r in records if r.status == STATUS_OK and r.loss is not None and not math.isnan(r.loss)]
    if not finished:
        raise TrainingConfigError("every Hyperopt trial failed; check the search space and the training data")
    best = min(finished, key=lambda r: r.loss)
    return TuningResult(best_params=best.params, best_metrics=best.metrics, trials=records)
