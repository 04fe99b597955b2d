"""A fresh generated project passes the CI, ML and PHI rules of `mlstack check` on every cloud x CI platform.

The bakes are helpers.bakes' (one per combination per session, shared with the other template
tests); the rules read the generated CI files, configs and notebooks as they would in a team's repo.
"""

from __future__ import annotations

import datetime as dt

import pytest

from helpers.bakes import COMBINATIONS, baked
from mlstack.policy.engine import run_check
from mlstack.policy.model import all_rules
from mlstack.policy.policy_file import Policy

NEW_FAMILIES = ["CI", "ML", "SEC303", "SEC304"]


@pytest.mark.parametrize("cloud,ci_platform", COMBINATIONS)
def test_fresh_project_passes_the_ci_ml_and_phi_rules(cloud, ci_platform):
    report = run_check(baked(cloud, ci_platform), Policy(), select=NEW_FAMILIES, today=dt.date(2026, 11, 23))
    assert len(report.rules) == len([r for r in all_rules() if r.startswith(tuple(NEW_FAMILIES))])
    assert [(f.rule, f.path, f.message) for f in report.findings] == []
