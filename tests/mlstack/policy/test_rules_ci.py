"""CI rules on each platform: the generated pipelines pass, and each rule fires on a pipeline broken for it.

The pipelines are the template's own (baked once per session by helpers.bakes), edited the way
a team might; the rules read them through mlstack.policy.ci_files, never by grepping.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from helpers.bakes import baked
from mlstack.policy import ci_files
from mlstack.policy.engine import run_check
from mlstack.policy.policy_file import parse_policy
from mlstack.policy.repo import RepoFacts

TODAY = dt.date(2026, 11, 23)
GHA_CI, GHA_PROD = ".github/workflows/ci.yml", ".github/workflows/deploy-prod.yml"
ADO_CI, ADO_PROD = ".azure-pipelines/ci.yml", ".azure-pipelines/deploy-prod.yml"
GITLAB = ".gitlab-ci.yml"
CHECKOUT = "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1"


@pytest.fixture(params=["github_actions", "azure_devops", "gitlab"])
def platform(request) -> str:
    return request.param


def project_for(tmp_path: Path, platform: str) -> Path:
    copy = tmp_path / platform
    shutil.copytree(baked("azure", platform), copy, symlinks=True)
    return copy


def ci_findings(project: Path, rule: str, **params):
    report = run_check(project, parse_policy({"params": params}, "test-policy"), select=[rule], today=TODAY)
    return [(f.path, f.message) for f in report.findings]


def edit(project: Path, path: str, old: str, new: str, count: int = 1) -> None:
    file = project / path
    text = file.read_text()
    assert old in text, f"{old!r} not in {path}"
    file.write_text(text.replace(old, new, count))


def test_generated_pipelines_are_parsed_into_the_model(platform):
    repo = RepoFacts(baked("azure", platform))
    pipelines, problems = ci_files.load(repo.files, repo.read_text)
    assert problems == []
    jobs = {(p.path, j.name): j for p in pipelines for j in p.jobs}
    prod = {"github_actions": (GHA_PROD, "deploy-prod"), "azure_devops": (ADO_PROD, "DeployProd"),
            "gitlab": (GITLAB, "deploy-prod")}[platform]
    job = jobs[prod]
    assert job.environment == "prod" and job.line and any("ci/terraform.sh" in s for s in job.scripts)
    assert job.deployment is (platform == "azure_devops") and job.manual is (platform == "gitlab")
    if platform == "azure_devops":  # the step template is inlined, with the caller's parameters filled in
        assert {"TF_ENVIRONMENT": "prod", "TF_ACTIONS": "apply outputs"}.items() <= next(
            s.env for s in job.steps if "TF_ENVIRONMENT" in s.env).items()
    if platform == "gitlab":  # extends: merged, so the OIDC settings of .databricks-oidc are the job's
        assert job.env["DATABRICKS_AUTH_TYPE"] == "env-oidc" and "DATABRICKS_OIDC_TOKEN" in job.id_tokens


@pytest.mark.parametrize("rule", ["CI001", "CI101", "CI102", "CI103", "CI104", "CI105", "CI106"])
def test_generated_pipelines_pass(platform, rule):
    assert ci_findings(baked("azure", platform), rule) == []


# --- CI001: unparsable files are findings, not crashes -------------------------------------
MALFORMED = {"github_actions": (GHA_PROD, "jobs:\n  deploy-prod:\n    steps: [\n"),
             "azure_devops": (ADO_PROD, "trigger: [release\n"),
             "gitlab": (GITLAB, "deploy:\n  script: ok\n   bad: indent\n")}


def test_a_malformed_ci_file_is_its_own_finding(tmp_path, platform):
    project = project_for(tmp_path, platform)
    path, text = MALFORMED[platform]
    (project / path).write_text(text)
    assert [p for p, m in ci_findings(project, "CI001") if m.startswith("cannot be parsed: not valid YAML")] == [path]
    # Other CI rules still judge the rest and do not crash.
    report = run_check(project, parse_policy({}, "p"), select=["CI"], today=TODAY)
    assert not any("could not run" in f.message for f in report.findings)


def test_a_wrongly_shaped_workflow_is_a_finding(tmp_path):
    project = project_for(tmp_path, "github_actions")
    (project / GHA_PROD).write_text("on: push\njobs:\n  - deploy\n")
    assert ci_findings(project, "CI001") == [(GHA_PROD, "cannot be parsed: jobs must be a mapping")]


# --- CI101: pinned third-party code ---------------------------------------------------------
def test_an_unpinned_action_is_a_finding(tmp_path):
    project = project_for(tmp_path, "github_actions")
    edit(project, GHA_CI, f"uses: {CHECKOUT} # v7.0.1", "uses: actions/checkout@v4")
    edit(project, GHA_CI, "uses: actions/upload-artifact@bbbca2ddaa5d8feaa63e36b76fdaad77386f024f",
         "uses: actions/upload-artifact@main")
    assert ci_findings(project, "CI101") == [
        (GHA_CI, "action actions/checkout is pinned to 'v4', not a commit SHA"),
        (GHA_CI, "action actions/upload-artifact is pinned to 'main', not a commit SHA")]


def test_local_actions_and_digest_pinned_containers_pass(tmp_path):
    project = project_for(tmp_path, "github_actions")
    edit(project, GHA_CI, f"uses: {CHECKOUT} # v7.0.1", "uses: ./.github/actions/setup", 1)
    edit(project, GHA_CI, "uses: actions/setup-python@5fda3b95a4ea91299a34e894583c3862153e4b97",
         "uses: docker://alpine@sha256:" + "a" * 64, 1)
    assert ci_findings(project, "CI101") == []
    edit(project, GHA_CI, "docker://alpine@sha256:" + "a" * 64, "docker://alpine:3")
    assert ci_findings(project, "CI101") == [(GHA_CI, "container action docker://alpine:3 is not pinned by digest")]


def test_azure_repository_resources_follow_a_tag_not_a_branch(tmp_path):
    project = project_for(tmp_path, "azure_devops")
    resource = "resources:\n  repositories:\n    - repository: shared\n      type: github\n      name: org/pipes\n"
    edit(project, ADO_CI, "pool:\n", resource + "      ref: refs/heads/main\n\npool:\n")
    assert ci_findings(project, "CI101") == [(ADO_CI, "repository org/pipes follows refs/heads/main, not a tag or "
                                                      "commit")]
    edit(project, ADO_CI, "ref: refs/heads/main", "ref: refs/tags/v1.2.0")
    assert ci_findings(project, "CI101") == []


def test_gitlab_includes_are_pinned_by_sha(tmp_path):
    project = project_for(tmp_path, "gitlab")
    edit(project, GITLAB, "variables:\n", "include:\n  - project: platform/ci\n    ref: main\n    file: a.yml\n"
         "  - component: gitlab.com/org/lint@1.0\n\nvariables:\n")
    assert ci_findings(project, "CI101") == [
        (GITLAB, "project include platform/ci is pinned to 'main', not a commit SHA"),
        (GITLAB, "component include gitlab.com/org/lint is pinned to '1.0', not a commit SHA")]
    edit(project, GITLAB, "ref: main", f"ref: {'b' * 40}")
    edit(project, GITLAB, "lint@1.0", f"lint@{'c' * 40}")
    assert ci_findings(project, "CI101") == []


# --- CI102: untrusted input in scripts --------------------------------------------------------
def test_github_untrusted_interpolation_and_pull_request_target(tmp_path):
    project = project_for(tmp_path, "github_actions")
    edit(project, GHA_CI, "        run: ruff check src tests ci",
         '        run: echo "${{ github.event.pull_request.title }} ${{ github.event.pull_request.head.sha }}"')
    edit(project, GHA_CI, "  pull_request:\n", "  pull_request_target:\n  pull_request:\n")
    assert ci_findings(project, "CI102") == [
        (GHA_CI, "triggered by pull_request_target, which runs with the base repository's secrets on code an "
                 "outsider controls"),
        (GHA_CI, "GitHub Actions job `lint` step `Ruff` pastes `github.event.pull_request.title` into its script")]


def test_azure_macros_of_branch_names_in_scripts(tmp_path):
    project = project_for(tmp_path, "azure_devops")
    edit(project, ADO_CI, "      - script: ruff check src tests ci", '      - script: echo "$(Build.SourceBranchName)"')
    assert ci_findings(project, "CI102") == [
        (ADO_CI, "Azure DevOps job `Lint` step `Ruff` pastes `$(Build.SourceBranchName)` into its script")]


def test_gitlab_unquoted_untrusted_variables(tmp_path):
    project = project_for(tmp_path, "gitlab")
    edit(project, GITLAB, "    - ruff check src tests ci",
         '    - echo "$CI_COMMIT_BRANCH" ok\n    - git log $CI_COMMIT_BRANCH')
    assert ci_findings(project, "CI102") == [
        (GITLAB, "GitLab CI job `lint` step `script` pastes `$CI_COMMIT_BRANCH` into its script")]


# --- CI103: least privilege -------------------------------------------------------------------
def test_github_workflows_declare_least_permissions(tmp_path):
    project = project_for(tmp_path, "github_actions")
    edit(project, GHA_CI, "permissions:\n  contents: read\n\nconcurrency", "concurrency")
    edit(project, GHA_PROD, "permissions: {}", "permissions: write-all")
    edit(project, GHA_PROD, "    permissions:\n      contents: read\n      id-token: write",
         "    permissions: write-all")
    assert ci_findings(project, "CI103") == [
        (GHA_CI, "no top-level `permissions`: every job gets the repository's default token scopes"),
        (GHA_PROD, "top-level `permissions` grant write-all to every job"),
        (GHA_PROD, "GitHub Actions job `deploy-prod` asks for `permissions: write-all`")]


@pytest.mark.parametrize("platform", ["github_actions", "azure_devops"])  # GitLab: no checkout step (CI103 docs)
def test_checkouts_do_not_persist_the_token(tmp_path, platform):
    project = project_for(tmp_path, platform)
    if platform == "github_actions":
        edit(project, GHA_CI, f"uses: {CHECKOUT} # v7.0.1\n        with:\n          persist-credentials: false\n",
             f"uses: {CHECKOUT} # v7.0.1\n")
        expected = [(GHA_CI, "GitHub Actions job `lint` checks out with the job token persisted in .git/config "
                             "for every later step")]
    else:
        edit(project, ADO_CI, "      - checkout: self\n", "      - checkout: self\n        persistCredentials: true\n")
        expected = [(ADO_CI, "Azure DevOps job `Lint` checks out with the job token persisted in .git/config for "
                             "every later step")]
    assert ci_findings(project, "CI103") == expected


# --- CI104: prod only from release, only through an approval gate ------------------------------
def test_a_prod_job_without_approval_is_a_finding(tmp_path, platform):
    project = project_for(tmp_path, platform)
    if platform == "github_actions":
        edit(project, GHA_PROD, "    environment:\n      name: prod\n      url: ${{ vars.DATABRICKS_HOST }}\n", "")
        expected = "GitHub Actions job `deploy-prod` deploys to prod without an approval gate (no `environment:`)"
        path = GHA_PROD
    elif platform == "azure_devops":
        edit(project, ADO_PROD, "      - deployment: DeployProd", "      - job: DeployProd")
        expected = ("Azure DevOps job `DeployProd` deploys to prod without an approval gate (not a deployment job "
                    "on an environment)")
        path = ADO_PROD
    else:
        edit(project, GITLAB, "    - <<: *push-release\n      when: manual\n", "    - *push-release\n")
        expected = ("GitLab CI job `deploy-prod` deploys to prod without an approval gate (no environment, or "
                    "neither `when: manual` nor started from the UI)")
        path = GITLAB
    assert ci_findings(project, "CI104") == [(path, expected)]


def test_prod_deploys_only_from_the_release_branch(tmp_path, platform):
    project = project_for(tmp_path, platform)
    if platform == "github_actions":
        edit(project, GHA_PROD, 'branches: ["release"]', 'branches: ["release", "main"]')
        edit(project, GHA_PROD, "    if: github.ref == 'refs/heads/release'\n", "")
        path, name = GHA_PROD, "GitHub Actions job `deploy-prod`"
    elif platform == "azure_devops":
        edit(project, ADO_PROD, 'include: ["release"]', 'include: ["release", "main"]')
        edit(project, ADO_PROD, "    condition: eq(variables['Build.SourceBranch'], 'refs/heads/release')\n", "")
        path, name = ADO_PROD, "Azure DevOps job `DeployProd`"
    else:
        edit(project, GITLAB, '$CI_COMMIT_BRANCH == "release"\n', '$CI_COMMIT_BRANCH =~ /^release|main$/\n')
        path, name = GITLAB, "GitLab CI job `deploy-prod`"
    assert ci_findings(project, "CI104") == [(path, f"{name} deploys to prod from branches other than 'release'")]


def test_the_release_branch_comes_from_the_answers_or_the_policy(tmp_path):
    project = project_for(tmp_path, "github_actions")
    assert ci_findings(project, "CI104", release_branch="production") == [
        (GHA_PROD, "GitHub Actions job `deploy-prod` deploys to prod from branches other than 'production'"),
        (".github/workflows/rollback.yml", "GitHub Actions job `rollback` deploys to prod from branches other than "
                                           "'production'")]


def test_a_rollback_to_a_chosen_environment_is_judged_as_a_prod_deploy(tmp_path):
    project = project_for(tmp_path, "github_actions")
    edit(project, ".github/workflows/rollback.yml", "    if: inputs.environment == 'staging' || github.ref == "
         "'refs/heads/release'\n", "")
    assert ci_findings(project, "CI104") == [
        (".github/workflows/rollback.yml", "GitHub Actions job `rollback` deploys to prod from branches other than "
                                           "'release'")]


# --- CI105: OIDC, not long-lived secrets ----------------------------------------------------------
def test_long_lived_credentials_are_findings(tmp_path, platform):
    project = project_for(tmp_path, platform)
    if platform == "github_actions":
        edit(project, GHA_PROD, "      DATABRICKS_AUTH_TYPE: github-oidc\n",
             "      DATABRICKS_AUTH_TYPE: github-oidc\n      DATABRICKS_TOKEN: ${{ secrets.DATABRICKS_TOKEN }}\n")
        expected = [(GHA_PROD, "GitHub Actions job `deploy-prod` uses the long-lived credential DATABRICKS_TOKEN")]
    elif platform == "azure_devops":
        edit(project, ADO_PROD, "                  env:\n                    SYSTEM_ACCESSTOKEN",
             "                  env:\n                    ARM_CLIENT_SECRET: $(ARM_CLIENT_SECRET)\n"
             "                    SYSTEM_ACCESSTOKEN")
        expected = [(ADO_PROD, "Azure DevOps job `DeployProd` uses the long-lived credential ARM_CLIENT_SECRET")]
    else:
        edit(project, GITLAB, "    - bash ci/terraform.sh prod apply outputs",
             '    - export AWS_SECRET_ACCESS_KEY="$PROD_AWS_KEY"\n    - curl -H "Bearer $DATABRICKS_TOKEN" x')
        expected = [(GITLAB, "GitLab CI job `deploy-prod` uses the long-lived credential AWS_SECRET_ACCESS_KEY"),
                    (GITLAB, "GitLab CI job `deploy-prod` uses the long-lived credential DATABRICKS_TOKEN")]
    assert ci_findings(project, "CI105") == expected


def test_databricks_jobs_must_use_the_platforms_oidc_token(tmp_path, platform):
    project = project_for(tmp_path, platform)
    if platform == "github_actions":
        edit(project, GHA_PROD, "      contents: read\n      id-token: write\n", "      contents: read\n")
        expected = [(GHA_PROD, "GitHub Actions job `deploy-prod` reaches Databricks by OIDC without `permissions: "
                               "id-token: write`")]
    elif platform == "azure_devops":
        edit(project, ADO_PROD, "    value: azure-devops-oidc", "    value: pat")
        expected = [(ADO_PROD, "Azure DevOps job `DeployProd` reaches Databricks with DATABRICKS_AUTH_TYPE=pat, not "
                               "azure-devops-oidc")]
    else:
        edit(project, GITLAB, ".databricks-oidc:\n  id_tokens:\n    DATABRICKS_OIDC_TOKEN:\n"
             "      aud: https://gitlab.com/my-org/maternal-health-risk\n", ".databricks-oidc:\n")
        found = ci_findings(project, "CI105")
        assert (GITLAB, "GitLab CI job `deploy-prod` reaches Databricks by OIDC without requesting the `id_tokens` "
                        "token DATABRICKS_OIDC_TOKEN") in found
        # Every job that extends .databricks-oidc (integration run, deploys, rollbacks) loses its token.
        assert all("id_tokens" in message for _, message in found) and len(found) == 5
        return
    assert ci_findings(project, "CI105") == expected


# --- CI106: the governance check runs on pull requests ------------------------------------------
def test_the_governance_check_must_run_on_pull_requests(tmp_path, platform):
    project = project_for(tmp_path, platform)
    if platform == "github_actions":
        edit(project, GHA_CI, "        run: mlstack check\n", "        run: mlstack validate\n")
        path, name = GHA_CI, "GitHub Actions"
    elif platform == "azure_devops":
        edit(project, ADO_CI, 'pr:\n  branches:\n    include: ["main"]\n', "pr: none\n")
        path, name = ADO_CI, "Azure DevOps"
    else:
        edit(project, GITLAB, "governance:\n  stage: test\n  extends: [.terraform]\n  rules:\n    - *mr-to-main\n",
             "governance:\n  stage: test\n  extends: [.terraform]\n  rules:\n    - *push-main\n")
        path, name = GITLAB, "GitLab CI"
    assert ci_findings(project, "CI106") == [(path, f"no {name} pull-request job runs `mlstack check`")]


def test_a_repository_without_ci_files_has_nothing_to_judge(tmp_path):
    (tmp_path / "README.md").write_text("# x\n")
    report = run_check(tmp_path, parse_policy({}, "p"), select=["CI"], today=TODAY)
    assert report.findings == []


def test_a_missing_azure_step_template_is_a_finding(tmp_path):
    project = project_for(tmp_path, "azure_devops")
    (project / ".azure-pipelines" / "templates" / "terraform.yml").unlink()
    assert ci_findings(project, "CI001") == [(".azure-pipelines/templates/terraform.yml", "cannot be parsed: is "
                                              "included by a pipeline but is not a file of this repository")]


def test_odd_shapes_never_crash_a_rule(tmp_path):
    """Hostile or half-written pipelines give findings, never `rule could not run`."""
    shapes = {".github/workflows/a.yml": "on: [push]\njobs: {a: {steps: null, if: 5, env: {DATABRICKS_HOST: 1}, "
                                         "permissions: {id-token: 5}}}\n",
              ".azure-pipelines/x.yml": "trigger: 5\nstages: [{stage: a, jobs: [{deployment: d, environment: "
                                        "{name: prod}, strategy: {runOnce: 5}}]}]\n",
              ".gitlab-ci.yml": "a: {script: [[[x]]], rules: [5, {if: 3}], environment: {name: [1]}, only: "
                                "{refs: 5}}\n"}
    for path, text in shapes.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    report = run_check(tmp_path, parse_policy({}, "p"), select=["CI"], today=TODAY)
    assert report.findings and not any("could not run" in f.message for f in report.findings)


@pytest.mark.parametrize("condition,guarded", [
    ("github.ref == 'refs/heads/release'", True),
    ("inputs.environment == 'staging' || github.ref == 'refs/heads/release'", True),
    ("${{ github.ref == 'refs/heads/release' && success() }}", True),
    ("always() || github.ref == 'refs/heads/release'", False),
    ("inputs.environment == 'prod' || github.ref == 'refs/heads/release'", False),
])
def test_a_github_if_guards_prod_only_when_every_branch_of_it_does(tmp_path, condition, guarded):
    project = project_for(tmp_path, "github_actions")
    edit(project, ".github/workflows/rollback.yml",
         "    if: inputs.environment == 'staging' || github.ref == 'refs/heads/release'\n", f'    if: "{condition}"\n')
    found = ci_findings(project, "CI104")
    assert (found == []) is guarded, found
