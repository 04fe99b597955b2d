"""The single-node engine: the feature table in pandas on the driver, scikit-learn (core/model.py).

For teams whose data fits the driver's memory; it is today's path, kept exactly.
"""

from __future__ import annotations

import sys
from typing import Any

from ..core.evaluation import classification_metrics, permutation_importance_table, positive_scores
from ..core.model import make_model
from ..core.training import tune
from ..io import tracking
from ..pipelines.model_data import FeatureTable, load_model_data
from ..spark.session import on_databricks
from . import FittedChallenger, check_both_classes

SEARCH_SPACE = "training.hyperopt.search_space.single_node"


def make_trials(hyperopt_settings: dict[str, Any]) -> Any:
    """SparkTrials on a Databricks cluster (trials run in parallel on workers), Trials elsewhere."""
    from hyperopt import Trials

    parallelism = int(hyperopt_settings.get("parallelism") or 1)
    if on_databricks() and parallelism > 1:
        try:
            from hyperopt import SparkTrials

            return SparkTrials(parallelism=parallelism)
        except Exception as error:  # noqa: BLE001 - serverless/shared compute has no SparkContext
            print(f"SparkTrials unavailable ({error}); running trials one by one", file=sys.stderr)
    return Trials()


def fit_challenger(context: Any, table: FeatureTable) -> FittedChallenger:
    settings = context.config["training"]
    hyperopt = settings["hyperopt"]
    seed = int(settings["seed"])
    threshold = float(settings["decision_threshold"])
    data = load_model_data(table)
    fit_rows, holdout_rows, test_rows = data.rows("fit"), data.rows("holdout"), data.rows("test")
    train_rows = data.rows("fit", "holdout")
    check_both_classes(
        {
            role: (len(rows), int(data.y(rows).sum()))
            for role, rows in (("fit", fit_rows), ("holdout", holdout_rows), ("test", test_rows))
        }
    )

    def build_model(params: dict[str, Any]) -> Any:
        return make_model(
            data.features, data.imputation, params, class_weight=settings.get("class_weight"), seed=seed
        )

    def evaluate(params: dict[str, Any]) -> dict[str, float]:
        model = build_model(params).fit(data.x(fit_rows), data.y(fit_rows))
        scores = positive_scores(model.predict_proba(data.x(holdout_rows)))
        return classification_metrics(data.y(holdout_rows), scores, threshold)

    result = tune(
        evaluate,
        hyperopt["search_space"]["single_node"],
        metric=hyperopt["metric"],
        max_evals=int(hyperopt["max_evals"]),
        trials=make_trials(hyperopt),
        seed=seed,
        where=SEARCH_SPACE,
    )
    model = build_model(result.best_params).fit(data.x(train_rows), data.y(train_rows))
    test_metrics = classification_metrics(
        data.y(test_rows), positive_scores(model.predict_proba(data.x(test_rows))), threshold
    )
    importance = permutation_importance_table(model, data.x(test_rows), data.y(test_rows), seed=seed)
    info = tracking.log_sklearn_model(model, data.x(train_rows).head(100))
    return FittedChallenger(
        info,
        result,
        test_metrics,
        importance,
        "drop in ROC AUC when shuffled (test split)",
        {"train": len(train_rows), "test": len(test_rows)},
    )
