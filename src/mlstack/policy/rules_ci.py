"""CI: pipelines on GitHub Actions, Azure DevOps and GitLab are pinned, least-privilege, OIDC-only and gated.

Every rule judges the parsed model of mlstack.policy.ci_files (never a grep of the YAML), per
platform; where a platform has no such setting in its YAML the rule says so in its docs.
"""

from __future__ import annotations

import re

from mlstack.policy.model import ERROR, Finding, Rule, register

FULL_SHA = re.compile(r"^[0-9a-f]{40}$")
# Credentials that outlive a job: cloud keys, Databricks PATs and OAuth secrets.
LONG_LIVED = {"DATABRICKS_TOKEN", "DATABRICKS_CLIENT_SECRET", "DATABRICKS_PASSWORD", "ARM_CLIENT_SECRET",
              "ARM_ACCESS_KEY", "AZURE_CLIENT_SECRET", "AZURE_CREDENTIALS", "AZURE_STORAGE_KEY", "AWS_ACCESS_KEY_ID",
              "AWS_SECRET_ACCESS_KEY", "GOOGLE_CREDENTIALS", "GOOGLE_APPLICATION_CREDENTIALS",
              "GOOGLE_CLOUD_KEYFILE_JSON", "GCP_SA_KEY", "GCP_CREDENTIALS"}
# Action inputs that take a stored credential instead of the job's OIDC token.
LONG_LIVED_INPUTS = {"creds", "client-secret", "credentials_json", "aws-access-key-id", "aws-secret-access-key"}
OIDC_AUTH_TYPES = {"github_actions": "github-oidc", "azure_devops": "azure-devops-oidc", "gitlab": "env-oidc"}
# GitHub: expression contexts an outsider controls (a branch name, a title, an input).
UNTRUSTED_GITHUB = re.compile(r"\$\{\{[^}]*?\b(github\.event\.[\w.\-\[\]'\"*]+|github\.head_ref|inputs\.[\w-]+)")
SAFE_GITHUB_SUFFIX = re.compile(r"\.(?:sha|number|id|run_id|run_number)$")
# Azure DevOps: macros and template expressions are pasted into the script before the shell runs.
UNTRUSTED_AZURE = re.compile(r"\$\{\{\s*parameters\.[\w-]+\s*\}\}|\$\((?:System\.PullRequest\.(?!PullRequestId|"
                             r"PullRequestNumber|SourceCommitId)\w+|Build\.SourceBranchName|Build\.SourceBranch|"
                             r"Build\.SourceVersionMessage|Build\.RequestedFor\w*)\)")
# GitLab: variables whose value an outsider writes; safe inside double quotes, not outside.
UNTRUSTED_GITLAB = re.compile(r"\$\{?(CI_COMMIT_MESSAGE|CI_COMMIT_TITLE|CI_COMMIT_DESCRIPTION|CI_COMMIT_REF_NAME|"
                              r"CI_COMMIT_BRANCH|CI_COMMIT_TAG_MESSAGE|CI_MERGE_REQUEST_TITLE|"
                              r"CI_MERGE_REQUEST_DESCRIPTION|CI_MERGE_REQUEST_SOURCE_BRANCH_NAME|"
                              r"CI_EXTERNAL_PULL_REQUEST_SOURCE_BRANCH_NAME)\b\}?")
PROD_WORD = r"(?<![\w./-]){}(?![\w./-])"


def _pipelines(repo):
    """The repository's pipelines and parse problems, loaded once for every CI rule."""
    if not hasattr(repo, "_ci_pipelines"):
        from mlstack.policy import ci_files

        repo._ci_pipelines = ci_files.load(repo.files, repo.read_text)
    return repo._ci_pipelines


def _where(pipeline, job) -> str:
    from mlstack.policy.ci_files import PLATFORM_NAMES

    return f"{PLATFORM_NAMES[pipeline.platform]} job `{job.name}`"


