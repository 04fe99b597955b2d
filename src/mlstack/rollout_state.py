"""The state file of a fleet rollout: every repository's outcome for one template release.

`mlstack fleet update` writes it after each repository (so an interrupted wave resumes where it
stopped); `mlstack fleet report --state FILE` reads it for its rollout columns. It is JSON, keyed
by the repository as the fleet list names it (credentials removed), and holds no secret.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from mlstack.errors import InvalidInput

SCHEMA = 1
OUTCOMES = ("up-to-date", "updated", "conflicted", "failed", "skipped")


@dataclass
class RolloutEntry:
    """One repository's last rollout outcome (`version` is the template version it was updated to)."""

    outcome: str
    version: str
    from_version: str | None = None
    branch: str | None = None
    commit: str | None = None
    request_url: str | None = None
    reason: str | None = None
    conflicts: list[str] = field(default_factory=list)
    check: str | None = None
    validate: str | None = None
    pushed: bool = False
    notes: list[str] = field(default_factory=list)
    at: str = ""

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"unknown rollout outcome {self.outcome!r}")
        if not self.at:
            self.at = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


def default_state_path(list_file: Path) -> Path:
    """Next to the fleet list: repos.txt -> repos.rollout.json."""
    return list_file.with_name(f"{list_file.stem}.rollout.json")


def load_state(path: Path) -> dict[str, RolloutEntry]:
    """The recorded entries ({} when the file does not exist yet); a malformed file is InvalidInput."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise InvalidInput(f"--state {path}: cannot be read ({error.strerror or error})") from error
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidInput(f"--state {path}: not JSON (line {error.lineno}: {error.msg}); "
                           "delete it to start the rollout record afresh") from error
    if not isinstance(data, dict) or data.get("schema") != SCHEMA or not isinstance(data.get("repos"), dict):
        raise InvalidInput(f"--state {path}: not an mlstack rollout state file (schema {SCHEMA})")
    known = {f.name for f in fields(RolloutEntry)}
    entries: dict[str, RolloutEntry] = {}
    for repo, raw in data["repos"].items():
        if not isinstance(raw, dict):
            raise InvalidInput(f"--state {path}: repos.{repo} must be a mapping")
        try:
            entries[repo] = RolloutEntry(**{k: v for k, v in raw.items() if k in known})
        except (TypeError, ValueError) as error:
            raise InvalidInput(f"--state {path}: repos.{repo}: {error}") from error
    return entries


def save_state(path: Path, entries: dict[str, RolloutEntry]) -> None:
    """Write atomically (a crash mid-write leaves the previous state, never half a file)."""
    payload = {"schema": SCHEMA, "repos": {repo: asdict(entry) for repo, entry in sorted(entries.items())}}
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, staged = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(payload, out, indent=2, ensure_ascii=False)
            out.write("\n")
        os.replace(staged, path)
    except BaseException:
        Path(staged).unlink(missing_ok=True)
        raise


def as_row_columns(entry: RolloutEntry | None) -> dict[str, Any]:
    """The rollout columns `fleet report` shows for one repository."""
    if entry is None:
        return {"rollout": None, "update_branch": None, "request_url": None}
    return {"rollout": f"{entry.outcome} {entry.version}", "update_branch": entry.branch,
            "request_url": entry.request_url}
