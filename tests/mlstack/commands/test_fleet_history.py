"""`fleet report --history DIR` and `--state FILE`: stored runs, the dashboard over time, rollout columns.

Reports are built from FleetRow objects (or from repositories that do not exist, which are
broken rows) so these tests bake no project; the dashboard is opened in real headless Chromium.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from helpers.browser import needs_browser, opened_page
from mlstack.cli import app
from mlstack.commands.fleet import FleetReport, FleetRow, apply_rollout_state, describe, fleet_report, report_document
from mlstack.fleet_history import HISTORY_LIMIT, load_history, record_run, store_snapshot
from mlstack.policy.engine import CheckReport
from mlstack.policy.policy_file import parse_policy
from mlstack.rollout_state import RolloutEntry, save_state

runner = CliRunner()
LEVELS = ["bronze", "silver", "gold"]
HOSTILE_REPO = "</script><script>window.pwned=1</script>"
HOSTILE_RULE = '<img src=x onerror="window.pwned=2">'
HOSTILE_VERSION = '"><svg onload="window.pwned=3">'


def row(repo: str, version: str | None, level: str | None, rules: tuple[str, ...] = ()) -> FleetRow:
    """A checked repository whose report carries levels, as `check` reports them once levels exist."""
    report = {"repo": repo, "findings": [], "waived": [], "waivers": {"active": [], "expired": []},
              "level": level, "levels": [{"name": name, "reached": False, "failing_rules": []} for name in LEVELS]}
    return FleetRow(repo, version, outcome="policy" if rules else "ok", errors=len(rules),
                    failing_rules=sorted(rules), level=level, report=report)


def fleet_at(day: str, rows: list[FleetRow]) -> FleetReport:
    return FleetReport(rows, "policy.yml", f"{day}T09:00:00+00:00", "0.3.0")


# Three runs: versions move to 0.2.0/0.3.0, levels rise, SEC301 is fixed while CI101 appears.
OCTOBER = [row("r1", "0.1.0", "bronze", ("SEC301",)), row("r2", "0.1.0", "bronze", ("SEC301", "TPL002")),
           row("r3", "0.1.0", None), row("r4", "0.2.0", None)]
NOVEMBER = [row("r1", "0.2.0", "silver", ("CI101",)), row("r2", "0.2.0", "silver", ("CI101",)),
            row("r3", "0.1.0", "bronze", ("SEC301",)), row("r4", "0.2.0", None)]
DECEMBER = [row("r1", "0.3.0", "gold"), row("r2", "0.2.0", "silver"), row("r3", "0.2.0", "silver", ("CI101",)),
            row("r4", "0.2.0", "silver"), row("r5", "0.2.0", None)]


@pytest.fixture
def three_runs(tmp_path) -> tuple[FleetReport, Path]:
    """October and November stored in the history folder, with a foreign file; December is this run."""
    folder = tmp_path / "history"
    store_snapshot(folder, report_document(fleet_at("2026-10-01", OCTOBER)))
    store_snapshot(folder, report_document(fleet_at("2026-11-01", NOVEMBER)))
    (folder / "notes.json").write_text("not json at all\n")
    current = fleet_at("2026-12-01", DECEMBER)
    current.history = record_run(folder, report_document(current))
    return current, folder


def test_each_run_is_stored_under_a_new_sortable_name_and_the_history_sums_it_up(three_runs):
    current, folder = three_runs
    stored = sorted(p.name for p in folder.glob("fleet-*.json"))
    assert stored == ["fleet-20261001T090000Z.json", "fleet-20261101T090000Z.json", "fleet-20261201T090000Z.json"]
    assert json.loads((folder / stored[-1]).read_text()) == json.loads(describe(current, "json"))
    history = current.history
    assert [s.generated_at[:10] for s in history.snapshots] == ["2026-10-01", "2026-11-01", "2026-12-01"]
    assert history.snapshots[0].versions == {"0.2.0": 1, "0.1.0": 3}
    assert history.snapshots[1].levels == {"silver": 2, "bronze": 1, "none": 1}
    assert history.version_order() == ["0.3.0", "0.2.0", "0.1.0"]
    assert history.level_order() == ["bronze", "silver", "gold", "none"]
    assert history.top_rules()[:2] == [{"rule": "CI101", "total": 3, "latest": 1, "snapshots": 2},
                                       {"rule": "SEC301", "total": 3, "latest": 0, "snapshots": 2}]
    assert len(history.warnings) == 1 and "notes.json skipped" in history.warnings[0]


def test_a_run_in_the_same_second_never_replaces_a_stored_one(tmp_path):
    document = report_document(fleet_at("2026-12-01", OCTOBER))
    first = store_snapshot(tmp_path, document)
    before = first.read_bytes()
    second = store_snapshot(tmp_path, report_document(fleet_at("2026-12-01", NOVEMBER)))
    third = store_snapshot(tmp_path, document)
    assert [first.name, second.name, third.name] == sorted([first.name, second.name, third.name])
    assert second.name == "fleet-20261201T090000Z_01.json" and first.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [first.name, second.name, third.name]  # no temp left


def test_without_hard_links_a_run_still_never_replaces_a_stored_one(tmp_path, monkeypatch):
    def no_links(*_):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr("mlstack.fleet_history.os.link", no_links)
    first = store_snapshot(tmp_path, report_document(fleet_at("2026-12-01", OCTOBER)))
    second = store_snapshot(tmp_path, report_document(fleet_at("2026-12-01", NOVEMBER)))
    assert second.name.endswith("_01.json") and len(load_history(tmp_path).snapshots) == 2
    assert json.loads(first.read_text())["repos"][0]["failing_rules"] == ["SEC301"]


def test_malformed_and_foreign_files_are_skipped_with_one_line_each(tmp_path):
    store_snapshot(tmp_path, report_document(fleet_at("2026-10-01", OCTOBER)))
    foreign = {"empty.json": b"", "list.json": b"[1, 2]", "state.json": b'{"schema": 1, "repos": {}}',
               "binary.json": b"\xff\xfe\x00garbage", "bad-row.json": json.dumps(
                   {"generated_at": "2026-10-02T00:00:00+00:00", "repos": [{"repo": 1}]}).encode(),
               "bad-date.json": json.dumps({"generated_at": "yesterday\nwarning: forged", "repos": []}).encode(),
               "fleet-\nforged.json": b"{"}
    for name, content in foreign.items():
        (tmp_path / name).write_bytes(content)
    (tmp_path / "subdir").mkdir()
    history = load_history(tmp_path)
    assert len(history.snapshots) == 1
    assert len(history.warnings) == len(foreign)
    assert all("\n" not in w and w.startswith("warning: ") and " skipped: " in w for w in history.warnings)
    assert any("bad-row.json skipped: repos[0] is not a fleet row" in w for w in history.warnings)
    assert not any("forged" in w and "\\n" not in w for w in history.warnings)


def test_the_cli_stores_what_format_json_prints_and_warns_on_stderr(tmp_path):
    folder = tmp_path / "history"
    folder.mkdir()
    (folder / "junk.json").write_text("{")
    targets = [str(tmp_path / "gone-a"), str(tmp_path / "gone-b")]
    out = tmp_path / "fleet.json"
    for _ in range(2):
        result = runner.invoke(app, ["fleet", "report", *targets, "--history", str(folder), "--format", "json",
                                     "-O", str(out), "-j", "1"])
        assert result.exit_code == 0, result.output
        assert result.stderr.count("\n") == 1 and "junk.json skipped" in result.stderr
    stored = sorted(folder.glob("fleet-*.json"))
    assert len(stored) == 2
    assert json.loads(stored[-1].read_text()) == json.loads(out.read_text())
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    result = runner.invoke(app, ["fleet", "report", *targets, "--history", str(not_a_folder)])
    assert result.exit_code == 3 and "not a directory" in result.output


def test_only_the_last_snapshots_are_embedded_and_the_rest_are_counted(tmp_path):
    start = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
    for week in range(HISTORY_LIMIT + 3):
        report = FleetReport([row("r1", "0.1.0", None)], "p", (start + dt.timedelta(weeks=week)).isoformat(), None)
        store_snapshot(tmp_path, report_document(report))
    current = FleetReport([row("r1", "0.2.0", None)], "p", "2026-12-01T00:00:00+00:00", None)
    history = record_run(tmp_path, report_document(current))
    assert len(history.snapshots) == HISTORY_LIMIT and history.older_not_shown == 4
    assert history.snapshots[0].generated_at == (start + dt.timedelta(weeks=4)).isoformat()
    assert history.snapshots[-1].source == "this run"


def test_level_comes_from_the_check_report_and_is_absent_from_older_reports(tmp_path, monkeypatch):
    levels = {"with-level": "silver", "without": None}

    class ReportWithLevels(CheckReport):
        def to_dict(self):
            data = super().to_dict()
            name = Path(self.repo).name
            if name in levels:
                data["level"] = levels[name]
                data["levels"] = [{"name": "silver", "reached": levels[name] == "silver", "failing_rules": []}]
            return data

    def fake_check(root, policy, **_):
        return ReportWithLevels(str(root), policy.source, None, "0.2.0", [])

    monkeypatch.setattr("mlstack.policy.engine.run_check", fake_check)
    targets = [str(tmp_path / name) for name in ("with-level", "without", "older-report")]
    report = fleet_report(targets, parse_policy({}, "p"), jobs=1)
    assert [r.level for r in report.rows] == ["silver", None, None]
    rows = list(csv.DictReader(io.StringIO(describe(report, "csv"))))
    assert [r["level"] for r in rows] == ["silver", "", ""]
    assert [r["level"] for r in json.loads(describe(report, "json"))["repos"]] == ["silver", None, None]
    assert "level" in describe(report, "table").splitlines()[0]


def write_state(path: Path, repos: list[str]) -> None:
    save_state(path, {
        repos[0]: RolloutEntry("updated", "0.3.0", from_version="0.2.0", branch="mlstack/update-0.3.0",
                               request_url="https://git.example.com/t/r1/pull/7", pushed=True),
        repos[1]: RolloutEntry("conflicted", "0.3.0", conflicts=["Makefile"]),
        "https://git.example.com/not/in/this/fleet.git": RolloutEntry("failed", "0.3.0", reason="clone"),
    })


def test_state_file_adds_rollout_columns_to_every_format(tmp_path):
    targets = [str(tmp_path / name) for name in ("gone-a", "gone-b", "gone-c")]
    state = tmp_path / "repos.rollout.json"
    write_state(state, targets)
    outputs = {}
    for output_format in ("table", "json", "csv", "html"):
        out = tmp_path / f"fleet.{output_format}"
        result = runner.invoke(app, ["fleet", "report", *targets, "--state", str(state), "--format", output_format,
                                     "-O", str(out), "-j", "1"])
        assert result.exit_code == 0, result.output
        outputs[output_format] = out.read_text()
    repos = json.loads(outputs["json"])["repos"]
    assert [(r["rollout"], r["update_branch"], r["request_url"]) for r in repos] == [
        ("updated 0.3.0", "mlstack/update-0.3.0", "https://git.example.com/t/r1/pull/7"),
        ("conflicted 0.3.0", None, None), (None, None, None)]
    assert json.loads(outputs["json"])["rollout"] == {"up-to-date": 0, "updated": 1, "conflicted": 1, "failed": 0,
                                                      "skipped": 0, "none": 1}
    rows = list(csv.DictReader(io.StringIO(outputs["csv"])))
    assert [r["rollout"] for r in rows] == ["updated 0.3.0", "conflicted 0.3.0", ""]
    assert rows[0]["update_branch"] == "mlstack/update-0.3.0" and rows[0]["request_url"].endswith("/pull/7")
    header, _, first, second = outputs["table"].splitlines()[:4]
    assert "rollout" in header and "update branch" in header and "request" in header
    assert "updated 0.3.0" in first and "mlstack/update-0.3.0" in first and "conflicted 0.3.0" in second
    assert 'data-key="request_url"' in outputs["html"] and 'id="rollout-chart"' in outputs["html"]
    without = runner.invoke(app, ["fleet", "report", targets[0], "--format", "json", "-j", "1"])
    assert "rollout" not in json.loads(without.stdout)["repos"][0]


def test_a_bad_state_file_fails_before_any_repository_is_checked(tmp_path):
    state = tmp_path / "state.json"
    state.write_text('{"schema": 1, "repos": {"r": {"outcome": "exploded", "version": "1"}}}')
    result = runner.invoke(app, ["fleet", "report", str(tmp_path / "gone"), "--state", str(state)])
    assert result.exit_code == 3 and "unknown rollout outcome" in result.output
    result = runner.invoke(app, ["fleet", "report", str(tmp_path / "gone"), "--state", str(tmp_path / "nope.json")])
    assert result.exit_code == 3 and "--state" in result.output and "no such file" in result.output


@needs_browser
def test_dashboard_shows_three_snapshots_over_time_in_a_real_browser(three_runs, tmp_path):
    current, _ = three_runs
    state = tmp_path / "state.json"
    write_state(state, ["r1", "r2"])
    from mlstack.commands.fleet import read_rollout_state

    apply_rollout_state(current, read_rollout_state(state))
    page_file = tmp_path / "fleet.html"
    page_file.write_text(describe(current, "html"), encoding="utf-8")
    with opened_page(page_file) as (page, errors_seen):
        assert "3 snapshots: 2 stored and this run" in page.locator("#history-note").text_content()
        assert f"at most the last {HISTORY_LIMIT}" in page.locator("#history-note").text_content()
        bars = page.locator("#history-versions g.snapshot")
        assert [bars.nth(i).get_attribute("data-at")[:10] for i in range(3)] == [
            "2026-10-01", "2026-11-01", "2026-12-01"]

        def counts(chart: str, attribute: str, index: int) -> dict[str, int]:
            segments = page.locator(f"#{chart} g.snapshot").nth(index).locator("rect.segment")
            return {segments.nth(i).get_attribute(f"data-{attribute}"): int(segments.nth(i).get_attribute(
                "data-count")) for i in range(segments.count())}

        assert counts("history-versions", "version", 0) == {"0.2.0": 1, "0.1.0": 3}
        assert counts("history-versions", "version", 2) == {"0.3.0": 1, "0.2.0": 4}
        assert counts("history-levels", "level", 1) == {"bronze": 1, "silver": 2, "none": 1}
        assert counts("history-levels", "level", 2) == {"silver": 3, "gold": 1, "none": 1}
        legend = page.locator("#history-levels-legend li")
        assert [legend.nth(i).text_content() for i in range(legend.count())] == LEVELS + ["none"]
        rules = page.locator("#history-rules tbody tr")
        assert [[rules.nth(i).locator("td").nth(c).text_content() for c in range(4)] for i in range(3)] == [
            ["CI101", "1", "3", "2"], ["SEC301", "0", "3", "2"], ["TPL002", "0", "1", "1"]]
        # This run: share of the fleet per version, rollout outcomes, level column, request link.
        share = page.locator("#version-chart .bar[data-version='0.2.0']")
        assert share.get_attribute("data-count") == "4" and share.get_attribute("data-share") == "80"
        assert page.locator("#rollout-chart .bar[data-outcome=updated]").get_attribute("data-count") == "1"
        assert page.locator("#rollout-chart .bar[data-outcome=none]").get_attribute("data-count") == "3"
        assert page.locator("#level-chart .bar[data-level=silver]").get_attribute("data-count") == "3"
        first = page.locator("#fleet-table tbody tr[data-repo=r1]")
        keys = page.eval_on_selector_all("#fleet-table th", "ths => ths.map(th => th.dataset.key)")
        cells = first.locator("td")
        assert cells.nth(keys.index("level")).text_content() == "gold"
        assert cells.nth(keys.index("rollout")).text_content() == "updated 0.3.0"
        link = cells.nth(keys.index("request_url")).locator("a")
        assert link.get_attribute("href") == "https://git.example.com/t/r1/pull/7"
        assert errors_seen == []


@needs_browser
def test_hostile_names_in_the_history_are_shown_as_text_and_run_nothing(tmp_path):
    folder = tmp_path / "history"
    stored = [row(HOSTILE_REPO, HOSTILE_VERSION, "__DATA__", (HOSTILE_RULE,)), row("__HISTORY_DATA__", "0.1.0", None)]
    store_snapshot(folder, report_document(fleet_at("2026-11-01", stored)))
    current = fleet_at("2026-12-01", [row(HOSTILE_REPO, "0.2.0", "gold", (HOSTILE_RULE,))])
    current.history = record_run(folder, report_document(current))
    state = tmp_path / "state.json"
    save_state(state, {HOSTILE_REPO: RolloutEntry("updated", "0.2.0", branch=HOSTILE_RULE,
                                                  request_url="javascript:window.pwned=4")})
    from mlstack.commands.fleet import read_rollout_state

    apply_rollout_state(current, read_rollout_state(state))
    text = describe(current, "html")
    assert "<img src=x" not in text and "</script><script>" not in text and "<svg onload" not in text
    page_file = tmp_path / "fleet.html"
    page_file.write_text(text, encoding="utf-8")
    with opened_page(page_file) as (page, errors_seen):
        assert page.locator("#history-versions g.snapshot").count() == 2
        assert page.locator("#history-rules tbody tr").first.get_attribute("data-rule") == HOSTILE_RULE
        assert page.locator("#history-rules tbody tr td").first.text_content() == HOSTILE_RULE
        segment = page.locator("#history-versions g.snapshot").first.locator("rect.segment").first
        assert segment.get_attribute("data-version") in (HOSTILE_VERSION, "0.1.0")
        versions = page.locator("#history-versions-legend li")
        assert HOSTILE_VERSION in [versions.nth(i).text_content() for i in range(versions.count())]
        levels = page.locator("#history-levels-legend li")
        assert "__DATA__" in [levels.nth(i).text_content() for i in range(levels.count())]
        assert page.locator("#fleet-table tbody tr").count() == 1
        assert page.locator("#fleet-table tbody tr a").count() == 0  # a javascript: URL is not a link
        assert page.locator("img").count() == 0 and page.locator("svg [onload]").count() == 0
        assert page.locator("script").count() == 3  # the two JSON blocks and the page's own script
        assert errors_seen == [] and page.evaluate("window.pwned") is None
