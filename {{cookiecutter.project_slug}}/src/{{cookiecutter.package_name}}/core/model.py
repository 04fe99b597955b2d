"""The model: the one place to edit to swap the estimator.

`make_estimator` returns any scikit-learn classifier with `predict_proba`; its hyperparameters
come from the Hyperopt search space in configs/project.yml (training.hyperopt.search_space),
so a new model usually means editing this function and that search space, nothing else.
Preprocessing (imputation from configs/imputation.yml, one-hot encoding) is built here too and
travels inside the logged model, so scoring fills gaps exactly as training did.
"""

from __future__ import annotations

from typing import Any

from sklearn.base import ClassifierMixin
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from .features import FeatureSpec, Imputation

# Marks a missing category while normalising None and NaN (see _categorical_steps).
_MISSING = "__missing__"


def make_estimator(params: dict[str, Any], *, class_weight: str | None, seed: int) -> ClassifierMixin:
    """The classifier, built from one set of hyperparameters (a Hyperopt trial or the best one)."""
    return HistGradientBoostingClassifier(
        learning_rate=float(params.get("learning_rate", 0.1)),
        max_leaf_nodes=int(params.get("max_leaf_nodes", 31)),
        min_samples_leaf=int(params.get("min_samples_leaf", 20)),
        l2_regularization=float(params.get("l2_regularization", 0.0)),
        max_iter=int(params.get("max_iter", 100)),
        class_weight=class_weight,
        early_stopping=False,
        random_state=seed,
    )


def make_preprocessor(features: list[FeatureSpec], imputation: dict[str, Imputation]) -> ColumnTransformer:
    """Impute each feature as configured; one-hot encode categorical features.

    Features sharing a type and an imputation share one transformer: fewer, wider steps keep
    scoring fast (permutation importance calls predict dozens of times).
    """
    groups: dict[tuple[str, str, str], list[str]] = {}
    plans: dict[tuple[str, str, str], Imputation] = {}
    for feature in features:
        plan = imputation[feature.name]
        kind = "categorical" if feature.type == "categorical" else "numeric"
        key = (kind, plan.strategy, repr(plan.fill_value))
        groups.setdefault(key, []).append(feature.name)
        plans[key] = plan
    transformers = []
    for key, columns in groups.items():
        kind, strategy, plan = key[0], key[1], plans[key]
        if kind == "categorical":
            steps = Pipeline([*_categorical_steps(plan), ("encode", _one_hot())])
        else:
            steps = SimpleImputer(strategy=strategy, fill_value=plan.fill_value, keep_empty_features=True)
        transformers.append((f"{kind}_{strategy}_{len(transformers)}", steps, columns))
    return ColumnTransformer(transformers, remainder="drop")


def make_model(
    features: list[FeatureSpec],
    imputation: dict[str, Imputation],
    params: dict[str, Any],
    *,
    class_weight: str | None,
    seed: int,
) -> Pipeline:
    """Preprocessing plus classifier: the object that is tuned, logged and served."""
    return Pipeline(
        [
            ("preprocess", make_preprocessor(features, imputation)),
            ("classifier", make_estimator(params, class_weight=class_weight, seed=seed)),
        ]
    )


def _categorical_steps(plan: Imputation) -> list[tuple[str, SimpleImputer]]:
    # Spark hands missing strings over as None, pandas sometimes as NaN, and SimpleImputer treats
    # only one of them as missing per step: map both to one marker, then impute the marker.
    fill = plan.fill_value if plan.strategy == "constant" else None
    return [
        ("nan_to_marker", SimpleImputer(strategy="constant", fill_value=_MISSING)),
        ("none_to_marker", SimpleImputer(missing_values=None, strategy="constant", fill_value=_MISSING)),
        ("impute", SimpleImputer(missing_values=_MISSING, strategy=plan.strategy, fill_value=fill)),
    ]


def _one_hot() -> OneHotEncoder:
    # Categories never seen in training (a new insurance type...) encode as all zeros, not an error.
    return OneHotEncoder(handle_unknown="ignore", sparse_output=False)
