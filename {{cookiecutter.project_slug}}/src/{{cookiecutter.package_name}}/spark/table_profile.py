"""Summarise any table for `make adopt-table`: one aggregation pass for every column.

The pass counts, ranges and measures every column and, on Spark 4.1+ (runtime 18), keeps a
bounded frequent-items sketch per column (`approx_top_k`, exact while a column has fewer
distinct values than the sketch tracks), so the few values of a categorical column come back
in the same pass while an id column with millions of values costs no more memory than one
with ten. Older Sparks lack the sketch: there a second, small aggregation lists the values of
the columns that turned out to have at most MAX_CATEGORIES. Only summaries reach the driver.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..core.adoption import MAX_CATEGORIES, ColumnSummary, TableSummary
from .contract_profile import type_family

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

# approx_count_distinct's relative standard deviation: exact in practice below a few hundred values.
DISTINCT_RSD = 0.02
# Items each column's frequent-items sketch tracks: its memory bound, and the count below which
# the items it returns are exact (far above MAX_CATEGORIES).
SKETCH_ITEMS = 1000
_LISTABLE = ("string", "integer", "double", "boolean")


def column(name: str) -> Column:
    """A column by its literal name, even one holding dots or spaces."""
    from pyspark.sql import functions as F

    return F.col("`" + name.replace("`", "``") + "`")


def profile_for_adoption(df: DataFrame, key: str, label: str) -> TableSummary:
    """Rows, per-column nulls, distinct counts, ranges and text shape; exact key uniqueness, label share."""
    from pyspark.sql import functions as F

    families = {field.name: type_family(field.dataType) for field in df.schema.fields}
    names = list(families)
    expressions: list[Column] = [F.count(F.lit(1)).alias("rows")]
    if key in families:
        expressions.append(F.count_distinct(column(key)).alias("key_distinct"))
    if families.get(label) in ("integer", "double", "boolean"):
        expressions.append(F.avg(column(label).cast("double")).alias("label_mean"))
    for index, name in enumerate(names):
        expressions.extend(_statistics(column(name), families[name], index))
    sketched = has_value_sketch(df)
    sketches = [
        F.call_function("approx_top_k", _reading(column(name), families[name]),
                        F.lit(MAX_CATEGORIES + 1), F.lit(SKETCH_ITEMS)).alias(f"v{index}")
        for index, name in enumerate(names)
        if sketched and families[name] in _LISTABLE
    ]
    row = df.agg(*expressions, *sketches).collect()[0].asDict()

    listable = [
        (index, name)
        for index, name in enumerate(names)
        if families[name] in _LISTABLE and (row.get(f"d{index}") or 0) <= MAX_CATEGORIES
    ]
    values: dict[str, tuple[Any, ...]] = {}
    if listable and sketched:
        for index, name in listable:
            items = [entry["item"] for entry in row[f"v{index}"] if entry["item"] is not None]
            values[name] = tuple(_plain(item) for item in sorted(items))
    elif listable:
        sets = df.agg(
            *(F.sort_array(F.collect_set(_reading(column(name), families[name]))).alias(f"v{index}")
              for index, name in listable)
        ).collect()[0]
        values = {name: tuple(_plain(v) for v in sets[f"v{index}"]) for index, name in listable}

    columns = {}
    for index, name in enumerate(names):
        family = families[name]
        columns[name] = ColumnSummary(
            name=name,
            type=family,
            nulls=int(row.get(f"n{index}") or 0),
            distinct=len(values[name]) if name in values else int(row.get(f"d{index}") or 0),
            minimum=_plain(row.get(f"lo{index}")),
            maximum=_plain(row.get(f"hi{index}")),
            mean_length=row.get(f"len{index}"),
            space_share=row.get(f"sp{index}"),
            values=values.get(name),
        )
    return TableSummary(
        rows=int(row["rows"]),
        columns=columns,
        key_distinct=row.get("key_distinct"),
        label_mean=row.get("label_mean"),
    )


def has_value_sketch(df: DataFrame) -> bool:
    """Whether this Spark has approx_top_k (4.1+), asked of the catalog so nothing logs an error."""
    return df.sparkSession.catalog.functionExists("approx_top_k")


def _statistics(value: Column, family: str, index: int) -> list[Column]:
    """The aggregations of one column, aliased by its position (names may hold any character)."""
    from pyspark.sql import functions as F

    missing = value.isNull()
    if family == "double":
        missing = missing | F.isnan(value)  # NaN is a missing reading, as in the data contract
    value = _reading(value, family)
    expressions = [F.sum(F.when(missing, 1).otherwise(0)).alias(f"n{index}")]
    if family in ("string", "integer", "double", "boolean", "date", "timestamp"):
        expressions.append(F.approx_count_distinct(value, DISTINCT_RSD).alias(f"d{index}"))
    if family in ("integer", "double"):
        expressions += [F.min(value).alias(f"lo{index}"), F.max(value).alias(f"hi{index}")]
    if family in ("date", "timestamp"):
        expressions += [
            F.min(value).cast("string").alias(f"lo{index}"),
            F.max(value).cast("string").alias(f"hi{index}"),
        ]
    if family == "string":
        expressions += [
            F.avg(F.length(value)).alias(f"len{index}"),
            F.avg(F.when(value.isNotNull(), F.instr(value, " ") > 0).cast("double")).alias(f"sp{index}"),
        ]
    return expressions


def _reading(value: Column, family: str) -> Column:
    """The column as a reading: NaN in a double column is missing, as in the data contract."""
    from pyspark.sql import functions as F

    return F.when(~F.isnan(value), value) if family == "double" else value


def _plain(value: Any) -> Any:
    """Spark's decimals as floats, so the YAML written from them holds plain numbers."""
    return float(value) if isinstance(value, Decimal) else value
