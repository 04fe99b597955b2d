"""The generated `ci/` scripts, run from a baked project against fakes of the APIs they call.

Databricks calls go through a recorded fake of the SDK's `api_client.do`; pull-request
comments and the Azure DevOps OIDC endpoint are served by a local HTTP server on 127.0.0.1.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import re
import stat
import subprocess
import sys
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from helpers.bakes import baked


@pytest.fixture(scope="module")
def project() -> Path:
    return baked("aws", "github_actions")


def load(project: Path, name: str):
    """Import ci/<name>.py of a baked project as a fresh module."""
    sys.path.insert(0, str(project / "ci"))
    try:
        spec = importlib.util.spec_from_file_location(f"ci_{name}_{abs(hash(project))}", project / "ci" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(project / "ci"))


class FakeDatabricks:
    """Records calls; answers each (method, path) from a queue of canned responses."""

    def __init__(self, responses: dict[tuple[str, str], list]):
        self.responses = {key: list(values) for key, values in responses.items()}
        self.calls: list[tuple[str, str, dict | None, dict | None]] = []

    def do(self, method, path=None, query=None, body=None):
        self.calls.append((method, path, query, body))
        queue = self.responses.get((method, path))
        assert queue, f"unexpected call {method} {path}"
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


class NotFound(Exception):
    error_code = "RESOURCE_DOES_NOT_EXIST"


def run_state(life_cycle, result=None, tasks=()):
    return {"state": {"life_cycle_state": life_cycle, **({"result_state": result} if result else {})},
            "run_page_url": "https://staging.example/run/1", "tasks": list(tasks)}


JOB_SETTINGS = {
    "name": "maternal-health-risk-training-staging",
    "git_source": {"git_url": "https://github.com/my-org/maternal-health-risk", "git_provider": "gitHub",
                   "git_branch": "main"},
    "job_clusters": [{"job_cluster_key": "train_cluster", "new_cluster": {"spark_version": "15.4.x-cpu-ml-scala2.12",
                                                                         "num_workers": 2}}],
    "tasks": [
        {"task_key": "validate_data", "job_cluster_key": "train_cluster",
         "notebook_task": {"notebook_path": "notebooks/validate_data", "base_parameters": {"env": "x", "k": "v"}}},
        {"task_key": "train", "depends_on": [{"task_key": "validate_data"}], "job_cluster_key": "train_cluster",
         "notebook_task": {"notebook_path": "notebooks/train"}},
    ],
    "schedule": {"quartz_cron_expression": "0 0 11 * * ?", "timezone_id": "UTC"},
    "email_notifications": {"on_failure": ["team@example.com"]},
    "timeout_seconds": 7200,
}


# --- databricks_runs.py -----------------------------------------------------------------------

def test_integration_run_replays_the_job_tasks_at_the_commit_with_inline_clusters(project):
    runs = load(project, "databricks_runs")
    request = runs.integration_run_request(JOB_SETTINGS, "a" * 40, "staging", "integration @ aaaa")
    assert request["git_source"] == {"git_url": JOB_SETTINGS["git_source"]["git_url"], "git_provider": "gitHub",
                                     "git_commit": "a" * 40}
    assert [t["task_key"] for t in request["tasks"]] == ["validate_data", "train"]
    for task in request["tasks"]:
        assert "job_cluster_key" not in task and task["new_cluster"]["num_workers"] == 2
        assert task["notebook_task"]["base_parameters"]["env"] == "staging"
        assert task["notebook_task"]["source"] == "GIT"
    assert request["tasks"][0]["notebook_task"]["base_parameters"]["k"] == "v"
    assert request["tasks"][1]["depends_on"] == [{"task_key": "validate_data"}]
    assert "schedule" not in request and "email_notifications" not in request
    assert request["timeout_seconds"] == 7200
    assert JOB_SETTINGS["tasks"][0]["job_cluster_key"] == "train_cluster", "the job settings were modified"


@pytest.mark.parametrize("settings,message", [
    ({**JOB_SETTINGS, "git_source": None}, "no git_source"),
    ({**JOB_SETTINGS, "job_clusters": []}, "unknown job cluster"),
    ({**JOB_SETTINGS, "tasks": []}, "no tasks"),
])
def test_integration_run_refuses_jobs_it_cannot_replay(project, settings, message):
    runs = load(project, "databricks_runs")
    with pytest.raises(ValueError, match=message):
        runs.integration_run_request(settings, "b" * 40, "staging", "x")


def test_waiting_returns_on_success_and_reports_failed_tasks_otherwise(project):
    runs = load(project, "databricks_runs")
    get = ("GET", "/api/2.1/jobs/runs/get")
    ok = FakeDatabricks({get: [run_state("PENDING"), run_state("RUNNING"), run_state("TERMINATED", "SUCCESS")]})
    assert runs.wait_for_run(ok, 1, timeout_seconds=60, sleep=lambda s: None)["state"]["result_state"] == "SUCCESS"
    assert len(ok.calls) == 3
    failed_task = {"task_key": "train", **run_state("TERMINATED", "FAILED"), "run_page_url": "https://x/task"}
    bad = FakeDatabricks({get: [run_state("TERMINATED", "FAILED", tasks=[failed_task])]})
    with pytest.raises(runs.RunFailed, match=r"TERMINATED/FAILED: train: TERMINATED/FAILED https://x/task"):
        runs.wait_for_run(bad, 1, timeout_seconds=60, sleep=lambda s: None)
    new_style = FakeDatabricks({get: [{"status": {"state": "TERMINATED",
                                                  "termination_details": {"code": "SUCCESS"}}}]})
    assert runs.wait_for_run(new_style, 1, timeout_seconds=60, sleep=lambda s: None)
    clock = iter(range(0, 10_000, 100))
    slow = FakeDatabricks({get: [run_state("RUNNING")]})
    with pytest.raises(runs.RunFailed, match="still RUNNING after 250s"):
        runs.wait_for_run(slow, 1, timeout_seconds=250, sleep=lambda s: None, clock=lambda: next(clock))


def write_outputs(path: Path, **values) -> Path:
    path.write_text(json.dumps({k: {"value": v, "type": "string", "sensitive": False} for k, v in values.items()}))
    return path


def test_run_jobs_skips_a_null_feature_job_and_waits_for_training(project, tmp_path, capsys):
    runs = load(project, "databricks_runs")
    outputs = write_outputs(tmp_path / "outputs.json", feature_engineering_job_id=None, training_job_id="42")
    api = FakeDatabricks({("POST", "/api/2.1/jobs/run-now"): [{"run_id": 7}],
                          ("GET", "/api/2.1/jobs/runs/get"): [run_state("TERMINATED", "SUCCESS")]})
    code = runs.main(["run-jobs", "--env", "staging", "--outputs", str(outputs), "--poll-seconds", "0",
                      "feature_engineering_job_id", "training_job_id"], api=api)
    assert code == 0
    assert [c[3] for c in api.calls if c[0] == "POST"] == [{"job_id": 42}]
    assert "feature_engineering_job_id is null" in capsys.readouterr().out


def test_run_jobs_fails_with_one_line_when_the_output_is_missing_or_the_run_fails(project, tmp_path, capsys):
    runs = load(project, "databricks_runs")
    outputs = write_outputs(tmp_path / "outputs.json", training_job_id=42)
    assert runs.main(["run-jobs", "--env", "prod", "--outputs", str(outputs), "monitoring_job_id"],
                     api=FakeDatabricks({})) == 1
    assert "terraform output 'monitoring_job_id' not found" in capsys.readouterr().err
    api = FakeDatabricks({("POST", "/api/2.1/jobs/run-now"): [{"run_id": 7}],
                          ("GET", "/api/2.1/jobs/runs/get"): [run_state("TERMINATED", "FAILED")]})
    assert runs.main(["run-jobs", "--env", "prod", "--outputs", str(outputs), "--poll-seconds", "0",
                      "training_job_id"], api=api) == 1
    assert "error: run 7 ended TERMINATED/FAILED" in capsys.readouterr().err


# A first staging plan as `terraform show -json` writes it, reduced to the training job (hand-written
# in that format: planned_values holds every attribute, nested blocks as lists, unset ones null).
PLAN = {
    "format_version": "1.2",
    "planned_values": {"root_module": {"child_modules": [{"address": "module.ml_project", "resources": [{
        "address": "module.ml_project.databricks_job.training", "mode": "managed", "type": "databricks_job",
        "name": "training", "values": {
            "name": "maternal-health-risk-staging-training", "max_concurrent_runs": 1, "timeout_seconds": 21600,
            "git_source": [{"url": "https://github.com/my-org/maternal-health-risk", "provider": "gitHub",
                            "branch": "main", "tag": None, "commit": None}],
            "queue": [{"enabled": True}], "schedule": [], "library": [], "description": None,
            "job_cluster": [{"job_cluster_key": "main", "new_cluster": [{
                "spark_version": "18.x-cpu-ml-scala2.13", "node_type_id": "i3.xlarge", "num_workers": 2,
                "policy_id": None, "data_security_mode": "SINGLE_USER", "single_user_name": "0000-sp",
                "spark_conf": None, "autoscale": []}]}],
            "task": [
                {"task_key": "train", "job_cluster_key": "main", "max_retries": 1, "min_retry_interval_millis": 300000,
                 "depends_on": [{"task_key": "validate_data", "outcome": None}], "library": [],
                 "notebook_task": [{"notebook_path": "notebooks/train", "source": "GIT",
                                    "base_parameters": {"env": "{{job.parameters.env}}"}, "warehouse_id": None}]},
                {"task_key": "validate_data", "job_cluster_key": "main", "max_retries": 1, "depends_on": [],
                 "notebook_task": [{"notebook_path": "notebooks/validate_data", "source": "GIT",
                                    "base_parameters": {"env": "{{job.parameters.env}}"}}]},
            ]}}]}]}},
    "resource_changes": [{"address": "module.ml_project.databricks_job.training",
                          "change": {"actions": ["create"], "after_unknown": {"id": True, "url": False}}}],
}


def test_the_planned_job_becomes_a_one_time_run_of_its_tasks_at_the_commit(project, tmp_path):
    runs = load(project, "databricks_runs")
    job = runs.planned_job(PLAN)
    assert job["git_source"] == {"git_url": "https://github.com/my-org/maternal-health-risk",
                                 "git_provider": "gitHub", "git_branch": "main"}
    request = runs.integration_run_request(job, "d" * 40, "staging", "x")
    # Retries pass through where the installed SDK's SubmitTask model has them (newer ones do).
    train = {key: value for key, value in request["tasks"][0].items()
             if key not in ("max_retries", "min_retry_interval_millis")}
    assert train == {"task_key": "train", "depends_on": [{"task_key": "validate_data"}],
                     "new_cluster": {"spark_version": "18.x-cpu-ml-scala2.13", "node_type_id": "i3.xlarge",
                                     "num_workers": 2, "data_security_mode": "SINGLE_USER",
                                     "single_user_name": "0000-sp"},
                     "notebook_task": {"notebook_path": "notebooks/train", "source": "GIT",
                                       "base_parameters": {"env": "staging", "git_commit": "d" * 40}}}
    assert request["queue"] == {"enabled": True} and request["timeout_seconds"] == 21600
    broken = tmp_path / "plan.json"
    broken.write_text("Planning failed")
    assert runs.main(["integration-run", "--env", "staging", "--plan", str(broken), "--git-commit", "d" * 40],
                     api=FakeDatabricks({})) == 1


# --- run-dev and seed-staging: one-time runs outside the deployed jobs --------------------------

def git_in(cwd: Path, *args: str) -> str:
    command = ["git", "-c", "user.name=Dev", "-c", "user.email=dev@example.com", *args]
    return subprocess.run(command, cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def pushed_project(project, tmp_path) -> Path:
    """A copy of the baked project on a branch pushed to a (local, bare) origin."""
    import shutil

    copy = tmp_path / "repo"
    shutil.copytree(project, copy)
    git_in(tmp_path, "init", "--quiet", "--bare", "origin.git")
    git_in(copy, "init", "--quiet", "--initial-branch=feature/risk-score")
    git_in(copy, "add", "--all")
    git_in(copy, "commit", "--quiet", "-m", "work")
    git_in(copy, "remote", "add", "origin", str(tmp_path / "origin.git"))
    git_in(copy, "push", "--quiet", "-u", "origin", "feature/risk-score")
    return copy


ME = ("GET", "/api/2.0/preview/scim/v2/Me")
SUBMIT = ("POST", "/api/2.1/jobs/runs/submit")
RUNS_GET = ("GET", "/api/2.1/jobs/runs/get")


def test_run_dev_runs_the_whole_pipeline_from_the_pushed_commit_as_the_developer(pushed_project, capsys):
    runs = load(pushed_project, "databricks_runs")
    api = FakeDatabricks({ME: [{"userName": "ada@example.com"}], SUBMIT: [{"run_id": 5}],
                          RUNS_GET: [run_state("TERMINATED", "SUCCESS")]})
    assert runs.main(["run-dev", "--poll-seconds", "0"], api=api) == 0
    request = next(call[3] for call in api.calls if call[:2] == SUBMIT)
    commit = git_in(pushed_project, "rev-parse", "HEAD")
    steps = ["validate_data", "build_features", "train", "validate_model", "deploy", "batch_inference", "monitor"]
    assert [task["task_key"] for task in request["tasks"]] == steps
    assert [task.get("depends_on") for task in request["tasks"]] == [None] + [[{"task_key": s}] for s in steps[:-1]]
    assert request["git_source"] == {"git_url": "https://github.com/my-org/maternal-health-risk",
                                     "git_provider": "gitHub", "git_commit": commit}
    for task in request["tasks"]:
        assert task["notebook_task"]["base_parameters"] == {"env": "dev", "git_commit": commit}
        assert task["new_cluster"]["single_user_name"] == "ada@example.com"
        assert task["new_cluster"]["spark_version"] == "18.x-cpu-ml-scala2.13"
    assert "run_as" not in request, "runs as the caller: the developer"
    assert "ada@example.com" in request["run_name"] and "feature/risk-score" in request["run_name"]
    out = capsys.readouterr().out
    assert "https://staging.example/run/1" in out and "succeeded" in out


def test_run_dev_runs_one_step_and_reports_a_failure_in_one_line(pushed_project, capsys):
    runs = load(pushed_project, "databricks_runs")
    failed = {"task_key": "train", **run_state("TERMINATED", "FAILED")}
    api = FakeDatabricks({ME: [{"userName": "ada@example.com"}], SUBMIT: [{"run_id": 5}],
                          RUNS_GET: [run_state("TERMINATED", "FAILED", tasks=[failed])]})
    assert runs.main(["run-dev", "--step", "train", "--poll-seconds", "0"], api=api) == 1
    request = next(call[3] for call in api.calls if call[:2] == SUBMIT)
    assert [task["task_key"] for task in request["tasks"]] == ["train"]
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: run 5 ended TERMINATED/FAILED: train")


@pytest.mark.parametrize("me,message", [
    ({"userName": "6f1c2a9b-0d3e-4f5a-8b7c-1d2e3f4a5b6c", "applicationId": "6f1c2a9b-0d3e-4f5a-8b7c-1d2e3f4a5b6c"},
     "these credentials are a service principal's: run-dev runs as you"),
    ({}, "did not say who these credentials belong to"),
])
def test_run_dev_refuses_a_service_principal(pushed_project, capsys, me, message):
    api = FakeDatabricks({ME: [me]})
    assert load(pushed_project, "databricks_runs").main(["run-dev"], api=api) == 1
    assert message in capsys.readouterr().err
    assert not [call for call in api.calls if call[:2] == SUBMIT]


def test_run_dev_refuses_an_unpushed_commit_or_an_unknown_step(pushed_project, capsys):
    runs = load(pushed_project, "databricks_runs")
    (pushed_project / "notes.md").write_text("x")
    git_in(pushed_project, "add", "notes.md")
    git_in(pushed_project, "commit", "--quiet", "-m", "local only")
    assert runs.main(["run-dev"], api=FakeDatabricks({})) == 1
    assert "1 commit(s) of feature/risk-score are not on origin/feature/risk-score: git push" in capsys.readouterr().err
    assert runs.main(["run-dev", "--step", "trian"], api=FakeDatabricks({})) == 1
    assert "--step 'trian': one of validate_data, build_features, train" in capsys.readouterr().err
    git_in(pushed_project, "switch", "--quiet", "-c", "never-pushed")
    assert runs.main(["run-dev"], api=FakeDatabricks({})) == 1
    assert "branch never-pushed is not pushed: git push -u origin never-pushed" in capsys.readouterr().err


SPS = ("GET", "/api/2.0/preview/scim/v2/ServicePrincipals")


def test_seed_staging_writes_the_sample_tables_as_the_staging_principal(pushed_project):
    runs = load(pushed_project, "databricks_runs")
    api = FakeDatabricks({SPS: [{"Resources": [{"displayName": "staging-sp", "applicationId": "app-123"}]}],
                          SUBMIT: [{"run_id": 8}], RUNS_GET: [run_state("TERMINATED", "SUCCESS")]})
    assert runs.main(["seed-staging", "--poll-seconds", "0"], api=api) == 0
    assert api.calls[0][2] == {"filter": 'displayName eq "staging-sp"'}
    request = next(call[3] for call in api.calls if call[:2] == SUBMIT)
    [task] = request["tasks"]
    assert task["task_key"] == "sample_data" and task["notebook_task"]["base_parameters"]["env"] == "staging"
    assert request["run_as"] == {"service_principal_name": "app-123"}
    assert task["new_cluster"]["single_user_name"] == "app-123"


def test_seed_staging_names_the_missing_principal_and_the_fix(pushed_project, capsys):
    api = FakeDatabricks({SPS: [{"totalResults": 0}]})
    assert load(pushed_project, "databricks_runs").main(["seed-staging"], api=api) == 1
    assert "service principal 'staging-sp' not found in this workspace: run make bootstrap" in capsys.readouterr().err


def test_sdk_failures_end_in_one_line_not_a_traceback(pushed_project, capsys):
    class PermissionDenied(Exception):
        pass

    api = FakeDatabricks({ME: [PermissionDenied("User is not\nallowed to create clusters")]})
    assert load(pushed_project, "databricks_runs").main(["run-dev"], api=api) == 1
    assert capsys.readouterr().err == "error: PermissionDenied: User is not allowed to create clusters\n"


# --- a local stand-in for the GitHub, GitLab and Azure DevOps REST APIs ------------------------

class FakeApi(BaseHTTPRequestHandler):
    state: dict

    def _reply(self, status, payload):
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        payload = json.loads(self.rfile.read(length) or b"null")
        self.state["requests"].append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                                       "body": payload})
        route = self.state["routes"].get((self.command, self.path.split("&page=")[0].split("?")[0]))
        if route is None:
            return self._reply(404, {"message": "no route"})
        status, answer = route(payload) if callable(route) else route
        self._reply(status, answer)

    do_GET = do_POST = do_PATCH = do_PUT = _handle

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_api():
    state = {"requests": [], "routes": {}}
    handler = type("Handler", (FakeApi,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state["url"] = f"http://127.0.0.1:{server.server_port}"
    yield state
    server.shutdown()
    server.server_close()


def github_env(monkeypatch, fake_api, tmp_path):
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 5}}))
    for key in ("TF_BUILD", "GITLAB_CI", "PR_NUMBER"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_API_URL", fake_api["url"])
    monkeypatch.setenv("GITHUB_REPOSITORY", "my-org/maternal-health-risk")
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_secret_token_value")


def test_pr_comment_creates_then_updates_the_topic_comment_on_github(project, fake_api, monkeypatch, tmp_path, capsys):
    github_env(monkeypatch, fake_api, tmp_path)
    comments = []
    base = "/repos/my-org/maternal-health-risk/issues"
    fake_api["routes"] = {
        ("GET", f"{base}/5/comments"): lambda _: (200, comments),
        ("POST", f"{base}/5/comments"): lambda body: (201, comments.append({"id": 11, "body": body["body"]})),
        ("PATCH", f"{base}/comments/11"): lambda body: (200, comments[0].update(body)),
    }
    plan = tmp_path / "plan.txt"
    plan.write_text("+ resource \"databricks_job\" \"training\"\n" * 3)
    comment = load(project, "pr_comment")
    args = ["--topic", "terraform-plan-staging", "--title", "Terraform plan (staging)", "--code-file", str(plan),
            "--summary", "Plan: 1 to add, 0 to change, 0 to destroy."]
    assert comment.main(args) == 0
    plan.write_text("No changes.")
    assert comment.main(args) == 0
    assert len(comments) == 1 and comments[0]["body"].startswith("<!-- mlstack:terraform-plan-staging -->")
    assert "No changes." in comments[0]["body"] and "databricks_job" not in comments[0]["body"]
    assert [r["method"] for r in fake_api["requests"]] == ["GET", "POST", "GET", "PATCH"]
    assert all(r["headers"]["Authorization"] == "Bearer ghs_secret_token_value" for r in fake_api["requests"])
    output = capsys.readouterr()
    assert "ghs_secret_token_value" not in output.out + output.err


def test_pr_comment_posts_gitlab_notes_and_is_optional_without_a_note_token(project, fake_api, monkeypatch):
    for key in ("GITHUB_ACTIONS", "TF_BUILD"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("GITLAB_CI", "true")
    monkeypatch.setenv("CI_API_V4_URL", fake_api["url"] + "/api/v4")
    monkeypatch.setenv("CI_PROJECT_ID", "17")
    monkeypatch.setenv("CI_MERGE_REQUEST_IID", "3")
    monkeypatch.delenv("GITLAB_NOTE_TOKEN", raising=False)
    comment = load(project, "pr_comment")
    args = ["--topic", "integration-run", "--title", "Integration run", "--summary", "running"]
    assert comment.main(["--optional", *args]) == 0
    assert comment.main(args) == 1
    notes = [{"id": 9, "body": "<!-- mlstack:integration-run -->\nold"}]
    fake_api["routes"] = {("GET", "/api/v4/projects/17/merge_requests/3/notes"): (200, notes),
                          ("PUT", "/api/v4/projects/17/merge_requests/3/notes/9"): (200, {})}
    monkeypatch.setenv("GITLAB_NOTE_TOKEN", "glpat-secret")
    assert comment.main(args) == 0
    put = fake_api["requests"][-1]
    assert put["method"] == "PUT" and put["headers"]["Private-Token"] == "glpat-secret"
    assert "running" in put["body"]["body"]


def test_pr_comment_opens_a_closed_thread_on_azure_devops(project, fake_api, monkeypatch):
    for key in ("GITHUB_ACTIONS", "GITLAB_CI"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("TF_BUILD", "True")
    monkeypatch.setenv("SYSTEM_COLLECTIONURI", fake_api["url"] + "/my-org/")
    monkeypatch.setenv("SYSTEM_TEAMPROJECTID", "proj-guid")
    monkeypatch.setenv("BUILD_REPOSITORY_ID", "repo-guid")
    monkeypatch.setenv("SYSTEM_PULLREQUEST_PULLREQUESTID", "21")
    monkeypatch.setenv("SYSTEM_ACCESSTOKEN", "ado-secret")
    threads = "/my-org/proj-guid/_apis/git/repositories/repo-guid/pullRequests/21/threads"
    fake_api["routes"] = {("GET", threads): (200, {"value": []}), ("POST", threads): (200, {"id": 1})}
    assert load(project, "pr_comment").main(["--topic", "terraform-plan-staging", "--title", "Plan"]) == 0
    post = fake_api["requests"][-1]
    assert post["body"]["status"] == "closed" and post["headers"]["Authorization"] == "Bearer ado-secret"
    assert post["body"]["comments"][0]["content"].startswith("<!-- mlstack:terraform-plan-staging -->")


def test_pr_comment_truncates_huge_plans_below_the_platform_limit(project):
    comment = load(project, "pr_comment")
    body = comment.comment_body("plan", comment.code_block("Plan", "x" * 200_000))
    assert len(body) <= comment.MAX_BODY_CHARS and "truncated" in body


def test_integration_run_links_the_run_on_the_pull_request_and_reports_the_result(
        project, fake_api, monkeypatch, tmp_path):
    github_env(monkeypatch, fake_api, tmp_path)
    comments = []
    base = "/repos/my-org/maternal-health-risk/issues"
    fake_api["routes"] = {
        ("GET", f"{base}/5/comments"): lambda _: (200, comments),
        ("POST", f"{base}/5/comments"): lambda body: (201, comments.append({"id": 3, "body": body["body"]})),
        ("PATCH", f"{base}/comments/3"): lambda body: (200, comments[0].update(body)),
    }
    api = FakeDatabricks({
        ("POST", "/api/2.1/jobs/runs/submit"): [{"run_id": 99}],
        ("GET", "/api/2.1/jobs/runs/get"): [run_state("RUNNING"), run_state("RUNNING"),
                                            run_state("TERMINATED", "SUCCESS")],
    })
    dotenv = tmp_path / "integration.env"
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(PLAN))
    code = load(project, "databricks_runs").main(
        ["integration-run", "--env", "staging", "--plan", str(plan), "--git-commit", "c" * 40, "--comment",
         "--poll-seconds", "0", "--dotenv", str(dotenv)], api=api)
    assert code == 0
    submitted = next(c[3] for c in api.calls if c[1] == "/api/2.1/jobs/runs/submit")
    assert submitted["git_source"]["git_commit"] == "c" * 40
    assert not [c for c in api.calls if c[1] == "/api/2.1/jobs/get"], "needs no deployed job"
    assert [r["method"] for r in fake_api["requests"]] == ["GET", "POST", "GET", "PATCH"]
    assert "https://staging.example/run/1" in comments[0]["body"] and "succeeded" in comments[0]["body"]
    assert dotenv.read_text() == "INTEGRATION_RUN_URL=https://staging.example/run/1\n"


# --- rollback.py ------------------------------------------------------------------------------

def registry(prefix: str, champion: str | None, version_status: str = "READY",
             validation: str | None = "passed") -> FakeDatabricks:
    """The Unity Catalog registry endpoints rollback calls; a version's tags come as [{key, value}]."""
    alias = {"model_version": {"version": champion}} if champion else NotFound("no alias")
    tags = [{"key": "validation_status", "value": validation}] if validation else []
    version = {"version": "7", "status": version_status, "tags": [{"key": "team", "value": "ml"}, *tags]}
    return FakeDatabricks({
        ("GET", f"{prefix}/model-versions/get"): [{"model_version": version}],
        ("GET", f"{prefix}/registered-models/alias"): [alias],
        ("POST", f"{prefix}/registered-models/alias"): [{}],
        ("POST", f"{prefix}/model-versions/set-tag"): [{}],
    })


