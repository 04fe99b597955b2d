"""Baking the template with pytest-cookies: right files per choice, odd answers, bad answers."""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from helpers import CI_PLATFORMS, CLOUDS, REPO_ROOT, project_files

CI_FILES = {
    "github_actions": ".github/workflows/",
    "azure_devops": ".azure-pipelines/",
    "gitlab": ".gitlab-ci.yml",
}


def has_prefix(files: set[str], prefix: str) -> bool:
    return any(f == prefix or f.startswith(prefix) for f in files)


@pytest.mark.parametrize("cloud,ci_platform", list(itertools.product(CLOUDS, CI_PLATFORMS)))
def test_each_cloud_and_ci_platform_keeps_its_files_and_prunes_the_others(bake, cloud, ci_platform):
    project = bake(cloud=cloud, ci_platform=ci_platform)
    files = project_files(project)
    assert has_prefix(files, f"terraform/backends/{cloud}/")
    for other in set(CLOUDS) - {cloud}:
        assert not has_prefix(files, f"terraform/backends/{other}/"), other
        assert not any(f.endswith(f"_{other}.tf") for f in files), other
    assert has_prefix(files, CI_FILES[ci_platform])
    for other in set(CI_PLATFORMS) - {ci_platform}:
        assert not has_prefix(files, CI_FILES[other]), other
    assert not any("{{" in f or "}}" in f for f in files)
    answers = yaml.safe_load((project / ".mlstack" / "answers.yml").read_text())
    assert answers["answers"]["cloud"] == cloud
    assert answers["answers"]["ci_platform"] == ci_platform


def test_project_name_with_spaces_and_non_ascii_letters_yields_valid_names(bake):
    project = bake(project_name="Prénom Ñandú Risk Çare")
    assert project.name == "prenom-nandu-risk-care"
    assert (project / "src" / "prenom_nandu_risk_care" / "config.py").is_file()
    assert "Prénom Ñandú Risk Çare" in (project / "README.md").read_text(encoding="utf-8")
    config = yaml.safe_load((project / "configs" / "project.yml").read_text(encoding="utf-8"))
    assert config["project"]["name"] == "Prénom Ñandú Risk Çare"


def test_shared_workspace_keeps_two_principals(bake):
    url = "https://adb-5555555555555555.5.azuredatabricks.net"
    project = bake(staging_workspace_url=url, prod_workspace_url=url)
    readme = (project / "README.md").read_text()
    assert "share one workspace" in readme
    assert "staging-sp" in readme and "prod-sp" in readme
    for env in ("staging", "prod"):
        assert yaml.safe_load((project / "configs" / f"{env}.yml").read_text())["workspace_url"] == url


def test_git_history_has_pristine_render_main_dev_and_release(bake):
    project = bake()

    def git(*args):
        return subprocess.run(["git", *args], cwd=project, capture_output=True, text=True, check=True).stdout.strip()

    assert set(git("branch", "--format=%(refname:short)").split()) == {"main", "dev", "release", "mlstack/template"}
    assert git("branch", "--show-current") == "main"
    assert git("rev-parse", "dev") == git("rev-parse", "main") == git("rev-parse", "release")
    pristine = git("rev-parse", "mlstack/template")
    assert git("rev-parse", "main~1") == pristine
    recorded = yaml.safe_load((project / ".mlstack" / "answers.yml").read_text())["template"]
    assert recorded["pristine_commit"] == pristine
    assert git("status", "--porcelain") == ""


def test_answers_file_records_template_and_every_answer(bake):
    project = bake(cloud="gcp")
    recorded = yaml.safe_load((project / ".mlstack" / "answers.yml").read_text())
    template_json = yaml.safe_load((REPO_ROOT / "cookiecutter.json").read_text())
    assert recorded["template"]["version"] == template_json["_template_version"]
    assert recorded["template"]["source"]
    questions = [k for k in template_json if not k.startswith("_")]
    assert list(recorded["answers"]) == questions
    assert recorded["user_set"] == ["cloud"]


INVALID_ANSWERS = [
    ("project_slug", "Bad Slug", "project_slug='Bad Slug'"),
    ("package_name", "class", "package_name='class'"),
    ("staging_workspace_url", "http://adb-1.1.azuredatabricks.net", "must start with https://"),
    ("prod_workspace_url", "https://adb-1.1.azuredatabricks.net/?o=1", "host only"),
    ("inference_schedule", "0 11 * * *", "Quartz cron"),
    ("tfstate_azure_storage_account", "Has-Dashes", "3-24 lowercase letters and digits"),
    ("prod_sp_name", "staging-sp", "must differ from staging_sp_name"),
    ("release_branch", "rel..ease", "not a valid git branch name"),
    ("timezone", "Mars/Base", "IANA time zone"),
]