def _release_branch(repo, params) -> str:
    branch = params.release_branch or repo.answers.get("release_branch")
    return branch if isinstance(branch, str) and branch else "release"


@register
class CI001(Rule):
    """Every CI file (GitHub workflows, Azure Pipelines, .gitlab-ci.yml) parses as its platform's pipeline."""

    family = "CI"
    severity = ERROR
    fix = "fix the YAML (the platform would refuse this pipeline too); the other CI rules cannot judge it until then"

    def check(self, repo, params):
        for problem in _pipelines(repo)[1]:
            yield Finding(self.id, ERROR, f"cannot be parsed: {problem.message}", problem.path)


@register
class CI101(Rule):
    """Third-party code is pinned: GitHub actions by full commit SHA, Azure DevOps repository resources by tag or
    commit, GitLab project/component includes by commit SHA and remote includes by integrity hash."""

    family = "CI"
    severity = ERROR
    fix = "pin to the full 40-character commit SHA of the release (keep the version in a comment: `@<sha> # v4.2.0`)"

    def check(self, repo, params):
        for pipeline in _pipelines(repo)[0]:
            for reference, line in pipeline.references:
                problem = _unpinned(pipeline.platform, reference, pipeline)
                if problem:
                    yield Finding(self.id, ERROR, problem, pipeline.path, line)


def _unpinned(platform: str, reference: str, pipeline) -> str | None:
    if platform == "github_actions":
        if reference.startswith("./"):
            return None
        if reference.startswith("docker://"):
            return None if "@sha256:" in reference else f"container action {reference} is not pinned by digest"
        target, _, ref = reference.partition("@")
        return None if FULL_SHA.match(ref) else f"action {target} is pinned to {ref or 'nothing'!r}, not a commit SHA"
    if platform == "azure_devops":
        name, _, ref = reference.partition("@")
        if ref.startswith("refs/tags/") or FULL_SHA.match(ref):
            return None
        return f"{name} follows {ref}, not a tag or commit"
    kind, _, target = reference.partition(" ")
    if kind == "template":
        return None  # GitLab's own templates ship with the GitLab instance
    if kind == "remote":
        return None if "integrity" in pipeline.text else f"remote include {target} has no `integrity:` hash"
    name, _, ref = target.rpartition("@") if "@" in target else (target, "", "")
    return None if FULL_SHA.match(ref) else f"{kind} include {name or target} is pinned to {ref or 'nothing'!r}, " \
                                            "not a commit SHA"


@register
class CI102(Rule):
    """No untrusted input pasted into scripts: no GitHub `pull_request_target`/`workflow_run` triggers or
    `${{ github.event.* }}`/`inputs.*` in `run:`, no Azure DevOps `${{ parameters.* }}` or branch/message macros in
    scripts, no unquoted GitLab branch/title/message variables."""

    family = "CI"
    severity = ERROR
    fix = "pass the value through the step's `env:` and use \"$VARIABLE\" (quoted) in the script"

    def check(self, repo, params):
        for pipeline in _pipelines(repo)[0]:
            if pipeline.platform == "github_actions":
                for trigger in ("pull_request_target", "workflow_run"):
                    if trigger in pipeline.triggers:
                        yield Finding(self.id, ERROR, f"triggered by {trigger}, which runs with the base repository's "
                                      "secrets on code an outsider controls", pipeline.path,
                                      pipeline.line_of(trigger))
            for job in pipeline.jobs:
                for step in job.steps:
                    for expression in _untrusted(pipeline.platform, step.script or ""):
                        yield Finding(self.id, ERROR, f"{_where(pipeline, job)} step `{step.name}` pastes "
                                      f"{expression} into its script", pipeline.path,
                                      pipeline.line_of(expression.strip("`")) or job.line)


