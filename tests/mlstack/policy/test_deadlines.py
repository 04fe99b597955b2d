"""Policy deadlines and the waiver cap: a rule's errors are warnings through its deadline, errors after it.

The repositories are tiny synthetic ones (an answers file and the file a rule looks at), so the
date flips are checked on the real engine in milliseconds.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from helpers.policy_repos import CONFLICT, TOKEN, synthetic_repo
from mlstack.cli import app
from mlstack.errors import FINDINGS, INVALID_INPUT
from mlstack.policy.engine import run_check
from mlstack.policy.policy_file import parse_policy

runner = CliRunner()
DEADLINE = dt.date(2027, 1, 31)
DAY_BEFORE, DAY_AFTER = dt.date(2027, 1, 30), dt.date(2027, 2, 1)


def found(root: Path, document: dict, today: dt.date, select: list[str]):
    report = run_check(root, parse_policy(document, "policy.yml"), select=select, today=today)
    return [(f.rule, f.severity, f.message) for f in report.findings], report


VERSION_DEADLINE = {"params": {"min_template_version": {"version": "1.4.0", "by": "2027-01-31"}}}


@pytest.mark.parametrize("today,severity", [(DAY_BEFORE, "warning"), (DEADLINE, "warning"), (DAY_AFTER, "error")])
def test_min_template_version_deadline_is_a_warning_through_the_day_then_an_error(tmp_path, today, severity):
    repo = synthetic_repo(tmp_path / "repo", version="1.2.0")
    findings, report = found(repo, VERSION_DEADLINE, today, ["TPL001"])
    assert [(rule, sev) for rule, sev, _ in findings] == [("TPL001", severity)]
    message = findings[0][2]
    assert "older than the minimum 1.4.0" in message
    if severity == "warning":
        assert "upgrade by 2027-01-31" in message and "an error from 2027-02-01" in message
        assert report.outcome != "policy"
    else:
        assert "deadline to upgrade was 2027-01-31" in message and report.outcome == "policy"


def test_min_template_version_deadline_is_met_by_a_current_repository(tmp_path):
    repo = synthetic_repo(tmp_path / "repo", version="1.4.0")
    assert found(repo, VERSION_DEADLINE, DAY_AFTER, ["TPL001"])[0] == []


def test_a_plain_min_template_version_is_an_error_at_once(tmp_path):
    repo = synthetic_repo(tmp_path / "repo", version="1.2.0")
    findings, _ = found(repo, {"params": {"min_template_version": "1.4.0"}}, DAY_BEFORE, ["TPL001"])
    assert [(rule, sev) for rule, sev, _ in findings] == [("TPL001", "error")]


@pytest.mark.parametrize("selector", ["REPO001", "REPO"])
@pytest.mark.parametrize("today,severity", [(DAY_BEFORE, "warning"), (DEADLINE, "warning"), (DAY_AFTER, "error")])
def test_rule_deadline_by_id_or_family_flips_on_the_day_after(tmp_path, selector, today, severity):
    repo = synthetic_repo(tmp_path / "repo", files={"src/x.py": CONFLICT})
    findings, _ = found(repo, {"rules": {"deadline": {selector: "2027-01-31"}}}, today, ["REPO001"])
    assert [(rule, sev) for rule, sev, _ in findings] == [("REPO001", severity)]
    assert ("fix by 2027-01-31" in findings[0][2]) == (severity == "warning")


def test_a_deadline_ends_in_the_configured_severity_and_never_raises_one(tmp_path):
    repo = synthetic_repo(tmp_path / "repo", files={"src/x.py": CONFLICT})
    lenient = {"rules": {"deadline": {"REPO": "2027-01-31"}, "severity": {"REPO001": "info"}}}
    assert [sev for _, sev, _ in found(repo, lenient, DAY_BEFORE, ["REPO001"])[0]] == ["info"]
    assert [sev for _, sev, _ in found(repo, lenient, DAY_AFTER, ["REPO001"])[0]] == ["info"]


def test_the_most_specific_deadline_wins(tmp_path):
    repo = synthetic_repo(tmp_path / "repo", files={"src/x.py": CONFLICT})
    document = {"rules": {"deadline": {"REPO": "2026-01-01", "REPO001": "2027-01-31"}}}
    assert [sev for _, sev, _ in found(repo, document, DAY_BEFORE, ["REPO001"])[0]] == ["warning"]


def test_check_today_option_drives_the_deadline(tmp_path):
    repo = synthetic_repo(tmp_path / "repo", version="1.2.0")
    (tmp_path / "policy.yml").write_text(yaml.safe_dump(VERSION_DEADLINE))
    args = ["check", str(repo), "--policy", str(tmp_path / "policy.yml"), "--select", "TPL001", "--format", "json"]
    before = runner.invoke(app, [*args, "--today", "2027-01-31"])
    after = runner.invoke(app, [*args, "--today", "2027-02-01"])
    assert before.exit_code == 0, before.output
    assert [f["severity"] for f in json.loads(before.output)["findings"]] == ["warning"]
    assert after.exit_code == FINDINGS
    assert [f["severity"] for f in json.loads(after.output)["findings"]] == ["error"]


def test_check_today_that_is_not_a_date_is_a_one_line_error(tmp_path):
    repo = synthetic_repo(tmp_path / "repo")
    result = runner.invoke(app, ["check", str(repo), "--today", "31/01/2027"])
    assert result.exit_code == INVALID_INPUT
    assert result.output.count("\n") == 1 and "--today" in result.output and "YYYY-MM-DD" in result.output


@pytest.mark.parametrize("document,message", [
    ({"params": {"min_template_version": {"version": "1.4.0", "by": "31.01.2027"}}},
     "params.min_template_version.by: '31.01.2027' is not a date; write it as YYYY-MM-DD"),
    ({"params": {"min_template_version": {"version": "1.4.0", "by": "2027-02-30"}}}, "'2027-02-30' is not a date"),
    ({"params": {"min_template_version": {"version": "1.4.0", "by": "20270131"}}}, "'20270131' is not a date"),
    ({"params": {"min_template_version": {"version": "1.4.0"}}}, "a deadline needs both keys"),
    ({"params": {"min_template_version": {"version": "1.4.0", "until": "2027-01-31"}}},
     "unknown key params.min_template_version.until"),
    ({"params": {"min_template_version": {"version": ["1.4.0"], "by": "2027-01-31"}}},
     "params.min_template_version.version: must be a version"),
    ({"params": {"min_template_version": ["1.4.0"]}}, "or a deadline {version: 0.3.0, by: YYYY-MM-DD}"),
    ({"rules": {"deadline": ["TPL001"]}}, "rules.deadline: must map rule ids or families to dates"),
    ({"rules": {"deadline": {"SEC999": "2027-01-31"}}}, "rules.deadline: no rule or rule family 'SEC999'"),
    ({"rules": {"deadline": {"SEC301": "soon"}}}, "rules.deadline.SEC301: 'soon' is not a date"),
    ({"rules": {"deadline": {"TPL001": "2027-01-31"}},
      "params": {"min_template_version": {"version": "1.4.0", "by": "2027-01-31"}}}, "keep one of them"),
    ({"params": {"max_waiver_days": "90"}}, "params.max_waiver_days: must be a whole number"),
    ({"params": {"max_waiver_days": -1}}, "params.max_waiver_days: must be a whole number >= 0"),
])
def test_bad_deadline_input_names_the_field_and_the_fix(document, message):
    with pytest.raises(Exception) as caught:
        parse_policy(document, "policy.yml")
    assert message in str(caught.value) and "policy.yml" in str(caught.value)


# --- the waiver cap (WVR004) ---------------------------------------------------------------------
TODAY = dt.date(2026, 12, 1)


def waived_secret_repo(root: Path, expires: str) -> Path:
    waivers = {"waivers": [{"rule": "SEC301", "reason": "rotated, history rewrite pending", "owner": "ana",
                            "expires": expires}]}
    return synthetic_repo(root, files={"notes.txt": TOKEN + "\n", ".mlstack/waivers.yml": yaml.safe_dump(waivers)})


@pytest.mark.parametrize("expires,applied", [("2027-12-01", True), ("2027-12-02", False), ("2099-01-01", False)])
def test_waivers_longer_than_the_default_365_days_are_rejected_and_not_applied(tmp_path, expires, applied):
    repo = waived_secret_repo(tmp_path / "repo", expires)
    report = run_check(repo, parse_policy({}, "policy.yml"), select=["SEC301", "WVR"], today=TODAY)
    assert [f.rule for f in report.waived] == (["SEC301"] if applied else [])
    assert sorted(f.rule for f in report.findings) == ([] if applied else ["SEC301", "WVR004"])
    if not applied:
        cap = next(f for f in report.findings if f.rule == "WVR004")
        assert cap.severity == "error" and cap.path == ".mlstack/waivers.yml" and cap.line == 2
        assert "at most 365 days (params.max_waiver_days)" in cap.message and "owner ana" in cap.message
        assert "set `expires` to 2027-12-01 or earlier" in cap.fix


def test_the_policy_sets_the_waiver_cap(tmp_path):
    repo = waived_secret_repo(tmp_path / "repo", "2027-01-31")
    strict = run_check(repo, parse_policy({"params": {"max_waiver_days": 30}}, "p"), select=["SEC301", "WVR"],
                       today=TODAY)
    assert [f.rule for f in strict.findings] == ["SEC301", "WVR004"] and not strict.waived
    assert "at most 30 days" in strict.findings[1].message
    lenient = run_check(repo, parse_policy({"params": {"max_waiver_days": 61}}, "p"), select=["SEC301", "WVR"],
                        today=TODAY)
    assert lenient.findings == [] and [f.rule for f in lenient.waived] == ["SEC301"]


def test_a_deadline_on_the_waiver_cap_keeps_long_waivers_applied_until_then(tmp_path):
    repo = waived_secret_repo(tmp_path / "repo", "2099-01-01")
    policy = parse_policy({"rules": {"deadline": {"WVR004": "2027-03-01"}}}, "p")
    during = run_check(repo, policy, select=["SEC301", "WVR"], today=TODAY)
    assert [(f.rule, f.severity) for f in during.findings] == [("WVR004", "warning")]
    assert [f.rule for f in during.waived] == ["SEC301"] and "fix by 2027-03-01" in during.findings[0].message
    after = run_check(repo, policy, select=["SEC301", "WVR"], today=dt.date(2027, 3, 2))
    assert sorted((f.rule, f.severity) for f in after.findings) == [("SEC301", "error"), ("WVR004", "error")]
