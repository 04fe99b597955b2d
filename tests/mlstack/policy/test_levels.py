"""Policy levels: ordered sets of rules with no unwaived error; a level needs every level below it.

Small synthetic repositories pin down the logic; one fresh baked project (helpers.bakes, shared
by the session) shows that the template itself reaches the top of a policy over every family.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from helpers.bakes import baked
from helpers.policy_repos import CONFLICT, TOKEN, synthetic_repo
from mlstack.cli import app
from mlstack.policy.engine import run_check
from mlstack.policy.model import FAMILIES
from mlstack.policy.policy_file import parse_policy
from mlstack.policy.reporters import render_markdown, render_sarif, render_text

runner = CliRunner()
TODAY = dt.date(2026, 12, 1)
LEVELS = [{"name": "bronze", "rules": ["TPL001"]}, {"name": "silver", "rules": ["REPO001", "REPO002"]},
          {"name": "gold", "rules": ["SEC301"]}]
SELECTED = ["TPL001", "REPO001", "REPO002", "SEC301", "WVR"]
MINIMUM = {"min_template_version": "1.0.0"}


def check(root: Path, *, levels=None, params=None, rules=None, select=SELECTED, today=TODAY):
    document = {"levels": LEVELS if levels is None else levels, "params": params or MINIMUM, "rules": rules or {}}
    if not document["levels"]:
        del document["levels"]
    return run_check(root, parse_policy(document, "policy.yml"), select=select, today=today)


def summary(report) -> list[tuple[str, bool, list[str]]]:
    return [(level.name, level.reached, level.failing_rules) for level in report.levels]


def test_a_repository_passing_every_level_reaches_the_top(tmp_path):
    report = check(synthetic_repo(tmp_path / "repo"))
    assert report.level == "gold"
    assert summary(report) == [("bronze", True, []), ("silver", True, []), ("gold", True, [])]
    assert "Level: gold (the top level)" in render_text(report)


def test_a_failing_rule_stops_at_the_level_below_and_is_named(tmp_path):
    repo = synthetic_repo(tmp_path / "repo", files={"src/x.py": CONFLICT, "docs/x.md": "{{ cookiecutter.owner }}\n"})
    report = check(repo)
    assert report.level == "bronze"
    assert summary(report) == [("bronze", True, []), ("silver", False, ["REPO001", "REPO002"]),
                               ("gold", False, [])]
    assert "Level: bronze (silver needs: REPO001, REPO002)" in render_text(report)


def test_a_failing_lower_level_blocks_the_higher_ones_even_when_they_pass(tmp_path):
    report = check(synthetic_repo(tmp_path / "repo", version="0.9.0"))
    assert report.level is None
    assert summary(report) == [("bronze", False, ["TPL001"]), ("silver", False, []), ("gold", False, [])]
    assert "Level: none (bronze needs: TPL001)" in render_text(report)


def test_waived_errors_and_warnings_do_not_block_a_level(tmp_path):
    waivers = {"waivers": [{"rule": "SEC301", "reason": "rotated", "owner": "ana", "expires": "2027-01-31"}]}
    repo = synthetic_repo(tmp_path / "repo", files={"notes.txt": TOKEN + "\n", "src/x.py": CONFLICT,
                                                    ".mlstack/waivers.yml": yaml.safe_dump(waivers)})
    report = check(repo, rules={"severity": {"REPO001": "warning"}})
    assert [f.rule for f in report.waived] == ["SEC301"] and [f.rule for f in report.findings] == ["REPO001"]
    assert report.level == "gold"


def test_a_deadline_not_yet_due_does_not_block_a_level_and_does_after_it(tmp_path):
    repo = synthetic_repo(tmp_path / "repo", files={"src/x.py": CONFLICT})
    rules = {"deadline": {"REPO": "2027-01-31"}}
    assert check(repo, rules=rules, today=dt.date(2027, 1, 31)).level == "gold"
    assert check(repo, rules=rules, today=dt.date(2027, 2, 1)).level == "bronze"


def test_a_family_selects_every_rule_of_it_that_the_policy_runs(tmp_path):
    repo = synthetic_repo(tmp_path / "repo", files={"docs/x.md": "{{ cookiecutter.owner }}\n"})
    levels = [{"name": "layout", "rules": ["REPO"]}]
    report = check(repo, levels=levels, select=["REPO"])
    assert summary(report) == [("layout", False, ["REPO002"])]
    ignoring = check(repo, levels=levels, select=["REPO"], rules={"ignore": ["REPO002"]})
    assert summary(ignoring) == [("layout", True, [])]


def test_a_rule_narrowed_away_by_select_cannot_be_shown_passing(tmp_path):
    report = check(synthetic_repo(tmp_path / "repo"), select=["TPL001"])
    assert summary(report) == [("bronze", True, []), ("silver", False, ["REPO001", "REPO002"]),
                               ("gold", False, ["SEC301"])]
    assert "Level: bronze (silver needs: REPO001 (not run), REPO002 (not run))" in render_text(report)


def test_no_levels_in_the_policy_means_no_level_anywhere(tmp_path):
    report = check(synthetic_repo(tmp_path / "repo"), levels=[])
    data = report.to_dict()
    assert data["level"] is None and data["levels"] == []
    assert "Level:" not in render_text(report) and "Level:" not in render_markdown(report)
    properties = json.loads(render_sarif(report))["runs"][0]["properties"]
    assert properties["level"] is None and properties["levels"] == []


def test_json_markdown_and_sarif_carry_the_level_contract(tmp_path):
    """fleet report embeds to_dict() per repository: these keys and shapes are its contract."""
    repo = synthetic_repo(tmp_path / "repo", files={"src/x.py": CONFLICT})
    report = check(repo)
    expected_levels = [{"name": "bronze", "reached": True, "failing_rules": []},
                       {"name": "silver", "reached": False, "failing_rules": ["REPO001"]},
                       {"name": "gold", "reached": False, "failing_rules": []}]
    data = json.loads(json.dumps(report.to_dict()))
    assert data["level"] == "bronze" and data["levels"] == expected_levels
    properties = json.loads(render_sarif(report))["runs"][0]["properties"]
    assert properties["level"] == "bronze" and properties["levels"] == expected_levels
    assert "Level: bronze (silver needs: REPO001)" in render_markdown(report)


def test_check_prints_the_level_reached(tmp_path):
    repo = synthetic_repo(tmp_path / "repo", files={"src/x.py": CONFLICT})
    (tmp_path / "policy.yml").write_text(yaml.safe_dump({"levels": LEVELS, "params": MINIMUM}))
    result = runner.invoke(app, ["check", str(repo), "--policy", str(tmp_path / "policy.yml"),
                                 *[arg for rule in SELECTED for arg in ("--select", rule)]])
    assert "\nLevel: bronze (silver needs: REPO001)\n" in result.output


@pytest.mark.parametrize("levels,message", [
    ({"bronze": ["TPL"]}, "levels: must be a list of {name, rules} mappings, lowest level first"),
    ([], "levels: must be a list"),
    (["bronze"], "levels[0]: must be a mapping with name and rules"),
    ([{"name": "bronze"}], "levels[0].rules: required, a list of rule ids or families"),
    ([{"rules": ["TPL"]}], "levels[0].name: required"),
    ([{"name": "bronze", "rules": "TPL"}], "levels[0].rules: must be a list of strings"),
    ([{"name": "bronze", "rules": ["TPL0001"]}],
     "levels[0].rules: no rule or rule family 'TPL0001' (did you mean 'TPL001'?)"),
    ([{"name": "bronze", "rules": [""]}], "levels[0].rules: an empty rule id or prefix matches every rule"),
    ([{"name": "a", "rules": ["TPL"]}, {"name": "a", "rules": ["SEC"]}], "levels[1].name: 'a' is already a level"),
    ([{"name": "bronze", "rulez": ["TPL"]}], "unknown key 'rulez' (did you mean 'rules'?)"),
])
def test_bad_levels_name_the_field_and_the_fix(levels, message):
    with pytest.raises(Exception) as caught:
        parse_policy({"levels": levels}, "policy.yml")
    assert message in str(caught.value) and "policy.yml" in str(caught.value)


def test_a_level_over_rules_the_policy_switches_off_is_refused():
    with pytest.raises(Exception, match=r"levels\[0\].rules: TF is switched off by rules.select/rules.ignore"):
        parse_policy({"rules": {"ignore": ["TF"]}, "levels": [{"name": "bronze", "rules": ["TF"]}]}, "policy.yml")


def test_a_fresh_generated_project_reaches_the_top_level_over_every_family():
    """The template's own output meets the whole standard: every family sits in some level."""
    levels = [{"name": "bronze", "rules": ["TPL", "REPO", "SEC", "WVR"]}, {"name": "silver", "rules": ["TF", "CI"]},
              {"name": "gold", "rules": ["ML"]}]
    assert {family for level in levels for family in level["rules"]} == set(FAMILIES)
    report = run_check(baked("azure", "github_actions"), parse_policy({"levels": levels}, "p"), today=TODAY)
    assert [f for f in report.findings if f.severity == "error"] == []
    assert report.level == "gold" and all(level.reached for level in report.levels)


def test_the_example_policy_in_the_docs_is_valid():
    from helpers import REPO_ROOT
    from mlstack.yamlfile import load_yaml

    text = (REPO_ROOT / "docs" / "policy.md").read_text()
    example = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    policy = parse_policy(load_yaml(example), "docs/policy.md")
    assert [level.name for level in policy.levels] == ["bronze", "silver", "gold"]
    assert policy.deadline == {"CI101": dt.date(2027, 3, 31), "TPL001": dt.date(2027, 1, 31)}
