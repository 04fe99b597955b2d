"""Distribution profiles in Spark: approximate quantiles, then rows per bin and per category.

Whatever the table's size, what reaches the driver is one row of quantiles and one row per
(feature, bin or category): the reference profile at training time, each batch's counts in the monitor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.drift import MISSING, QUANTILE_LEVELS, NumericProfile, ReferenceProfile, grid_from_quantiles
from .encoding import QUANTILE_ACCURACY

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

MISSING_BIN = "missing"


def bin_index(name: str, edges: list[float]) -> Column:
    """The grid bin of column `name` as core.drift.bin_counts defines it, by binary search (log2 comparisons).

    Written as one SQL expression (double literals, `D`): built from Column objects it would cost a
    round trip to the JVM per node.
    """
    from pyspark.sql import functions as F

    column = f"CAST(`{name}` AS DOUBLE)"

    def search(low: int, high: int) -> str:
        if low == high:
            return str(low)
        middle = (low + high) // 2
        return (
            f"CASE WHEN {column} < {float(edges[middle])!r}D THEN {search(low, middle)} "
            f"ELSE {search(middle + 1, high)} END"
        )

    return F.expr(search(0, len(edges)))


def count_bins(
    df: DataFrame, numeric: dict[str, list[float]], categorical: list[str]
) -> tuple[dict[str, tuple[list[int], int]], dict[str, dict[str, int]]]:
    """Rows per grid bin (and missing) of each numeric column, rows per category of each categorical one."""
    from pyspark.sql import functions as F

    pairs = []
    for name, edges in numeric.items():
        column = F.col(name).cast("double")
        value = F.when(column.isNull() | F.isnan(column), F.lit(MISSING_BIN)).otherwise(
            bin_index(name, edges).cast("string")
        )
        pairs.append(F.struct(F.lit(name).alias("feature"), value.alias("value")))
    for name in categorical:
        value = F.coalesce(F.col(name).cast("string"), F.lit(MISSING))
        pairs.append(F.struct(F.lit(name).alias("feature"), value.alias("value")))
    rows = (
        df.select(F.explode(F.array(*pairs)).alias("pair"))
        .groupBy(F.col("pair.feature").alias("feature"), F.col("pair.value").alias("value"))
        .count()
        .collect()
    )
    numeric_counts = {name: ([0] * (len(edges) + 1), 0) for name, edges in numeric.items()}
    categorical_counts: dict[str, dict[str, int]] = {name: {} for name in categorical}
    for row in rows:
        feature, value, count = row["feature"], row["value"], int(row["count"])
        if feature in numeric_counts:
            counts, missing = numeric_counts[feature]
            if value == MISSING_BIN:
                numeric_counts[feature] = (counts, missing + count)
            else:
                counts[int(value)] += count
        else:
            categorical_counts[feature][value] = count
    return numeric_counts, categorical_counts


def reference_profile(
    df: DataFrame,
    numeric: list[str],
    categorical: list[str],
    *,
    score: str,
    baseline_metrics: dict[str, float],
) -> ReferenceProfile:
    """The profile of the training split (features and the model's scores on it), in two passes."""
    from pyspark.sql import functions as F

    quantile_columns = [*numeric, score]
    row = df.agg(
        F.count(F.lit(1)).alias("__rows"),
        *(
            F.percentile_approx(F.col(c).cast("double"), list(QUANTILE_LEVELS), QUANTILE_ACCURACY).alias(c)
            for c in quantile_columns
        ),
    ).first()
    grids = {c: grid_from_quantiles(list(row[c] or [None] * len(QUANTILE_LEVELS))) for c in quantile_columns}
    numeric_counts, categorical_counts = count_bins(
        df, {c: grids[c][0] for c in quantile_columns}, categorical
    )

    def profile(name: str) -> NumericProfile:
        edges, psi_edges = grids[name]
        counts, missing = numeric_counts[name]
        return NumericProfile(edges, counts, missing, psi_edges)

    return ReferenceProfile(
        rows=int(row["__rows"]),
        numeric={name: profile(name) for name in numeric},
        categorical=categorical_counts,
        scores=profile(score),
        baseline_metrics=dict(baseline_metrics),
    )


def batch_counts(
    df: DataFrame, reference: ReferenceProfile, *, score: str
) -> tuple[dict[str, tuple[list[int], int]], dict[str, dict[str, int]]]:
    """A batch counted into the reference's bins and categories; the score column under the key `score`."""
    numeric = {name: profile.edges for name, profile in reference.numeric.items()}
    numeric[score] = reference.scores.edges
    return count_bins(df, numeric, list(reference.categorical))
