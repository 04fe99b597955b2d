"""What every step shares: its context (config + Spark), its errors, and its one entry point.

A step is a function `step(context) -> result`; its module says `run = entry_point(step)`. The
Databricks notebook calls `run(env)`, the command line (`python -m <package>.pipelines.<step>
--env dev`, from the module's `run.main()`) goes through the same `run_step`, so a laptop and a
cluster run the same code path.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from ..config import ENVIRONMENTS, ConfigError, add_set_option, load_config
from ..core.data_contract import ContractError
from ..core.features import FeatureConfigError
from ..core.retraining import RetrainConfigError
from ..core.training import TrainingConfigError
from ..io.tables import TableNotFound

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

Result = TypeVar("Result")


class PipelineError(RuntimeError):
    """A step cannot go on; the message says what is wrong and how to fix it."""


class DataContractViolation(PipelineError):
    """The input data breaks the data contract; the message names every failing column and rule."""


class ModelRejected(PipelineError):
    """The challenger failed validation, so it must not be promoted."""


# Failures the user fixes (config, data, order of steps): one line, no traceback.
USER_ERRORS = (
    PipelineError,
    ConfigError,
    ContractError,
    FeatureConfigError,
    TrainingConfigError,
    RetrainConfigError,
    TableNotFound,
)


@dataclass
class StepContext:
    """One environment's settings and, created on first use, its SparkSession."""

    config: dict[str, Any]
    _spark: SparkSession | None = field(default=None, repr=False)

    @classmethod
    def load(cls, env: str, overrides: Sequence[str] = (), spark: SparkSession | None = None) -> StepContext:
        return cls(load_config(env, overrides=overrides), spark)

    @property
    def env(self) -> str:
        return str(self.config["environment"])

    @property
    def spark(self) -> SparkSession:
        if self._spark is None:
            from ..spark.session import get_spark

            self._spark = get_spark(self.config)
        return self._spark


def run_step(
    step: Callable[[StepContext], Result],
    env: str,
    overrides: Sequence[str] = (),
    spark: SparkSession | None = None,
) -> Result:
    """Load `env`'s config and run `step`: what notebooks and the command line call."""
    return step(StepContext.load(env, overrides, spark))


class StepEntryPoint:
    """A step's entry points: `run(env, overrides)` for notebooks, `run.main(argv)` for the command line."""

    def __init__(self, step: Callable[[StepContext], Any], description: str) -> None:
        self.step = step
        self.description = description
        self.__doc__ = f"{description} Entry point of the notebook and the command line."

    def __call__(self, env: str, overrides: Sequence[str] = (), spark: SparkSession | None = None) -> Any:
        return run_step(self.step, env, overrides, spark)

    def main(self, argv: Sequence[str] | None = None) -> int:
        return cli_main(self.step, self.description, argv)


def entry_point(step: Callable[[StepContext], Any]) -> StepEntryPoint:
    """The entry point of `step`, described by the first line of its module's docstring."""
    module = sys.modules.get(step.__module__)
    doc = (getattr(module, "__doc__", None) or step.__doc__ or step.__name__).strip()
    return StepEntryPoint(step, doc.splitlines()[0])


def cli_main(step: Callable[[StepContext], Any], description: str, argv: Sequence[str] | None = None) -> int:
    """`--env ENV [--set key=value ...]`; prints the step's summary, or one error line and exits 1."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--env", required=True, choices=ENVIRONMENTS, help="which configs/<env>.yml to use")
    add_set_option(parser, "training.hyperopt.max_evals=5")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        result = run_step(step, args.env, args.overrides)
    except USER_ERRORS as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(summary_line(result))
    print(f"({step.__name__} finished in {time.perf_counter() - started:.1f} s)")
    return 0


def summary_line(result: Any) -> str:
    summary = getattr(result, "summary", None)
    return summary() if callable(summary) else str(result)
