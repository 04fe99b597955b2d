"""Each row's split and tuning role in Spark: the same stable hash as core/training.py, column by column."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.training import TuningPlan, split_edges

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame


def stable_fraction(key: Column, salt: str) -> Column:
    """sha256('<salt>:<key>')'s first 8 bytes / 2**64: the number core.training.stable_fraction gives."""
    from pyspark.sql import functions as F

    digest = F.sha2(F.concat(F.lit(f"{salt}:"), key.cast("string")), 256)
    return F.conv(F.substring(digest, 1, 16), 16, 10).cast("double") / F.lit(float(2**64))


def split_column(key: Column, fractions: dict[str, float], salt: str) -> Column:
    """The split name per row: the first split whose upper edge exceeds the row's fraction."""
    from pyspark.sql import functions as F

    position = stable_fraction(key, salt)
    names = list(fractions)
    chosen = F.lit(names[-1])
    for name, edge in reversed(list(zip(names[:-1], split_edges(fractions)[:-1], strict=True))):
        chosen = F.when(position < F.lit(edge), F.lit(name)).otherwise(chosen)
    return chosen


def with_roles(df: DataFrame, key: str, plan: TuningPlan) -> DataFrame:
    """`df` plus `split` (train/validation/test) and `role` (fit/holdout/test), as in core.training."""
    from pyspark.sql import functions as F

    split = split_column(F.col(key), plan.fractions, plan.salt)
    if plan.holdout_share is None:
        inner = F.lit("fit")
    else:
        inner = split_column(F.col(key), plan.inner_fractions, plan.inner_salt)
    role = F.when(split == "test", "test").when(split == "validation", "holdout").otherwise(inner)
    return df.withColumn("split", split).withColumn("role", role)