def _untrusted(platform: str, script: str) -> list[str]:
    found: list[str] = []
    if platform == "github_actions":
        found = [m.group(1) for m in UNTRUSTED_GITHUB.finditer(script) if not SAFE_GITHUB_SUFFIX.search(m.group(1))]
    elif platform == "azure_devops":
        found = [m.group(0) for m in UNTRUSTED_AZURE.finditer(script)]
    else:
        for line in script.splitlines():
            for match in UNTRUSTED_GITLAB.finditer(line):
                if line[:match.start()].count('"') % 2 == 0 or line.lstrip().startswith("eval "):
                    found.append(match.group(0))
    return [f"`{item}`" for item in dict.fromkeys(found)]


@register
class CI103(Rule):
    """Workflows take least privilege: GitHub workflows declare read-only top-level `permissions` (writes only per
    job, never write-all); checkouts do not persist the job token (GitHub `persist-credentials: false`, Azure
    DevOps no `persistCredentials: true`). GitLab job tokens are scoped in project settings, not in YAML."""

    family = "CI"
    severity = ERROR
    fix = ("declare `permissions: {}` or `contents: read` at the top, grant writes only to the job that needs them, "
           "and check out with `persist-credentials: false`")

    def check(self, repo, params):
        for pipeline in _pipelines(repo)[0]:
            if pipeline.platform == "github_actions":
                yield from self._github(pipeline)
            for job in pipeline.jobs:
                for step in job.steps:
                    if _persists_token(pipeline.platform, step):
                        yield Finding(self.id, ERROR, f"{_where(pipeline, job)} checks out with the job token "
                                      "persisted in .git/config for every later step", pipeline.path, job.line)

    def _github(self, pipeline):
        top = pipeline.permissions
        if top is None:
            yield Finding(self.id, ERROR, "no top-level `permissions`: every job gets the repository's default "
                          "token scopes", pipeline.path, 1)
        elif _writes(top):
            yield Finding(self.id, ERROR, f"top-level `permissions` grant {_writes(top)} to every job",
                          pipeline.path, pipeline.line_of("permissions:"))
        for job in pipeline.jobs:
            if job.permissions in ("write-all",) or (isinstance(job.permissions, str) and "write" in job.permissions):
                yield Finding(self.id, ERROR, f"{_where(pipeline, job)} asks for `permissions: {job.permissions}`",
                              pipeline.path, job.line)


def _writes(permissions) -> str:
    if isinstance(permissions, str):
        return permissions if "write" in permissions else ""
    if isinstance(permissions, dict):
        return ", ".join(f"{k}: write" for k, v in permissions.items() if v == "write")
    return ""


def _persists_token(platform: str, step) -> bool:
    if platform == "github_actions":
        return bool(step.uses and step.uses.split("@")[0] == "actions/checkout"
                    and str(step.inputs.get("persist-credentials", "true")).lower() != "false")
    if platform == "azure_devops":
        return bool(step.uses and step.uses.startswith("checkout:")
                    and str(step.inputs.get("persistCredentials", "false")).lower() == "true")
    return False


@register
class CI104(Rule):
    """Prod deploys run only from the release branch and only through an approval gate: a GitHub environment,
    an Azure DevOps deployment job on an environment (its approval check), a GitLab `prod` environment in a job
    started by hand (`when: manual` or a pipeline run from the UI)."""

    family = "CI"
    severity = ERROR
    fix = ("run prod jobs in the `prod` environment (configure its required reviewers / approval check / "
           "protected environment) and only on the release branch")

    def check(self, repo, params):
        release = _release_branch(repo, params)
        names = [n.lower() for n in params.prod_environments]
        for pipeline in _pipelines(repo)[0]:
            for job in pipeline.jobs:
                if not _may_deploy_prod(pipeline, job, names):
                    continue
                where = _where(pipeline, job)
                if not _gated(pipeline, job):
                    yield Finding(self.id, ERROR, f"{where} deploys to prod without an approval gate "
                                  f"({_gate_words(pipeline.platform)})", pipeline.path, job.line)
                if not _release_only(pipeline, job, release):
                    yield Finding(self.id, ERROR, f"{where} deploys to prod from branches other than {release!r}",
                                  pipeline.path, job.line)


