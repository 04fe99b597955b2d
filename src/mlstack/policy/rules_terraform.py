"""TF: Databricks jobs (and serving endpoints) follow the platform's conventions in every environment."""

from __future__ import annotations

import re

from mlstack.policy.model import ERROR, WARNING, Finding, Rule, register
from mlstack.policy.terraform_eval import Unknown, clusters, environment_jobs, first


def _jobs(repo):
    if not hasattr(repo, "_environment_jobs"):
        repo._environment_jobs = environment_jobs(repo)
    return repo._environment_jobs


def _where(job) -> str:
    return f"{job.environment} job `{job.name}`"


@register
class TF101(Rule):
    """Every job carries the required tags (by default project, environment, owner, template_version)."""

    family = "TF"
    severity = ERROR
    fix = "add the missing keys to the job's `tags` (the module's local.tags)"

    def check(self, repo, params):
        for job in _jobs(repo):
            tags = job.body.get("tags")
            if isinstance(tags, Unknown):
                continue
            missing = [t for t in params.required_tags if not isinstance(tags, dict) or t not in tags]
            if missing:
                yield Finding(self.id, ERROR, f"{_where(job)} lacks tags: {', '.join(missing)}", job.path, job.line)


@register
class TF102(Rule):
    """Job clusters use a node type the policy allows."""

    family = "TF"
    severity = ERROR
    fix = "use one of the policy's allowed_node_types, or ask the platform team to allow this one"

    def check(self, repo, params):
        if not params.allowed_node_types:
            return
        for job in _jobs(repo):
            for cluster in clusters(job):
                node = cluster.get("node_type_id")
                if isinstance(node, str) and node not in params.allowed_node_types:
                    yield Finding(self.id, ERROR, f"{_where(job)} uses node type {node!r}", job.path, job.line)


@register
class TF103(Rule):
    """Job clusters stay under the policy's worker ceiling (fixed size and autoscale maximum)."""

    family = "TF"
    severity = ERROR
    fix = "lower num_workers / autoscale.max_workers, or raise max_workers in the policy"

    def check(self, repo, params):
        for job in _jobs(repo):
            for cluster in clusters(job):
                sizes = [cluster.get("num_workers"), first(cluster.get("autoscale")).get("max_workers")]
                for size in sizes:
                    if isinstance(size, (int, float)) and not isinstance(size, bool) and size > params.max_workers:
                        yield Finding(self.id, ERROR, f"{_where(job)} asks for {size:g} workers "
                                      f"(ceiling {params.max_workers})", job.path, job.line)
                    elif isinstance(size, str) and size.isdigit() and int(size) > params.max_workers:
                        yield Finding(self.id, ERROR, f"{_where(job)} asks for {size} workers "
                                      f"(ceiling {params.max_workers})", job.path, job.line)


@register
class TF104(Rule):
    """Every job runs as a service principal (run_as.service_principal_name), never as a person."""

    family = "TF"
    severity = ERROR
    fix = "set run_as { service_principal_name = <the environment principal's application id> }"

    def check(self, repo, params):
        for job in _jobs(repo):
            run_as = first(job.body.get("run_as"))
            if not run_as.get("service_principal_name") or run_as.get("user_name"):
                yield Finding(self.id, ERROR, f"{_where(job)} does not run as a service principal",
                              job.path, job.line)


@register
class TF105(Rule):
    """Every job notifies someone when it fails."""

    family = "TF"
    severity = ERROR
    fix = "add email_notifications { on_failure = [...] } (or a webhook on_failure)"

    def check(self, repo, params):
        for job in _jobs(repo):
            email = first(job.body.get("email_notifications")).get("on_failure")
            hook = first(job.body.get("webhook_notifications")).get("on_failure")
            if not email and not hook:
                yield Finding(self.id, ERROR, f"{_where(job)} has no failure notification", job.path, job.line)


