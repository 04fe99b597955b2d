"""The CI identity handshake, checked from both sides: what each job presents, what the bootstrap trusts.

ci/identities.json says, per environment, which OIDC identities (claim = value) the bootstrap
trusts and which audience Databricks expects. This module reads the CI files the way the
platform would, works out the token every job that talks to Databricks or the cloud would
carry (issuer, subject and other claims, audience) and reports, naming the job, each one that
would be refused, or that could obtain another environment's token. It also checks that the
bootstrap Terraform takes its trusts from ci/identities.json rather than from literals.
`ci/lint_ci.py` (make lint-ci) runs it; it needs pyyaml and python-hcl2 (ci/requirements-lint.txt).
"""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
IDENTITIES = "ci/identities.json"
ANY_BRANCH = "*"  # a job that runs on whatever branch a merge request comes from


@dataclass
class Presented:
    """The token one job would present, for one environment and one branch it runs on."""

    job: str
    env: str | None
    claims: dict[str, str]
    databricks_audience: str | None = None
    uses: set[str] = field(default_factory=set)  # "databricks", "cloud"


def matches(trust: dict, presented: Presented, consumer: str) -> bool:
    """Whether one trusted identity of ci/identities.json accepts this token, as `consumer` matches."""
    sub = presented.claims.get("sub", "")
    if consumer == "aws":  # IAM can only match `sub`, with wildcards
        pattern = trust.get("sub_like") or (trust["value"] if trust["claim"] == "sub" else None)
        return (
            pattern is not None
            and fnmatch.fnmatchcase(sub, pattern)
            and (ANY_BRANCH not in sub or pattern.endswith("*"))
        )
    if consumer == "azure" and trust["claim"] != "sub":  # Entra ID matches exact subjects only
        return False
    value = presented.claims.get(trust["claim"])
    return value is not None and ANY_BRANCH not in value and value == trust["value"]


# --- what the jobs present ---------------------------------------------------------------------


