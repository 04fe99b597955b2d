"""Summarise a Spark DataFrame for the data contract in one aggregation pass."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.data_contract import ColumnProfile, ColumnRule, DataContract, TableProfile

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame
    from pyspark.sql.types import DataType

_TYPE_FAMILIES = {
    "string": "string",
    "varchar": "string",
    "char": "string",
    "integer": "integer",
    "long": "integer",
    "short": "integer",
    "byte": "integer",
    "double": "double",
    "float": "double",
    "decimal": "double",
    "boolean": "boolean",
    "date": "date",
    "timestamp": "timestamp",
    "timestamp_ntz": "timestamp",
}


def type_family(data_type: DataType) -> str:
    """The contract's type name for a Spark type ('long' and 'integer' are both 'integer')."""
    name = data_type.typeName()
    return _TYPE_FAMILIES.get(name, name)


def profile_table(df: DataFrame, contract: DataContract) -> TableProfile:
    """Row count, key uniqueness and rule-breaking counts for every contract column present."""
    from pyspark.sql import functions as F

    column_types = {field.name: type_family(field.dataType) for field in df.schema.fields}
    checked = [rule for rule in contract.columns if column_types.get(rule.name) == rule.type]
    expressions: list[Column] = [F.count(F.lit(1)).alias("rows")]
    if column_types.get(contract.key) is not None:
        expressions.append(F.countDistinct(F.col(contract.key)).alias("distinct_keys"))
    for index, rule in enumerate(checked):
        for stat, condition in _conditions(rule).items():
            expressions.append(F.sum(F.when(condition, 1).otherwise(0)).alias(f"c{index}_{stat}"))
    row = df.agg(*expressions).collect()[0].asDict()

    profile = TableProfile(
        row_count=int(row["rows"]), column_types=column_types, distinct_keys=row.get("distinct_keys")
    )
    for index, rule in enumerate(checked):
        counts = {stat: int(row[f"c{index}_{stat}"] or 0) for stat in _conditions(rule)}
        profile.columns[rule.name] = ColumnProfile(
            nulls=counts["nulls"],
            below_min=counts.get("below_min"),
            above_max=counts.get("above_max"),
            not_allowed=counts.get("not_allowed"),
            pattern_mismatch=counts.get("pattern_mismatch"),
        )
    return profile


def _conditions(rule: ColumnRule) -> dict[str, Column]:
    """A boolean Spark column per rule: true on the rows that break it (nulls break only 'nulls')."""
    from pyspark.sql import functions as F

    column = F.col(rule.name)
    missing = column.isNull()
    if rule.type == "double":
        missing = missing | F.isnan(column)  # NaN is a missing reading, not a number
    present = ~missing
    conditions = {"nulls": missing}
    if rule.min is not None:
        conditions["below_min"] = present & (column < F.lit(rule.min))
    if rule.max is not None:
        conditions["above_max"] = present & (column > F.lit(rule.max))
    if rule.allowed is not None:
        conditions["not_allowed"] = present & ~column.isin(list(rule.allowed))
    if rule.pattern is not None:
        conditions["pattern_mismatch"] = present & ~column.cast("string").rlike(rule.pattern)
    return conditions