def _is_dynamic(name: str) -> bool:
    return "$" in name


def _may_deploy_prod(pipeline, job, names: list[str]) -> bool:
    environment = (job.environment or "").strip()
    if environment:
        if environment.lower() in names:
            return True
        if _is_dynamic(environment):
            return any(re.search(PROD_WORD.format(re.escape(n)), pipeline.text, re.IGNORECASE) for n in names)
        return False
    scripts = "\n".join(job.scripts)
    return any(re.search(PROD_WORD.format(re.escape(n)), scripts) for n in names)


def _gated(pipeline, job) -> bool:
    if not job.environment:
        return False
    if pipeline.platform == "azure_devops":
        return job.deployment
    if pipeline.platform == "gitlab":
        running = [r for r in job.rules if r.get("when") != "never"]
        started_by_hand = bool(running) and all('$CI_PIPELINE_SOURCE == "web"' in str(r.get("if", ""))
                                                for r in running)
        return job.manual or started_by_hand
    return True


def _gate_words(platform: str) -> str:
    return {"github_actions": "no `environment:`", "azure_devops": "not a deployment job on an environment",
            "gitlab": "no environment, or neither `when: manual` nor started from the UI"}[platform]


def _release_only(pipeline, job, release: str) -> bool:
    ref = f"refs/heads/{release}"
    if pipeline.platform == "github_actions":
        if job.condition and _github_release_guard(job.condition, ref):
            return True
        push = pipeline.triggers.get("push")
        return set(pipeline.triggers) == {"push"} and isinstance(push, dict) and push.get("branches") == [release] \
            and not push.get("tags")
    if pipeline.platform == "azure_devops":
        if re.search(rf"eq\(variables\['Build\.SourceBranch'\],\s*'{re.escape(ref)}'\)", job.condition):
            return True
        trigger, pr = pipeline.triggers.get("trigger"), pipeline.triggers.get("pr")
        branches = trigger.get("branches", {}).get("include") if isinstance(trigger, dict) else trigger
        return branches == [release] and pr == "none"
    if job.only:
        return job.only == [release]
    running = [str(r.get("if", "")) for r in job.rules if r.get("when") != "never"]
    branch_test = re.compile(rf"\$CI_COMMIT_(?:BRANCH|REF_NAME)\s*==\s*[\"']{re.escape(release)}[\"']")
    return bool(running) and all(branch_test.search(condition) for condition in running)


def _github_release_guard(condition: str, ref: str) -> bool:
    """Every way the `if:` can be true either checks the release ref or picks a non-prod environment.

    `inputs.environment == 'staging' || github.ref == 'refs/heads/release'` guards prod;
    `always() || github.ref == ...` does not.
    """
    expression = condition.strip()
    if expression.startswith("${{") and expression.endswith("}}"):
        expression = expression[3:-2]
    ref_check = re.compile(rf"github\.ref\s*==\s*'{re.escape(ref)}'")
    non_prod = re.compile(r"^\(?\s*inputs\.[\w-]+\s*==\s*'(?!prod|production)[\w-]+'\s*\)?$")
    return all(ref_check.search(part) or non_prod.match(part.strip()) for part in expression.split("||"))


@register
class CI105(Rule):
    """Cloud and Databricks auth by OIDC, not long-lived secrets: no PATs, client secrets or cloud keys in
    variables, action inputs or scripts, and every Databricks job uses its platform's OIDC token
    (github-oidc with `id-token: write`, azure-devops-oidc, GitLab `id_tokens` with env-oidc)."""

    family = "CI"
    severity = ERROR
    fix = ("delete the secret (and rotate it); federate the CI identity instead (terraform/bootstrap, "
           "docs/ci/) and set DATABRICKS_AUTH_TYPE to the platform's OIDC type")

    def check(self, repo, params):
        for pipeline in _pipelines(repo)[0]:
            for job in pipeline.jobs:
                where = _where(pipeline, job)
                for name in sorted(_long_lived(pipeline, job)):
                    yield Finding(self.id, ERROR, f"{where} uses the long-lived credential {name}",
                                  pipeline.path, pipeline.line_of(name) or job.line)
                problem = _not_oidc(pipeline, job)
                if problem:
                    yield Finding(self.id, ERROR, f"{where} {problem}", pipeline.path, job.line)


