"""Run every step in one process (one SparkSession), then the drift demo: `make pipeline`.

    python -m {{ cookiecutter.package_name }}.pipelines --env local --sample-data

Order: [sample data] -> validate_data -> build_features -> train -> validate_model -> deploy
-> batch_inference + monitor on the fresh batch -> batch_inference + monitor on the drifted
batch (the example's drift demo, when that synthetic table exists) -> the retrain that monitor
triggers, as the monitoring job would start it (retrain_if_needed.py): train -> validate_model
-> deploy. A rejected challenger is reported, not fatal: the current champion keeps scoring.
Timings per step go to reports/pipeline/<time>/timings.json. On an adopted table
(`example.enabled: false`) `--sample-data` writes nothing: the run reads your table and scores
`tables.scoring_data`.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..config import ENVIRONMENTS, add_set_option, apply_overrides, uses_example
from ..io.reports import report_dir, write_json
from ..io.tables import table_exists, table_name
from . import STEPS
from .batch_inference import batch_inference
from .build_features import build_features
from .common import USER_ERRORS, ModelRejected, StepContext, summary_line
from .deploy import deploy
from .monitor import monitor
from .retrain_if_needed import retrain_on_trigger
from .sample_data import sample_data
from .train import train
from .validate_data import validate_data
from .validate_model import validate_model


@dataclass
class PipelineRun:
    """What happened: each step's result and how long it took."""

    results: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def timed(self, label: str, step: Callable[[StepContext], Any], context: StepContext) -> Any:
        started = time.perf_counter()
        result = step(context)
        self.seconds[label] = round(time.perf_counter() - started, 2)
        self.results[label] = result
        print(f"[{label}] {summary_line(result)} ({self.seconds[label]:.1f} s)", flush=True)
        return result


def run_pipeline(context: StepContext, *, with_sample_data: bool = False) -> PipelineRun:
    """All steps in order, sharing `context` (and so one SparkSession)."""
    pipeline = PipelineRun()
    pipeline.timed("spark_session", lambda c: f"Spark {c.spark.version} ready", context)
    if with_sample_data and uses_example(context.config):
        pipeline.timed("sample_data", sample_data, context)
    elif with_sample_data:
        own = table_name(context.config, "training_data")
        print(f"[sample_data] skipped: the project trains on its own table ({own})", flush=True)
    for label, step in (
        ("validate_data", validate_data),
        ("build_features", build_features),
        ("train", train),
    ):
        pipeline.timed(label, step, context)
    try:
        pipeline.timed("validate_model", validate_model, context)
        pipeline.timed("deploy", deploy, context)
    except ModelRejected as rejection:
        pipeline.results["validate_model"] = rejection
        print(f"[validate_model] challenger not promoted, the champion stays: {rejection}", flush=True)
    pipeline.timed("batch_inference", batch_inference, context)
    pipeline.timed("monitor", monitor, context)
    if table_exists(context.spark, context.config, "drifted_scoring_data"):
        drifted = StepContext(
            apply_overrides(context.config, ["inference.input_table=drifted_scoring_data"]), context.spark
        )
        pipeline.timed("batch_inference_drifted", batch_inference, drifted)
        result = pipeline.timed("monitor_drifted", monitor, drifted)
        def retrain_step(label: str, step: Any, step_context: StepContext) -> Any:
            return pipeline.timed(f"retrain_{label}", step, step_context)

        retrain = retrain_on_trigger(drifted, result, retrain_step)
        pipeline.results["retrain"] = retrain
        print(f"[retrain] {retrain.outcome}", flush=True)
    return pipeline


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=f"Run the pipeline steps in order: {', '.join(STEPS)}.")
    parser.add_argument("--env", required=True, choices=ENVIRONMENTS)
    add_set_option(parser, "training.hyperopt.max_evals=5")
    parser.add_argument(
        "--sample-data", action="store_true", help="write the example's synthetic tables first (example only)"
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        context = StepContext.load(args.env, args.overrides)
        pipeline = run_pipeline(context, with_sample_data=args.sample_data)
    except USER_ERRORS as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    total = round(time.perf_counter() - started, 2)
    folder = report_dir(context.config, "pipeline")
    write_json(
        folder, "timings.json", {"environment": args.env, "total_seconds": total, "steps": pipeline.seconds}
    )
    print(f"pipeline finished in {total:.1f} s; timings: {folder / 'timings.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