def test_rollback_repoints_champion_and_tags_both_versions_with_the_audit_note(project):
    rollback = load(project, "rollback")
    prefix = "/api/2.0/mlflow/unity-catalog"
    api = registry(prefix, champion="9")
    audit = rollback.rollback(api, "prod.maternal_health_risk.maternal_health_risk_model", "7",
                              "v9 over-predicts risk", "dr-who", "https://ci/run/5")
    assert audit["previous_version"] == "9" and audit["version"] == "7" and audit["by"] == "dr-who"
    posts = [(c[1].rsplit("/", 1)[-1], c[3]) for c in api.calls if c[0] == "POST"]
    assert posts[0] == ("alias", {"name": "prod.maternal_health_risk.maternal_health_risk_model",
                                  "alias": "champion", "version": "7"})
    tags = {body["key"]: body["value"] for kind, body in posts[1:] if body["version"] == "7"}
    assert tags["rollback_note"] == "v9 over-predicts risk" and tags["rollback_from_version"] == "9"
    assert tags["rollback_by"] == "dr-who" and tags["rollback_ci_run"] == "https://ci/run/5"
    assert all(re.fullmatch(r"[a-z_]+", key) for key in tags), "Unity Catalog tag keys: no dots or dashes"
    assert ("set-tag", {"name": audit["model"], "version": "9", "key": "replaced_by_rollback_to",
                        "value": "7"}) in posts


