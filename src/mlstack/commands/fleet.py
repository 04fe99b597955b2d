"""`mlstack fleet report`: check many repositories in parallel and summarise them in one table.

Repositories are local paths or git URLs (cloned shallowly into a cache). A repository that
cannot be cloned or checked is reported as broken; it never stops the report. Credentials in a
target URL (https://oauth2:<token>@host/...) are used to clone and never shown or stored.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
import subprocess
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlstack.errors import InvalidInput, as_text, one_line
from mlstack.policy.policy_file import Policy
from mlstack.urls import redact
from mlstack.versions import is_older, version_key

GIT_URL_PREFIXES = ("https://", "http://", "ssh://", "git@", "file://")


@dataclass
class FleetRow:
    """One repository's line in the fleet table (`error` set when it could not be checked)."""

    repo: str
    template_version: str | None = None
    behind: int | None = None
    outcome: str = "broken"
    errors: int = 0
    warnings: int = 0
    drift: int = 0
    failing_rules: list[str] = field(default_factory=list)
    active_waivers: int = 0
    expired_waivers: int = 0
    level: str | None = None
    error: str | None = None
    # From a rollout state file (`--state`), see mlstack.rollout_state.as_row_columns.
    rollout: str | None = None
    update_branch: str | None = None
    request_url: str | None = None
    report: dict[str, Any] | None = None

    def to_dict(self, with_report: bool = True, with_rollout: bool = False) -> dict[str, Any]:
        hidden = {"report"} | (set() if with_rollout else set(ROLLOUT_COLUMNS))
        data = {k: v for k, v in self.__dict__.items() if k not in hidden}
        if with_report:
            data["report"] = self.report
        return data


@dataclass
class FleetReport:
    rows: list[FleetRow]
    policy_source: str
    generated_at: str
    latest_version: str | None
    with_rollout: bool = False  # a state file was given: rollout columns in every format
    history: Any = None  # mlstack.fleet_history.History for the dashboard, when --history is given

    def columns(self) -> tuple[str, ...]:
        return COLUMNS + (ROLLOUT_COLUMNS if self.with_rollout else ())

    def rollout_counts(self) -> dict[str, int]:
        """Repositories per rollout outcome ("none" when the state file has no entry for it)."""
        from mlstack.rollout_state import OUTCOMES

        tally = dict.fromkeys((*OUTCOMES, "none"), 0)
        for row in self.rows:
            tally[row.rollout.split(" ", 1)[0] if row.rollout else "none"] += 1
        return tally

    def counts(self) -> dict[str, int]:
        counts = {"repos": len(self.rows)}
        for outcome in ("ok", "update", "drift", "policy", "broken"):
            counts[outcome] = sum(1 for row in self.rows if row.outcome == outcome)
        return counts

    def versions(self) -> dict[str, int]:
        """How many repositories are on each template version (newest first)."""
        return version_tally(row.template_version for row in self.rows)


def version_tally(versions: Iterable[str | None]) -> dict[str, int]:
    """Repositories per template version, newest first ("unknown" for a repository without one)."""
    tally: dict[str, int] = {}
    for version in versions:
        key = version or "unknown"
        tally[key] = tally.get(key, 0) + 1
    return dict(sorted(tally.items(), key=lambda item: version_key(item[0]) or ((-1,), 0), reverse=True))


def read_targets(targets: list[str], from_file: Path | None, command: str = "fleet report") -> list[str]:
    """Repositories from the command line and/or a file (one per line, # comments)."""
    found = list(targets)
    if from_file is not None:
        try:
            lines = from_file.read_text(encoding="utf-8").splitlines()
        except OSError as error:
            raise InvalidInput(f"--from {from_file}: cannot be read ({error.strerror or error})") from error
        found += [line.split("#", 1)[0].strip() for line in lines]
    found = [t for t in found if t]
    if not found:
        raise InvalidInput(f"{command}: name at least one repository (paths or git URLs) or use --from FILE")
    return list(dict.fromkeys(found))


def shown_target(target: str) -> str:
    """How reports and the rollout state file name a repository: as the list does, credentials removed."""
    return redact(as_text(target))


def is_remote(target: str) -> bool:
    return target.startswith(GIT_URL_PREFIXES)


def default_cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "mlstack" / "fleet"


