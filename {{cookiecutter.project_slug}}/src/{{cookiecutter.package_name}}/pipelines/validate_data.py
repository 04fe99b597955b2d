"""Step 1: check the training table against configs/data_contract.yml before anything learns from it.

Writes a report (reports/validate_data/) and stops the pipeline on any violation, naming
every failing column and rule.
"""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from ..core.data_contract import DataContract, Violation, check_contract, describe_violations
from ..io.reports import report_dir, write_json
from ..io.tables import read_table, table_location
from ..io.tracking import utc_now
from ..spark.contract_profile import profile_table
from .common import DataContractViolation, StepContext, entry_point

if TYPE_CHECKING:
    from pyspark.sql import DataFrame


@dataclass
class ValidationReport:
    table: str
    row_count: int
    violations: list[Violation] = field(default_factory=list)
    report_path: str | None = None

    @property
    def passed(self) -> bool:
        return not self.violations

    def summary(self) -> str:
        if self.passed:
            return f"data contract honoured: {self.table} ({self.row_count} rows)"
        return f"{self.table}: {describe_violations(self.violations)}"


def check_dataframe(df: DataFrame, contract: DataContract, table: str) -> ValidationReport:
    """Profile `df` in one Spark pass and judge it; no side effects (batch_inference reuses it)."""
    profile = profile_table(df, contract)
    return ValidationReport(
        table=table, row_count=profile.row_count, violations=check_contract(contract, profile)
    )


def write_validation_report(context: StepContext, report: ValidationReport, step: str) -> str:
    folder = report_dir(context.config, step)
    payload: dict[str, Any] = {
        "step": step,
        "environment": context.env,
        "checked_at": utc_now(),
        "table": report.table,
        "row_count": report.row_count,
        "passed": report.passed,
        "violations": [asdict(v) for v in report.violations],
    }
    return str(write_json(folder, "report.json", payload))


def validate_data(context: StepContext) -> ValidationReport:
    """Validate the training table; raise DataContractViolation (after writing the report) when it fails."""
    contract = DataContract.from_config(context.config["data_contract"])
    df = read_table(context.spark, context.config, "training_data")
    report = check_dataframe(df, contract, table_location(context.config, "training_data"))
    report.report_path = write_validation_report(context, report, "validate_data")
    if not report.passed:
        raise DataContractViolation(f"{report.summary()} (report: {report.report_path})")
    return report


run = entry_point(validate_data)

if __name__ == "__main__":
    sys.exit(run.main())
