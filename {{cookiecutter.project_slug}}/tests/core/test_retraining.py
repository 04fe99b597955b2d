"""The guard rails between "retrain recommended" and a started retrain, and the trigger a retrain carries."""

from datetime import UTC, datetime, timedelta

import pytest

from {{ cookiecutter.package_name }}.config import apply_overrides, load_config
from {{ cookiecutter.package_name }}.core.promotion import APPROVAL_ENVIRONMENTS, needs_approval
from {{ cookiecutter.package_name }}.core.retraining import (
    TRIGGER_PARAMETERS,
    PastTrigger,
    RetrainConfigError,
    RetrainPolicy,
    RetrainTrigger,
    decide_trigger,
    trigger_overrides,
)

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
POLICY = RetrainPolicy(enabled=True, min_interval_hours=24, max_per_week=2)


def decide(history=(), *, recommended=True, policy=POLICY, batch_id="b9", awaiting=None):
    return decide_trigger(
        recommended, policy, list(history), batch_id=batch_id, now=NOW, awaiting_approval=awaiting
    )


def ago(hours: float, batch_id: str = "b1") -> PastTrigger:
    return PastTrigger(NOW - timedelta(hours=hours), batch_id)


def test_a_recommendation_with_no_earlier_trigger_starts_a_retrain():
    decision = decide()
    assert decision.trigger is True and decision.reason == "retrain started"


def test_nothing_starts_without_a_recommendation_or_with_retraining_off():
    assert decide(recommended=False).trigger is False
    off = decide(policy=RetrainPolicy(False, 24, 2))
    assert off.trigger is False and "monitoring.retrain.enabled: false" in off.reason


def test_a_batch_never_triggers_twice_whatever_the_interval():
    decision = decide([ago(24 * 30, batch_id="b9")], policy=RetrainPolicy(True, 0, 10))
    assert decision.trigger is False and "batch b9 already triggered" in decision.reason


def test_the_minimum_interval_holds_back_a_new_batch_and_then_lets_it_through():
    held = decide([ago(5)])
    assert held.trigger is False and "min_interval_hours: 24" in held.reason and "5.0 h ago" in held.reason
    assert decide([ago(25)]).trigger is True


def test_the_weekly_maximum_counts_only_the_last_seven_days():
    two_this_week = [ago(30, "b1"), ago(60, "b2")]
    capped = decide(two_this_week)
    assert capped.trigger is False and "max_per_week: 2" in capped.reason
    assert decide([ago(30, "b1"), ago(24 * 8, "b2")]).trigger is True


def test_a_challenger_awaiting_approval_holds_back_further_retrains():
    decision = decide(awaiting="7")
    assert decision.trigger is False and "version 7" in decision.reason
    assert "approve or reject" in decision.reason


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"enabled": "yes", "min_interval_hours": 24, "max_per_week": 2}, "enabled"),
        ({"enabled": True, "min_interval_hours": -1, "max_per_week": 2}, "min_interval_hours"),
        ({"enabled": True, "min_interval_hours": True, "max_per_week": 2}, "min_interval_hours"),
        ({"enabled": True, "min_interval_hours": 24, "max_per_week": 0}, "max_per_week"),
        ({"enabled": True, "min_interval_hours": 24, "max_per_week": 1.5}, "max_per_week"),
    ],
)
def test_a_bad_policy_names_the_setting(settings, field):
    with pytest.raises(RetrainConfigError, match=f"monitoring.retrain.{field}="):
        RetrainPolicy.from_settings(settings)


@pytest.mark.parametrize("env", ["local", "dev", "staging", "prod"])
def test_every_environment_config_holds_a_valid_policy_and_no_trigger(env):
    config = load_config(env)
    policy = RetrainPolicy.from_settings(config["monitoring"]["retrain"])
    assert policy.enabled is (env != "dev")  # nobody schedules dev
    assert RetrainTrigger.from_config(config) is None  # a trigger is set per run, never in files


def test_the_trigger_round_trips_through_job_parameters_and_overrides_as_text():
    trigger = RetrainTrigger("monitor", "batch-42", "prediction drift: psi 0.31; age: psi 0.40", "run-1")
    parameters = trigger.parameters()
    assert set(parameters) == set(TRIGGER_PARAMETERS)
    config = apply_overrides(load_config("local"), trigger_overrides(parameters))
    assert RetrainTrigger.from_config(config) == trigger
    assert trigger.tags() == {
        "triggered_by": "monitor",
        "trigger_batch_id": "batch-42",
        "trigger_reasons": "prediction drift: psi 0.31; age: psi 0.40",
        "trigger_monitor_run_id": "run-1",
    }
    assert trigger_overrides({name: "" for name in TRIGGER_PARAMETERS}) == []  # a run no monitor started


def test_an_unknown_trigger_is_refused():
    config = apply_overrides(load_config("local"), ['training.trigger.by="cron"'])
    with pytest.raises(RetrainConfigError, match="training.trigger.by='cron'"):
        RetrainTrigger.from_config(config)


def test_in_prod_a_triggered_challenger_always_needs_approval_and_elsewhere_never():
    assert APPROVAL_ENVIRONMENTS == ("prod",)
    assert needs_approval("prod", version_tags={"triggered_by": "monitor"}, triggered_run=False)
    assert needs_approval("prod", version_tags={}, triggered_run=True)  # the version lost its tag
    assert not needs_approval("prod", version_tags={}, triggered_run=False)  # the release path itself
    assert not needs_approval("staging", version_tags={"triggered_by": "monitor"}, triggered_run=True)