@pytest.mark.parametrize("version,note,champion,status,validation,message", [
    ("7", "why", "7", "READY", "passed", "already the champion"),
    ("v7", "why", "9", "READY", "passed", "must be a model version number"),
    ("7", "  ", "9", "READY", "passed", "say why"),
    ("7", "why", "9", "FAILED_REGISTRATION", "passed", "not READY"),
    ("7", "why", "9", "READY", "rejected", "validation_status='rejected': only a version that passed"),
    ("7", "why", "9", "READY", "pending", "validation_status='pending'"),
    ("7", "why", "9", "READY", None, "validation_status='missing'"),
])
def test_rollback_refuses_unsafe_requests_and_changes_nothing(project, version, note, champion, status, validation,
                                                              message):
    rollback = load(project, "rollback")
    api = registry("/api/2.0/mlflow/unity-catalog", champion=champion, version_status=status, validation=validation)
    with pytest.raises(rollback.RollbackRefused, match=message):
        rollback.rollback(api, "prod.schema.model", version, note, "me", "run")
    assert not [c for c in api.calls if c[0] == "POST"]


def test_rollback_without_a_previous_champion_and_for_a_missing_version(project):
    rollback = load(project, "rollback")
    api = registry("/api/2.0/mlflow/unity-catalog", champion=None)
    assert rollback.rollback(api, "prod.schema.model", "7", "first champion", "me", "run")["previous_version"] is None
    missing = FakeDatabricks({("GET", "/api/2.0/mlflow/unity-catalog/model-versions/get"): [NotFound("nope")]})
    with pytest.raises(rollback.RollbackRefused, match="has no version 7"):
        rollback.rollback(missing, "prod.schema.model", "7", "why", "me", "run")


