"""`mlstack check`: one repository against the platform team's policy, with its waivers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from mlstack.errors import InvalidInput
from mlstack.policy.engine import OUTCOMES, CheckReport, run_check
from mlstack.policy.policy_file import load_policy
from mlstack.policy.reporters import RENDERERS

# --fail-on LEVEL: the mildest outcome that still gives a non-zero exit code.
FAIL_ON = ("update", "drift", "policy")


def check_repository(directory: Path, *, policy_spec: str | None = None, select: list[str] | None = None,
                     ignore: list[str] | None = None, today: str | None = None) -> CheckReport:
    """`today` (YYYY-MM-DD, default: the real day) shows what deadlines and waiver expiry will do then."""
    from mlstack.yamlfile import calendar_day

    day = calendar_day(today, "--today") if today else dt.date.today()
    return run_check(directory, load_policy(policy_spec, directory), select=select, ignore=ignore, today=day)


def describe(report: CheckReport, output_format: str) -> str:
    """The report in the chosen format (text, json, sarif or markdown)."""
    if output_format not in RENDERERS:
        raise InvalidInput(f"--format {output_format!r}: choose one of {', '.join(RENDERERS)}")
    return RENDERERS[output_format](report)


def exit_code(report: CheckReport, fail_on: str = "update") -> int:
    """The report's exit code, or 0 when its outcome is milder than `fail_on`."""
    if fail_on not in FAIL_ON:
        raise InvalidInput(f"--fail-on {fail_on!r}: choose one of {', '.join(FAIL_ON)}")
    if report.outcome == "ok" or FAIL_ON.index(report.outcome) < FAIL_ON.index(fail_on):
        return 0
    return OUTCOMES[report.outcome]
