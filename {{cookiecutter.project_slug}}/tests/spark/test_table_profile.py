"""Profiling a table for `make adopt-table`: one pass on Spark 4.1+, the same summary on older Sparks."""

import pytest

from {{ cookiecutter.package_name }}.spark import table_profile
from {{ cookiecutter.package_name }}.spark.table_profile import profile_for_adoption


@pytest.fixture(scope="module")
def table(spark):
    rows = [(f"C{n:04d}", ["basic", "plus", "pro"][n % 3], float(n % 4) if n % 7 else float("nan"),
             n % 2 == 0, n % 5 == 0) for n in range(300)]
    return spark.createDataFrame(
        rows, "customer_id string, plan string, calls double, paperless boolean, churned boolean"
    )


def facts(summary):
    return {name: (column.nulls, column.distinct, column.values, column.minimum, column.maximum)
            for name, column in summary.columns.items()}


def test_the_few_values_of_a_column_are_listed_and_an_id_is_not(table, monkeypatch):
    import pyspark

    aggregations = []
    real_agg = type(table).agg
    monkeypatch.setattr(type(table), "agg", lambda df, *cols: aggregations.append(1) or real_agg(df, *cols))
    summary = profile_for_adoption(table, key="customer_id", label="churned")
    if tuple(int(part) for part in pyspark.__version__.split(".")[:2]) >= (4, 1):
        assert len(aggregations) == 1  # statistics and value sketches in one pass over the table
    assert summary.rows == 300 and summary.key_distinct == 300
    assert summary.columns["plan"].values == ("basic", "plus", "pro")
    assert summary.columns["calls"].values == (0.0, 1.0, 2.0, 3.0)  # NaN is a missing reading, not a value
    assert summary.columns["calls"].nulls == len([n for n in range(300) if n % 7 == 0])
    assert summary.columns["paperless"].values == (False, True)
    assert summary.columns["customer_id"].values is None and summary.columns["customer_id"].distinct > 250


def test_without_the_sketch_a_second_small_pass_gives_the_same_summary(table, monkeypatch):
    """Spark before 4.1 has no approx_top_k: a second small pass lists the values."""
    one_pass = profile_for_adoption(table, key="customer_id", label="churned")
    monkeypatch.setattr(table_profile, "has_value_sketch", lambda df: False)
    two_passes = profile_for_adoption(table, key="customer_id", label="churned")
    assert facts(two_passes) == facts(one_pass)