@pytest.mark.parametrize("key,value,message", INVALID_ANSWERS)
def test_invalid_answer_stops_plain_cookiecutter_with_one_line_and_writes_nothing(
        cookies, capfd, tmpdir, key, value, message):
    result = cookies.bake(extra_context={key: value})
    assert result.exit_code != 0
    errors = [line for line in capfd.readouterr().err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and message in errors[0] and key in errors[0]
    bake_dirs = list(Path(tmpdir, "cookies").iterdir())
    assert bake_dirs and all(not any(d.iterdir()) for d in bake_dirs)


def test_invalid_s3_bucket_is_checked_only_for_aws(bake, cookies):
    assert bake(cloud="azure", tfstate_s3_bucket="Not_A_Bucket").is_dir()
    result = cookies.bake(extra_context={"cloud": "aws", "tfstate_s3_bucket": "Not_A_Bucket"})
    assert result.exit_code != 0


def run_cookiecutter(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "cookiecutter", "--no-input", str(REPO_ROOT), *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=os.environ.copy())


def test_plain_cookiecutter_command_renders_the_template(tmp_path):
    result = run_cookiecutter("-o", str(tmp_path), "cloud=aws", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    project = tmp_path / "maternal-health-risk"
    assert (project / "terraform" / "backends" / "aws" / "staging.hcl").is_file()
    assert (project / ".git").is_dir()


def test_plain_cookiecutter_works_with_a_relative_template_path(tmp_path):
    """`cookiecutter .` from the template checkout: the hooks must still find the template's modules."""
    out = tmp_path / "out"
    command = [sys.executable, "-m", "cookiecutter", "--no-input", ".", "-o", str(out)]
    environment = {**os.environ, "PWD": str(REPO_ROOT)}
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, env=environment)
    assert result.returncode == 0, result.stderr
    answers = yaml.safe_load((out / "maternal-health-risk" / ".mlstack" / "answers.yml").read_text())
    assert Path(answers["template"]["source"]).resolve() == REPO_ROOT


SERVING_FILES = (
    "src/maternal_health_risk/serving/server.py",
    "src/maternal_health_risk/core/scoring_request.py",
    "src/maternal_health_risk/core/serving_metrics.py",
    "src/maternal_health_risk/io/serving_endpoint.py",
    "src/maternal_health_risk/pipelines/serving_health.py",
    "tests/serving/test_scoring_service.py",
    "terraform/modules/ml_project/serving.tf",
    "ci/champion_version.py",
    "docs/serving.md",
)
# "serving" as a word, and the names of what serving adds; the answers file records the answer itself.
SERVING_TRACE = re.compile(rb"(?i)\bserv(e|ing)\b|model_serving|serving_|make serve|/invocations")


def runtime_dependencies(project: Path) -> str:
    """The text of pyproject.toml's `dependencies = [...]` list (no TOML parser on Python 3.10)."""
    text = (project / "pyproject.toml").read_text()
    return text.split("\ndependencies = [", 1)[1].split("\n]", 1)[0]


@pytest.mark.parametrize("cloud", CLOUDS)
def test_serving_off_generates_nothing_about_serving(bake, cloud):
    project = bake(cloud=cloud)
    files = project_files(project)
    assert not any("serving" in name for name in files)
    traces = {}
    for name in sorted(files - {".mlstack/answers.yml"}):
        found = SERVING_TRACE.search((project / name).read_bytes())
        if found:
            traces[name] = found.group(0)
    assert traces == {}
    assert "databricks-sdk" not in runtime_dependencies(project)


@pytest.mark.parametrize("cloud", CLOUDS)
def test_serving_on_adds_the_service_the_endpoint_and_the_make_target(bake, cloud):
    project = bake(cloud=cloud, serving=True)
    files = project_files(project)
    assert set(SERVING_FILES) <= files
    assert "\nserve:  ## " in (project / "Makefile").read_text()
    # imported by io/serving_endpoint.py, so declared, not left to MLflow's own dependencies
    assert '"databricks-sdk>=0.20,<1",' in runtime_dependencies(project)
    local = yaml.safe_load((project / "configs" / "local.yml").read_text())
    assert local["serving"]["request_log"] == ".local/serving/requests.jsonl"
    shared = yaml.safe_load((project / "configs" / "project.yml").read_text())
    assert shared["serving"]["host"] == "127.0.0.1" and shared["monitoring"]["serving"]["max_p99_latency_ms"] > 0
    prod = yaml.safe_load((project / "configs" / "prod.yml").read_text())
    assert prod["serving"]["endpoint_name"] == "maternal-health-risk-prod"
    assert prod["serving"]["inference_table"] == "prod.maternal_health_risk.maternal_health_risk_serving_payload"


def test_plain_cookiecutter_command_refuses_bad_answer_and_leaves_nothing(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    result = run_cookiecutter("-o", str(out), "staging_workspace_url=http://insecure.example.com", cwd=tmp_path)
    assert result.returncode != 0
    assert "error: staging_workspace_url='http://insecure.example.com': must start with https://" in result.stderr
    assert list(out.iterdir()) == []


# --- every prompt changes the generated repository ------------------------------------------
# (key, changed value, other answers needed for it to apply, regex that must appear in some
#  generated file other than .mlstack/answers.yml; None means "the files must differ")
PROMPT_EFFECTS = [
    ("project_name", "Sentinel Effect Name", {}, None),
    ("project_slug", "sentinel-slug", {}, None),
    ("package_name", "sentinel_pkg", {}, None),
    ("description", "Sentinel description text", {}, None),
    ("owner_team", "sentinel-team", {}, None),
    ("owner_email", "sentinel@example.org", {}, None),
    ("read_group", "sentinel-readers", {}, None),
    ("cloud", "aws", {}, None),
    ("ci_platform", "gitlab", {}, None),
    ("repo_owner", "sentinel-org", {}, None),
    ("azure_devops_project", "sentinel-project", {"ci_platform": "azure_devops"}, None),
    ("gitlab_host", "gitlab.sentinel.org", {"ci_platform": "gitlab"}, None),
    ("git_repo_url", "https://git.sentinel.org/team/repo", {}, None),
    ("staging_workspace_url", "https://adb-9191919191.9.azuredatabricks.net", {}, None),
    ("prod_workspace_url", "https://adb-8181818181.8.azuredatabricks.net", {}, None),
    ("dev_workspace_url", "https://adb-7171717171.7.azuredatabricks.net", {}, None),
    ("staging_sp_name", "sentinel-staging-sp", {}, None),
    ("prod_sp_name", "sentinel-prod-sp", {}, None),
    ("tfstate_azure_resource_group", "rg-sentinel", {"cloud": "azure"}, None),
    ("tfstate_azure_storage_account", "sentinelstore", {"cloud": "azure"}, None),
    ("tfstate_azure_container", "sentinel-container", {"cloud": "azure"}, None),
    ("tfstate_s3_bucket", "sentinel-bucket", {"cloud": "aws"}, None),
    ("tfstate_s3_region", "eu-north-1", {"cloud": "aws"}, None),
    ("tfstate_gcs_bucket", "sentinel-gcs", {"cloud": "gcp"}, None),
    ("dev_branch", "sentinel-dev", {}, None),
    ("main_branch", "sentinel-main", {}, None),
    ("release_branch", "sentinel-release", {}, None),
    ("inference_schedule", "0 17 7 * * ?", {}, None),
    ("monitoring_schedule", "0 47 8 * * ?", {}, None),
    ("timezone", "Europe/Berlin", {}, None),
    ("catalog_dev", "sentinel_dev", {}, None),
    ("catalog_staging", "sentinel_staging", {}, None),
    ("catalog_prod", "sentinel_prod", {}, None),
    ("schema_name", "sentinel_schema", {}, None),
    ("feature_store", False, {}, None),
    ("model_name", "sentinel_model", {}, None),
    ("experiment_name", "sentinel-exp", {}, None),
    ("training_engine", "single_node", {}, r"\bengine: single_node\b"),
    ("spark_version", "17.3.x-cpu-ml-scala2.13", {}, None),
    ("node_type", "Standard_E8ds_v5", {}, None),
    ("num_workers", "7", {}, r"num_workers\s*=\s*7\b"),
    ("serverless", True, {}, None),
    ("serving", True, {}, None),
    ("serving_workload_size", "Large", {"serving": True}, None),
    ("serving_scale_to_zero_prod", True, {"serving": True}, None),
    ("python_version", "3.12", {}, None),
]


def test_every_question_has_an_effect_entry():
    template_json = yaml.safe_load((REPO_ROOT / "cookiecutter.json").read_text())
    questions = [k for k in template_json if not k.startswith("_")]
    assert [entry[0] for entry in PROMPT_EFFECTS] == questions


def file_contents(project: Path) -> dict[str, bytes]:
    return {name: (project / name).read_bytes() for name in project_files(project)
            if name != ".mlstack/answers.yml"}


@pytest.fixture(scope="module")
def default_bakes(tmp_path_factory):
    """Default projects per context, baked once, to compare each changed answer against."""
    from cookiecutter.main import cookiecutter

    cache: dict[tuple, dict[str, bytes]] = {}

    def get(context: dict) -> dict[str, bytes]:
        key = tuple(sorted(context.items()))
        if key not in cache:
            out = tmp_path_factory.mktemp("default")
            cookiecutter(str(REPO_ROOT), no_input=True, extra_context=context, output_dir=str(out))
            cache[key] = file_contents(next(out.iterdir()))
        return cache[key]

    return get


@pytest.mark.parametrize("key,value,context,trace", PROMPT_EFFECTS, ids=[e[0] for e in PROMPT_EFFECTS])
def test_changing_an_answer_changes_the_generated_repository(bake, default_bakes, key, value, context, trace):
    before = default_bakes(context)
    project = bake(**context, **{key: value})
    after = file_contents(project)
    if trace:
        assert any(re.search(trace, body.decode("utf-8", "replace")) for body in after.values()), trace
    # Choices whose values the default project names too (in comments, code) change files, not add words.
    if isinstance(value, bool) or key in ("cloud", "ci_platform", "project_slug", "package_name", "training_engine"):
        assert after != before, f"{key}={value!r} changed nothing in the generated files"
        return
    needle = str(value).encode()
    holders = [name for name, body in after.items() if needle in body and needle not in before.get(name, b"")]
    assert holders, f"{key}={value!r} appears in no generated file (beyond .mlstack/answers.yml)"
