"""`mlstack fleet report`: many repositories in parallel, one table, broken ones reported."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from helpers import REPO_ROOT, git
from helpers.browser import needs_browser, opened_page
from mlstack.cli import app
from mlstack.commands.fleet import fleet_report, read_targets, render_json
from mlstack.policy.policy_file import parse_policy

runner = CliRunner()
TOKEN = "dapi0123456789abcdef0123456789abcdef"
# The version the bundled template records, which the fleet's up-to-date repositories are on.
CURRENT = json.loads((REPO_ROOT / "cookiecutter.json").read_text())["_template_version"]


@pytest.fixture(scope="module")
def base_project(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("fleet-base")
    assert runner.invoke(app, ["init", "--no-input", "-o", str(out)], catch_exceptions=False).exit_code == 0
    return out / "maternal-health-risk"


def set_version(repo: Path, version: str) -> None:
    answers = repo / ".mlstack" / "answers.yml"
    answers.write_text(answers.read_text().replace(f"\n  version: {CURRENT}", f"\n  version: {version}", 1))


# Waivers are judged against today (the CLI's checks have no --today): this one stays in date,
# and within the policy's longest waiver (365 days), whenever the suite runs.
TODAY = dt.date.today()
WAIVED_UNTIL = (TODAY + dt.timedelta(days=200)).isoformat()


def waive_makefile_change(repo: Path) -> None:
    (repo / "Makefile").write_text("# approved change\n")
    (repo / ".mlstack" / "waivers.yml").write_text(
        "waivers:\n  - rule: TPL002\n    path: Makefile\n    reason: approved\n    owner: ana\n"
        f"    expires: {WAIVED_UNTIL}\n")


# 50 repositories: how many of each state, and how to put a copy of the base project in it.
STATES = {
    "ok": (20, lambda repo: None),
    "old": (8, lambda repo: set_version(repo, "0.0.9")),
    "drift": (7, lambda repo: (repo / "Makefile").write_text("# changed by hand\n")),
    "secret": (6, lambda repo: (repo / "notes.txt").write_text(TOKEN + "\n")),
    "waived": (4, lambda repo: waive_makefile_change(repo)),
    "expired": (3, lambda repo: (repo / ".mlstack" / "waivers.yml").write_text(
        "waivers:\n  - rule: SEC302\n    reason: old\n    owner: bo\n    expires: 2025-01-01\n")),
}
BROKEN = 2  # paths that don't exist


@pytest.fixture(scope="module")
def fleet(base_project, tmp_path_factory) -> tuple[list[str], dict[str, str]]:
    root = tmp_path_factory.mktemp("fleet")
    targets, expected = [], {}
    for state, (count, mutate) in STATES.items():
        for index in range(count):
            repo = root / f"{state}-{index:02d}"
            shutil.copytree(base_project, repo, symlinks=True)
            mutate(repo)
            targets.append(str(repo))
            expected[str(repo)] = state
    for index in range(BROKEN):
        missing = str(root / f"missing-{index}")
        targets.append(missing)
        expected[missing] = "broken"
    assert len(targets) == 50
    return targets, expected


OUTCOME_OF_STATE = {"ok": "ok", "old": "update", "drift": "drift", "secret": "policy", "waived": "ok",
                    "expired": "ok", "broken": "broken"}


def test_fleet_of_fifty_mixed_repositories_gives_the_expected_counts(fleet):
    targets, expected = fleet
    policy = parse_policy({"params": {"latest_template_version": CURRENT}}, "fleet-policy")
    report = fleet_report(targets, policy, jobs=2, today=TODAY)
    by_repo = {row.repo: row for row in report.rows}
    assert [row.repo for row in report.rows] == targets
    for repo, state in expected.items():
        assert by_repo[repo].outcome == OUTCOME_OF_STATE[state], (repo, by_repo[repo])
    assert report.counts() == {"repos": 50, "ok": 27, "update": 8, "drift": 7, "policy": 6, "broken": 2}
    assert report.versions() == {CURRENT: 40, "0.0.9": 8, "unknown": 2}
    assert {by_repo[r].behind for r, s in expected.items() if s == "old"} == {1}
    assert {by_repo[r].failing_rules[0] for r, s in expected.items() if s == "secret"} == {"SEC301"}
    assert sum(row.drift for row in report.rows) == 7
    assert sum(row.active_waivers for row in report.rows) == 4
    assert sum(row.expired_waivers for row in report.rows) == 3
    assert all("no such directory" in by_repo[r].error for r, s in expected.items() if s == "broken")


def test_git_urls_are_cloned_shallowly_and_a_bad_url_is_just_a_broken_row(base_project, tmp_path):
    remote = tmp_path / "remote.git"
    git(tmp_path, "clone", "--quiet", "--bare", str(base_project), str(remote))
    cache = tmp_path / "cache"
    targets = [f"file://{remote}", f"file://{tmp_path}/nope.git"]
    report = fleet_report(targets, parse_policy({}, "p"), cache_dir=cache, jobs=1)
    good, bad = report.rows
    assert good.outcome == "ok" and good.template_version == CURRENT and good.drift == 0
    assert bad.outcome == "broken" and "cannot fetch" in bad.error
    clone = next(cache.iterdir())
    assert git(clone, "rev-parse", "--is-shallow-repository") == "true"
    again = fleet_report(targets[:1], parse_policy({}, "p"), cache_dir=cache, jobs=1)
    assert again.rows[0].outcome == "ok"


def test_targets_come_from_arguments_and_a_file_without_duplicates(tmp_path):
    listing = tmp_path / "repos.txt"
    listing.write_text("# platform fleet\n/a\n\n/b   # the b repo\n/a\n")
    assert read_targets(["/c", "/a"], listing) == ["/c", "/a", "/b"]


def test_cli_formats_json_and_csv(fleet, tmp_path):
    targets, _ = fleet
    subset = targets[:3] + targets[-1:]
    as_json = runner.invoke(app, ["fleet", "report", *subset, "--format", "json", "-j", "1"])
    data = json.loads(as_json.output)
    assert data["counts"]["repos"] == 4 and data["counts"]["broken"] == 1
    assert data["repos"][0]["report"]["findings"] == []
    out = tmp_path / "fleet.csv"
    runner.invoke(app, ["fleet", "report", *subset, "--format", "csv", "-O", str(out), "-j", "1"])
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [r["outcome"] for r in rows] == ["ok", "ok", "ok", "broken"]
    table = runner.invoke(app, ["fleet", "report", *subset, "-j", "1"]).output
    assert "4 repositories: 3 ok" in table and "broken: " in table


def test_fail_on_policy_flag(fleet):
    targets, expected = fleet
    secret = next(r for r, s in expected.items() if s == "secret")
    ok = next(r for r, s in expected.items() if s == "ok")
    assert runner.invoke(app, ["fleet", "report", ok, "-j", "1", "--fail-on-policy"]).exit_code == 0
    assert runner.invoke(app, ["fleet", "report", ok, secret, "-j", "1", "--fail-on-policy"]).exit_code == 1


def test_no_repositories_is_a_clear_error():
    result = runner.invoke(app, ["fleet", "report"])
    assert result.exit_code == 3 and "name at least one repository" in result.output


@needs_browser
def test_html_dashboard_sorts_and_shows_details_in_a_real_browser(fleet, tmp_path):
    targets, expected = fleet
    page_file = tmp_path / "fleet.html"
    policy = tmp_path / "policy.yml"
    policy.write_text(f"params:\n  latest_template_version: {CURRENT}\n")
    result = runner.invoke(app, ["fleet", "report", *targets, "--format", "html", "-O", str(page_file),
                                 "--policy", str(policy)])
    assert result.exit_code == 0, result.output
    secret_repo = next(r for r, s in expected.items() if s == "secret")
    with opened_page(page_file) as (page, errors_seen):
        rows = page.locator("#fleet-table tbody tr")
        assert rows.count() == 50
        assert page.locator(".card[data-count=policy] b").text_content() == "6"
        assert page.locator("#version-chart .bar[data-version='0.0.9']").get_attribute("data-count") == "8"
        page.locator("th[data-key=errors]").click()
        page.locator("th[data-key=errors]").click()
        assert page.locator("th[data-key=errors]").get_attribute("aria-sort") == "descending"
        assert rows.first.locator("td").nth(3).text_content() == "policy"
        page.locator(f"#fleet-table tbody tr[data-repo='{secret_repo}']").click()
        assert page.locator("#detail h3").text_content() == secret_repo
        findings = page.locator("#findings li.finding")
        assert findings.count() == 1 and findings.first.get_attribute("data-rule") == "SEC301"
        assert TOKEN not in page.content()
        page.fill("#filter", "drift-0")
        assert rows.count() == 7


# --- hostile repositories in a fleet (issue 15: 8, 9) --------------------------------------------

CREDENTIAL = "glpat-abcdefghijklmnopqrst12"


def test_credentials_in_target_urls_appear_in_no_format(base_project, tmp_path):
    recorded = shutil.copytree(base_project, tmp_path / "recorded", symlinks=True)
    answers = recorded / ".mlstack" / "answers.yml"
    answers.write_text(answers.read_text().replace("source: bundled",
                                                   f"source: https://oauth2:{CREDENTIAL}@git.example.com/t.git"))
    targets = [f"https://oauth2:{CREDENTIAL}@127.0.0.1:9/platform/repo.git", f"https://{CREDENTIAL}@127.0.0.1:9/r.git",
               str(recorded)]
    for output_format in ("table", "json", "csv", "html"):
        out = tmp_path / f"fleet.{output_format}"
        result = runner.invoke(app, ["fleet", "report", *targets, "--format", output_format, "-O", str(out),
                                     "-j", "1", "--cache-dir", str(tmp_path / "cache")])
        assert result.exit_code == 0, result.output
        text = out.read_text()
        assert CREDENTIAL not in text and "oauth2" not in text, output_format
        assert "127.0.0.1:9/platform/repo.git" in text
    rows = json.loads((tmp_path / "fleet.json").read_text())["repos"]
    assert rows[0]["repo"] == "https://127.0.0.1:9/platform/repo.git" and rows[0]["outcome"] == "broken"
    assert rows[2]["report"]["template"]["source"] == "https://git.example.com/t.git"


def test_embedded_report_data_cannot_break_out_of_its_script_element():
    from mlstack.fleet_html import embeddable_json

    hostile = json.dumps({"rule": "<!--<script></script>&\u2028"}, ensure_ascii=False)
    safe = embeddable_json(hostile)
    assert not set("<>&\u2028") & set(safe)
    assert json.loads(safe) == json.loads(hostile)


@needs_browser
def test_a_hostile_waiver_neither_blanks_the_dashboard_nor_runs_script(base_project, tmp_path):
    repos = []
    for name, rule in (("comment", "<!--<script>"), ("closing", "</script><script>window.pwned=1</script>")):
        repo = shutil.copytree(base_project, tmp_path / name, symlinks=True)
        (repo / ".mlstack" / "waivers.yml").write_text(json.dumps({"waivers": [
            {"rule": rule, "reason": "r", "owner": "o", "expires": "2099-01-01"}]}))
        repos.append(str(repo))
    repos.append(str(shutil.copytree(base_project, tmp_path / "plain", symlinks=True)))
    page_file = tmp_path / "fleet.html"
    result = runner.invoke(app, ["fleet", "report", *repos, "--format", "html", "-O", str(page_file), "-j", "1"])
    assert result.exit_code == 0, result.output
    with opened_page(page_file) as (page, errors_seen):
        assert page.locator("#fleet-table tbody tr").count() == 3
        assert errors_seen == [] and page.evaluate("window.pwned") is None
        page.locator(f"#fleet-table tbody tr[data-repo='{repos[0]}']").click()
        finding = page.locator("#findings li.finding").first
        assert finding.get_attribute("data-rule") == "WVR002" and "<!--<script>" in finding.text_content()


def test_a_policy_with_levels_puts_the_level_each_repository_reached_in_the_fleet_report(base_project, tmp_path):
    """End to end: `check` computes the level, the fleet row and its JSON carry it."""
    old = shutil.copytree(base_project, tmp_path / "old", symlinks=True)
    set_version(old, "0.0.9")
    leaky = shutil.copytree(base_project, tmp_path / "leaky", symlinks=True)
    (leaky / "notes.txt").write_text(TOKEN + "\n")
    policy = parse_policy({"params": {"min_template_version": CURRENT},
                           "levels": [{"name": "bronze", "rules": ["SEC"]}, {"name": "gold", "rules": ["TPL"]}]},
                          "levels-policy")
    report = fleet_report([str(base_project), str(old), str(leaky)], policy, jobs=1, today=TODAY)
    assert [row.level for row in report.rows] == ["gold", "bronze", None]
    document = json.loads(render_json(report))
    assert [repo["level"] for repo in document["repos"]] == ["gold", "bronze", None]
    assert document["repos"][1]["report"]["levels"][1] == {"name": "gold", "reached": False,
                                                           "failing_rules": ["TPL001"]}
