"""Start Databricks runs and wait for their result, from CI and from a developer's shell.

`run-jobs` triggers the jobs Terraform deployed (ids read from `terraform output -json`).
`integration-run` submits a one-time run of the training job exactly as the pull request's
staging plan (`terraform show -json`) defines it, at the pull request's commit: it needs no
deployed job, so it works before staging was ever applied. `run-dev` runs one step or the
whole pipeline on the dev workspace from your pushed branch, as you. `seed-staging` writes the
synthetic sample tables into staging (never prod), as the staging service principal.
Each waits for the run, prints its URL and result, and exits non-zero when it fails.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pr_comment  # noqa: E402 - the comment helper beside this script

JOBS_API = "/api/2.1/jobs"
SCIM_API = "/api/2.0/preview/scim/v2"
TERMINAL_LIFE_CYCLE_STATES = {"TERMINATED", "SKIPPED", "INTERNAL_ERROR"}
# Only what a one-time run accepts besides tasks and git_source; the rest of the job
# (schedules, permissions, notifications) belongs to the deployed job, not to a test run.
SUBMIT_FIELDS_FROM_JOB = ("environments", "timeout_seconds", "queue")
REPO_ROOT = Path(__file__).resolve().parents[1]
TRAINING_JOB = "module.ml_project.databricks_job.training"
# Nested blocks of databricks_job that the Jobs API names in the plural and keeps as lists;
# every other nested block holds at most one entry and is an object in the API.
LIST_BLOCKS = {"task": "tasks", "job_cluster": "job_clusters", "depends_on": "depends_on",
               "library": "libraries", "parameter": "parameters", "environment": "environments"}
# The provider's git_source argument names and the API's.
# What a one-time run takes from the planned job (provider names).
RUN_FIELDS = ("task", "job_cluster", "git_source", "environment", "queue", "timeout_seconds")
GIT_SOURCE_FIELDS = {"url": "git_url", "provider": "git_provider", "branch": "git_branch", "tag": "git_tag",
                     "commit": "git_commit"}
# Where the jobs check the code out from (the git_source of terraform/modules/ml_project).
{%- set git_host = cookiecutter.git_repo_url.split('/')[2] %}
GIT_SOURCE = {
    "git_url": "{{ cookiecutter.git_repo_url }}",
    "git_provider": "{% if git_host == 'github.com' %}gitHub{% elif cookiecutter.ci_platform == 'github_actions' %}gitHubEnterprise{% elif git_host == 'gitlab.com' %}gitLab{% elif cookiecutter.ci_platform == 'gitlab' %}gitLabEnterpriseEdition{% else %}azureDevOpsServices{% endif %}",
}
{%- if cookiecutter.serverless %}
# The jobs run on serverless compute: one-time runs of notebooks need no cluster either.
RUN_CLUSTER: dict[str, Any] | None = None
{%- else %}
# The job clusters' shape (terraform/staging|prod pass the same values to the module).
RUN_CLUSTER: dict[str, Any] | None = {
    "spark_version": "{{ cookiecutter.spark_version }}",
    "node_type_id": "{{ cookiecutter.node_type }}",
    "num_workers": {{ cookiecutter.num_workers }},
    "data_security_mode": "SINGLE_USER",
{%- if cookiecutter.num_workers | int == 0 %}
    "spark_conf": {"spark.databricks.cluster.profile": "singleNode", "spark.master": "local[*]"},
    "custom_tags": {"ResourceClass": "SingleNode"},
{%- endif %}
}
{%- endif %}
STAGING_PRINCIPAL = "{{ cookiecutter.staging_sp_name }}"


class DatabricksApi(Protocol):
    """The one call CI needs from the Databricks SDK: `WorkspaceClient().api_client.do`."""

    def do(
        self, method: str, path: str | None = None, query: dict | None = None, body: dict | None = None
    ) -> Any: ...


class RunFailed(Exception):
    """A Databricks run ended in any state other than success."""


def read_outputs(path: Path) -> dict[str, Any]:
    """Terraform `output -json` as {name: value}; a null output (e.g. no feature job) stays None."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return {name: entry.get("value") if isinstance(entry, dict) else entry for name, entry in data.items()}


def job_id_from_outputs(outputs: dict[str, Any], name: str) -> int | None:
    """The job id in output `name`; None when the output is null, an error when it is missing."""
    if name not in outputs:
        known = ", ".join(sorted(outputs)) or "none"
        raise KeyError(f"terraform output {name!r} not found (outputs: {known}): apply the environment first")
    value = outputs[name]
    if value in (None, ""):
        return None
    return int(value)


