"""Drift from profiles: stable data stays quiet, shifted data is flagged, and the retrain rule."""

import numpy as np
from scipy import stats

from {{ cookiecutter.package_name }}.core.drift import (
    QUANTILE_LEVELS,
    FeatureDrift,
    NumericProfile,
    bin_counts,
    categorical_drift,
    decide_retrain,
    grid_from_quantiles,
    numeric_drift,
    numeric_psi,
)

SETTINGS = {
    "drift": {
        "psi_threshold": 0.2,
        "p_value_threshold": 0.01,
        "min_drifted_features": 2,
        "prediction_psi_threshold": 0.2,
    },
    "performance": {"metric": "roc_auc", "max_drop": 0.05},
}
LIMITS = {"psi_threshold": 0.2, "p_value_threshold": 0.01}
rng = np.random.default_rng(0)


def profile_of(values: np.ndarray) -> NumericProfile:
    present = values[~np.isnan(values)]
    edges, psi_edges = grid_from_quantiles(list(np.quantile(present, QUANTILE_LEVELS)))
    counts, missing = bin_counts(values, edges)
    return NumericProfile(edges, counts.tolist(), missing, psi_edges)


def test_same_distribution_has_small_psi_and_no_drift():
    reference, current = rng.normal(size=5000), rng.normal(size=2000)
    profile = profile_of(reference)
    counts, missing = bin_counts(current, profile.edges)
    assert numeric_psi(profile, counts, missing) < 0.05
    assert not numeric_drift("x", profile, counts, missing, **LIMITS).drifted


def test_shifted_numeric_and_categorical_features_drift():
    profile = profile_of(rng.normal(size=5000))
    counts, missing = bin_counts(rng.normal(1.0, 1, 2000), profile.edges)
    numeric = numeric_drift("x", profile, counts, missing, **LIMITS)
    categorical = categorical_drift(
        "c", {"a": 900, "b": 100}, {"a": 400, "b": 500, "<missing>": 100}, **LIMITS
    )
    assert numeric.drifted and numeric.test == "ks"
    assert categorical.drifted and categorical.test == "chi_square"


def test_psi_and_ks_from_profiles_match_the_sample_statistics():
    """The profile's decile PSI equals PSI on np.quantile deciles; its KS p-value is that of the samples."""
    reference, current = rng.normal(size=6000), rng.normal(0.15, 1.1, 1500)
    profile = profile_of(reference)
    counts, missing = bin_counts(current, profile.edges)
    edges = np.quantile(reference, np.linspace(0, 1, 11))
    edges[0], edges[-1] = -np.inf, np.inf
    ref, cur = np.histogram(reference, edges)[0], np.histogram(current, edges)[0]
    ref, cur = np.clip(ref / ref.sum(), 1e-4, None), np.clip(cur / cur.sum(), 1e-4, None)
    assert abs(numeric_psi(profile, counts, missing) - np.sum((cur - ref) * np.log(cur / ref))) < 1e-9
    drift = numeric_drift("x", profile, counts, missing, **LIMITS)
    exact = stats.ks_2samp(reference, current).pvalue
    assert abs(np.log10(drift.p_value) - np.log10(exact)) < 0.5


def test_missing_values_count_as_their_own_bin():
    profile = profile_of(rng.normal(size=4000))
    current = np.where(rng.random(4000) < 0.5, np.nan, rng.normal(size=4000))
    counts, missing = bin_counts(current, profile.edges)
    assert numeric_psi(profile, counts, missing) > 1.0


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


def test_a_constant_feature_has_no_psi_bins_and_never_drifts_by_ks():
    profile = profile_of(np.ones(100))
    assert profile.edges == [1.0] and profile.psi_edges == []
    counts, missing = bin_counts(np.ones(50), profile.edges)
    assert numeric_drift("x", profile, counts, missing, **LIMITS).p_value == 1.0
