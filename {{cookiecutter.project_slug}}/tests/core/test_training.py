"""Stable splits from split_config, the search space from YAML, and a reproducible Hyperopt search."""

import pandas as pd
import pytest
from hyperopt import Trials

from {{ cookiecutter.package_name }}.core.evaluation import classification_metrics
from {{ cookiecutter.package_name }}.core.features import FeatureSpec, Imputation
from {{ cookiecutter.package_name }}.core.model import make_model
from {{ cookiecutter.package_name }}.core.sample_data import generate_patients
from {{ cookiecutter.package_name }}.core.training import (
    TrainingConfigError,
    assign_roles,
    assign_splits,
    build_search_space,
    clean_params,
    parse_split_config,
    tune,
    tuning_plan,
)

SPACE = {
    "learning_rate": {"distribution": "loguniform", "low": 0.05, "high": 0.3},
    "max_leaf_nodes": {"distribution": "quniform", "low": 8, "high": 16, "q": 4},
    "max_iter": {"distribution": "choice", "options": [20, 40]},
}


def test_split_config_follows_the_seed_convention_and_rejects_bad_fractions():
    assert parse_split_config([0.8, 0.2]) == {"train": 0.8, "test": 0.2}
    assert list(parse_split_config([0.7, 0.1, 0.2])) == ["train", "validation", "test"]
    for bad in ([0.8, 0.3], [1.0], [0.5, -0.1, 0.6], "0.8,0.2"):
        with pytest.raises(TrainingConfigError, match="split_config"):
            parse_split_config(bad)


def test_a_key_always_lands_in_the_same_split_and_shares_match_the_config():
    keys = pd.Series([f"SYN-{i:07d}" for i in range(20000)])
    splits = assign_splits(keys, {"train": 0.8, "test": 0.2}, salt="s")
    assert abs((splits == "test").mean() - 0.2) < 0.01
    reordered = assign_splits(keys.iloc[::-1].reset_index(drop=True), {"train": 0.8, "test": 0.2}, salt="s")
    assert dict(zip(keys, splits, strict=True)) == dict(zip(keys.iloc[::-1], reordered, strict=True))
    assert not splits.equals(assign_splits(keys, {"train": 0.8, "test": 0.2}, salt="other"))


def test_unknown_distribution_and_missing_bound_are_named():
    with pytest.raises(TrainingConfigError, match="search_space.depth.distribution='normal'"):
        build_search_space({"depth": {"distribution": "normal"}})
    with pytest.raises(TrainingConfigError, match="search_space.rate: uniform needs 'high'"):
        build_search_space({"rate": {"distribution": "uniform", "low": 0.1}})


def test_quniform_values_become_integers():
    assert clean_params({"max_leaf_nodes": 12.0, "learning_rate": 0.1}, SPACE) == {
        "max_leaf_nodes": 12,
        "learning_rate": 0.1,
    }


def test_the_tuning_plan_holds_out_the_validation_split_or_part_of_train():
    keys = pd.Series([f"SYN-{i:07d}" for i in range(20000)])
    with_validation = assign_roles(keys, tuning_plan([0.7, 0.1, 0.2], 0.25, "s"))
    assert (with_validation.role == "holdout").equals(with_validation.split == "validation")
    without = assign_roles(keys, tuning_plan([0.8, 0.2], 0.25, "s"))
    assert set(without[without.split == "train"].role) == {"fit", "holdout"}
    assert abs((without.role == "holdout").mean() - 0.8 * 0.25) < 0.01
    assert (without.split == "test").equals(without.role == "test")
    with pytest.raises(TrainingConfigError, match="tuning_holdout"):
        tuning_plan([0.8, 0.2], 1.5, "s")


def test_search_runs_every_trial_and_is_reproducible_with_a_seed():
    frame = generate_patients(1200, seed=11)
    features = [FeatureSpec(n, "g", n, "numeric") for n in ("age", "systolic_bp", "blood_glucose_mmol_l")]
    imputation = {f.name: Imputation("median") for f in features}
    x, y = frame[[f.name for f in features]], frame.high_risk

    def evaluate(params):
        model = make_model(features, imputation, params, class_weight="balanced", seed=0).fit(
            x.iloc[:900], y.iloc[:900]
        )
        return classification_metrics(y.iloc[900:], model.predict_proba(x.iloc[900:])[:, 1])

    first = tune(evaluate, SPACE, metric="roc_auc", max_evals=4, trials=Trials(), seed=3)
    second = tune(evaluate, SPACE, metric="roc_auc", max_evals=4, trials=Trials(), seed=3)
    assert len(first.trials) == 4 and all(t.status == "ok" for t in first.trials)
    assert first.best_params == second.best_params
    assert first.best_metrics["roc_auc"] == max(t.metrics["roc_auc"] for t in first.trials) > 0.6
    assert isinstance(first.best_params["max_leaf_nodes"], int)
