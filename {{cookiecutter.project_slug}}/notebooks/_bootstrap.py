"""The start every step notebook shares: its widgets, this checkout as code and configs, the audit commit.

A retrain the monitoring job starts passes its trigger as the training job's parameters, which
Databricks hands to every notebook task as widgets of the same names; `trigger_overrides` turns
them into the `training.trigger` settings the train and deploy steps read.

A plain Python file beside the notebooks that they import: Databricks makes a notebook's folder its
working directory and puts it on `sys.path` (Runtime 14+), for notebooks a job runs from its git
source too. The package itself and its dependencies are installed by each notebook's `%pip` cell
before this runs, because only a notebook cell can run `%pip`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

# The training job's trigger parameters (core/retraining.py TRIGGER_PARAMETERS, terraform jobs.tf).
TRIGGER_WIDGETS = ("triggered_by", "trigger_batch_id", "trigger_reasons", "trigger_monitor_run_id")


def repository_root(start: Path | None = None) -> Path:
    """The checkout root: the nearest folder at or above `start` (default: here) with configs/project.yml."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "configs" / "project.yml").is_file():
            return folder
    raise FileNotFoundError(f"configs/project.yml not found at or above {here}: run the notebooks from their checkout")


def start_step(dbutils: Any, start: Path | None = None) -> str:
    """Declare the widgets, make the checkout's `src/` importable and its root current; return `env`."""
    dbutils.widgets.text("env", "dev", "Environment: dev, staging or prod")
    dbutils.widgets.text("git_commit", "", "Commit of this code (optional, recorded for audit)")
    for name in TRIGGER_WIDGETS:
        dbutils.widgets.text(name, "", "Set by the monitoring job when it starts a retrain")
    root = repository_root(start)
    source = str(root / "src")
    if source not in sys.path:
        sys.path.insert(0, source)
    os.chdir(root)
    commit = dbutils.widgets.get("git_commit")
    if commit:
        os.environ["GIT_COMMIT"] = commit
    return dbutils.widgets.get("env")


def trigger_overrides(dbutils: Any) -> list[str]:
    """`--set` values for `training.trigger` from the trigger widgets (none for a run no monitor started)."""
    from {{ cookiecutter.package_name }}.core.retraining import trigger_overrides as overrides

    return overrides({name: dbutils.widgets.get(name) for name in TRIGGER_WIDGETS})