def fetch(target: str, cache_dir: Path) -> Path:
    """A local working copy of `target`: the path itself, or a shallow clone in the cache.

    Tips of all branches suffice: the recorded pristine commit is the tip of mlstack/template.
    """
    if not is_remote(target):
        return Path(target).expanduser().resolve()
    from mlstack.gitrepo import SAFE_GIT_CONFIG, CloneError, clone, fetch_environment

    folder = cache_dir / hashlib.sha256(target.encode()).hexdigest()[:20]
    if not (folder / ".git").exists():
        folder.parent.mkdir(parents=True, exist_ok=True)
        try:
            return clone(target, folder, all_branches=True)
        except CloneError as error:
            raise RuntimeError(f"cannot fetch {redact(target)}: {error.message}") from error
    git = ["git", *SAFE_GIT_CONFIG, "-C", str(folder)]
    for step in (["fetch", "--quiet", "--depth", "1", "origin", "+refs/heads/*:refs/remotes/origin/*"],
                 ["reset", "--quiet", "--hard", "origin/HEAD"]):
        done = subprocess.run([*git, *step], capture_output=True, text=True, env=fetch_environment())
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["unknown git error"])[-1]
            raise RuntimeError(f"cannot fetch {redact(target)}: {redact(last)}")
    return folder


def check_one(target: str, policy: Policy, cache_dir: str, today: str) -> FleetRow:
    """Check one repository (runs in a worker process); failures become a broken row."""
    from mlstack.errors import MlstackError
    from mlstack.policy.engine import run_check

    shown = shown_target(target)
    try:
        path = fetch(target, Path(cache_dir))
        report = run_check(path, policy, today=dt.date.fromisoformat(today))
    except MlstackError as error:
        return FleetRow(shown, error=redact(as_text(error.message)))
    except Exception as error:  # noqa: BLE001 - a broken repository is a row, not a crash
        return FleetRow(shown, error=redact(as_text(f"{type(error).__name__}: {error}")))
    data = report.to_dict()
    data["repo"] = shown
    return FleetRow(
        repo=shown,
        template_version=report.template_version,
        outcome=report.outcome,
        errors=report.count("error"),
        warnings=report.count("warning"),
        drift=report.drift_count,
        failing_rules=sorted({f.rule for f in report.findings if f.severity == "error"}),
        active_waivers=len(report.active_waivers),
        expired_waivers=len(report.expired_waivers),
        level=_level_name(data.get("level")),
        report=data,
    )


def _level_name(value: Any) -> str | None:
    """The level the check reached (reports from before levels existed have none)."""
    return as_text(value) if isinstance(value, str) and value else None


def read_rollout_state(state_file: Path) -> dict[str, Any]:
    """The entries of a `fleet update` state file (read before the checks, so a bad file fails fast)."""
    from mlstack.rollout_state import load_state

    if not state_file.is_file():
        raise InvalidInput(f"--state {state_file}: no such file (name the state file fleet update wrote)")
    return load_state(state_file)


def apply_rollout_state(report: FleetReport, entries: dict[str, Any]) -> None:
    """Fill each row's rollout columns from the state entries (keyed like FleetRow.repo)."""
    from mlstack.rollout_state import as_row_columns

    for row in report.rows:
        for column, value in as_row_columns(entries.get(row.repo)).items():
            setattr(row, column, redact(as_text(value)) if isinstance(value, str) else value)
    report.with_rollout = True


