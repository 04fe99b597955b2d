"""The distributed engine's model: the one place to edit to swap it (with its search space in
configs/project.yml, training.hyperopt.search_space.distributed).

`xgboost.spark.SparkXGBClassifier` trains one gradient-boosted model across `num_workers` Spark
tasks (each holds its share of the rows); the fitted model's native booster is what gets logged.
"""

from __future__ import annotations

import logging
from typing import Any


def make_spark_estimator(
    params: dict[str, Any],
    *,
    features: list[str],
    label: str,
    num_workers: int,
    scale_pos_weight: float,
    seed: int,
) -> Any:
    """The classifier, built from one set of hyperparameters (a Hyperopt trial or the best one)."""
    from xgboost.spark import SparkXGBClassifier

    logging.getLogger("XGBoost-PySpark").setLevel(logging.WARNING)  # one INFO line per fit otherwise
    return SparkXGBClassifier(
        features_col=features,
        label_col=label,
        num_workers=num_workers,
        learning_rate=float(params.get("learning_rate", 0.1)),
        max_depth=int(params.get("max_depth", 6)),
        min_child_weight=float(params.get("min_child_weight", 1.0)),
        reg_lambda=float(params.get("reg_lambda", 1.0)),
        n_estimators=int(params.get("n_estimators", 100)),
        scale_pos_weight=float(scale_pos_weight),
        tree_method="hist",
        random_state=seed,
        verbosity=0,
        verbose=False,  # no per-tree training log from every worker
    )


def positive_probability() -> Any:
    """P(positive class) as a double column of a fitted SparkXGB model's `transform` output."""
    from pyspark.ml.functions import vector_to_array
    from pyspark.sql import functions as F

    return F.element_at(vector_to_array(F.col("probability")), 2)


def task_slots(spark: Any, setting: Any) -> int:
    """`training.distributed.num_workers`: a number, or auto = the cluster's task slots."""
    if setting not in (None, "auto"):
        return max(1, int(setting))
    try:
        return max(1, int(spark.sparkContext.defaultParallelism))
    except Exception:  # noqa: BLE001 - Spark Connect has no SparkContext; use the configured parallelism
        return max(1, int(spark.conf.get("spark.default.parallelism", "1")))
