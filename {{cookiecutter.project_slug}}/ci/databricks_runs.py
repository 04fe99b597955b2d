"""Start Databricks job runs from CI and wait for their result.

`run-jobs` triggers the jobs Terraform deployed (ids read from `terraform output -json`).
`integration-run` submits a one-time run of the staging training job's tasks at one git
commit, so a pull request is exercised in staging without touching the deployed job.
Both wait for the run and exit non-zero when it fails, so the pipeline fails with it.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pr_comment  # noqa: E402 - the comment helper beside this script

JOBS_API = "/api/2.1/jobs"
TERMINAL_LIFE_CYCLE_STATES = {"TERMINATED", "SKIPPED", "INTERNAL_ERROR"}
# Only what a one-time run accepts besides tasks and git_source; the rest of the job
# (schedules, permissions, notifications) belongs to the deployed job, not to a test run.
SUBMIT_FIELDS_FROM_JOB = ("environments", "timeout_seconds", "queue")


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
            task["notebook_task"] = {**notebook, "base_parameters": parameters, "source": "GIT"}
        tasks.append(task)
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


def submit_integration_run(api: DatabricksApi, job_id: int, git_commit: str, env: str) -> tuple[int, str]:
    """Submit the one-time run of job `job_id`'s tasks at `git_commit`; return (run id, URL)."""
    job = api.do("GET", f"{JOBS_API}/get", query={"job_id": job_id})
    name = job.get("settings", {}).get("name", f"job {job_id}")
    request = integration_run_request(
        job["settings"], git_commit, env, run_name=f"integration {name} @ {git_commit[:12]}"
    )
    run_id = api.do("POST", f"{JOBS_API}/runs/submit", body=request)["run_id"]
    run = api.do("GET", f"{JOBS_API}/runs/get", query={"run_id": run_id})
    return run_id, run.get("run_page_url", "")


def report_markdown(title: str, url: str, status: str) -> str:
    return f"### {title}\n\n- Run: [{url}]({url})\n- Status: **{status}**\n"


def write_summary(text: str) -> None:
    """Append to the CI job summary when the platform offers one (GitHub Actions)."""
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as handle:
            handle.write(text + "\n")


def workspace_api() -> DatabricksApi:
    """The SDK's API client; auth comes from DATABRICKS_* variables (OIDC federation in CI)."""
    from databricks.sdk import WorkspaceClient

    return WorkspaceClient().api_client


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
    if args.job_id:
        job_id = int(args.job_id)
    elif args.outputs:
        job_id = job_id_from_outputs(read_outputs(args.outputs), args.output_name)
    else:
        raise ValueError("give --job-id or --outputs: which staging job to replay")
    if job_id is None:
        raise KeyError(f"terraform output {args.output_name!r} is null: nothing to run")
    title = f"Integration run of the training pipeline in {args.env} at {args.git_commit[:12]}"
    run_id, url = submit_integration_run(api, job_id, args.git_commit, args.env)
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


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("run-jobs", "integration-run", "job-id"):
        command = sub.add_parser(name)
        command.add_argument(
            "--outputs", type=Path, required=name != "integration-run", help="terraform output -json file"
        )
        if name == "job-id":
            command.add_argument("output_name", help="e.g. training_job_id")
            continue
        command.add_argument("--env", required=True, choices=["staging", "prod"])
        command.add_argument("--timeout-minutes", type=float, default=240)
        command.add_argument("--poll-seconds", type=float, default=30)
        if name == "run-jobs":
            command.add_argument("output_names", nargs="+", help="outputs holding job ids, run in this order")
        else:
            command.add_argument("--output-name", default="training_job_id")
            command.add_argument("--job-id", help="the staging training job id (instead of --outputs)")
            command.add_argument("--git-commit", required=True)
            command.add_argument("--comment", action="store_true", help="link the run on the pull request")
            command.add_argument(
                "--dotenv", type=Path, help="also write INTEGRATION_RUN_URL=<url> to this file"
            )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None, api: DatabricksApi | None = None) -> int:
    args = parse_args(argv)
    try:
        if args.command == "job-id":
            job_id = job_id_from_outputs(read_outputs(args.outputs), args.output_name)
            print("" if job_id is None else job_id)
            return 0
        api = api or workspace_api()
        if args.command == "run-jobs":
            return cmd_run_jobs(args, api)
        return cmd_integration_run(args, api)
    except (RunFailed, KeyError, ValueError, OSError, pr_comment.CommentError) as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        print(f"error: {message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
