"""The model factory: imputation and encoding travel inside the model, missing values in any form."""

import numpy as np
import pandas as pd

from {{ cookiecutter.package_name }}.core.features import FeatureSpec, Imputation
from {{ cookiecutter.package_name }}.core.model import make_model

FEATURES = [FeatureSpec("smoking", "g", "smoking", "categorical"), FeatureSpec("bmi", "g", "bmi", "numeric")]


def fitted(imputation: dict) -> object:
    x = pd.DataFrame(
        {"smoking": ["never", "current", None, np.nan] * 10, "bmi": [20.0, 35.0, np.nan, 25.0] * 10}
    )
    y = [0, 1, 1, 0] * 10
    return make_model(FEATURES, imputation, {"max_iter": 20}, class_weight="balanced", seed=0).fit(x, y)


def test_none_and_nan_are_both_imputed_with_the_configured_constant():
    model = fitted({"smoking": Imputation("constant", "unknown"), "bmi": Imputation("median")})
    encoder = (
        model.named_steps["preprocess"].named_transformers_["categorical_constant_0"].named_steps["encode"]
    )
    assert list(encoder.categories_[0]) == ["current", "never", "unknown"]


def test_scoring_accepts_missing_values_and_unseen_categories():
    model = fitted({"smoking": Imputation("most_frequent"), "bmi": Imputation("mean")})
    probabilities = model.predict_proba(pd.DataFrame({"smoking": [None, "vaping"], "bmi": [np.nan, 22.0]}))
    assert probabilities.shape == (2, 2)
    assert np.allclose(probabilities.sum(axis=1), 1.0)
