"""Drift statistics: stable data stays quiet, shifted data is flagged, and the retrain rule."""

import numpy as np
import pandas as pd

from {{ cookiecutter.package_name }}.core.drift import FeatureDrift, decide_retrain, feature_drift, numeric_psi

SETTINGS = {
    "drift": {
        "psi_threshold": 0.2,
        "p_value_threshold": 0.01,
        "min_drifted_features": 2,
        "prediction_psi_threshold": 0.2,
    },
    "performance": {"metric": "roc_auc", "max_drop": 0.05},
}
rng = np.random.default_rng(0)


def test_same_distribution_has_small_psi_and_no_drift():
    reference, current = pd.Series(rng.normal(size=5000)), pd.Series(rng.normal(size=2000))
    assert numeric_psi(reference, current) < 0.05
    assert not feature_drift(
        "x", "numeric", reference, current, psi_threshold=0.2, p_value_threshold=0.01
    ).drifted


def test_shifted_numeric_and_categorical_features_drift():
    numeric = feature_drift(
        "x",
        "numeric",
        pd.Series(rng.normal(size=5000)),
        pd.Series(rng.normal(1.0, 1, 2000)),
        psi_threshold=0.2,
        p_value_threshold=0.01,
    )
    categorical = feature_drift(
        "c",
        "categorical",
        pd.Series(["a"] * 900 + ["b"] * 100),
        pd.Series(["a"] * 400 + ["b"] * 500 + [None] * 100),
        psi_threshold=0.2,
        p_value_threshold=0.01,
    )
    assert numeric.drifted and numeric.test == "ks"
    assert categorical.drifted and categorical.test == "chi_square"


def test_missing_values_count_as_their_own_bin():
    reference = pd.Series(rng.normal(size=4000))
    current = pd.Series(np.where(rng.random(4000) < 0.5, np.nan, rng.normal(size=4000)))
    assert numeric_psi(reference, current) > 1.0


def test_retrain_when_enough_features_drift_or_scores_drift_or_performance_drops():
    one = [
        FeatureDrift("a", "numeric", 0.5, "ks", 0.0, True),
        FeatureDrift("b", "numeric", 0.01, "ks", 0.5, False),
    ]
    two = [*one, FeatureDrift("c", "numeric", 0.4, "ks", 0.0, True)]
    assert not decide_retrain(one, 0.05, None, SETTINGS).retrain
    assert decide_retrain(two, 0.05, None, SETTINGS).reasons == ["2 feature(s) drifted: a, c"]
    assert decide_retrain(one, 0.3, None, SETTINGS).retrain
    assert decide_retrain(one, 0.05, 0.08, SETTINGS).reasons[0].startswith("performance decay")
