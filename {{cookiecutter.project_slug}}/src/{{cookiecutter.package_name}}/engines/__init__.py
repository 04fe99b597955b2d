"""The two training engines (`training.engine` in configs/project.yml): how a challenger is tuned and fitted.

- `single_node`: the feature table in pandas on the driver, scikit-learn, permutation importance.
- `distributed`: the feature table stays in Spark; XGBoost trains across the workers, metrics are
  Spark aggregations, importance is the booster's gain.

Both tune with the same Hyperopt loop (core/training.py) on the same stable splits and return a
`FittedChallenger`; pipelines/train.py logs, profiles and registers it the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..config import training_engine

if TYPE_CHECKING:
    import pandas as pd

    from ..core.training import TuningResult
    from ..pipelines.common import StepContext
    from ..pipelines.model_data import FeatureTable


@dataclass
class FittedChallenger:
    """A logged (not yet registered) model and what its training found."""

    model_info: Any
    tuning: TuningResult
    test_metrics: dict[str, float]
    importance: pd.DataFrame  # feature, importance, std; largest first
    importance_label: str
    rows: dict[str, int] = field(default_factory=dict)


def fit_challenger(context: StepContext, table: FeatureTable) -> FittedChallenger:
    """Tune, refit and log a model with the configured engine."""
    if training_engine(context.config) == "distributed":
        from .distributed import fit_challenger as fit
    else:
        from .single_node import fit_challenger as fit
    return fit(context, table)


def check_both_classes(counts: dict[str, tuple[int, int]]) -> None:
    """Every role's (rows, positives) must hold both classes, or tuning and testing mean nothing."""
    from ..pipelines.common import PipelineError

    names = {"fit": "train", "holdout": "holdout", "test": "test"}
    for role in ("fit", "holdout", "test"):
        rows, positives = counts.get(role, (0, 0))
        if positives == 0 or positives == rows:
            raise PipelineError(
                f"the {names[role]} split has {rows} rows and only one class: need more labelled data"
            )
