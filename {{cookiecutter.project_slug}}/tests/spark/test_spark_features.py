"""Features computed in Spark from the YAML mappings; a broken expression names its feature."""

import pytest

from {{ cookiecutter.package_name }}.core.features import FeatureConfigError, parse_feature_mappings
from {{ cookiecutter.package_name }}.spark.features import build_feature_table

MAPPINGS = {
    "entity_key": "id",
    "label": "y",
    "passthrough": ["group"],
    "feature_groups": {
        "vitals": {
            "features": {
                "bmi": {"expr": "bmi", "type": "numeric"},
                "obese": {"expr": "CAST(bmi >= 30 AS INT)", "type": "binary"},
                "smoking": {"expr": "smoking", "type": "categorical"},
            }
        },
    },
}


@pytest.fixture(scope="module")
def raw(spark):
    return spark.createDataFrame(
        [("a", "g1", 31.0, "never", 1), ("b", "g2", float("nan"), None, 0)],
        "id string, `group` string, bmi double, smoking string, y long",
    )


def test_every_mapped_feature_is_computed_with_key_passthrough_and_label(raw):
    table = build_feature_table(raw, parse_feature_mappings(MAPPINGS))
    assert table.columns == ["id", "group", "bmi", "obese", "smoking", "y"]
    assert dict(table.dtypes)["obese"] == "double" and dict(table.dtypes)["y"] == "int"
    rows = {r["id"]: r for r in table.collect()}
    assert rows["a"]["obese"] == 1.0
    # NaN became null before the comparison, so it is missing rather than "obese".
    assert rows["b"]["bmi"] is None and rows["b"]["obese"] is None


def test_scoring_features_leave_the_label_out(raw):
    assert (
        "y"
        not in build_feature_table(
            raw.drop("y"), parse_feature_mappings(MAPPINGS), include_label=False
        ).columns
    )


def test_an_expression_over_a_missing_column_names_the_feature(raw):
    broken = {
        **MAPPINGS,
        "feature_groups": {
            "vitals": {
                "features": {
                    **MAPPINGS["feature_groups"]["vitals"]["features"],
                    "bp": {"expr": "systolic / 2", "type": "numeric"},
                }
            }
        },
    }
    with pytest.raises(FeatureConfigError, match=r"vitals\.features\.bp: expr 'systolic / 2' fails"):
        build_feature_table(raw, parse_feature_mappings(broken))
