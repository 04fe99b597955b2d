"""First step of every CI job that deploys or talks to Databricks: stop early, in one line.

Without --env: has the bootstrap run for this ci/identities.json (the CI variable
MLSTACK_BOOTSTRAP holds the digest the bootstrap wrote)? With --env staging|prod also: are
that environment's CI variables set and well-formed, and does this run present the identity
the bootstrap trusts (repository, pipeline name, branch)? Standard library only: it runs
before anything is installed.
Usage: python3 ci/preflight.py [--env staging|prod]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
from pathlib import Path

IDENTITIES = Path(__file__).resolve().parent / "identities.json"
# Identifiers the bootstrap writes into each CI environment (docs/terraform.md, "The CI contract").
REQUIRED_VARIABLES = {
    "DATABRICKS_HOST": re.compile(r"https://[A-Za-z0-9.-]+/?"),
    "DATABRICKS_CLIENT_ID": re.compile(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}"),
{%- if cookiecutter.cloud == 'azure' %}
    "ARM_CLIENT_ID": re.compile(r"[0-9a-fA-F-]{36}"),
    "ARM_TENANT_ID": re.compile(r"[0-9a-fA-F-]{36}"),
    "ARM_SUBSCRIPTION_ID": re.compile(r"[0-9a-fA-F-]{36}"),
{%- elif cookiecutter.cloud == 'aws' %}
    "AWS_ROLE_ARN": re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/.+"),
{%- else %}
    "GCP_WORKLOAD_IDENTITY_PROVIDER": re.compile(
        r"projects/\d+/locations/global/workloadIdentityPools/[^/]+/providers/[^/]+"
    ),
    "GCP_SERVICE_ACCOUNT": re.compile(r"[a-z0-9-]+@[a-z0-9-]+\.iam\.gserviceaccount\.com"),
{%- endif %}
}
SEE = "see README (first deployment) and docs/ci/"


class PreflightError(Exception):
    """One thing that stops this job, worded as what to do."""


def identity_digest(path: Path = IDENTITIES) -> str:
    """What the bootstrap stores in MLSTACK_BOOTSTRAP (sha256 of the file, LF line ends)."""
    return hashlib.sha256(path.read_bytes().replace(b"\r\n", b"\n")).hexdigest()


def job_name(environ: dict[str, str]) -> str:
    for name in ("GITHUB_JOB", "SYSTEM_JOBDISPLAYNAME", "CI_JOB_NAME"):
        if environ.get(name):
            return environ[name]
    return "this job"


def check_bootstrap(environ: dict[str, str], identities: Path = IDENTITIES) -> None:
    recorded = environ.get("MLSTACK_BOOTSTRAP", "").strip()
    if not recorded:
        raise PreflightError(f"not bootstrapped: run make bootstrap, {SEE}")
    if recorded != identity_digest(identities):
        raise PreflightError(
            "ci/identities.json changed since the bootstrap ran, so the identities it trusts are stale: "
            f"re-run make bootstrap, {SEE}"
        )


def check_variables(environ: dict[str, str], env: str) -> None:
    for name, pattern in REQUIRED_VARIABLES.items():
        value = environ.get(name, "").strip()
        if not value:
            raise PreflightError(f"{name} is not set: add it to the {env} CI variables (make bootstrap does)")
        if not pattern.fullmatch(value):
            raise PreflightError(f"{name} is {value!r}, which is not what it should be ({pattern.pattern}): "
                                 f"fix it in the {env} CI variables or re-run make bootstrap")


def check_identity(environ: dict[str, str], env: str, identity: dict) -> None:
    """The run's own facts that its OIDC subject is made of, against ci/identities.json."""
    platform = identity["ci_platform"]
    expected = identity["repository"]
    if platform == "github_actions":
        actual = environ.get("GITHUB_REPOSITORY", "")
        if actual and actual != expected:
            raise PreflightError(f"this repository is {actual}, but the bootstrap trusts {expected}: "
                                 "update ci/identities.json and re-run make bootstrap")
    elif platform == "gitlab":
        actual = environ.get("CI_PROJECT_PATH", "")
        if actual and actual != expected:
            raise PreflightError(f"this project is {actual}, but the bootstrap trusts {expected}: "
                                 "update ci/identities.json and re-run make bootstrap")
        branch = identity["environments"][env]["deploy_branch"]
        ref = environ.get("CI_COMMIT_BRANCH", "")
        if env == "prod" and ref and ref != branch:
            raise PreflightError(f"prod deploys only from {branch}, this pipeline runs on {ref}")
    elif platform == "azure_devops":
        actual = environ.get("BUILD_DEFINITIONNAME", "")
        pipelines = identity["pipelines"]
        names = sorted(name for name, pipeline in pipelines.items() if pipeline["environment"] == env)
        if actual and actual not in names:
            raise PreflightError(
                f"this pipeline is named {actual!r}, but the bootstrap trusts only {', '.join(names)} "
                f"for {env}: rename it back in Pipelines, or rename it in ci/identities.json and "
                "re-run make bootstrap"
            )


def main(argv: list[str] | None = None, environ: dict[str, str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", choices=["staging", "prod"], help="also check this environment's variables")
    args = parser.parse_args(argv)
    environ = dict(os.environ if environ is None else environ)
    try:
        check_bootstrap(environ)
        if args.env:
            check_variables(environ, args.env)
            check_identity(environ, args.env, json.loads(IDENTITIES.read_text(encoding="utf-8")))
    except PreflightError as error:
        print(f"error: {job_name(environ)}: {error}", file=sys.stderr)
        return 1
    print(f"preflight: bootstrapped{f', {args.env} variables and identity as trusted' if args.env else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