def test_rollback_reads_the_unity_catalog_model_of_the_environment_from_its_config(project, tmp_path):
    rollback = load(project, "rollback")
    assert rollback.model_target("prod") == "prod.maternal_health_risk.maternal_health_risk_model"
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "prod.yml").write_text("mlflow:\n  registry_uri: databricks\n  registered_model: prod-m\n")
    with pytest.raises(rollback.RollbackRefused, match="registry_uri must be databricks-uc"):
        rollback.model_target("prod", tmp_path)


def test_rollback_command_prints_one_json_audit_line(project, monkeypatch, capsys):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_ACTOR", "release-manager")
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    api = registry("/api/2.0/mlflow/unity-catalog", champion="9")
    assert load(project, "rollback").main(["--env", "prod", "--version", "7", "--note", "drift"], api=api) == 0
    audit = json.loads(capsys.readouterr().out)
    assert audit["by"] == "release-manager" and audit["note"] == "drift" and audit["action"] == "rollback"


# --- champion_version.py (serving) -------------------------------------------------------------

class PermissionDenied(Exception):
    error_code = "PERMISSION_DENIED"


@pytest.fixture(scope="module")
def serving_project() -> Path:
    return baked("aws", "github_actions", serving=True)


def load_champion_version(project: Path):
    sys.modules.pop("rollback", None)  # it imports the rollback script beside it: this project's
    return load(project, "champion_version")


