"""The promotion gates: thresholds, fairness, and beating the champion by a margin."""

import pytest

from {{ cookiecutter.package_name }}.core.evaluation import FairnessResult
from {{ cookiecutter.package_name }}.core.promotion import (
    ValidationOutcome,
    check_champion,
    check_fairness,
    check_thresholds,
    judge_challenger,
)


def test_thresholds_check_min_and_max_bounds():
    checks = check_thresholds(
        {"roc_auc": 0.8, "brier": 0.3}, {"roc_auc": {"min": 0.75}, "brier": {"max": 0.2}}
    )
    assert [c.passed for c in checks] == [True, False]
    assert "brier=0.3000, needs <= 0.2" in checks[1].detail


def test_unknown_threshold_metric_is_a_config_error():
    with pytest.raises(ValueError, match="validation.thresholds.auc"):
        check_thresholds({"roc_auc": 0.8}, {"auc": {"min": 0.5}})


def test_challenger_must_beat_the_champion_by_the_margin():
    kwargs = {"metric": "roc_auc", "min_improvement": 0.01, "champion_version": "3"}
    assert check_champion({"roc_auc": 0.805}, {"roc_auc": 0.80}, **kwargs).passed is False
    assert check_champion({"roc_auc": 0.811}, {"roc_auc": 0.80}, **kwargs).passed is True
    assert check_champion({"roc_auc": 0.5}, None, **kwargs).passed is True


def test_fairness_gate_and_outcome_fail_when_any_check_fails():
    fairness = FairnessResult(
        "group", "recall", {"a": {"recall": 0.9}, "b": {"recall": 0.5}}, 0.4, ["a", "b"]
    )
    outcome = ValidationOutcome(
        [
            check_fairness(fairness, max_gap=0.2),
            *check_thresholds({"roc_auc": 0.9}, {"roc_auc": {"min": 0.5}}),
        ]
    )
    assert not outcome.passed
    assert [c.name for c in outcome.failures] == ["fairness:group"]
    assert outcome.to_dict()["passed"] is False


def test_judge_challenger_applies_every_configured_gate_in_order():
    settings = {
        "thresholds": {"roc_auc": {"min": 0.7}, "recall": {"min": 0.5}},
        "fairness": {"max_gap": 0.2},
        "champion_challenger": {"metric": "roc_auc", "min_improvement": 0.005},
    }
    fair = FairnessResult("group", "recall", {"a": {"recall": 0.6}, "b": {"recall": 0.55}}, 0.05, ["a", "b"])
    metrics = {"roc_auc": 0.80, "recall": 0.6}
    first = judge_challenger(metrics, fair, None, settings)
    assert first.passed and [c.name for c in first.checks] == [
        "threshold:roc_auc:min",
        "threshold:recall:min",
        "fairness:group",
        "champion_challenger",
    ]
    worse = judge_challenger(metrics, fair, {"roc_auc": 0.798}, settings, champion_version="4")
    assert [c.name for c in worse.failures] == ["champion_challenger"] and "v4" in worse.failures[0].detail


def test_without_a_sensitive_attribute_fairness_is_reported_as_not_checked():
    check = check_fairness(None, max_gap=0.2)
    assert check.passed and check.detail.startswith("NOT CHECKED") and "sensitive_attribute" in check.detail


def test_a_champion_trained_on_other_columns_is_not_compared_and_says_why():
    why = "it was trained on columns this feature table lacks (age, bmi)"
    kwargs = {"metric": "roc_auc", "min_improvement": 0.01, "champion_version": "2"}
    check = check_champion({"roc_auc": 0.6}, None, **kwargs, incomparable=why)
    assert check.passed and check.detail == f"champion v2 not compared: {why}"