def _yaml(path: Path):
    import yaml

    class Loader(yaml.SafeLoader):
        """YAML 1.2 booleans: GitHub's `on:` key stays the string "on"."""

    Loader.yaml_implicit_resolvers = {
        key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
        for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    return yaml.load(path.read_text(encoding="utf-8"), Loader=Loader)  # noqa: S506 - a SafeLoader


def github_jobs(root: Path, identity: dict) -> tuple[list[Presented], list[str]]:
    presented, problems = [], []
    repository = identity["repository"]
    for path in sorted((root / ".github" / "workflows").glob("*.yml")):
        flow = _yaml(path)
        triggers = flow.get("on") or {}
        triggers = {name: None for name in triggers} if isinstance(triggers, list) else triggers
        for name, job in (flow.get("jobs") or {}).items():
            where = f"{path.name}/{name}"
            env_vars = {**(flow.get("env") or {}), **(job.get("env") or {})}
            steps = job.get("steps") or []
            uses = set()
            if "DATABRICKS_AUTH_TYPE" in env_vars:
                uses.add("databricks")
                if env_vars["DATABRICKS_AUTH_TYPE"] != "github-oidc":
                    problems.append(
                        f"{where}: DATABRICKS_AUTH_TYPE is {env_vars['DATABRICKS_AUTH_TYPE']!r}; "
                        "the federation policies expect github-oidc"
                    )
            if env_vars.get("ARM_USE_OIDC") or any(
                str(step.get("uses", "")).startswith(
                    ("aws-actions/configure-aws-credentials@", "google-github-actions/auth@")
                )
                for step in steps
            ):
                uses.add("cloud")
            if not uses:
                continue
            if (job.get("permissions") or {}).get("id-token") != "write":
                problems.append(f"{where}: needs `permissions: id-token: write` to request its OIDC token")
            environment = job.get("environment")
            environment = environment.get("name") if isinstance(environment, dict) else environment
            audience = env_vars.get("DATABRICKS_TOKEN_AUDIENCE")
            if environment is None:
                subjects = (
                    [f"repo:{repository}:pull_request"]
                    if "pull_request" in triggers
                    else [
                        f"repo:{repository}:ref:refs/heads/{branch}"
                        for branch in ((triggers.get("push") or {}).get("branches") or ["<branch>"])
                    ]
                )
                for subject in subjects:
                    presented.append(Presented(where, None, {"sub": subject}, audience, uses))
                continue
            for env in _github_environments(environment, triggers):
                presented.append(
                    Presented(where, env, {"sub": f"repo:{repository}:environment:{env}"}, audience, uses)
                )
                problems += _github_branch_problems(where, env, job, triggers, identity)
    return presented, problems


def _github_environments(environment: str, triggers: dict) -> list[str]:
    """`environment: prod`, or an expression over a workflow_dispatch choice input."""
    match = re.fullmatch(r"\$\{\{\s*inputs\.([\w-]+)\s*\}\}", str(environment))
    if not match:
        return [str(environment)]
    inputs = (triggers.get("workflow_dispatch") or {}).get("inputs") or {}
    return [str(option) for option in (inputs.get(match.group(1)) or {}).get("options") or ["<any input>"]]


def _github_branch_problems(where: str, env: str, job: dict, triggers: dict, identity: dict) -> list[str]:
    """A job bound to prod must only run on prod's deploy branch, which is all its environment accepts."""
    environments = identity["environments"]
    if env not in environments or env == "staging":
        return []
    branch = environments[env]["deploy_branch"]
    condition = str(job.get("if", ""))
    if "pull_request" in triggers:
        return [
            f"{where}: runs on pull requests but is bound to {env}, "
            f"which accepts deployments from {branch} only"
        ]
    pushed = set((triggers.get("push") or {}).get("branches") or [])
    guarded = set(re.findall(r"refs/heads/([\w./-]+)'", condition))
    if pushed - {branch} or guarded - {branch} or not (pushed or guarded):
        runs_on = ", ".join(sorted(pushed | guarded)) or "any branch"
        return [
            f"{where}: runs on {runs_on}, but the {env} environment accepts deployments from {branch} only "
            f"({IDENTITIES} environments.{env}.deploy_branch)"
        ]
    return []


def gitlab_jobs(root: Path, identity: dict) -> tuple[list[Presented], list[str]]:
    config = _yaml(root / ".gitlab-ci.yml") or {}
    presented, problems = [], []
    reserved = {"workflow", "variables", "default", "stages", "include"}
    cloud_tokens = {"ARM_OIDC_TOKEN", "AWS_ID_TOKEN", "GCP_ID_TOKEN"}
    repository = identity["repository"]
    for name in config:
        if name.startswith(".") or name in reserved or not isinstance(config[name], dict):
            continue
        job = _gitlab_resolved(config, name)
        tokens = job.get("id_tokens") or {}
        variables = job.get("variables") or {}
        uses = set()
        if "DATABRICKS_AUTH_TYPE" in variables:
            uses.add("databricks")
            if variables["DATABRICKS_AUTH_TYPE"] != "env-oidc" or "DATABRICKS_OIDC_TOKEN" not in tokens:
                problems.append(
                    f"{name}: Databricks needs DATABRICKS_AUTH_TYPE=env-oidc and an id_tokens entry "
                    "DATABRICKS_OIDC_TOKEN (no stored secrets)"
                )
        if cloud_tokens & set(tokens):
            uses.add("cloud")
        if not uses:
            continue
        env = (
            (job.get("environment") or {}).get("name")
            if isinstance(job.get("environment"), dict)
            else job.get("environment")
        )
        audience = (tokens.get("DATABRICKS_OIDC_TOKEN") or {}).get("aud")
        for branch in _gitlab_branches(job.get("rules") or []):
            sub = f"project_path:{repository}:ref_type:branch:ref:{branch}"
            presented.append(Presented(name, env, {"sub": sub, "project_path": repository}, audience, uses))
    return presented, problems


def _gitlab_resolved(config: dict, name: str) -> dict:
    job: dict = {}
    parents = config[name].get("extends", [])
    for parent in [parents] if isinstance(parents, str) else parents:
        job = _merge(job, _gitlab_resolved(config, parent))
    return _merge(job, {key: value for key, value in config[name].items() if key != "extends"})


def _merge(base: dict, override: dict) -> dict:
    result = dict(base)
    for key, value in override.items():
        both = isinstance(value, dict) and isinstance(result.get(key), dict)
        result[key] = _merge(result[key], value) if both else value
    return result


def _gitlab_branches(rules: list) -> list[str]:
    """The branches a job's rules let it run on; merge request jobs run on any source branch."""
    branches = []
    for rule in rules:
        condition = str(rule.get("if", "")) if isinstance(rule, dict) else ""
        if "merge_request_event" in condition:
            branches.append(ANY_BRANCH)
        else:
            branches += re.findall(r'\$CI_COMMIT_BRANCH == "([^"]+)"', condition) or [ANY_BRANCH]
    return sorted(set(branches)) or [ANY_BRANCH]


def azure_devops_jobs(root: Path, identity: dict) -> tuple[list[Presented], list[str]]:
    presented, problems = [], []
    slug = identity["repository"]
    files = {pipeline["file"]: name for name, pipeline in identity["pipelines"].items()}
    for path in sorted((root / ".azure-pipelines").glob("*.yml")):
        relative = path.relative_to(root).as_posix()
        if relative not in files:
            problems.append(
                f"{relative}: no pipeline in {IDENTITIES} runs this file, so the bootstrap neither "
                "creates nor trusts it: add it there"
            )
    for name, pipeline in identity["pipelines"].items():
        path = root / pipeline["file"]
        if not path.is_file():
            problems.append(f"pipeline {name}: {pipeline['file']} does not exist ({IDENTITIES})")
            continue
        document = _yaml(path) or {}
        auth = {v.get("name"): v.get("value") for v in document.get("variables") or [] if isinstance(v, dict)}
        subject = f"p://{identity['organization']}/{identity['project']}/{name}"
        for job in _azure_jobs(document):
            groups = [v["group"] for v in job.get("variables") or [] if isinstance(v, dict) and "group" in v]
            envs = sorted({group[len(slug) + 1 :] for group in groups if group.startswith(f"{slug}-")})
            if not envs:
                continue
            where = f"{name}/{job.get('job') or job.get('deployment')}"
            if auth.get("DATABRICKS_AUTH_TYPE") != "azure-devops-oidc":
                problems.append(f"{where}: set the pipeline variable DATABRICKS_AUTH_TYPE=azure-devops-oidc")
            for env in envs:
                if job.get("environment") not in (None, env):
                    problems.append(
                        f"{where}: deploys to environment {job['environment']!r} with the {env} variables"
                    )
                if env != pipeline["environment"]:
                    problems.append(
                        f"{where}: uses the {env} variables, but {IDENTITIES} says pipeline {name} "
                        f"serves {pipeline['environment']}"
                    )
                # Databricks always; the cloud too where the job runs Terraform (its state backend).
                uses = {"databricks"} | ({"cloud"} if "templates/terraform.yml" in json.dumps(job) else set())
                presented.append(
                    Presented(where, env, {"sub": subject}, identity["databricks_audience"], uses)
                )
    return presented, problems


def _azure_jobs(document: dict) -> list[dict]:
    jobs = list(document.get("jobs") or [])
    for stage in document.get("stages") or []:
        jobs += stage.get("jobs") or []
    return [job for job in jobs if isinstance(job, dict)]


PLATFORMS = {"github_actions": github_jobs, "gitlab": gitlab_jobs, "azure_devops": azure_devops_jobs}


# --- both sides together ---------------------------------------------------------------------------


def cloud_of(root: Path) -> str | None:
    for cloud in ("aws", "azure", "gcp"):
        if (root / "terraform" / "bootstrap" / f"cloud_{cloud}.tf").is_file():
            return cloud
    return None


def check_handshakes(identity: dict, presented: list[Presented], cloud: str | None) -> list[str]:
    """Every token is accepted by its own environment's trusts and by no other environment's."""
    problems = []
    environments = identity["environments"]
    for token in presented:
        if token.env not in environments:
            problems.append(
                f"{token.job}: its token says {token.claims['sub']}, which belongs to no environment "
                f"of {IDENTITIES}: bind the job to staging or prod"
            )
            continue
        consumers = (["databricks"] if "databricks" in token.uses else []) + (
            [cloud] if "cloud" in token.uses and cloud else []
        )
        for consumer in consumers:
            own = environments[token.env]["trust"]
            if not any(matches(trust, token, consumer) for trust in own):
                trusted = "; ".join(trust["value"] for trust in own)
                problems.append(
                    f"{token.job}: {consumer} would refuse its {token.env} token (sub "
                    f"{token.claims['sub']}); the bootstrap trusts {trusted} ({IDENTITIES})"
                )
            # Environments are listed from least to most trusted: only the way up is a leak.
            for other in list(environments)[list(environments).index(token.env) + 1 :]:
                if any(matches(trust, token, consumer) for trust in environments[other]["trust"]):
                    problems.append(
                        f"{token.job}: a {token.env} job whose token {consumer} would also accept "
                        f"for {other}: narrow the {other} trusts in {IDENTITIES}"
                    )
        if "databricks" in token.uses and token.databricks_audience != identity["databricks_audience"]:
            problems.append(
                f"{token.job}: its Databricks token audience is {token.databricks_audience!r}, but the "
                f"federation policies accept {identity['databricks_audience']!r} ({IDENTITIES})"
            )
    return problems


# The bootstrap's trust-bearing attributes and the expressions that take them from ci/identities.json.
TERRAFORM_WIRING = {
    "main.tf": [
        ("databricks_service_principal_federation_policy", "ci", "for_each", "${local.ci_trust}"),
        ("databricks_service_principal_federation_policy", "ci", "oidc_policy.issuer", "${local.ci_issuer}"),
        (
            "databricks_service_principal_federation_policy",
            "ci",
            "oidc_policy.audiences",
            ["${local.ci_identity.databricks_audience}"],
        ),
        (
            "databricks_service_principal_federation_policy",
            "ci",
            "oidc_policy.subject_claim",
            "${each.value.claim}",
        ),
        (
            "databricks_service_principal_federation_policy",
            "ci",
            "oidc_policy.subject",
            "${each.value.value}",
        ),
    ],
    "cloud_azure.tf": [
        ("azurerm_federated_identity_credential", "ci", "subject", "${each.value.value}"),
        ("azurerm_federated_identity_credential", "ci", "issuer", "${local.ci_issuer}"),
    ],
    "cloud_gcp.tf": [
        ("google_service_account_iam_member", "ci_workload_identity", "for_each", "${local.ci_trust}"),
    ],
    "ci_github.tf": [
        (
            "github_repository_environment_deployment_policy",
            "prod",
            "branch_pattern",
            '${local.ci_identity.environments["prod"].deploy_branch}',
        ),
    ],
}


def check_terraform(bootstrap: Path) -> list[str]:
    """The bootstrap reads ci/identities.json and builds every trust from it."""
    import hcl2
    from hcl2.api import SerializationOptions

    options = SerializationOptions(strip_string_quotes=True, explicit_blocks=False, with_comments=False)
    parsed = {
        path.name: hcl2.loads(path.read_text(encoding="utf-8"), serialization_options=options)
        for path in sorted(bootstrap.glob("*.tf"))
    }
    problems = []
    identity_locals = [
        entry["ci_identity"]
        for body in parsed.values()
        for entry in body.get("locals", [])
        if "ci_identity" in entry
    ]
    if not any(
        IDENTITIES.split("/")[-1] in str(expression) and "jsondecode" in str(expression)
        for expression in identity_locals
    ):
        problems.append(
            f"terraform/bootstrap: no `local.ci_identity = jsondecode(file(.../{IDENTITIES}))`, "
            "so its trusts cannot be the ones CI presents"
        )
    for filename, wiring in TERRAFORM_WIRING.items():
        if filename not in parsed:
            continue
        resources = {}
        for entry in parsed[filename].get("resource", []):
            for kind, named in entry.items():
                for label, body in named.items():
                    resources[(kind, label)] = body
        for kind, label, attribute, expected in wiring:
            value = resources.get((kind, label))
            for part in attribute.split("."):
                value = value.get(part) if isinstance(value, dict) else None
            if value != expected:
                problems.append(
                    f"terraform/bootstrap/{filename}: {kind}.{label} {attribute} is {value!r}; it must "
                    f"be {expected!r} so the trust comes from {IDENTITIES}"
                )
    if "cloud_aws.tf" in parsed and "local.ci_trust" not in json.dumps(parsed["cloud_aws.tf"]):
        problems.append(
            f"terraform/bootstrap/cloud_aws.tf: the CI role trust does not read local.ci_trust ({IDENTITIES})"
        )
    return problems


def check(root: Path = REPO_ROOT) -> list[str]:
    """Every identity problem of this repository, one line each (empty: the handshakes match)."""
    path = root / IDENTITIES
    if not path.is_file():
        return [f"{IDENTITIES} is missing: it says which CI identities the bootstrap trusts"]
    try:
        identity = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        return [f"{IDENTITIES}: not valid JSON ({error})"]
    platform = identity.get("ci_platform")
    if platform not in PLATFORMS:
        return [f"{IDENTITIES}: ci_platform must be one of {', '.join(PLATFORMS)}, not {platform!r}"]
    presented, problems = PLATFORMS[platform](root, identity)
    if not presented:
        problems.append(
            f"no CI job presents an identity of {IDENTITIES}: did the deploy jobs lose their credentials?"
        )
    problems += check_handshakes(identity, presented, cloud_of(root))
    if (root / "terraform" / "bootstrap").is_dir():
        problems += check_terraform(root / "terraform" / "bootstrap")
    return problems