def planned_job(plan: dict, address: str = TRAINING_JOB) -> dict:
    """Job `address` as `plan` (terraform show -json) will deploy it, in the Jobs API's shape."""
    resource = _find_resource((plan.get("planned_values") or {}).get("root_module") or {}, address)
    if resource is None:
        raise ValueError(f"{address} is not in the plan: the staging plan must create or keep the job")
    for change in plan.get("resource_changes") or []:
        if change.get("address") == address:
            after_unknown = (change.get("change") or {}).get("after_unknown") or {}
            # Computed fields of the job itself (id, url) are unknown on create and unused here.
            unknown = _true_paths({key: after_unknown[key] for key in RUN_FIELDS if key in after_unknown})
            if unknown:
                raise ValueError(f"{address}: the plan knows {', '.join(unknown[:3])} only after apply, "
                                 "so the pull request cannot run it yet")
    settings = _api_shape(resource.get("values") or {})
    if isinstance(settings.get("git_source"), dict):
        settings["git_source"] = {GIT_SOURCE_FIELDS.get(key, key): value
                                  for key, value in settings["git_source"].items()}
    return settings


def _find_resource(module: dict, address: str) -> dict | None:
    for resource in module.get("resources") or []:
        if resource.get("address") == address:
            return resource
    for child in module.get("child_modules") or []:
        found = _find_resource(child, address)
        if found is not None:
            return found
    return None


def _true_paths(value: Any, path: str = "") -> list[str]:
    """The paths a plan's after_unknown marks true (known only after apply)."""
    if value is True:
        return [path or "the job"]
    if isinstance(value, dict):
        return [p for key, item in value.items() for p in _true_paths(item, f"{path}.{key}" if path else key)]
    if isinstance(value, list):
        return [p for index, item in enumerate(value) for p in _true_paths(item, f"{path}[{index}]")]
    return []


def _api_shape(value: Any) -> Any:
    """Provider attribute values -> Jobs API JSON: singular blocks become objects, empties are dropped."""
    if isinstance(value, list):
        return [_api_shape(item) for item in value]
    if not isinstance(value, dict):
        return value
    shaped = {}
    for key, item in value.items():
        if item is None or item == "" or item == [] or item == {}:
            continue
        if key in LIST_BLOCKS and isinstance(item, list):
            shaped[LIST_BLOCKS[key]] = [_api_shape(entry) for entry in item]
        elif isinstance(item, list) and item and all(isinstance(entry, dict) for entry in item):
            shaped[key] = _api_shape(item[0])
        else:
            shaped[key] = _api_shape(item)
    return shaped


def submit_task(task: dict) -> dict:
    """`task` with only what a one-time run's task accepts (the SDK's SubmitTask model)."""
    from databricks.sdk.service.jobs import SubmitTask

    return SubmitTask.from_dict(task).as_dict()


def integration_run_request(job_settings: dict, git_commit: str, env: str, run_name: str) -> dict:
    """A runs/submit body that replays the job's tasks from `git_commit` with widget env=`env`."""
    settings = copy.deepcopy(job_settings)
    git_source = settings.get("git_source")
    if not git_source:
        raise ValueError("the job has no git_source: an integration run needs a job that runs code from git")
    git_source = {key: value for key, value in git_source.items() if key not in ("git_branch", "git_tag")}
    git_source["git_commit"] = git_commit
    clusters = {
        cluster["job_cluster_key"]: cluster["new_cluster"] for cluster in settings.get("job_clusters") or []
    }
    tasks = []
    for task in settings.get("tasks") or []:
        task = dict(task)
        cluster_key = task.pop("job_cluster_key", None)
        if cluster_key is not None:
            if cluster_key not in clusters:
                raise ValueError(f"task {task.get('task_key')!r} uses unknown job cluster {cluster_key!r}")
            # One-time runs have no shared job clusters: each task gets the cluster spec inline.
            task["new_cluster"] = clusters[cluster_key]
        notebook = task.get("notebook_task")
        if notebook is not None:
            parameters = dict(notebook.get("base_parameters") or {})
            parameters["env"] = env
            parameters["git_commit"] = git_commit  # recorded with the run's models (audit trail)
            task["notebook_task"] = {**notebook, "base_parameters": parameters, "source": "GIT"}
        tasks.append(submit_task(task))
    if not tasks:
        raise ValueError("the job has no tasks to run")
    request = {"run_name": run_name, "git_source": git_source, "tasks": tasks}
    for field in SUBMIT_FIELDS_FROM_JOB:
        if settings.get(field):
            request[field] = settings[field]
    return request