def alias_lookup(prefix: str, answer) -> FakeDatabricks:
    return FakeDatabricks({("GET", f"{prefix}/registered-models/alias"): [answer]})


def test_champion_version_prints_the_version_terraform_serves(serving_project, capsys):
    prefix, model = "/api/2.0/mlflow/unity-catalog", "staging.maternal_health_risk.maternal_health_risk_model"
    api = alias_lookup(prefix, {"model_version": {"name": model, "version": "7"}})
    assert load_champion_version(serving_project).main(["--env", "staging"], api=api) == 0
    assert capsys.readouterr().out == "7\n"
    assert api.calls == [("GET", f"{prefix}/registered-models/alias", {"name": model, "alias": "champion"}, None)]


def test_champion_version_prints_nothing_before_the_first_champion(serving_project, capsys):
    api = alias_lookup("/api/2.0/mlflow/unity-catalog", NotFound("no model or no alias"))
    assert load_champion_version(serving_project).main(["--env", "prod"], api=api) == 0
    output = capsys.readouterr()
    assert output.out == "" and output.err == ""


def test_champion_version_fails_with_one_line_on_any_other_error(serving_project, capsys):
    api = alias_lookup("/api/2.0/mlflow/unity-catalog", PermissionDenied("User does not have\nEXECUTE on the model"))
    assert load_champion_version(serving_project).main(["--env", "prod"], api=api) == 1
    output = capsys.readouterr()
    assert output.out == ""
    assert output.err.splitlines() == ["error: prod: User does not have EXECUTE on the model"]


