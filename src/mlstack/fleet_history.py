"""Fleet report history: each run's JSON kept in a folder, summarised for the dashboard over time.

`mlstack fleet report --history DIR` stores the run's JSON document (what `--format json`
prints) as DIR/fleet-<UTC time>.json, and the HTML dashboard charts the stored runs and this
one: template versions adopted, levels reached and the most-failed rules. Only summaries are
embedded (not whole reports), and only the last HISTORY_LIMIT snapshots.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlstack.errors import InvalidInput, as_text, one_line

HISTORY_LIMIT = 52  # snapshots the dashboard embeds: a year of weekly runs
TOP_RULES = 10
MAX_SNAPSHOT_BYTES = 64 * 1024 * 1024  # a bigger file is not one of ours
PREFIX = "fleet-"


@dataclass
class Snapshot:
    """One run, reduced to what the history charts show."""

    generated_at: str
    repos: int
    versions: dict[str, int]
    levels: dict[str, int]  # highest level reached -> repositories; "none" = checked, no level reached
    level_order: list[str]  # the policy's level order, as the check reports list it
    failing_rules: dict[str, int]  # rule -> repositories it fails (error severity)
    source: str  # the file it was read from, or "this run"

    def to_dict(self) -> dict[str, Any]:
        return {"at": self.generated_at, "repos": self.repos, "versions": self.versions, "levels": self.levels,
                "rules": self.failing_rules, "source": self.source}


@dataclass
class History:
    snapshots: list[Snapshot]  # oldest first, the current run last
    older_not_shown: int = 0  # stored files beyond HISTORY_LIMIT, not read
    warnings: list[str] = field(default_factory=list)

    def version_order(self) -> list[str]:
        from mlstack.commands.fleet import version_tally

        seen = {v: n for s in self.snapshots for v, n in s.versions.items()}
        return list(version_tally(v for v in seen if v != "unknown")) + (["unknown"] if "unknown" in seen else [])

    def level_order(self) -> list[str]:
        order: list[str] = []
        for snapshot in reversed(self.snapshots):  # the newest policy's order wins
            order += [name for name in snapshot.level_order if name not in order]
        order += sorted({name for s in self.snapshots for name in s.levels} - set(order) - {"none"})
        return order + (["none"] if any("none" in s.levels for s in self.snapshots) else [])

    def top_rules(self, limit: int = TOP_RULES) -> list[dict[str, Any]]:
        """The rules that failed most repository-runs over the shown snapshots."""
        totals: dict[str, int] = {}
        for snapshot in self.snapshots:
            for rule, count in snapshot.failing_rules.items():
                totals[rule] = totals.get(rule, 0) + count
        latest = self.snapshots[-1].failing_rules if self.snapshots else {}
        ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))[:limit]
        return [{"rule": rule, "total": total, "latest": latest.get(rule, 0),
                 "snapshots": sum(1 for s in self.snapshots if rule in s.failing_rules)} for rule, total in ranked]

    def to_dict(self) -> dict[str, Any]:
        return {"limit": HISTORY_LIMIT, "older_not_shown": self.older_not_shown,
                "snapshots": [s.to_dict() for s in self.snapshots], "version_order": self.version_order(),
                "level_order": self.level_order(), "top_rules": self.top_rules()}


def summarise(document: Any, source: str) -> Snapshot:
    """A fleet report document reduced to a Snapshot; ValueError says why it is not one."""
    if not isinstance(document, dict):
        raise ValueError("not a JSON object")
    at, repos = document.get("generated_at"), document.get("repos")
    if not isinstance(at, str) or not isinstance(repos, list):
        raise ValueError('no "generated_at" and "repos" of an mlstack fleet report')
    try:
        dt.datetime.fromisoformat(at)
    except ValueError:
        raise ValueError(f"generated_at {at[:40]!r} is not an ISO date and time") from None
    from mlstack.commands.fleet import version_tally

    versions, levels, rules, level_order = [], {}, {}, []
    for index, repo in enumerate(repos):
        if not isinstance(repo, dict) or not isinstance(repo.get("repo"), str):
            raise ValueError(f"repos[{index}] is not a fleet row")
        version, failing = repo.get("template_version"), repo.get("failing_rules", [])
        if version is not None and not isinstance(version, str):
            raise ValueError(f"repos[{index}].template_version is not a string")
        if not isinstance(failing, list) or not all(isinstance(rule, str) for rule in failing):
            raise ValueError(f"repos[{index}].failing_rules is not a list of rule ids")
        versions.append(version)
        for rule in set(failing):
            rules[rule] = rules.get(rule, 0) + 1
        report = repo.get("report") if isinstance(repo.get("report"), dict) else {}
        defined = [lv.get("name") for lv in report.get("levels") or [] if isinstance(lv, dict)]
        level_order += [name for name in defined if isinstance(name, str) and name not in level_order]
        level = repo.get("level")
        if isinstance(level, str) and level:
            levels[level] = levels.get(level, 0) + 1
        elif defined:
            levels["none"] = levels.get("none", 0) + 1
    return Snapshot(at, len(repos), version_tally(versions), levels, level_order, rules, source)


def snapshot_name(generated_at: str, attempt: int = 0) -> str:
    """fleet-20261202T042301Z.json, then _01, _02 ... for runs in the same second (names sort by time)."""
    moment = dt.datetime.fromisoformat(generated_at)
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.timezone.utc)
    return f"{PREFIX}{moment:%Y%m%dT%H%M%SZ}{f'_{attempt:02d}' if attempt else ''}.json"


def store_snapshot(directory: Path, document: dict[str, Any]) -> Path:
    """Write the run's document into `directory` under a new name: atomically, never over a file."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        handle, staged = tempfile.mkstemp(prefix=f".{PREFIX}", suffix=".tmp", dir=directory)
    except OSError as error:
        raise InvalidInput(f"--history {directory}: cannot write there ({error.strerror or error})") from error
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(document, out, indent=2, ensure_ascii=False)
            out.write("\n")
            out.flush()
            os.fsync(out.fileno())
        for attempt in range(100):
            target = directory / snapshot_name(document["generated_at"], attempt)
            try:
                _publish(Path(staged), target)
                return target
            except FileExistsError:
                continue
        raise InvalidInput(f"--history {directory}: 100 runs stored in the same second; try again")
    finally:
        Path(staged).unlink(missing_ok=True)