def _long_lived(pipeline, job) -> set[str]:
    found = {name for name in job.env if name.upper() in LONG_LIVED}
    texts = list(job.env.values())
    for step in job.steps:
        found |= {name for name in step.env if name.upper() in LONG_LIVED}
        texts += [step.script or "", *step.env.values()]
        if pipeline.platform == "github_actions":
            found |= {f"input `{k}`" for k in step.inputs if k in LONG_LIVED_INPUTS}
            texts += [str(v) for v in step.inputs.values()]
    for text in texts:
        for name in LONG_LIVED:
            if re.search(rf"(?:secrets\.|\$\(|\$\{{?|\$env:){name}\b|(?:^|[\s;&|])(?:export\s+)?{name}=", text):
                found.add(name)
    return found


def _not_oidc(pipeline, job) -> str | None:
    auth = job.env.get("DATABRICKS_AUTH_TYPE")
    expected = OIDC_AUTH_TYPES[pipeline.platform]
    talks_to_databricks = "DATABRICKS_HOST" in job.env or auth is not None and pipeline.platform != "azure_devops"
    if pipeline.platform == "azure_devops":
        talks_to_databricks = bool(job.variable_groups)
    if not talks_to_databricks:
        return None
    if auth != expected:
        return f"reaches Databricks with DATABRICKS_AUTH_TYPE={auth or '(unset)'}, not {expected}"
    if pipeline.platform == "github_actions":
        permissions = job.permissions if job.permissions is not None else pipeline.permissions
        if not (isinstance(permissions, dict) and permissions.get("id-token") == "write") and \
                permissions != "write-all":
            return "reaches Databricks by OIDC without `permissions: id-token: write`"
    if pipeline.platform == "gitlab":
        # env-oidc reads the token from DATABRICKS_OIDC_TOKEN, or the variable DATABRICKS_OIDC_TOKEN_ENV names.
        token = job.env.get("DATABRICKS_OIDC_TOKEN_ENV") or "DATABRICKS_OIDC_TOKEN"
        if token not in job.id_tokens:
            return f"reaches Databricks by OIDC without requesting the `id_tokens` token {token}"
    return None


@register
class CI106(Rule):
    """The governance check (`mlstack check`) runs on pull requests (merge requests) on every CI platform in use."""

    family = "CI"
    severity = ERROR
    fix = "add a pull-request job that installs mlstack and runs `mlstack check` (the template's ci file has one)"

    def check(self, repo, params):
        pipelines, _problems = _pipelines(repo)
        for platform in dict.fromkeys(p.platform for p in pipelines):
            mine = [p for p in pipelines if p.platform == platform]
            if not any(_checks_pull_requests(p, job) for p in mine for job in p.jobs):
                from mlstack.policy.ci_files import PLATFORM_NAMES

                yield Finding(self.id, ERROR, f"no {PLATFORM_NAMES[platform]} pull-request job runs `mlstack check`",
                              mine[0].path)


def _checks_pull_requests(pipeline, job) -> bool:
    if not any(re.search(r"(?:^|[\s;&|])mlstack\s+check\b", script) for script in job.scripts):
        return False
    if pipeline.platform == "github_actions":
        return "pull_request" in pipeline.triggers and (not job.condition or "pull_request" in job.condition)
    if pipeline.platform == "azure_devops":
        pr = pipeline.triggers.get("pr")
        return pr != "none" and (not job.condition or "PullRequest" in job.condition)
    return any("merge_request_event" in str(r.get("if", "")) and r.get("when") != "never" for r in job.rules) or \
        "merge_requests" in job.only