PROD_MODEL = "prod.maternal_health_risk.maternal_health_risk_model"


def endpoint_answer(version: str, config_update: str = "NOT_UPDATING") -> dict:
    return {
        "name": "maternal-health-risk-prod",
        "state": {"ready": "READY", "config_update": config_update},
        "config": {
            "served_entities": [{"name": "champion", "entity_name": PROD_MODEL, "entity_version": version,
                                 "workload_size": "Small", "scale_to_zero_enabled": False, "workload_type": "CPU",
                                 "creator": "prod-sp", "state": {"deployment": "READY"}}],
            "traffic_config": {"routes": [{"served_entity_name": "champion", "traffic_percentage": 100}]},
        },
    }


def serving_api(*endpoint_answers) -> FakeDatabricks:
    return FakeDatabricks({
        ("GET", "/api/2.0/mlflow/unity-catalog/registered-models/alias"): [{"model_version": {"version": "5"}}],
        ("GET", "/api/2.0/serving-endpoints/maternal-health-risk-prod"): list(endpoint_answers),
        ("PUT", "/api/2.0/serving-endpoints/maternal-health-risk-prod/config"): [{}],
    })


def test_serve_points_the_endpoint_at_the_restored_champion_keeping_its_settings(serving_project, capsys):
    module = load_champion_version(serving_project)
    api = serving_api(endpoint_answer("9"), endpoint_answer("9", "IN_PROGRESS"), endpoint_answer("5"))
    module.POLL_SECONDS = 0
    assert module.main(["--env", "prod", "--serve"], api=api) == 0
    output = capsys.readouterr()
    assert output.out == "5\n"
    assert output.err.strip() == "serving endpoint maternal-health-risk-prod now serves version 5"
    [put] = [call for call in api.calls if call[0] == "PUT"]
    assert put[3] == {
        "served_entities": [{"name": "champion", "entity_name": PROD_MODEL, "entity_version": "5",
                             "workload_size": "Small", "scale_to_zero_enabled": False, "workload_type": "CPU"}],
        "traffic_config": {"routes": [{"served_entity_name": "champion", "traffic_percentage": 100}]},
    }


