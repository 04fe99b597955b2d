"""Model quality in Spark: the sums behind every metric, per group, with only one row per group collected."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.evaluation import MISSING_GROUP, ScoreSummary

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

ALL_ROWS = "__all__"
# Scores are ranked at this resolution (1e-6): near-ties merge, the ranking metrics barely move.
RESOLUTION = 1_000_000


def score_summaries(
    df: DataFrame, *, label: str, score: str, threshold: float, by: str | None = None
) -> dict[str, ScoreSummary]:
    """A ScoreSummary of all rows (key '__all__') and, with `by`, one per value of it ('<missing>' for nulls).

    One pass: each row counts once for all rows and once for its group.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    group = F.lit(ALL_ROWS)
    if by:
        group = F.explode(F.array(group, F.coalesce(F.col(by).cast("string"), F.lit(MISSING_GROUP))))
    base = df.select(
        group.alias("g"), F.col(label).cast("int").alias("y"), F.col(score).cast("double").alias("p")
    ).where(F.col("p").isNotNull() & F.col("y").isNotNull())
    flagged = F.col("p") >= F.lit(float(threshold))
    buckets = base.groupBy("g", F.floor(F.col("p") * RESOLUTION).alias("b")).agg(
        F.count(F.lit(1)).alias("n"),
        F.sum("y").alias("pos"),
        F.sum(flagged.cast("int")).alias("flag"),
        F.sum((flagged & (F.col("y") == 1)).cast("int")).alias("flag_pos"),
        F.sum((F.col("p") - F.col("y")) ** 2).alias("sq"),
    )
    below = Window.partitionBy("g").orderBy("b").rowsBetween(Window.unboundedPreceding, -1)
    from_top = Window.partitionBy("g").orderBy(F.col("b").desc()).rowsBetween(Window.unboundedPreceding, 0)
    negatives = F.col("n") - F.col("pos")
    ranked = buckets.select(
        "*",
        (F.col("pos") * (F.coalesce(F.sum(negatives).over(below), F.lit(0)) + 0.5 * negatives)).alias("auc"),
        (F.col("pos") * F.sum("pos").over(from_top) / F.sum("n").over(from_top)).alias("prec"),
    )
    rows = (
        ranked.groupBy("g")
        .agg(
            F.sum("n").alias("n"),
            F.sum("pos").alias("pos"),
            F.sum("flag").alias("flag"),
            F.sum("flag_pos").alias("flag_pos"),
            F.sum("sq").alias("sq"),
            F.sum("auc").alias("auc"),
            F.sum("prec").alias("prec"),
        )
        .collect()
    )
    return {
        str(row["g"]): ScoreSummary(
            rows=int(row["n"]),
            positives=int(row["pos"] or 0),
            flagged=int(row["flag"] or 0),
            flagged_positives=int(row["flag_pos"] or 0),
            squared_error=float(row["sq"] or 0.0),
            auc_pairs=float(row["auc"] or 0.0),
            precision_sum=float(row["prec"] or 0.0),
        )
        for row in rows
    }
