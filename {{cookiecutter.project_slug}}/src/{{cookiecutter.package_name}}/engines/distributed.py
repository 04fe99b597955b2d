"""The distributed engine: the feature table never leaves Spark.

Imputation and one-hot encoding are fitted with one Spark aggregation (spark/encoding.py), each
Hyperopt trial fits XGBoost across the cluster's task slots (spark/model.py) and is scored with
Spark aggregations (spark/scoring.py); trials run one after another with hyperopt's default
`Trials`, since each is itself distributed. The best parameters are refitted on the fit and
holdout rows, and the native booster is logged with its encoding plan (io/booster_model.py).
What reaches the driver: a row of statistics, one row per split, a 100-row input example.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from ..core.evaluation import metrics_from_summary
from ..core.training import tune
from ..io.booster_model import log_booster_model
from ..pipelines.model_data import FeatureTable
from ..spark.encoding import encoded_columns, fit_encoding
from ..spark.model import make_spark_estimator, positive_probability, task_slots
from ..spark.scoring import ALL_ROWS, score_summaries
from . import FittedChallenger, check_both_classes

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

SEARCH_SPACE = "training.hyperopt.search_space.distributed"
INPUT_EXAMPLE_ROWS = 100


def fit_challenger(context: Any, table: FeatureTable) -> FittedChallenger:
    from hyperopt import Trials
    from pyspark.sql import functions as F

    config = context.config
    settings = config["training"]
    hyperopt = settings["hyperopt"]
    seed = int(settings["seed"])
    threshold = float(settings["decision_threshold"])
    label = table.mappings.label
    counts = {
        row["role"]: (int(row["rows"]), int(row["positives"] or 0))
        for row in table.df.groupBy("role")
        .agg(F.count(F.lit(1)).alias("rows"), F.sum(label).alias("positives"))
        .collect()
    }
    check_both_classes(counts)
    workers = task_slots(context.spark, (settings.get("distributed") or {}).get("num_workers"))

    def prepare(*roles: str) -> tuple[Any, float, DataFrame]:
        """(plan fitted on the `roles` rows, positive class weight, encoded rows): once per row set."""
        rows = table.rows(*roles)
        plan = fit_encoding(rows, table.features, table.imputation)
        rows_count, positives = (sum(counts[role][i] for role in roles) for i in (0, 1))
        balance = (rows_count - positives) / positives if settings.get("class_weight") == "balanced" else 1.0
        return plan, balance, rows.select(F.col(label).cast("int").alias(label), *encoded_columns(plan))

    def fit(prepared: tuple[Any, float, DataFrame], params: dict[str, Any]) -> Any:
        plan, balance, encoded = prepared
        estimator = make_spark_estimator(
            params,
            features=plan.columns,
            label=label,
            num_workers=workers,
            scale_pos_weight=balance,
            seed=seed,
        )
        return estimator.fit(encoded)

    def scored_metrics(model: Any, plan: Any, rows: DataFrame) -> dict[str, float]:
        encoded = rows.select(F.col(label).cast("int").alias(label), *encoded_columns(plan))
        scored = model.transform(encoded).select(label, positive_probability().alias("score"))
        summary = score_summaries(scored, label=label, score="score", threshold=threshold)[ALL_ROWS]
        return metrics_from_summary(summary)

    fit_rows = prepare("fit")
    holdout_rows, test_rows = table.rows("holdout"), table.rows("test")

    def evaluate(params: dict[str, Any]) -> dict[str, float]:
        return scored_metrics(fit(fit_rows, params), fit_rows[0], holdout_rows)

    result = tune(
        evaluate,
        hyperopt["search_space"]["distributed"],
        metric=hyperopt["metric"],
        max_evals=int(hyperopt["max_evals"]),
        trials=Trials(),
        seed=seed,
        where=SEARCH_SPACE,
    )
    train_rows = table.rows("fit", "holdout")
    refit = prepare("fit", "holdout")
    model, plan = fit(refit, result.best_params), refit[0]
    test_metrics = scored_metrics(model, plan, test_rows)
    booster = model.get_booster()
    example = train_rows.select(*table.feature_names).limit(INPUT_EXAMPLE_ROWS).toPandas()
    info = log_booster_model(booster, plan, example)
    rows = {"train": counts["fit"][0] + counts["holdout"][0], "test": counts["test"][0]}
    return FittedChallenger(
        info, result, test_metrics, gain_importance(booster, plan), "total gain in the trees", rows
    )


def gain_importance(booster: Any, plan: Any) -> pd.DataFrame:
    """The booster's total gain per input feature (its one-hot columns summed), largest first."""
    names = plan.columns
    source = plan.source_of()
    gains = booster.get_score(importance_type="total_gain")
    per_feature = {feature.name: 0.0 for feature in plan.features}
    for key, gain in gains.items():
        column = key if key in source else names[int(key[1:])]  # f12 when the booster has no names
        per_feature[source[column]] += float(gain)
    table = pd.DataFrame({"feature": list(per_feature), "importance": list(per_feature.values())})
    table["std"] = 0.0
    return table.sort_values("importance", ascending=False).reset_index(drop=True)