@register
class TF106(Rule):
    """Prod jobs run reviewed, released code: their git source is the release branch (staging: main)."""

    family = "TF"
    severity = ERROR
    fix = "set git_source.branch to the release branch in the prod root (main branch in staging)"

    def check(self, repo, params):
        expected = {"prod": repo.answers.get("release_branch", "release"),
                    "staging": repo.answers.get("main_branch", "main")}
        for job in _jobs(repo):
            if job.environment not in expected:
                continue
            source = first(job.body.get("git_source"))
            branch, tag = source.get("branch"), source.get("tag")
            if isinstance(branch, Unknown) or (tag and job.environment == "prod"):
                continue
            if branch != expected[job.environment]:
                yield Finding(self.id, ERROR, f"{_where(job)} runs from branch {branch!r}, expected "
                              f"{expected[job.environment]!r}", job.path, job.line)


@register
class TF107(Rule):
    """Job clusters use a Unity Catalog access mode (dedicated or standard), never no isolation."""

    family = "TF"
    severity = WARNING
    fix = "set data_security_mode = \"SINGLE_USER\" (ML runtimes) or \"USER_ISOLATION\" on the job cluster"

    def check(self, repo, params):
        if repo.answers.get("unity_catalog") is False:
            return
        for job in _jobs(repo):
            for cluster in clusters(job):
                mode = cluster.get("data_security_mode")
                if isinstance(mode, Unknown):
                    continue
                if mode not in ("SINGLE_USER", "USER_ISOLATION", "DATA_SECURITY_MODE_DEDICATED",
                                "DATA_SECURITY_MODE_STANDARD", "DATA_SECURITY_MODE_AUTO"):
                    yield Finding(self.id, WARNING, f"{_where(job)} uses access mode {mode!r}", job.path, job.line)


@register
class TF108(Rule):
    """Jobs never overlap with themselves (max_concurrent_runs = 1)."""

    family = "TF"
    severity = WARNING
    fix = "set max_concurrent_runs = 1 (add queue { enabled = true } so a late run waits)"

    def check(self, repo, params):
        for job in _jobs(repo):
            runs = job.body.get("max_concurrent_runs")
            if not isinstance(runs, Unknown) and runs not in (1, "1"):
                yield Finding(self.id, WARNING, f"{_where(job)} allows {runs} concurrent runs", job.path, job.line)


VARIABLE = re.compile(r"\bvar\.([A-Za-z_][A-Za-z0-9_-]*)")


@register
class TF109(Rule):
    """A serving endpoint serves a model version passed in as a variable and is declared only once it is set."""

    family = "TF"
    severity = WARNING
    fix = ("set entity_version = var.serving_model_version and count = var.serving_model_version == null ? 0 : 1, "
           "and pass the champion's version when planning (ci/terraform.sh does)")

    def check(self, repo, params):
        for path, body in repo.terraform.items():
            for entry in body.get("resource") or []:
                for name, endpoint in (entry.get("databricks_model_serving") or {}).items():
                    where = f"serving endpoint `{name}`"
                    line = repo.line_of(path, f'resource "databricks_model_serving" "{name}"')
                    versions = [str(entity.get("entity_version") or entity.get("model_version") or "")
                                for config in _listed(endpoint.get("config"))
                                for key in ("served_entities", "served_models")
                                for entity in _listed(config.get(key))]
                    variables = {found for version in versions for found in VARIABLE.findall(version)}
                    if not variables:
                        yield Finding(self.id, WARNING, f"{where} serves a fixed model version, not the champion "
                                      "passed in by CI", path, line)
                        continue
                    gate = str(endpoint.get("count", endpoint.get("for_each", "")))
                    if not variables & set(VARIABLE.findall(gate)):
                        yield Finding(self.id, WARNING, f"{where} is declared before any model version exists "
                                      f"(no count on var.{sorted(variables)[0]}): the first deploy fails", path, line)


def _listed(block) -> list[dict]:
    """A nested block as python-hcl2 returns it (a list of dicts, or one dict), as a list."""
    if isinstance(block, list):
        return [item for item in block if isinstance(item, dict)]
    return [block] if isinstance(block, dict) else []