def fleet_report(targets: list[str], policy: Policy, *, cache_dir: Path | None = None, jobs: int | None = None,
                 today: dt.date | None = None) -> FleetReport:
    """Check every target in parallel (one process per core by default)."""
    today = today or dt.date.today()
    cache = str(cache_dir or default_cache_dir())
    workers = max(1, jobs or os.cpu_count() or 1)
    if workers == 1 or len(targets) == 1:
        rows = [check_one(t, policy, cache, today.isoformat()) for t in targets]
    else:
        with ProcessPoolExecutor(max_workers=min(workers, len(targets))) as pool:
            rows = list(pool.map(check_one, targets, [policy] * len(targets), [cache] * len(targets),
                                 [today.isoformat()] * len(targets), chunksize=max(1, len(targets) // (workers * 4))))
    latest = _latest_version(rows, policy)
    for row in rows:
        if row.template_version:
            row.behind = _versions_behind(row.template_version, rows, latest)
    return FleetReport(rows, policy.source, dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
                       latest)


def _latest_version(rows: list[FleetRow], policy: Policy) -> str | None:
    candidates = [v for v in [policy.params.latest_template_version, *(r.template_version for r in rows)]
                  if v and version_key(v)]
    return max(candidates, key=lambda v: version_key(v)) if candidates else None


def _versions_behind(version: str, rows: list[FleetRow], latest: str | None) -> int | None:
    """How many known template versions (seen in the fleet or named by the policy) are newer."""
    if version_key(version) is None:
        return None
    known = {r.template_version for r in rows if r.template_version and version_key(r.template_version)}
    if latest:
        known.add(latest)
    return sum(1 for other in known if is_older(version, other))


# --- renderers ------------------------------------------------------------------------------
COLUMNS = ("repo", "template_version", "behind", "outcome", "errors", "warnings", "drift", "failing_rules",
           "active_waivers", "expired_waivers", "level", "error")
ROLLOUT_COLUMNS = ("rollout", "update_branch", "request_url")
TABLE_HEADERS = {"repo": "repo", "template_version": "version", "behind": "behind", "outcome": "outcome",
                 "errors": "err", "warnings": "warn", "drift": "drift", "failing_rules": "failing rules",
                 "active_waivers": "waivers", "expired_waivers": "expired", "level": "level",
                 "rollout": "rollout", "update_branch": "update branch", "request_url": "request"}


def _cell(row: FleetRow, column: str) -> str:
    value = getattr(row, column)
    if isinstance(value, list):
        return " ".join(value)
    return "" if value is None else str(value)


def _table_cell(row: FleetRow, column: str) -> str:
    """A cell for the terminal: control characters escaped, so a repository name can't forge a line."""
    return one_line(_cell(row, column))


def render_table(report: FleetReport) -> str:
    columns = [c for c in report.columns() if c != "error"]  # a broken row's error is its outcome cell
    headers = [TABLE_HEADERS[c] for c in columns]
    body = [[_table_cell(r, c) for c in columns] for r in report.rows]
    for line, row in zip(body, report.rows, strict=True):
        if row.error:
            line[3] = one_line(f"broken: {row.error}")
    widths = [max(len(h), *(len(line[i]) for line in body)) if body else len(h) for i, h in enumerate(headers)]
    widths[3] = min(widths[3], 60)
    out = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    out.append("  ".join("-" * w for w in widths))
    for line in body:
        out.append("  ".join(cell[:w].ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
    counts = report.counts()
    out.append(f"\n{counts['repos']} repositories: {counts['ok']} ok, {counts['update']} update available, "
               f"{counts['drift']} drifted, {counts['policy']} failing policy, {counts['broken']} broken; "
               f"latest template {report.latest_version or 'unknown'}")
    return "\n".join(out)


def report_document(report: FleetReport) -> dict[str, Any]:
    """What `--format json` prints and `--history` stores."""
    document = {"generated_at": report.generated_at, "policy": report.policy_source,
                "latest_version": report.latest_version, "counts": report.counts(), "versions": report.versions()}
    if report.with_rollout:
        document["rollout"] = report.rollout_counts()
    document["repos"] = [r.to_dict(with_rollout=report.with_rollout) for r in report.rows]
    return document


def render_json(report: FleetReport) -> str:
    return json.dumps(report_document(report), indent=2, ensure_ascii=False)


def render_csv(report: FleetReport) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(report.columns())
    for row in report.rows:
        writer.writerow([_cell(row, c) for c in report.columns()])
    return buffer.getvalue()


def render_html(report: FleetReport) -> str:
    from mlstack.fleet_html import render_dashboard

    return render_dashboard(report)


RENDERERS = {"table": render_table, "json": render_json, "csv": render_csv, "html": render_html}


def describe(report: FleetReport, output_format: str = "table") -> str:
    """The report as a terminal table, JSON, CSV or a self-contained HTML page."""
    from mlstack.errors import InvalidInput

    if output_format not in RENDERERS:
        raise InvalidInput(f"--format {output_format!r}: choose one of {', '.join(RENDERERS)}")
    return RENDERERS[output_format](report)
