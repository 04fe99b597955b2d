"""Step 6: score a batch with the champion model and append the predictions.

Resolves `models:/<name>@champion` to its version and loads it, checks the batch against the
data contract (label and min_rows aside), computes the same features as training, scores
them in Spark, and appends the predictions with the model version, the training run id, a
batch id and the time (Delta on Databricks, Parquet locally).
"""

from __future__ import annotations

import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from ..core.data_contract import DataContract
from ..io import tracking
from ..io.tables import read_table, table_location, write_table
from ..spark.features import build_feature_table
from .common import DataContractViolation, PipelineError, StepContext, entry_point
from .model_data import model_inputs
from .validate_data import check_dataframe, write_validation_report

PREDICTION_COLUMNS = (
    "risk_score",
    "predicted_high_risk",
    "model_name",
    "model_version",
    "model_run_id",
    "batch_id",
    "scored_at",
    "input_table",
)


@dataclass
class InferenceResult:
    table: str
    rows: int
    model_version: str
    batch_id: str
    input_table: str

    def summary(self) -> str:
        return (
            f"scored {self.rows} rows of {self.input_table} with champion v{self.model_version}; "
            f"batch {self.batch_id} appended to {self.table}"
        )


def batch_inference(context: StepContext) -> InferenceResult:
    """Score `inference.input_table` with the champion and append to the predictions table."""
    from pyspark.sql import functions as F

    config = context.config
    input_logical = str(config["inference"]["input_table"])
    tracking.configure_mlflow(config)
    name = tracking.model_name(config)
    champion = tracking.version_by_alias(name, tracking.CHAMPION)
    if champion is None:
        raise PipelineError(
            f"model {name!r} has no '{tracking.CHAMPION}' version yet: train, validate and deploy first"
        )

    raw = read_table(context.spark, config, input_logical)
    contract = DataContract.from_config(config["data_contract"]).for_scoring()
    check = check_dataframe(raw, contract, table_location(config, input_logical))
    if not check.passed:
        path = write_validation_report(context, check, "batch_inference")
        raise DataContractViolation(f"{check.summary()} (report: {path})")

    mappings, features, _ = model_inputs(config)
    feature_df = build_feature_table(raw, mappings, include_label=False)
    # The alias was resolved to a version above; loading that exact version guarantees the recorded
    # version is the one that scored, even if `champion` moves meanwhile. Scoring runs in Spark, on
    # the workers, so the same code scales from this sample to millions of rows.
    scorer = tracking.scoring_udf(context.spark, f"models:/{name}/{champion.version}")
    threshold = float(config["training"]["decision_threshold"])
    batch_id = uuid.uuid4().hex
    scored_at = datetime.now(UTC).replace(tzinfo=None)
    probabilities = scorer(*[F.col(f.name) for f in features])
    predictions = (
        feature_df.withColumn("risk_score", F.element_at(probabilities, -1))
        .withColumn("predicted_high_risk", (F.col("risk_score") >= F.lit(threshold)).cast("int"))
        .withColumn("model_name", F.lit(name))
        .withColumn("model_version", F.lit(champion.version))
        .withColumn("model_run_id", F.lit(champion.run_id or ""))
        .withColumn("batch_id", F.lit(batch_id))
        .withColumn("scored_at", F.lit(scored_at).cast("timestamp"))
        .withColumn("input_table", F.lit(input_logical))
    )
    table = write_table(predictions, config, "predictions", mode="append")
    rows = read_table(context.spark, config, "predictions").where(F.col("batch_id") == batch_id).count()
    return InferenceResult(table, rows, champion.version, batch_id, input_logical)


run = entry_point(batch_inference)

if __name__ == "__main__":
    sys.exit(run.main())
