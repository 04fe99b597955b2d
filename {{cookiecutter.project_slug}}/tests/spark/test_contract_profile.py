"""Profiling a Spark DataFrame for the data contract: one pass, every rule counted, NaN is missing."""

from {{ cookiecutter.package_name }}.core.data_contract import DataContract, check_contract
from {{ cookiecutter.package_name }}.spark.contract_profile import profile_table

CONTRACT = DataContract.from_config(
    {
        "dataset": {"key": "id", "min_rows": 1},
        "columns": {
            "id": {"type": "string", "nullable": False, "pattern": "^P[0-9]+$"},
            "age": {"type": "integer", "nullable": False, "min": 12, "max": 60},
            "bmi": {"type": "double", "max_null_fraction": 0.3},
            "smoking": {"type": "string", "allowed": ["never", "current"]},
        },
    }
)


def test_counts_each_broken_rule_per_column(spark):
    df = spark.createDataFrame(
        [
            ("P1", 30, 22.0, "never"),
            ("P2", 99, float("nan"), "sometimes"),
            ("P2", 8, None, None),
            ("X3", 40, 30.0, "current"),
        ],
        "id string, age long, bmi double, smoking string",
    )
    profile = profile_table(df, CONTRACT)
    assert profile.row_count == 4 and profile.distinct_keys == 3
    assert profile.column_types["age"] == "integer"
    assert (profile.columns["age"].below_min, profile.columns["age"].above_max) == (1, 1)
    assert profile.columns["bmi"].nulls == 2  # NaN counts as missing
    assert profile.columns["smoking"].not_allowed == 1
    assert profile.columns["id"].pattern_mismatch == 1
    rules = {(v.column, v.rule) for v in check_contract(CONTRACT, profile)}
    assert rules == {
        ("age", "min"),
        ("age", "max"),
        ("bmi", "max_null_fraction"),
        ("smoking", "allowed"),
        ("id", "pattern"),
        ("id", "unique"),
    }


def test_wrong_type_skips_value_rules_and_is_reported(spark):
    df = spark.createDataFrame(
        [("P1", "thirty", 22.0, "never")], "id string, age string, bmi double, smoking string"
    )
    violations = check_contract(CONTRACT, profile_table(df, CONTRACT))
    assert [(v.column, v.rule) for v in violations] == [("age", "type")]
