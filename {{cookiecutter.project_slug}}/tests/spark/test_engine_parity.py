"""Spark computes what the pure functions define: splits, encoding, metrics and drift bins agree exactly
(the ranking metrics to 1e-6), so both engines split, score and monitor alike."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from {{ cookiecutter.package_name }}.core.drift import bin_counts
from {{ cookiecutter.package_name }}.core.encoding import encode
from {{ cookiecutter.package_name }}.core.evaluation import classification_metrics, metrics_from_summary
from {{ cookiecutter.package_name }}.core.features import FeatureSpec, Imputation
from {{ cookiecutter.package_name }}.core.training import assign_roles, tuning_plan
from {{ cookiecutter.package_name }}.spark.encoding import encoded_columns, fit_encoding
from {{ cookiecutter.package_name }}.spark.profiles import count_bins
from {{ cookiecutter.package_name }}.spark.scoring import ALL_ROWS, score_summaries
from {{ cookiecutter.package_name }}.spark.splits import with_roles

rng = np.random.default_rng(5)


def test_spark_assigns_every_row_the_split_and_role_the_pure_function_gives(spark):
    keys = pd.Series([f"SYN-{i:07d}" for i in range(3000)], name="patient_id")
    for plan in (tuning_plan([0.8, 0.2], 0.25, "salt"), tuning_plan([0.6, 0.2, 0.2], 0.25, "salt")):
        expected = assign_roles(keys, plan)
        got = with_roles(spark.createDataFrame(keys.to_frame()), "patient_id", plan).toPandas()
        assert got["split"].tolist() == expected["split"].tolist()
        assert got["role"].tolist() == expected["role"].tolist()


def test_spark_encoding_equals_the_pandas_encoding_the_logged_model_applies(spark):
    features = [
        FeatureSpec("bmi", "g", "bmi", "numeric"),
        FeatureSpec("visits", "g", "visits", "numeric"),
        FeatureSpec("smoking", "g", "smoking", "categorical"),
    ]
    imputation = {
        "bmi": Imputation("mean"),
        "visits": Imputation("median"),
        "smoking": Imputation("constant", "unknown"),
    }
    frame = pd.DataFrame(
        {
            "bmi": [20.0, None, 31.5, 25.0, None],
            "visits": [1.0, 4.0, None, 9.0, 4.0],
            "smoking": ["never", None, "current", "never", "former"],
        }
    )
    df = spark.createDataFrame(frame, "bmi double, visits double, smoking string")
    plan = fit_encoding(df, features, imputation)
    assert plan.features[0].fill == 25.5 and plan.features[1].fill == 4.0
    spark_rows = np.array(df.select(*encoded_columns(plan)).toPandas(), dtype=float)
    assert np.array_equal(spark_rows, encode(frame, plan))


def test_spark_metrics_match_scikit_learn_overall_and_per_group(spark):
    n = 4000
    y = (rng.random(n) < 0.2).astype(int)
    p = np.round(np.clip(0.25 * y + rng.random(n) * 0.7, 0, 1), 3)  # rounded: plenty of ties
    group = rng.choice(["a", "b", None], n, p=[0.5, 0.4, 0.1])
    frame = pd.DataFrame({"y": y, "p": p, "g": group})
    summaries = score_summaries(spark.createDataFrame(frame), label="y", score="p", threshold=0.5, by="g")
    pairs = [
        (ALL_ROWS, frame),
        *((g, frame[frame.g.fillna("<missing>") == g]) for g in ("a", "b", "<missing>")),
    ]
    for key, rows in pairs:
        expected = classification_metrics(rows.y, rows.p, threshold=0.5)
        got = metrics_from_summary(summaries[key])
        for metric, value in expected.items():
            assert math.isclose(got[metric], value, abs_tol=1e-9), (key, metric, got[metric], value)


def test_spark_counts_drift_bins_like_numpy(spark):
    values = np.where(rng.random(2000) < 0.1, np.nan, np.round(rng.normal(10, 3, 2000)))
    edges = [4.0, 7.0, 9.0, 10.0, 11.0, 13.0, 16.0]
    df = spark.createDataFrame(pd.DataFrame({"x": values, "c": rng.choice(["u", "v", None], 2000)}))
    numeric, categorical = count_bins(df, {"x": edges}, ["c"])
    counts, missing = bin_counts(values, edges)
    assert numeric["x"] == (counts.tolist(), missing)
    assert sum(categorical["c"].values()) == 2000 and set(categorical["c"]) == {"u", "v", "<missing>"}
