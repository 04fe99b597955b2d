"""One version order for update, check and fleet: a pre-release sorts below its release."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from mlstack.commands.fleet import fleet_report
from mlstack.migrations import Migration, plan
from mlstack.policy.engine import run_check
from mlstack.policy.policy_file import parse_policy
from mlstack.versions import highest_version, is_older, version_key

TODAY = dt.date(2026, 12, 1)


@pytest.mark.parametrize("older,newer", [
    ("1.2.0rc1", "1.2.0"), ("v1.2.0-beta", "v1.2.0"), ("1.2", "1.2.1"), ("0.9.9", "1.0"), ("v1.9", "1.10.0"),
])
def test_versions_order_with_pre_releases_below_their_release(older, newer):
    assert is_older(older, newer) is True and is_older(newer, older) is False
    assert version_key(older) < version_key(newer)


def test_equal_spellings_compare_equal_and_names_do_not_compare():
    assert is_older("v1.2.0", "1.2") is False and is_older("1.2", "v1.2.0") is False
    assert is_older("main", "1.0.0") is None and is_older("0a1b2c3d", "1.0.0") is None
    assert highest_version(["v1.2.0rc1", "v1.2.0", "v1.1.9", "main"]) == "v1.2.0"


def _repo_on(tmp_path: Path, version: str) -> Path:
    repo = tmp_path / f"repo-{version}"
    (repo / ".mlstack").mkdir(parents=True)
    (repo / ".mlstack" / "answers.yml").write_text(
        f"template:\n  source: https://git.example.com/t.git\n  version: {version}\nanswers:\n  cloud: aws\n")
    return repo


def test_check_reports_the_release_of_a_pre_release_as_an_available_update(tmp_path):
    """`update` would apply 1.2.0 to a repository on 1.2.0rc1, so `check` must say it is available."""
    policy = parse_policy({"params": {"latest_template_version": "1.2.0", "min_template_version": "1.2.0"}}, "p")
    report = run_check(_repo_on(tmp_path, "1.2.0rc1"), policy, select=["TPL001", "TPL003"], today=TODAY)
    assert {f.rule for f in report.findings} == {"TPL001", "TPL003"}
    assert "template 1.2.0 is available (this repository is on 1.2.0rc1)" in \
        [f.message for f in report.findings if f.rule == "TPL003"][0]


def test_update_runs_a_migration_for_the_release_after_a_pre_release():
    step = Migration("0001_x", "", "<1.2.0", {"a": "b"}, None, None)
    assert plan([step], "1.2.0rc1", "1.2.0").steps == [step]


def test_fleet_counts_a_pre_release_as_behind_its_release(tmp_path):
    rows = fleet_report([str(_repo_on(tmp_path, "1.2.0rc1")), str(_repo_on(tmp_path, "1.2.0"))],
                        parse_policy({}, "p"), jobs=1, today=TODAY).rows
    assert [(row.template_version, row.behind) for row in rows] == [("1.2.0rc1", 1), ("1.2.0", 0)]
