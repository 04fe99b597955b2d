"""Summarise a Terraform plan (`terraform show -json`) as counts of created, changed and destroyed resources.

Writes GitLab's Terraform report format ({"create": n, "update": n, "delete": n}), which
GitLab shows in the merge request widget, and prints a one-line summary for PR comments.
Usage: python ci/terraform_plan.py terraform/staging/plan.json --report plan-report.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def change_counts(plan: dict) -> dict[str, int]:
    """Resource changes by kind; a replacement counts as one create and one delete."""
    counts = {"create": 0, "update": 0, "delete": 0}
    for change in plan.get("resource_changes") or []:
        actions = set((change.get("change") or {}).get("actions") or [])
        for kind in counts:
            if kind in actions:
                counts[kind] += 1
    return counts


def summary_line(counts: dict[str, int]) -> str:
    if not any(counts.values()):
        return "No changes: the infrastructure matches the configuration."
    return f"Plan: {counts['create']} to add, {counts['update']} to change, {counts['delete']} to destroy."


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("plan_json", type=Path)
    parser.add_argument("--report", type=Path, help="write GitLab's Terraform report JSON here")
    args = parser.parse_args(argv)
    counts = change_counts(json.loads(args.plan_json.read_text(encoding="utf-8")))
    if args.report:
        args.report.write_text(json.dumps(counts), encoding="utf-8")
    print(summary_line(counts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