def run_outcome(run: dict) -> tuple[bool, bool, str]:
    """(finished, succeeded, state text) of a run from runs/get, for both old and new state fields."""
    state = run.get("state") or {}
    life_cycle = state.get("life_cycle_state")
    result = state.get("result_state")
    status = run.get("status") or {}
    if life_cycle is None and status:
        life_cycle = status.get("state")
        result = (status.get("termination_details") or {}).get("code")
    finished = life_cycle in TERMINAL_LIFE_CYCLE_STATES
    text = f"{life_cycle}/{result}" if result else str(life_cycle)
    return finished, finished and result == "SUCCESS", text


def failed_tasks(run: dict) -> list[str]:
    """`task_key (url)` for every task of the run that did not succeed."""
    lines = []
    for task in run.get("tasks") or []:
        _finished, succeeded, text = run_outcome(task)
        if not succeeded:
            lines.append(f"{task.get('task_key')}: {text} {task.get('run_page_url', '')}".rstrip())
    return lines


def wait_for_run(
    api: DatabricksApi,
    run_id: int,
    timeout_seconds: float,
    poll_seconds: float = 30,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> dict:
    """Poll runs/get until the run ends; raise RunFailed unless it succeeded in time."""
    deadline = clock() + timeout_seconds
    while True:
        run = api.do("GET", f"{JOBS_API}/runs/get", query={"run_id": run_id})
        finished, succeeded, text = run_outcome(run)
        if finished:
            if succeeded:
                return run
            details = "; ".join(failed_tasks(run)) or "no task details"
            raise RunFailed(f"run {run_id} ended {text}: {details} ({run.get('run_page_url', '')})")
        if clock() >= deadline:
            raise RunFailed(
                f"run {run_id} still {text} after {timeout_seconds:.0f}s ({run.get('run_page_url', '')})"
            )
        sleep(poll_seconds)


def start_job(api: DatabricksApi, job_id: int) -> tuple[int, str]:
    """Trigger a deployed job now; return (run id, run page URL)."""
    run_id = api.do("POST", f"{JOBS_API}/run-now", body={"job_id": job_id})["run_id"]
    run = api.do("GET", f"{JOBS_API}/runs/get", query={"run_id": run_id})
    return run_id, run.get("run_page_url", "")


def submit_run(api: DatabricksApi, request: dict) -> tuple[int, str]:
    """Submit a one-time run; return (run id, run page URL)."""
    run_id = api.do("POST", f"{JOBS_API}/runs/submit", body=request)["run_id"]
    run = api.do("GET", f"{JOBS_API}/runs/get", query={"run_id": run_id})
    return run_id, run.get("run_page_url", "")


def read_plan(path: Path) -> dict:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not the JSON of `terraform show -json` ({error.msg})") from None


# --- one-time runs of notebooks, outside the deployed jobs (dev path, seeding staging) ----------

def pipeline_steps(repo_root: Path = REPO_ROOT) -> tuple[str, ...]:
    """The steps in the order they run, as the package declares them (pipelines.STEPS)."""
    sys.path.insert(0, str(repo_root / "src"))
    try:
        from {{ cookiecutter.package_name }}.pipelines import STEPS
    finally:
        sys.path.remove(str(repo_root / "src"))
    return tuple(STEPS)


def notebook_run_request(steps: list[str], env: str, git_commit: str, run_name: str, runner: str,
                         run_as: dict | None = None) -> dict:
    """A one-time run of `steps`' notebooks in order at `git_commit`, with widget env=`env`.

    `runner` is who the run's cluster is dedicated to (the user or principal it runs as)."""
    if not steps:
        raise ValueError("no steps to run")
    tasks = []
    for index, step in enumerate(steps):
        task: dict[str, Any] = {
            "task_key": step,
            "notebook_task": {"notebook_path": f"notebooks/{step}", "source": "GIT",
                              "base_parameters": {"env": env, "git_commit": git_commit}},
        }
        if index:
            task["depends_on"] = [{"task_key": steps[index - 1]}]
        if RUN_CLUSTER is not None:
            task["new_cluster"] = {**RUN_CLUSTER, "single_user_name": runner}
        tasks.append(submit_task(task))
    request = {"run_name": run_name, "git_source": {**GIT_SOURCE, "git_commit": git_commit}, "tasks": tasks}
    if run_as:
        request["run_as"] = run_as
    return request


def git(*args: str, repo_root: Path = REPO_ROOT) -> str:
    done = subprocess.run(["git", *args], cwd=repo_root, capture_output=True, text=True)
    if done.returncode:
        raise ValueError(f"git {' '.join(args)}: {done.stderr.strip() or 'failed'}")
    return done.stdout.strip()


def pushed_commit(repo_root: Path = REPO_ROOT) -> tuple[str, str]:
    """(branch, commit) of HEAD when every commit of it is on its upstream, which the jobs check out."""
    branch = git("rev-parse", "--abbrev-ref", "HEAD", repo_root=repo_root)
    if branch == "HEAD":
        raise ValueError("HEAD is detached: check out your branch (git switch <branch>)")
    commit = git("rev-parse", "HEAD", repo_root=repo_root)
    try:
        upstream = git("rev-parse", "--abbrev-ref", "@{upstream}", repo_root=repo_root)
    except ValueError:
        raise ValueError(f"branch {branch} is not pushed: git push -u origin {branch}") from None
    ahead = git("rev-list", "--count", "@{upstream}..HEAD", repo_root=repo_root)
    if ahead != "0":
        raise ValueError(f"{ahead} commit(s) of {branch} are not on {upstream}: git push, then run again")
    if git("status", "--porcelain", "--untracked-files=no", repo_root=repo_root):
        print("warning: uncommitted changes are not in the run (it runs the pushed commit)", file=sys.stderr)
    return branch, commit


def current_user(api: DatabricksApi) -> str:
    """The user name the credentials belong to; refuses a service principal's credentials."""
    me = api.do("GET", f"{SCIM_API}/Me")
    name = str(me.get("userName") or "")
    if me.get("applicationId") or re.fullmatch(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", name):
        raise ValueError("these credentials are a service principal's: run-dev runs as you "
                         f"(databricks auth login --host {dev_host()}, or unset DATABRICKS_CLIENT_ID)")
    if not name:
        raise ValueError("the workspace did not say who these credentials belong to (no userName)")
    return name


def principal_application_id(api: DatabricksApi, display_name: str) -> str:
    query = {"filter": f'displayName eq "{display_name}"'}
    found = api.do("GET", f"{SCIM_API}/ServicePrincipals", query=query).get("Resources") or []
    if not found:
        raise ValueError(
            f"service principal {display_name!r} not found in this workspace: run make bootstrap"
        )
    return str(found[0]["applicationId"])


def dev_host(repo_root: Path = REPO_ROOT) -> str:
    """The dev workspace, as configs/dev.yml names it."""
    import yaml

    config = yaml.safe_load((repo_root / "configs" / "dev.yml").read_text(encoding="utf-8")) or {}
    host = config.get("workspace_url")
    if not host:
        raise ValueError("configs/dev.yml: workspace_url is not set (the dev workspace's https:// URL)")
    return str(host)


def watch(api: DatabricksApi, run_id: int, url: str, args: argparse.Namespace, what: str) -> int:
    print(f"{what}: run {run_id}: {url}", flush=True)
    wait_for_run(api, run_id, args.timeout_minutes * 60, args.poll_seconds)
    print(f"{what}: run {run_id} succeeded")
    return 0


def report_markdown(title: str, url: str, status: str) -> str:
    return f"### {title}\n\n- Run: [{url}]({url})\n- Status: **{status}**\n"


def write_summary(text: str) -> None:
    """Append to the CI job summary when the platform offers one (GitHub Actions)."""
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as handle:
            handle.write(text + "\n")


def workspace_api(host: str | None = None) -> DatabricksApi:
    """The SDK's API client: DATABRICKS_* variables in CI (OIDC federation), your CLI profile locally."""
    from databricks.sdk import WorkspaceClient

    return (WorkspaceClient(host=host) if host else WorkspaceClient()).api_client


def cmd_run_jobs(args: argparse.Namespace, api: DatabricksApi) -> int:
    outputs = read_outputs(args.outputs)
    for name in args.output_names:
        job_id = job_id_from_outputs(outputs, name)
        if job_id is None:
            print(f"{name} is null: no such job in this environment, skipped")
            continue
        run_id, url = start_job(api, job_id)
        print(f"{name}: job {job_id} started run {run_id}: {url}", flush=True)
        wait_for_run(api, run_id, args.timeout_minutes * 60, args.poll_seconds)
        print(f"{name}: run {run_id} succeeded")
        write_summary(report_markdown(f"{name} ({args.env})", url, "succeeded"))
    return 0


def cmd_integration_run(args: argparse.Namespace, api: DatabricksApi) -> int:
    job = planned_job(read_plan(args.plan))
    name = job.get("name", "training job")
    title = f"Integration run of the training pipeline in {args.env} at {args.git_commit[:12]}"
    run_name = f"integration {name} @ {args.git_commit[:12]}"
    request = integration_run_request(job, args.git_commit, args.env, run_name)
    run_id, url = submit_run(api, request)
    print(f"integration run {run_id}: {url}", flush=True)
    if args.dotenv:
        # GitLab reads this as a dotenv report: the run URL becomes the environment link on the MR.
        args.dotenv.write_text(f"INTEGRATION_RUN_URL={url}\n", encoding="utf-8")
    comment = None
    if args.comment:
        try:
            comment = pr_comment.Commenter.from_environment()
        except pr_comment.NoCommentChannel as error:
            print(f"warning: run not linked in a comment: {error}", file=sys.stderr)
        if comment:
            comment.post("integration-run", report_markdown(title, url, "running"))
    status = "succeeded"
    try:
        wait_for_run(api, run_id, args.timeout_minutes * 60, args.poll_seconds)
    except RunFailed:
        status = "failed"
        raise
    finally:
        report = report_markdown(title, url, status)
        write_summary(report)
        if comment:
            comment.post("integration-run", report)
    return 0


def cmd_run_dev(args: argparse.Namespace, api: DatabricksApi) -> int:
    steps = pipeline_steps()
    if args.step and args.step not in steps + ("sample_data",):
        raise ValueError(f"--step {args.step!r}: one of {', '.join(steps + ('sample_data',))}")
    branch, commit = pushed_commit()
    user = current_user(api)
    chosen = [args.step] if args.step else list(steps)
    what = args.step or "pipeline"
    run_name = f"dev {what} of {user} @ {branch} {commit[:12]}"
    request = notebook_run_request(chosen, "dev", commit, run_name, user)
    run_id, url = submit_run(api, request)
    return watch(api, run_id, url, args, f"dev {what} ({branch} @ {commit[:12]})")


def cmd_seed_staging(args: argparse.Namespace, api: DatabricksApi) -> int:
    _, commit = pushed_commit()
    principal = principal_application_id(api, STAGING_PRINCIPAL)
    run_name = f"seed staging @ {commit[:12]}"
    request = notebook_run_request(["sample_data"], "staging", commit, run_name, principal,
                                   run_as={"service_principal_name": principal})
    run_id, url = submit_run(api, request)
    return watch(api, run_id, url, args, "synthetic sample data in staging")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    commands = {
        "run-jobs": "trigger deployed jobs (ids from terraform output -json) and wait",
        "integration-run": "one-time run of the training job as the staging plan defines it",
        "run-dev": "one step or the whole pipeline on the dev workspace, as you, from your pushed branch",
        "seed-staging": "write the synthetic sample tables into staging (never prod)",
    }
    for name, help_text in commands.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        command.add_argument("--timeout-minutes", type=float, default=240)
        command.add_argument("--poll-seconds", type=float, default=30)
        if name == "run-jobs":
            command.add_argument("--env", required=True, choices=["staging", "prod"])
            command.add_argument("--outputs", type=Path, required=True, help="terraform output -json file")
            command.add_argument("output_names", nargs="+", help="outputs holding job ids, run in this order")
        elif name == "integration-run":
            command.add_argument("--env", required=True, choices=["staging"])
            command.add_argument("--plan", type=Path, required=True, help="terraform show -json of the plan")
            command.add_argument("--git-commit", required=True)
            command.add_argument("--comment", action="store_true", help="link the run on the pull request")
            command.add_argument(
                "--dotenv", type=Path, help="also write INTEGRATION_RUN_URL=<url> to this file"
            )
        elif name == "run-dev":
            command.add_argument("--step", help="run only this step (default: the whole pipeline)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None, api: DatabricksApi | None = None) -> int:
    args = parse_args(argv)
    try:
        if args.command == "run-dev":
            return cmd_run_dev(args, api or workspace_api(dev_host()))
        if args.command == "seed-staging":
            import yaml

            staging = yaml.safe_load((REPO_ROOT / "configs" / "staging.yml").read_text(encoding="utf-8"))
            return cmd_seed_staging(args, api or workspace_api(staging["workspace_url"]))
        api = api or workspace_api()
        if args.command == "run-jobs":
            return cmd_run_jobs(args, api)
        return cmd_integration_run(args, api)
    except (RunFailed, KeyError, ValueError, OSError, pr_comment.CommentError) as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        print(f"error: {message}", file=sys.stderr)
        return 1
    except Exception as error:  # noqa: BLE001 - an SDK or HTTP failure: one line, no traceback
        print(f"error: {type(error).__name__}: {' '.join(str(error).split())}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
