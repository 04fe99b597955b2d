"""Write the example's synthetic tables (history, fresh and drifted batches, later outcomes).

`python -m {{ cookiecutter.package_name }}.pipelines.sample_data --env local` (or `make sample-data`).
The data is invented (see core/sample_data.py), so it is safe anywhere; it is refused in prod so a demo
table never mixes with real records, and once the project has adopted its own table
(`example.enabled: false`), so it can never overwrite that table.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from ..config import uses_example
from ..core.sample_data import generate_sample_data
from ..io.tables import write_table
from ..spark.features import nan_to_null
from .common import PipelineError, StepContext, entry_point


@dataclass
class SampleDataResult:
    tables: dict[str, int]

    def summary(self) -> str:
        written = ", ".join(f"{name} ({rows} rows)" for name, rows in self.tables.items())
        return f"synthetic sample data written: {written}"


def sample_data(context: StepContext) -> SampleDataResult:
    """Generate the deterministic synthetic data set and write it to this environment's tables."""
    if context.env == "prod":
        raise PipelineError(
            "sample_data: refusing to write synthetic tables in prod; use --env local, dev or staging"
        )
    if not uses_example(context.config):
        raise PipelineError(
            "sample_data: this project runs on its own table (example.enabled is false), so the example's "
            "synthetic tables are not written; add --set example.enabled=true to write them anyway "
            "(under the example's own table names)"
        )
    settings = context.config["sample_data"]
    data = generate_sample_data(
        int(settings["seed"]), int(settings["training_rows"]), int(settings["scoring_rows"])
    )
    frames = {
        "training_data": data.training,
        "scoring_data": data.scoring,
        "drifted_scoring_data": data.scoring_drifted,
        "outcomes": data.outcomes,
    }
    for logical, frame in frames.items():
        # One file per small table keeps the local folders tidy; pandas NaN becomes a real null.
        df = nan_to_null(context.spark.createDataFrame(frame)).coalesce(1)
        write_table(df, context.config, logical)
    return SampleDataResult({logical: len(frame) for logical, frame in frames.items()})


run = entry_point(sample_data)

if __name__ == "__main__":
    sys.exit(run.main())
