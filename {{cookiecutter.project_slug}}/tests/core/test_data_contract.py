"""Contract parsing and the rules that judge a table profile, without Spark."""

import pytest

from {{ cookiecutter.package_name }}.core.data_contract import (
    ColumnProfile,
    ContractError,
    DataContract,
    TableProfile,
    check_contract,
    describe_violations,
)

SPEC = {
    "dataset": {"key": "id", "min_rows": 10},
    "columns": {
        "id": {"type": "string", "nullable": False},
        "age": {"type": "integer", "nullable": False, "min": 12, "max": 60},
        "smoking": {"type": "string", "allowed": ["never", "current"]},
        "label": {"type": "integer", "allowed": [0, 1], "label": True},
    },
}


def healthy_profile(**changes) -> TableProfile:
    profile = TableProfile(
        row_count=100,
        column_types={"id": "string", "age": "integer", "smoking": "string", "label": "integer"},
        columns={
            "id": ColumnProfile(),
            "age": ColumnProfile(below_min=0, above_max=0),
            "smoking": ColumnProfile(not_allowed=0),
            "label": ColumnProfile(not_allowed=0),
        },
        distinct_keys=100,
    )
    for key, value in changes.items():
        setattr(profile, key, value)
    return profile


def test_a_table_that_honours_the_contract_has_no_violations():
    assert check_contract(DataContract.from_config(SPEC), healthy_profile()) == []


def test_every_broken_rule_is_named_with_its_column():
    profile = healthy_profile(row_count=5, distinct_keys=4)
    profile.columns["age"] = ColumnProfile(nulls=1, above_max=2, below_min=0)
    profile.columns["smoking"] = ColumnProfile(not_allowed=3)
    violations = check_contract(DataContract.from_config(SPEC), profile)
    found = {(v.column, v.rule) for v in violations}
    assert found == {
        ("<table>", "min_rows"),
        ("age", "nullable"),
        ("age", "max"),
        ("smoking", "allowed"),
        ("id", "unique"),
    }
    assert "age (max: 2 value(s) above 60)" in describe_violations(violations)


def test_missing_column_and_wrong_type_are_reported_instead_of_value_rules():
    profile = healthy_profile(column_types={"id": "string", "age": "string", "label": "integer"})
    violations = check_contract(DataContract.from_config(SPEC), profile)
    assert {(v.column, v.rule) for v in violations} == {("age", "type"), ("smoking", "present")}
    assert "expected integer, found string" in str(violations[0])


def test_scoring_contract_drops_the_label_and_min_rows():
    scoring = DataContract.from_config(SPEC).for_scoring()
    assert "label" not in {c.name for c in scoring.columns} and scoring.min_rows == 1


@pytest.mark.parametrize(
    "spec,field",
    [
        ({**SPEC, "columns": {**SPEC["columns"], "age": {"type": "int"}}}, "age.type"),
        (
            {**SPEC, "columns": {**SPEC["columns"], "age": {"type": "integer", "maximum": 3}}},
            "age: unknown rule",
        ),
        ({**SPEC, "dataset": {"key": "nope"}}, "dataset.key"),
        ({**SPEC, "columns": {**SPEC["columns"], "id": {"type": "string", "pattern": "("}}}, "id.pattern"),
    ],
)
def test_malformed_contract_names_the_field(spec, field):
    with pytest.raises(ContractError, match=field.replace(".", r"\.")):
        DataContract.from_config(spec)
