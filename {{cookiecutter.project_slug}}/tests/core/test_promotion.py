"""The promotion gates: thresholds, fairness, and beating the champion by a margin."""

import pytest

from {{ cookiecutter.package_name }}.core.evaluation import FairnessResult
from {{ cookiecutter.package_name }}.core.promotion import (
    ValidationOutcome,
    check_champion,
    check_fairness,
    check_thresholds,
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
