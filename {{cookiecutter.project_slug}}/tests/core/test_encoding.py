"""The distributed engine's encoding plan: fill values and categories fitted once, applied the same way."""

import numpy as np
import pandas as pd

from {{ cookiecutter.package_name }}.core.encoding import EncodingPlan, encode, encoding_plan, statistics_needed
from {{ cookiecutter.package_name }}.core.features import FeatureSpec, Imputation

FEATURES = [FeatureSpec("bmi", "g", "bmi", "numeric"), FeatureSpec("smoking", "g", "smoking", "categorical")]
IMPUTATION = {"bmi": Imputation("median"), "smoking": Imputation("constant", "unknown")}


def test_the_plan_asks_for_the_statistics_imputation_needs_and_keeps_the_constant_as_a_category():
    assert statistics_needed(FEATURES, IMPUTATION) == {"bmi": "median", "smoking": "none"}
    plan = encoding_plan(FEATURES, IMPUTATION, {"bmi": 26.5}, {"smoking": ["never", "current"]})
    assert plan.columns == ["bmi", "smoking__0", "smoking__1", "smoking__2"]
    assert plan.features[1].categories == ("current", "never", "unknown")
    assert EncodingPlan.from_dict(plan.to_dict()) == plan


def test_missing_values_are_filled_and_unseen_categories_encode_as_zeros():
    plan = encoding_plan(FEATURES, IMPUTATION, {"bmi": 26.5}, {"smoking": ["never", "current"]})
    frame = pd.DataFrame({"bmi": [30.0, np.nan, None], "smoking": ["current", None, "vaping"]})
    encoded = encode(frame, plan)
    assert encoded.tolist() == [[30.0, 1.0, 0.0, 0.0], [26.5, 0.0, 0.0, 1.0], [26.5, 0.0, 0.0, 0.0]]