def _publish(staged: Path, target: Path) -> None:
    """Give the written file its name, failing with FileExistsError if the name is taken."""
    try:
        os.link(staged, target)
    except FileExistsError:
        raise
    except OSError:  # a file system without hard links: claim the name first, then move the content in
        os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
        os.replace(staged, target)


def load_history(directory: Path, limit: int = HISTORY_LIMIT) -> History:
    """The newest `limit` snapshots stored in `directory`, oldest first; unreadable files become warnings.

    Files are read newest name first and reading stops once `limit` are found, so a long
    history costs no more than its last year. Hidden files (a run being written) are ignored.
    """
    history = History([])
    try:
        names = sorted(p for p in directory.iterdir() if not p.name.startswith(".") and p.is_file())
    except FileNotFoundError:
        return history
    except OSError as error:
        raise InvalidInput(f"--history {directory}: cannot be read ({error.strerror or error})") from error
    for position, path in enumerate(reversed(names)):
        if len(history.snapshots) == limit:
            history.older_not_shown = sum(1 for p in names[:len(names) - position] if p.name.startswith(PREFIX))
            break
        shown = one_line(as_text(str(path)))
        try:
            if path.stat().st_size > MAX_SNAPSHOT_BYTES:
                raise ValueError(f"larger than {MAX_SNAPSHOT_BYTES // (1024 * 1024)} MiB")
            history.snapshots.append(summarise(json.loads(path.read_text(encoding="utf-8")), path.name))
        except (OSError, UnicodeDecodeError, ValueError) as error:  # JSONDecodeError is a ValueError
            reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
            history.warnings.append(f"warning: {shown} skipped: {one_line(as_text(reason))[:200]}")
    history.snapshots.sort(key=lambda s: (_utc(s.generated_at), s.source))
    return history


def _utc(stamp: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(stamp)
    return moment.replace(tzinfo=dt.timezone.utc) if moment.tzinfo is None else moment.astimezone(dt.timezone.utc)


def record_run(directory: Path, document: dict[str, Any]) -> History:
    """Load the stored history, store this run, and return both for the dashboard (this run last)."""
    history = load_history(directory, HISTORY_LIMIT - 1)
    store_snapshot(directory, document)
    history.snapshots.append(summarise(document, "this run"))
    return history