def test_serve_leaves_a_missing_or_current_endpoint_alone_and_fails_a_failed_update(serving_project):
    module = load_champion_version(serving_project)
    name = "maternal-health-risk-prod"
    assert "does not exist yet" in module.serve(serving_api(NotFound("no endpoint")), name, "5")
    current = serving_api(endpoint_answer("5"))
    assert module.serve(current, name, "5").endswith("already serves version 5")
    assert not [call for call in current.calls if call[0] == "PUT"]
    failed = serving_api(endpoint_answer("9"), endpoint_answer("9", "UPDATE_FAILED"))
    with pytest.raises(module.ServingFailed, match="ended UPDATE_FAILED"):
        module.serve(failed, name, "5", sleep=lambda s: None)
    clock = iter(range(0, 10_000, 100))
    slow = serving_api(endpoint_answer("9"), endpoint_answer("9", "IN_PROGRESS"))
    with pytest.raises(module.ServingFailed, match="still updating to version 5 after 250s"):
        module.serve(slow, name, "5", timeout_seconds=250, sleep=lambda s: None, clock=lambda: next(clock))


FAKE_PYTHON = """#!/usr/bin/env bash
echo "$*" >> "$PYTHON_CALLS"
[ "$CHAMPION" = fail ] && { echo "error: prod: PERMISSION_DENIED" >&2; exit 1; }
[ -n "$CHAMPION" ] && echo "$CHAMPION"
exit 0
"""
RECORDING_TERRAFORM = """#!/usr/bin/env bash
echo "$1 $2 version=${TF_VAR_serving_model_version-unset}" >> "$TERRAFORM_CALLS"
"""


