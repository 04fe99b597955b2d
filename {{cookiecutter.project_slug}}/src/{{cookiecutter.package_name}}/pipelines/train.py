"""Step 3: tune, train and register a challenger model.

Splits the feature table by `training.split_config` (a stable hash of the key), tunes and fits
with the configured engine (`training.engine`: distributed XGBoost on Spark, or single-node
scikit-learn; see engines/), logs every Hyperopt trial to MLflow, logs the model with
signature, input example, feature importance and the reference profile the monitor compares
batches with, registers a new version and gives it the `challenger` alias. A retrain the
monitor triggered (`training.trigger`) is tagged as such on the run and on the version.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..config import training_engine
from ..core.evaluation import finite
from ..core.plots import feature_importance_figure
from ..core.retraining import RetrainTrigger
from ..core.training import TrialRecord
from ..engines import FittedChallenger, fit_challenger
from ..io import tracking
from ..spark.profiles import reference_profile
from .common import StepContext, entry_point
from .model_data import FeatureTable, load_feature_table

PROFILE_ARTIFACT = "reference_profile.json"
SCORE_COLUMN = "risk_score"


@dataclass
class TrainResult:
    model_name: str
    version: str
    run_id: str
    trials: int
    test_metrics: dict[str, float] = field(default_factory=dict)
    engine: str = ""
    triggered_by: str = ""  # "monitor" for a triggered retrain

    def summary(self) -> str:
        auc = self.test_metrics.get("roc_auc", float("nan"))
        trigger = f", by the {self.triggered_by}" if self.triggered_by else ""
        return (
            f"registered {self.model_name} version {self.version} as '{tracking.CHALLENGER}' "
            f"({self.engine} engine, run {self.run_id}, {self.trials} trials, "
            f"test roc_auc={auc:.3f}{trigger})"
        )


def train(context: StepContext) -> TrainResult:
    """Tune, refit, log and register; the new version becomes the challenger."""
    import mlflow

    config = context.config
    settings = config["training"]
    engine = training_engine(config)
    trigger = RetrainTrigger.from_config(config)
    table = load_feature_table(context)
    tracking.configure_mlflow(config)
    name = tracking.model_name(config)
    commit = tracking.current_commit(config)
    actor = tracking.current_actor(context.spark)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    with mlflow.start_run(run_name=f"train-{context.env}-{stamp}") as run:
        mlflow.set_tags(
            {
                "pipeline_step": "train",
                "environment": context.env,
                "git_commit": commit,
                "trained_by": actor,
                "training_engine": engine,
                **(trigger.tags() if trigger else {}),
            }
        )
        mlflow.log_params(
            {
                "training_engine": engine,
                "split_config": str(settings["split_config"]),
                "class_weight": str(settings.get("class_weight")),
                "max_evals": int(settings["hyperopt"]["max_evals"]),
                "tuning_metric": settings["hyperopt"]["metric"],
                "n_features": len(table.features),
            }
        )
        fitted = fit_challenger(context, table)
        _log_trials(fitted.tuning.trials)
        mlflow.log_params({f"rows_{split}": rows for split, rows in fitted.rows.items()})
        mlflow.log_params({f"best_{key}": value for key, value in fitted.tuning.best_params.items()})
        mlflow.log_metrics(finite(fitted.tuning.best_metrics, "holdout_"))
        mlflow.log_metrics(finite(fitted.test_metrics, "test_"))
        mlflow.log_dict(
            {
                "feature_importance": fitted.importance.to_dict(orient="records"),
                "measure": fitted.importance_label,
            },
            "feature_importance.json",
        )
        mlflow.log_figure(
            feature_importance_figure(fitted.importance, fitted.importance_label), "feature_importance.png"
        )
        mlflow.log_dict(
            {
                "features": [vars(f) for f in table.features],
                "imputation": {k: vars(v) for k, v in table.imputation.items()},
            },
            "feature_spec.json",
        )
        mlflow.log_dict(_profile(context, table, fitted), PROFILE_ARTIFACT)

    version = tracking.register_model(
        fitted.model_info.model_uri,
        name,
        {
            "git_commit": commit,
            "trained_by": actor,
            "trained_at": tracking.utc_now(),
            "training_run_id": run.info.run_id,
            "training_engine": engine,
            "environment": context.env,
            "validation_status": "pending",
            **(trigger.tags() if trigger else {}),
        },
    )
    tracking.set_alias(name, tracking.CHALLENGER, version.version)
    tracking.tag_version(
        name,
        version.version,
        {},
        description=(
            f"Trained in {context.env} ({engine} engine) from commit {commit[:12]} by {actor}"
            + (f", triggered by the {trigger.by} (batch {trigger.batch_id}: {trigger.reasons})"
               if trigger else "")
            + "; awaiting validate_model."
        ),
    )
    return TrainResult(
        name,
        version.version,
        run.info.run_id,
        len(fitted.tuning.trials),
        fitted.test_metrics,
        engine,
        trigger.by if trigger else "",
    )


def _profile(context: StepContext, table: FeatureTable, fitted: FittedChallenger) -> dict[str, Any]:
    """The reference the monitor compares every batch with: the training split's features and scores."""
    from pyspark.sql import functions as F

    scorer = tracking.scoring_udf(context.spark, fitted.model_info.model_uri)
    train_rows = table.rows("fit", "holdout").select(
        *table.feature_names,
        F.element_at(scorer(*[F.col(n) for n in table.feature_names]), -1).alias(SCORE_COLUMN),
    )
    numeric = [f.name for f in table.features if f.type == "numeric"]
    categorical = [f.name for f in table.features if f.type != "numeric"]
    profile = reference_profile(
        train_rows, numeric, categorical, score=SCORE_COLUMN, baseline_metrics=finite(fitted.test_metrics)
    )
    return profile.to_dict()


def _log_trials(trials: list[TrialRecord]) -> None:
    """Each Hyperopt trial as a nested run with its hyperparameters and holdout metrics."""
    import mlflow

    for trial in trials:
        with mlflow.start_run(run_name=f"trial-{trial.number:03d}", nested=True):
            mlflow.set_tags({"pipeline_step": "train/trial", "trial_status": trial.status})
            mlflow.log_params(trial.params)
            mlflow.log_metrics(finite(trial.metrics))


run = entry_point(train)

if __name__ == "__main__":
    sys.exit(run.main())
