"""`make adopt-table`'s decisions from a table profile: no Spark needed, every rule says why."""

import pytest

from {{ cookiecutter.package_name }}.core.adoption import (
    AdoptionError,
    ColumnSummary,
    TableSummary,
    adopt,
    widened_range,
)


def summary(*columns: ColumnSummary, rows: int = 1000, key_distinct: int = 1000, label_mean: float = 0.2):
    return TableSummary(rows, {c.name: c for c in columns}, key_distinct=key_distinct, label_mean=label_mean)


KEY = ColumnSummary("customer_id", "string", distinct=1000, mean_length=8.0, space_share=0.0)
LABEL = ColumnSummary("churned", "integer", distinct=2, minimum=0, maximum=1, values=(0, 1))
PLANS = ("basic", "premium", "standard")
PLAN = ColumnSummary("plan", "string", nulls=30, distinct=3, mean_length=6.0, values=PLANS)
TENURE = ColumnSummary("tenure_months", "integer", distinct=73, minimum=0, maximum=72)
ACCOUNT = ColumnSummary("account_number", "integer", distinct=1000, minimum=100000, maximum=100999)
NOTE = ColumnSummary("last_note", "string", distinct=990, mean_length=80.0, space_share=1.0)
EMAIL = ColumnSummary("email", "string", distinct=1000, mean_length=18.0, space_share=0.0)
SIGNUP = ColumnSummary("signup_at", "timestamp", distinct=900, minimum="2020-01-01", maximum="2026-11-30")
TABLE = (KEY, LABEL, PLAN, TENURE, ACCOUNT, NOTE, EMAIL, SIGNUP)


def test_features_get_types_ranges_and_categories_and_identifiers_and_text_are_left_out():
    adoption = adopt(summary(*TABLE), "churn", "customer_id", "churned")
    kinds = {d.column: (d.role, d.kind) for d in adoption.decisions}
    assert kinds["plan"] == ("feature", "categorical") and kinds["tenure_months"] == ("feature", "numeric")
    assert kinds["account_number"] == ("left out", "identifier")
    assert kinds["email"] == ("left out", "identifier")
    assert kinds["last_note"] == ("left out", "free text")
    assert kinds["signup_at"][0] == "contract"  # a point in time: checked, not learnt from
    columns = adoption.data_contract["columns"]
    assert columns["plan"] == {
        "type": "string", "nullable": True, "max_null_fraction": 0.11, "allowed": list(PLANS)
    }
    assert columns["tenure_months"] == {"type": "integer", "nullable": False, "min": 0, "max": 80}
    assert "last_note" not in columns and adoption.data_contract["dataset"]["key"] == "customer_id"
    assert adoption.feature_selection["include_groups"] == ["numbers", "categories"]
    assert all(d.reason for d in adoption.decisions)


@pytest.mark.parametrize(
    ("key", "label", "profile", "message"),
    [
        ("customer", "churned", {}, r"^KEY=customer: no such column; did you mean"),
        ("customer_id", "churn", {}, r"^LABEL=churn: no such column; .*one of: customer_id"),
        ("customer_id", "plan", {}, r"^LABEL=plan has 3 distinct values, more than two classes: .*0/1"),
        ("customer_id", "churned", {"key_distinct": 990}, r"^KEY=customer_id is not unique: 10 duplicate"),
        ("tenure_months", "churned", {"key_distinct": 73}, r"^KEY=tenure_months is not unique"),
    ],
)
def test_a_key_or_label_that_will_not_do_is_one_line_naming_the_column(key, label, profile, message):
    with pytest.raises(AdoptionError, match=message) as error:
        adopt(summary(*TABLE, **profile), "churn", key, label)
    assert "\n" not in str(error.value)


def test_a_label_of_one_class_or_other_values_is_refused():
    one_class = ColumnSummary("churned", "integer", distinct=1, minimum=0, maximum=0, values=(0,))
    with pytest.raises(AdoptionError, match="one class only"):
        adopt(summary(KEY, one_class, TENURE), "churn", "customer_id", "churned")
    yes_no = ColumnSummary("churned", "string", distinct=2, values=("no", "yes"))
    with pytest.raises(AdoptionError, match="has the values no, yes: .*0/1 or boolean"):
        adopt(summary(KEY, yes_no, TENURE), "churn", "customer_id", "churned")


def test_the_sensitive_attribute_is_a_passthrough_not_an_input():
    adoption = adopt(summary(*TABLE), "churn", "customer_id", "churned", sensitive="plan")
    assert adoption.feature_mappings["passthrough"] == ["plan"]
    groups = adoption.feature_mappings["feature_groups"].values()
    features = {feature for group in groups for feature in group["features"]}
    assert "plan" not in features


def test_ranges_widen_by_a_tenth_of_the_span_and_never_below_zero_when_the_data_is_not():
    assert widened_range(0, 72, integer=True) == (0, 80)
    assert widened_range(-10.0, 10.0, integer=False) == (-12.0, 12.0)
    assert widened_range(20.0, 20.0, integer=False) == (18.0, 22.0)
