"""Feature mappings, selection and imputation come from YAML and fail with the field to fix."""

import copy
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.config import SPEC_FILES, load_config
from {{ cookiecutter.package_name }}.core.features import (
    FeatureConfigError,
    Imputation,
    imputation_plan,
    parse_feature_mappings,
    select_features,
)

CONFIG_DIR = Path(__file__).resolve().parents[2] / "configs"
# The example's spec files, wherever they are (configs/, or configs/example/ once a table is adopted).
EXAMPLE = load_config("local", CONFIG_DIR, overrides=["example.enabled=true"])
SPEC_KEYS = {filename: key for key, filename in SPEC_FILES.items()}


def load(name: str) -> dict:
    return copy.deepcopy(EXAMPLE[SPEC_KEYS[name]])


def test_the_shipped_specs_parse_and_select_a_feature_set():
    mappings = parse_feature_mappings(load("feature_mappings.yml"))
    selected = select_features(mappings, load("feature_selection_config.yml"))
    plan = imputation_plan(selected, load("imputation.yml"), mappings.names())
    names = [f.name for f in selected]
    assert "first_pregnancy" in mappings.names() and "first_pregnancy" not in names
    assert set(plan) == set(names)
    assert plan["smoking_status"] == Imputation("constant", "unknown")


def test_selection_is_groups_plus_features_minus_exclusions_in_mapping_order():
    mappings = parse_feature_mappings(load("feature_mappings.yml"))
    selected = select_features(
        mappings,
        {"include_groups": ["lifestyle"], "include_features": ["bmi", "age"], "exclude_features": ["bmi"]},
    )
    assert [f.name for f in selected] == ["age", "smoking_status"]


@pytest.mark.parametrize(
    "selection,message",
    [
        ({"include_groups": ["vitalz"]}, "unknown group 'vitalz'"),
        ({"include_features": ["bmii"]}, "unknown feature 'bmii'"),
        ({"include_groups": ["lifestyle"], "exclude_features": ["smoking_status"]}, "selects no feature"),
    ],
)
def test_bad_selection_is_refused_with_the_name(selection, message):
    with pytest.raises(FeatureConfigError, match=message):
        select_features(parse_feature_mappings(load("feature_mappings.yml")), selection)


def test_duplicate_feature_and_bad_type_name_their_place():
    spec = load("feature_mappings.yml")
    spec["feature_groups"]["lifestyle"]["features"]["age"] = {"expr": "age", "type": "numeric"}
    with pytest.raises(FeatureConfigError, match="lifestyle.features.age: already defined"):
        parse_feature_mappings(spec)
    spec = load("feature_mappings.yml")
    spec["feature_groups"]["vitals"]["features"]["bmi"]["type"] = "float"
    with pytest.raises(FeatureConfigError, match=r"vitals\.features\.bmi\.type"):
        parse_feature_mappings(spec)


def test_imputation_typos_and_impossible_strategies_are_errors():
    mappings = parse_feature_mappings(load("feature_mappings.yml"))
    selected = select_features(mappings, load("feature_selection_config.yml"))
    with pytest.raises(FeatureConfigError, match="imputation.features.bmy"):
        imputation_plan(
            selected,
            {"defaults": load("imputation.yml")["defaults"], "features": {"bmy": "median"}},
            mappings.names(),
        )
    with pytest.raises(FeatureConfigError, match="categorical feature needs"):
        imputation_plan(
            selected,
            {"defaults": {**load("imputation.yml")["defaults"], "categorical": "median"}},
            mappings.names(),
        )
