"""Write step reports (JSON for machines, Markdown for people, PNG plots) under `paths.reports`."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..config import resolve_path


def local_path(path: str) -> Path:
    """A path Python can open: `dbfs:/x` is mounted at `/dbfs/x` on Databricks; Volumes are plain paths."""
    if path.startswith("dbfs:/"):
        return Path("/dbfs") / path[len("dbfs:/") :]
    return Path(path)


def report_dir(config: dict[str, Any], step: str) -> Path:
    """A new timestamped folder for one run of `step`."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    folder = local_path(resolve_path(config, config["paths"]["reports"])) / step / stamp
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        return _jsonable(value.item())
    return value


def write_json(folder: Path, name: str, payload: dict[str, Any]) -> Path:
    path = folder / name
    path.write_text(json.dumps(_jsonable(payload), indent=2, sort_keys=False) + "\n", encoding="utf-8")
    # The newest report of each step is also at <step>/latest.json, for people and dashboards.
    (folder.parent / "latest.json").write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    return path


def write_text(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path
