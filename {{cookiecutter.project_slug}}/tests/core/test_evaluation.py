"""Metrics, fairness by group and model-agnostic feature importance."""

import math

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from {{ cookiecutter.package_name }}.core.evaluation import (
    ScoreSummary,
    classification_metrics,
    fairness_by_group,
    metrics_from_summary,
    permutation_importance_table,
    positive_scores,
)


def test_metrics_of_a_perfect_ranking_and_of_a_single_class():
    metrics = classification_metrics([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9], threshold=0.5)
    assert metrics["roc_auc"] == 1.0 and metrics["recall"] == 1.0 and metrics["flagged_rate"] == 0.5
    assert math.isnan(classification_metrics([0, 0], [0.1, 0.7])["roc_auc"])


def test_positive_scores_take_the_last_column_of_probabilities():
    assert positive_scores(np.array([[0.9, 0.1], [0.2, 0.8]])).tolist() == [0.1, 0.8]
    assert positive_scores(pd.DataFrame({0: [0.7], 1: [0.3]})).tolist() == [0.3]
    assert positive_scores([0.4]).tolist() == [0.4]


def test_fairness_gap_ignores_groups_with_too_few_positives():
    y = [1, 1, 0, 0] * 10 + [1, 0] * 2 + [0] * 40
    scores = [0.9, 0.9, 0.1, 0.1] * 10 + [0.1, 0.1] * 2 + [0.1] * 40
    groups = ["a"] * 40 + ["tiny"] * 4 + ["no_positives"] * 40
    result = fairness_by_group(
        y, scores, groups, attribute="g", metric="recall", threshold=0.5, min_group_positives=5
    )
    assert result.judged_groups == ["a"]
    assert result.per_group["tiny"]["recall"] == 0.0 and result.gap == 0.0


def test_fairness_gap_is_best_minus_worst_judged_group():
    y = [1, 0] * 20 + [1, 0] * 20
    scores = [0.9, 0.1] * 20 + [0.9, 0.1] * 10 + [0.2, 0.1] * 10
    groups = ["a"] * 40 + ["b"] * 40
    result = fairness_by_group(
        y, scores, groups, attribute="g", metric="recall", threshold=0.5, min_group_positives=5
    )
    assert result.gap == 0.5


def test_permutation_importance_ranks_the_informative_feature_first():
    rng = np.random.default_rng(0)
    x = pd.DataFrame({"signal": rng.normal(size=600), "noise": rng.normal(size=600)})
    y = pd.Series((x.signal + rng.normal(scale=0.3, size=600) > 0).astype(int))
    table = permutation_importance_table(LogisticRegression().fit(x, y), x, y, seed=0)
    assert list(table.feature) == ["signal", "noise"]


def test_metrics_from_a_summary_are_those_of_the_scores():
    y = np.array([0, 0, 1, 1, 0, 1])
    p = np.array([0.1, 0.4, 0.35, 0.8, 0.4, 0.4])
    # ROC AUC: positives at .35 (1 negative below), .8 (3), .4 (1 below + 2 tied negatives count half each).
    summary = ScoreSummary(
        rows=6,
        positives=3,
        flagged=1,
        flagged_positives=1,
        squared_error=float(np.sum((p - y) ** 2)),
        auc_pairs=1 + 3 + 2.0,
        precision_sum=1.0 + 2 / 4 + 3 / 5,
    )
    expected = classification_metrics(y, p, threshold=0.5)
    got = metrics_from_summary(summary)
    assert got.keys() == expected.keys()
    assert all(math.isclose(got[k], expected[k]) for k in expected), (got, expected)
    assert math.isnan(metrics_from_summary(ScoreSummary(3, 0, 0, 0, 0.1, 0.0, 0.0))["roc_auc"])
