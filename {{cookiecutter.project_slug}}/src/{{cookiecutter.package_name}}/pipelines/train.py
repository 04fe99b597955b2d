"""Step 3: tune, train and register a challenger model.

Splits the feature table by `training.split_config`, searches hyperparameters with Hyperopt
(SparkTrials on a Databricks cluster, Trials elsewhere), logs every trial to MLflow, refits
the best one on the training split, logs it with signature, input example and feature
importance, registers a new version and gives it the `challenger` alias.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..core.evaluation import classification_metrics, finite, permutation_importance_table, positive_scores
from ..core.model import make_model
from ..core.plots import feature_importance_figure
from ..core.training import TrialRecord, assign_splits, parse_split_config, tune
from ..io import tracking
from ..spark.session import on_databricks
from .common import PipelineError, StepContext, cli_main, run_step
from .model_data import load_model_data


@dataclass
class TrainResult:
    model_name: str
    version: str
    run_id: str
    trials: int
    test_metrics: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        auc = self.test_metrics.get("roc_auc", float("nan"))
        return (
            f"registered {self.model_name} version {self.version} as '{tracking.CHALLENGER}' "
            f"(run {self.run_id}, {self.trials} trials, test roc_auc={auc:.3f})"
        )


def make_trials(hyperopt_settings: dict[str, Any]) -> Any:
    """SparkTrials on a Databricks cluster (trials run in parallel on workers), Trials elsewhere."""
    from hyperopt import Trials

    parallelism = int(hyperopt_settings.get("parallelism", 1))
    if on_databricks() and parallelism > 1:
        try:
            from hyperopt import SparkTrials

            return SparkTrials(parallelism=parallelism)
        except Exception as error:  # noqa: BLE001 - serverless/shared compute has no SparkContext
            print(f"SparkTrials unavailable ({error}); running trials one by one", file=sys.stderr)
    return Trials()


def train(context: StepContext) -> TrainResult:
    """Tune, refit, log and register; the new version becomes the challenger."""
    import mlflow

    config = context.config
    settings = config["training"]
    hyperopt = settings["hyperopt"]
    seed = int(settings["seed"])
    threshold = float(settings["decision_threshold"])
    data = load_model_data(context)
    train_rows, test_rows = data.rows("train"), data.rows("test")
    if "validation" in parse_split_config(settings["split_config"]):
        fit_rows, holdout_rows = train_rows, data.rows("validation")
        train_rows = data.rows("train", "validation")
    else:
        # No validation split configured: hold part of the training split out to score trials.
        holdout_share = float(settings["tuning_holdout"])
        inner = assign_splits(
            train_rows[data.mappings.entity_key],
            {"fit": 1 - holdout_share, "holdout": holdout_share},
            f"{settings['split_salt']}:tuning",
        )
        fit_rows, holdout_rows = train_rows[inner == "fit"], train_rows[inner == "holdout"]
    for name, rows in (("train", fit_rows), ("holdout", holdout_rows), ("test", test_rows)):
        if data.y(rows).nunique() < 2:
            raise PipelineError(
                f"the {name} split has {len(rows)} rows and only one class: need more labelled data"
            )

    def build_model(params: dict[str, Any]) -> Any:
        return make_model(
            data.features, data.imputation, params, class_weight=settings.get("class_weight"), seed=seed
        )

    tracking.configure_mlflow(config)
    name = tracking.model_name(config)
    commit = tracking.current_commit(config)
    actor = tracking.current_actor(context.spark)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    with mlflow.start_run(run_name=f"train-{context.env}-{stamp}") as run:
        mlflow.set_tags(
            {"pipeline_step": "train", "environment": context.env, "git_commit": commit, "trained_by": actor}
        )
        mlflow.log_params(
            {
                "split_config": str(settings["split_config"]),
                "class_weight": str(settings.get("class_weight")),
                "max_evals": int(hyperopt["max_evals"]),
                "tuning_metric": hyperopt["metric"],
                "n_features": len(data.features),
                "rows_train": len(train_rows),
                "rows_test": len(test_rows),
            }
        )
        result = tune(
            build_model,
            (data.x(fit_rows), data.y(fit_rows), data.x(holdout_rows), data.y(holdout_rows)),
            hyperopt["search_space"],
            metric=hyperopt["metric"],
            max_evals=int(hyperopt["max_evals"]),
            trials=make_trials(hyperopt),
            seed=seed,
            threshold=threshold,
        )
        _log_trials(result.trials)

        model = build_model(result.best_params).fit(data.x(train_rows), data.y(train_rows))
        test_metrics = classification_metrics(
            data.y(test_rows), positive_scores(model.predict_proba(data.x(test_rows))), threshold
        )
        mlflow.log_params({f"best_{key}": value for key, value in result.best_params.items()})
        mlflow.log_metrics(finite(result.best_metrics, "holdout_"))
        mlflow.log_metrics(finite(test_metrics, "test_"))
        importance = permutation_importance_table(model, data.x(test_rows), data.y(test_rows), seed=seed)
        mlflow.log_dict(
            {"feature_importance": importance.to_dict(orient="records")}, "feature_importance.json"
        )
        mlflow.log_figure(feature_importance_figure(importance), "feature_importance.png")
        mlflow.log_dict(
            {
                "features": [vars(f) for f in data.features],
                "imputation": {k: vars(v) for k, v in data.imputation.items()},
            },
            "feature_spec.json",
        )
        info = tracking.log_sklearn_model(model, data.x(train_rows).head(100))

    version = tracking.register_model(
        info.model_uri,
        name,
        {
            "git_commit": commit,
            "trained_by": actor,
            "trained_at": tracking.utc_now(),
            "training_run_id": run.info.run_id,
            "environment": context.env,
            "validation_status": "pending",
        },
    )
    tracking.set_alias(name, tracking.CHALLENGER, version.version)
    tracking.tag_version(
        name,
        version.version,
        {},
        description=(
            f"Trained in {context.env} from commit {commit[:12]} by {actor}; awaiting validate_model."
        ),
    )
    return TrainResult(name, version.version, run.info.run_id, len(result.trials), test_metrics)


def _log_trials(trials: list[TrialRecord]) -> None:
    """Each Hyperopt trial as a nested run with its hyperparameters and holdout metrics."""
    import mlflow

    for trial in trials:
        with mlflow.start_run(run_name=f"trial-{trial.number:03d}", nested=True):
            mlflow.set_tags({"pipeline_step": "train/trial", "trial_status": trial.status})
            mlflow.log_params(trial.params)
            mlflow.log_metrics(finite(trial.metrics))


def run(env: str, overrides: Sequence[str] = ()) -> TrainResult:
    """Entry point of the notebook and the command line."""
    return run_step(train, env, overrides)


def main(argv: Sequence[str] | None = None) -> int:
    return cli_main(train, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    sys.exit(main())