@pytest.mark.parametrize("champion,expected", [("12", "version=12"), ("", "version=unset")])
def test_terraform_script_exports_the_champion_version_only_when_there_is_one(serving_project, tmp_path, champion,
                                                                               expected):
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    for name, body in (("terraform", RECORDING_TERRAFORM), ("python", FAKE_PYTHON)):
        (fake_bin / name).write_text(body)
        (fake_bin / name).chmod(0o755)
    calls, python_calls = tmp_path / "calls.txt", tmp_path / "python.txt"
    env = {**os.environ, "PATH": f"{fake_bin}:{os.environ['PATH']}", "TERRAFORM_CALLS": str(calls),
           "PYTHON_CALLS": str(python_calls), "CHAMPION": champion, "PYTHON": str(fake_bin / "python"),
           "TF_VAR_serving_model_version": "99"}
    run = subprocess.run(["bash", "ci/terraform.sh", "prod", "plan", "apply"], cwd=serving_project, env=env,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert python_calls.read_text().splitlines() == ["ci/champion_version.py --env prod"], "one lookup per run"
    lines = calls.read_text().splitlines()
    assert any(" plan " in line for line in lines) and any(" apply " in line for line in lines)
    assert {line.rsplit(" ", 1)[1] for line in lines} == {expected}, "a stale TF_VAR must not survive"
    calls.unlink()
    python_calls.unlink()
    for actions in (["check"], ["outputs"]):
        run = subprocess.run(["bash", "ci/terraform.sh", "prod", *actions], cwd=serving_project, env=env,
                             capture_output=True, text=True)
        assert run.returncode == 0 and not python_calls.exists(), f"{actions}: no plan, no lookup"


def test_terraform_script_stops_before_terraform_when_the_lookup_fails(serving_project, tmp_path):
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    for name, body in (("terraform", RECORDING_TERRAFORM), ("python", FAKE_PYTHON)):
        (fake_bin / name).write_text(body)
        (fake_bin / name).chmod(0o755)
    calls = tmp_path / "calls.txt"
    env = {**os.environ, "PATH": f"{fake_bin}:{os.environ['PATH']}", "TERRAFORM_CALLS": str(calls),
           "PYTHON_CALLS": str(tmp_path / "python.txt"), "CHAMPION": "fail", "PYTHON": str(fake_bin / "python")}
    run = subprocess.run(["bash", "ci/terraform.sh", "prod", "apply", "outputs"], cwd=serving_project, env=env,
                         capture_output=True, text=True)
    assert run.returncode != 0 and "PERMISSION_DENIED" in run.stderr
    assert not calls.exists(), "planning without the champion would delete the endpoint"


# --- federated_credentials.py, install_terraform.py, terraform_plan.py --------------------------

def test_aws_and_gcp_credential_files_are_private_and_only_paths_are_printed(project, monkeypatch, tmp_path, capsys):
    credentials = load(project, "federated_credentials")
    monkeypatch.setenv("ID_TOKEN", "eyJ.header.payload")
    monkeypatch.setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/staging-ci")
    assert credentials.main(["aws", "--token-env", "ID_TOKEN", "--dir", str(tmp_path / "aws")]) == 0
    out = capsys.readouterr().out
    token_file = tmp_path / "aws" / "aws-web-identity-token"
    assert f"export AWS_WEB_IDENTITY_TOKEN_FILE='{token_file}'" in out and "eyJ" not in out
    assert token_file.read_text() == "eyJ.header.payload" and stat.S_IMODE(token_file.stat().st_mode) == 0o600
    provider = "projects/1/locations/global/workloadIdentityPools/p/providers/g"
    monkeypatch.setenv("GCP_WORKLOAD_IDENTITY_PROVIDER", provider)
    monkeypatch.setenv("GCP_SERVICE_ACCOUNT", "ci@proj.iam.gserviceaccount.com")
    assert credentials.main(["gcp", "--token-env", "ID_TOKEN", "--dir", str(tmp_path / "gcp"),
                             "--format", "azure-devops"]) == 0
    config_path = tmp_path / "gcp" / "gcp-credentials.json"
    assert capsys.readouterr().out == f"##vso[task.setvariable variable=GOOGLE_APPLICATION_CREDENTIALS]{config_path}\n"
    config = json.loads(config_path.read_text())
    assert config["audience"] == f"//iam.googleapis.com/{provider}"
    assert config["service_account_impersonation_url"].endswith("ci@proj.iam.gserviceaccount.com:generateAccessToken")
    assert config["credential_source"] == {"file": str(tmp_path / "gcp" / "gcp-subject-token")}


def test_credentials_fail_with_the_missing_variable_named(project, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("ID_TOKEN", "t")
    monkeypatch.delenv("AWS_ROLE_ARN", raising=False)
    assert load(project, "federated_credentials").main(["aws", "--token-env", "ID_TOKEN", "--dir", str(tmp_path)]) == 1
    assert "AWS_ROLE_ARN is not set" in capsys.readouterr().err


def test_azure_devops_token_comes_from_the_pipeline_oidc_endpoint(project, fake_api, monkeypatch, tmp_path):
    fake_api["routes"] = {("POST", "/oidc"): (200, {"oidcToken": "ado.jwt.token"})}
    monkeypatch.setenv("SYSTEM_OIDCREQUESTURI", fake_api["url"] + "/oidc")
    monkeypatch.setenv("SYSTEM_ACCESSTOKEN", "build-token")
    monkeypatch.setenv("AWS_ROLE_ARN", "arn:aws:iam::1:role/r")
    assert load(project, "federated_credentials").main(["aws", "--azure-devops", "--dir", str(tmp_path)]) == 0
    assert (tmp_path / "aws-web-identity-token").read_text() == "ado.jwt.token"
    request = fake_api["requests"][0]
    assert request["path"] == "/oidc?api-version=7.1-preview.1"
    assert request["headers"]["Authorization"] == "Bearer build-token"


def test_terraform_install_refuses_a_download_with_the_wrong_checksum(project, tmp_path):
    installer = load(project, "install_terraform")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("terraform", "#!/bin/sh\necho fake\n")
    payload = archive.getvalue()
    with pytest.raises(ValueError, match="refusing it"):
        installer.install(payload, tmp_path)
    import hashlib

    target = installer.install(payload, tmp_path, expected_sha256=hashlib.sha256(payload).hexdigest())
    assert os.access(target, os.X_OK) and target.read_text().startswith("#!/bin/sh")
    assert re.fullmatch(r"[0-9a-f]{64}", installer.TERRAFORM_SHA256)


def test_plan_summary_counts_replacements_as_create_and_delete(project, tmp_path, capsys):
    plan_module = load(project, "terraform_plan")
    plan = {"resource_changes": [{"change": {"actions": ["create"]}}, {"change": {"actions": ["update"]}},
                                 {"change": {"actions": ["delete", "create"]}}, {"change": {"actions": ["no-op"]}}]}
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    assert plan_module.main([str(tmp_path / "plan.json"), "--report", str(tmp_path / "report.json")]) == 0
    assert json.loads((tmp_path / "report.json").read_text()) == {"create": 2, "update": 1, "delete": 1}
    assert capsys.readouterr().out.strip() == "Plan: 2 to add, 1 to change, 1 to destroy."
    assert plan_module.summary_line({"create": 0, "update": 0, "delete": 0}).startswith("No changes")


# --- terraform.sh and lint_ci.py, run as the pipelines run them --------------------------------

FAKE_TERRAFORM = """#!/usr/bin/env bash
echo "$*" >> "$TERRAFORM_CALLS"
case "$*" in
  *" show -json tfplan") echo '{"resource_changes": []}' ;;
  *" show -no-color tfplan") echo "No changes." ;;
  *" output -json") echo '{"training_job_id": {"value": 5}}' ;;
esac
"""


@pytest.mark.parametrize("cloud", ["azure", "aws", "gcp"])
def test_terraform_script_inits_against_the_env_backend_then_runs_the_actions_in_order(cloud, tmp_path):
    project = baked(cloud, "gitlab")
    (project / "terraform" / "prod").mkdir(parents=True, exist_ok=True)
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "terraform").write_text(FAKE_TERRAFORM)
    (fake_bin / "terraform").chmod(0o755)
    calls = tmp_path / "calls.txt"
    env = {**os.environ, "PATH": f"{fake_bin}:{os.environ['PATH']}", "TERRAFORM_CALLS": str(calls)}
    result = subprocess.run(["bash", "ci/terraform.sh", "prod", "check", "plan", "outputs"], cwd=project, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    lines = calls.read_text().splitlines()
    backend = f"../backends/{cloud}/prod.hcl"
    assert lines[0] == f"-chdir=terraform/prod init -input=false -no-color -backend-config={backend}"
    assert (project / "terraform" / "prod" / backend).resolve().is_file()
    assert [line.split()[1] for line in lines[1:]] == ["-check", "validate", "plan", "show", "show", "output"]
    assert "-out=tfplan" in lines[3]
    assert json.loads((project / "terraform" / "prod" / "outputs.json").read_text())["training_job_id"]["value"] == 5
    bad = subprocess.run(["bash", "ci/terraform.sh", "qa", "plan"], cwd=project, env=env, capture_output=True,
                         text=True)
    assert bad.returncode == 2 and "environment must be staging or prod" in bad.stderr
    bad = subprocess.run(["bash", "ci/terraform.sh", "prod", "destroy"], cwd=project, env=env, capture_output=True,
                         text=True)
    assert bad.returncode == 2 and "unknown action 'destroy'" in bad.stderr


def test_ci_lint_script_passes_generated_files_and_rejects_a_broken_workflow(tmp_path):
    import shutil

    project = shutil.copytree(baked("gcp", "github_actions"), tmp_path / "project")
    lint = [sys.executable, "ci/lint_ci.py"]
    passed = subprocess.run(lint, cwd=project, capture_output=True, text=True)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    workflow = project / ".github" / "workflows" / "ci.yml"
    workflow.write_text(workflow.read_text().replace("runs-on: ubuntu-latest", "runs_on: ubuntu-latest", 1))
    failed = subprocess.run(lint, cwd=project, capture_output=True, text=True)
    assert failed.returncode == 1


def test_ci_scripts_are_lint_clean_under_the_generated_projects_ruff_settings(project, serving_project):
    for checked in (project, serving_project):
        result = subprocess.run([sys.executable, "-m", "ruff", "check", "ci"], cwd=checked, capture_output=True,
                                text=True)
        assert result.returncode == 0, result.stdout + result.stderr
