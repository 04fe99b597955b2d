"""The generated Terraform closes the monitoring loop and declares Databricks' own monitors (issue 20).

Every bake of test_terraform_template.py (each cloud x CI platform, plus variants) is parsed with
python-hcl2; the monitoring job and the data-quality monitors are resolved per environment and
loaded into databricks-sdk's Jobs and Data Quality API models, which must keep every field. The
names that cross files (job parameters, task values, widgets, columns, tables) are read from the
generated Python and configs, so both sides of each contract are checked.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import yaml
from test_terraform_template import (
    ENVIRONMENTS,
    RESOURCE_IDS,
    Bake,
    Evaluator,
    each_bake,
    jobs_of,
    to_api,
)

MODULE = "modules/ml_project"


def package(bake: Bake) -> Path:
    (source,) = (bake.project / "src").iterdir()
    return source


def assigned(path: Path, name: str) -> Any:
    """The literal value of the module-level assignment `name = ...` in a generated Python file."""
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{path}: no {name} = ...")


def task_value_keys(bake: Bake) -> set[str]:
    """The keys MonitorResult.task_values() returns: what the monitor notebook sets."""
    tree = ast.parse((package(bake) / "pipelines" / "monitor.py").read_text())
    (function,) = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "task_values"]
    (returned,) = [n.value for n in ast.walk(function) if isinstance(n, ast.Return)]
    return {key.value for key in returned.keys}


def tasks_by_key(job: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {task["task_key"]: task for task in job["task"]}


@each_bake
def test_the_monitoring_job_runs_the_training_job_only_when_the_monitors_decision_says_so(bakes, bake_name):
    bake = bakes[bake_name]
    tasks = tasks_by_key(jobs_of(bake)["monitoring"])
    assert list(tasks) == ["monitor", "retrain", "retrain_triggered"]  # task_key order, as the provider keeps them
    values = task_value_keys(bake)

    (condition,) = tasks["retrain_triggered"]["condition_task"]
    assert condition == {"op": "EQUAL_TO", "left": "{{tasks.monitor.values.trigger_retrain}}", "right": "true"}
    assert "trigger_retrain" in values
    assert tasks["retrain_triggered"]["depends_on"] == [{"task_key": "monitor"}]

    assert tasks["retrain"]["depends_on"] == [{"task_key": "retrain_triggered", "outcome": "true"}]
    (run_job,) = tasks["retrain"]["run_job_task"]
    assert run_job["job_id"] == "${databricks_job.training.id}"
    retraining = package(bake) / "core" / "retraining.py"
    trigger_parameters = assigned(retraining, "TRIGGER_PARAMETERS")
    assert set(run_job["job_parameters"]) == set(trigger_parameters)
    assert run_job["job_parameters"]["triggered_by"] == assigned(retraining, "TRIGGERED_BY_MONITOR") == "monitor"
    for parameter, value in run_job["job_parameters"].items():
        if parameter != "triggered_by":
            assert value.startswith("{{tasks.monitor.values.") and value.endswith("}}"), parameter
            assert value[len("{{tasks.monitor.values."):-2] in values, f"{parameter}: the monitor sets no {value}"


@each_bake
def test_the_training_job_declares_the_trigger_parameters_its_notebooks_read(bakes, bake_name):
    bake = bakes[bake_name]
    training = jobs_of(bake)["training"]
    parameters = {p["name"]: p["default"] for p in training["parameter"]}
    trigger_parameters = assigned(package(bake) / "core" / "retraining.py", "TRIGGER_PARAMETERS")
    assert parameters == {"env": "${var.environment}", **{name: "" for name in trigger_parameters}}
    # Databricks hands job parameters to every notebook task as widgets of the same names.
    notebooks = bake.project / "notebooks"
    assert set(assigned(notebooks / "_bootstrap.py", "TRIGGER_WIDGETS")) == set(trigger_parameters)
    for step in ("train", "deploy"):
        assert "run(env, trigger_overrides(dbutils))" in (notebooks / f"{step}.py").read_text(), step
    # The monitoring job waits for the training run it starts: its timeout covers both.
    timeouts = bake.blocks(MODULE, "variable")["job_timeout_seconds"]["default"]
    assert timeouts["monitoring"] >= timeouts["training"]


@each_bake
def test_rendered_monitoring_job_loads_into_the_jobs_api_models_without_losing_anything(bakes, bake_name):
    from databricks.sdk.service.jobs import ConditionTaskOp, JobSettings

    bake = bakes[bake_name]
    for env in ENVIRONMENTS:
        api = to_api(Evaluator(bake, env).resolve(jobs_of(bake)["monitoring"]))
        settings = JobSettings.from_dict(api)
        assert settings.as_dict() == api, f"{env}: the Jobs API dropped or changed a field"
        tasks = {task.task_key: task for task in settings.tasks}
        assert tasks["retrain_triggered"].condition_task.op is ConditionTaskOp.EQUAL_TO
        assert tasks["retrain"].run_job_task.job_id == RESOURCE_IDS["databricks_job.training.id"]
        assert tasks["retrain"].run_job_task.job_parameters["triggered_by"] == "monitor"


@each_bake
def test_a_triggered_retrain_in_prod_cannot_promote_without_the_release_paths_approval(bakes, bake_name):
    """The prod training job started by the monitor carries triggered_by=monitor to its deploy task, and
    the generated deploy step refuses to move `champion` in prod for such a run or version (its own tests,
    tests/pipelines/test_retrain_loop.py, run that); no setting can waive it."""
    bake = bakes[bake_name]
    promotion = package(bake) / "core" / "promotion.py"
    assert assigned(promotion, "APPROVAL_ENVIRONMENTS") == ("prod",)
    for env in ENVIRONMENTS:
        config = bake.config(env)
        assert not any("approval" in key for key in config.get("monitoring", {}).get("retrain", {}))
        assert bake.module_call(env)["environment"] == env
    project = yaml.safe_load((bake.project / "configs" / "project.yml").read_text())
    assert set(project["monitoring"]["retrain"]) == {"enabled", "min_interval_hours", "max_per_week"}
    deploy = (package(bake) / "pipelines" / "deploy.py").read_text()
    assert "needs_approval(context.env, version_tags=challenger.tags, triggered_run=trigger is not None)" in deploy
    # The monitoring job is the only place a trigger is set, and it sets it in every environment alike.
    training_tasks = tasks_by_key(jobs_of(bake)["training"])
    assert "deploy" in training_tasks and all("run_job_task" not in t for t in training_tasks.values())


def monitors_of(bake: Bake) -> dict[str, Any]:
    return bake.resources(MODULE, "databricks_data_quality_monitor")


@each_bake
def test_data_quality_monitors_watch_the_tables_the_project_reads_once_they_exist(bakes, bake_name):
    bake = bakes[bake_name]
    monitors = monitors_of(bake)
    assert set(monitors) == ({"predictions", "serving"} if bake.answers["serving"] else {"predictions"})
    locals_ = bake.blocks(MODULE, "locals")
    # Two-phase, like the serving endpoint: a monitor exists only once plan finds its table in the schema.
    assert "data.databricks_tables.model_schema.ids" in locals_["monitored_tables"]
    data = {}
    for body in bake.parsed.values():
        for entry in body.get("data", []):
            for kind, blocks in entry.items():
                data.setdefault(kind, {}).update(blocks)
    assert data["databricks_tables"]["model_schema"] == {"catalog_name": "${local.catalog_name}",
                                                          "schema_name": "${local.schema_name}"}
    assert data["databricks_table"]["monitored"]["for_each"] == "${local.monitored_tables}"
    for key, monitor in monitors.items():
        assert monitor["count"] == f'${{contains(keys(local.monitored_tables), "{key}") ? 1 : 0}}'
        assert monitor["object_type"] == "table"
        assert monitor["object_id"] == f'${{data.databricks_table.monitored["{key}"].table_info[0].table_id}}'
        # A nested attribute (`= {...}`) in this plugin-framework resource, not a block.
        assert isinstance(monitor["data_profiling_config"], dict)
        profiling = monitor["data_profiling_config"]
        assert profiling["notification_settings"] == {"on_failure": {"email_addresses": ["${var.owner_email}"]}}
        assert profiling["schedule"] == {"quartz_cron_expression": "${var.monitoring_schedule}",
                                         "timezone_id": "${var.timezone}"}


@each_bake
def test_the_predictions_monitor_reads_the_same_table_and_columns_as_the_drift_report(bakes, bake_name):
    bake = bakes[bake_name]
    project = yaml.safe_load((bake.project / "configs" / "project.yml").read_text())
    variables = bake.blocks(MODULE, "variable")
    assert variables["predictions_table_name"]["default"] == project["tables"]["predictions"]
    locals_ = bake.blocks(MODULE, "locals")
    assert locals_["predictions_table"] == "${local.catalog_name}.${local.schema_name}.${var.predictions_table_name}"
    inference_log = monitors_of(bake)["predictions"]["data_profiling_config"]["inference_log"]
    written = assigned(package(bake) / "pipelines" / "batch_inference.py", "PREDICTION_COLUMNS")
    columns = ("timestamp_column", "prediction_column", "model_id_column")
    assert {inference_log[c] for c in columns} <= set(written)
    monitor_source = (package(bake) / "pipelines" / "monitor.py").read_text()
    for column in ("scored_at", "model_version", "batch_id"):
        assert f'"{column}"' in monitor_source, column  # what the project's own monitor reads
    if bake.answers["serving"]:
        serving = monitors_of(bake)["serving"]["data_profiling_config"]["time_series"]
        health = (package(bake) / "pipelines" / "serving_health.py").read_text()
        assert f'F.col("{serving["timestamp_column"]}")' in health
        for env in ENVIRONMENTS:
            prefix = bake.module_call(env)["serving_inference_table_prefix"]
            table = bake.config(env)["serving"]["inference_table"]
            assert table.endswith(f".{prefix}_payload")
            assert locals_["serving_table"] == (
                "${local.catalog_name}.${local.schema_name}.${var.serving_inference_table_prefix}_payload"
            )


@each_bake
def test_rendered_monitors_load_into_the_data_quality_api_models_without_losing_anything(bakes, bake_name):
    from databricks.sdk.service.dataquality import AggregationGranularity, InferenceProblemType, Monitor

    bake = bakes[bake_name]
    for env in ENVIRONMENTS:
        evaluator = Evaluator(bake, env)
        for key, resource in monitors_of(bake).items():
            api = {field: evaluator.resolve(resource[field])
                   for field in ("object_type", "object_id", "data_profiling_config")}
            monitor = Monitor.from_dict(api)
            assert monitor.as_dict() == api, f"{env}/{key}: the Data Quality API dropped or changed a field"
            profiling = monitor.data_profiling_config
            assert profiling.notification_settings.on_failure.email_addresses == [bake.answers["owner_email"]]
            assert profiling.schedule.timezone_id == bake.answers["timezone"]
            analysis = profiling.inference_log or profiling.time_series
            assert all(isinstance(g, AggregationGranularity) for g in analysis.granularities)
            if key == "predictions":
                classification = InferenceProblemType.INFERENCE_PROBLEM_TYPE_CLASSIFICATION
                assert profiling.inference_log.problem_type is classification
            else:
                assert profiling.time_series is not None and profiling.inference_log is None


def test_docs_say_what_each_monitor_is_for_and_how_to_tune_and_approve(bakes):
    for name in ("azure-github_actions", "serving-azure"):
        bake = bakes[name]
        docs = (bake.project / "docs" / "monitoring.md").read_text()
        for term in ("min_interval_hours", "max_per_week", "enabled: false", "awaiting_approval", "rollback",
                     "summary.md", "report.json", "psi_threshold", "outcome_wait_days", "predicted_high_risk"):
            assert term in docs, f"{name}: docs/monitoring.md does not mention {term}"
        assert "](monitoring.md)" in (bake.project / "docs" / "README.md").read_text()
        assert ("serving.inference_table" in docs) is bake.answers["serving"]

