"""The job notebooks: one shared start (notebooks/_bootstrap.py), each installing the checkout first.

The shared start runs here for real, with a stand-in for Databricks' `dbutils.widgets` (it only
declares and reads widgets); the notebooks themselves run only on Databricks, so their cells are
checked for the order Databricks needs: install, restart Python, start, run the step.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from pathlib import Path

import pytest

from helpers import REPO_ROOT

STEPS = ("validate_data", "build_features", "train", "validate_model", "deploy", "batch_inference", "monitor",
         "sample_data")


class Widgets:
    """`dbutils.widgets`: text(name, default, label) declares, get(name) reads the job's value or the default."""

    def __init__(self, values: dict[str, str]):
        self.values, self.declared = values, {}

    def text(self, name: str, default: str, label: str) -> None:
        self.declared[name] = default

    def get(self, name: str) -> str:
        return self.values.get(name, self.declared[name])


class DbUtils:
    def __init__(self, **values: str):
        self.widgets = Widgets(values)


def make_projects(tmp_path_factory) -> dict[str, Path]:
    """Three notebook variants (the session fixture `projects` in conftest.py calls this once)."""
    from cookiecutter.main import cookiecutter

    baked = {}
    for name, answers in {"classic": {}, "serverless": {"serverless": True, "cloud": "gcp"},
                          "runtime-15": {"spark_version": "15.4.x-cpu-ml-scala2.12"}}.items():
        out = tmp_path_factory.mktemp(name)
        cookiecutter(str(REPO_ROOT), no_input=True, extra_context={**answers, "_mlstack": {"git_init": False}},
                     output_dir=str(out))
        baked[name] = next(out.iterdir())
    return baked


def load_bootstrap(project: Path):
    spec = importlib.util.spec_from_file_location("_bootstrap_under_test", project / "notebooks" / "_bootstrap.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_shared_start_makes_the_checkout_current_and_importable(projects, monkeypatch):
    project = projects["classic"]
    monkeypatch.chdir(project / "notebooks")  # where Databricks starts a notebook of a git-sourced job
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.delenv("GIT_COMMIT", raising=False)
    dbutils = DbUtils(env="staging", git_commit="0123abc")

    env = load_bootstrap(project).start_step(dbutils)

    assert env == "staging"
    # Plus the trigger a retrain started by the monitoring job carries (issue 20), empty otherwise.
    trigger = {"triggered_by", "trigger_batch_id", "trigger_reasons", "trigger_monitor_run_id"}
    assert set(dbutils.widgets.declared) == {"env", "git_commit"} | trigger
    assert Path.cwd() == project.resolve()
    assert sys.path[0] == str(project.resolve() / "src")
    assert os.environ["GIT_COMMIT"] == "0123abc"


def test_the_shared_start_defaults_to_dev_and_names_a_missing_checkout(projects, tmp_path, monkeypatch):
    bootstrap = load_bootstrap(projects["classic"])
    monkeypatch.chdir(projects["classic"] / "notebooks")
    monkeypatch.setattr(sys, "path", list(sys.path))
    assert bootstrap.start_step(DbUtils()) == "dev"
    with pytest.raises(FileNotFoundError, match="configs/project.yml not found"):
        bootstrap.repository_root(tmp_path)


CELL = "\n# COMMAND ----------\n"


@pytest.mark.parametrize("variant,lock", [("classic", "constraints/dbr-18-ml.txt"), ("serverless", None),
                                          ("runtime-15", "constraints/dbr-15.4-ml.txt")])
def test_every_step_notebook_installs_then_restarts_then_starts_then_runs_its_step(projects, variant, lock):
    project = projects[variant]
    package = "maternal_health_risk"
    for step in STEPS:
        cells = [cell.strip() for cell in (project / "notebooks" / f"{step}.py").read_text().split(CELL)]
        assert cells[0].startswith("# Databricks notebook source\n# MAGIC %md"), step
        expected_install = "# MAGIC %pip install --quiet" + (f" --constraint ../{lock}" if lock else "") + " .."
        assert cells[1:4] == [expected_install, "dbutils.library.restartPython()",
                              "from _bootstrap import start_step  # notebooks/_bootstrap.py\n\n"
                              "env = start_step(dbutils)"], step
        assert cells[4].startswith(f"from {package}.pipelines.{step} import run\n"), step
        # train and deploy also read the trigger of a retrain the monitoring job started.
        arguments = r"env, trigger_overrides\(dbutils\)" if step in ("train", "deploy") else "env"
        assert re.search(rf"^\w+ = run\({arguments}\)$", cells[4], re.M), step
        if lock:
            assert (project / lock).is_file()
