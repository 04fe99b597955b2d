"""Turn the CI job's OIDC token into cloud credentials files for Terraform's state backend.

GitHub Actions uses the clouds' own login actions; GitLab CI and Azure DevOps have no such
step, so this writes what the cloud SDKs read: a web-identity token file (AWS, with
AWS_ROLE_ARN), an external-account credential file (GCP Workload Identity Federation, with
GCP_WORKLOAD_IDENTITY_PROVIDER and GCP_SERVICE_ACCOUNT) or an OIDC token file for the azurerm
backend (Azure, with ARM_CLIENT_ID). On Azure DevOps the token is the pipeline's own, whose
subject names the pipeline: the identity ci/identities.json lists and the bootstrap trusts.

The token comes from an environment variable (GitLab `id_tokens`) or, on Azure DevOps, from
the pipeline's OIDC endpoint. Files are private to the job's user; only their paths are
printed, as shell `export` lines (`eval "$(...)"`) or Azure DevOps logging commands.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import urllib.request
from pathlib import Path

STS_TOKEN_URL = "https://sts.googleapis.com/v1/token"
IMPERSONATION_URL = (
    "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/{}:generateAccessToken"
)


class CredentialsError(Exception):
    """A required variable or token is missing."""


def _require(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise CredentialsError(f"{name} is not set: add it to this environment's CI variables")
    return value


def azure_devops_token() -> str:
    """The pipeline's OIDC token (subject p://<org>/<project>/<pipeline>), fetched with System.AccessToken."""
    url = f"{_require('SYSTEM_OIDCREQUESTURI')}?api-version=7.1-preview.1"
    request = urllib.request.Request(
        url,
        data=b"",
        method="POST",
        headers={
            "Authorization": f"Bearer {_require('SYSTEM_ACCESSTOKEN')}",
            "Content-Type": "application/json",
        },
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - Azure DevOps endpoint
        token = json.loads(response.read()).get("oidcToken")
    if not token:
        raise CredentialsError(
            "Azure DevOps returned no oidcToken: is the pipeline allowed to request tokens?"
        )
    return token


def _write_private(path: Path, text: str) -> Path:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path


def aws_files(token: str, directory: Path) -> dict[str, str]:
    """AWS SDKs (and Terraform's S3 backend) assume AWS_ROLE_ARN with this token file."""
    _require("AWS_ROLE_ARN")
    token_file = _write_private(directory / "aws-web-identity-token", token)
    return {"AWS_WEB_IDENTITY_TOKEN_FILE": str(token_file), "AWS_ROLE_SESSION_NAME": "ci-terraform"}


def gcp_files(token: str, directory: Path) -> dict[str, str]:
    """A Workload Identity Federation credential file that impersonates GCP_SERVICE_ACCOUNT."""
    provider = _require("GCP_WORKLOAD_IDENTITY_PROVIDER")
    account = _require("GCP_SERVICE_ACCOUNT")
    token_file = _write_private(directory / "gcp-subject-token", token)
    config = {
        "type": "external_account",
        "audience": f"//iam.googleapis.com/{provider}",
        "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
        "token_url": STS_TOKEN_URL,
        "service_account_impersonation_url": IMPERSONATION_URL.format(account),
        "credential_source": {"file": str(token_file)},
    }
    config_file = _write_private(directory / "gcp-credentials.json", json.dumps(config, indent=2))
    return {"GOOGLE_APPLICATION_CREDENTIALS": str(config_file)}


def azure_files(token: str, directory: Path) -> dict[str, str]:
    """The azurerm backend exchanges this token for the managed identity ARM_CLIENT_ID."""
    _require("ARM_CLIENT_ID")
    token_file = _write_private(directory / "azure-oidc-token", token)
    return {"ARM_OIDC_TOKEN_FILE_PATH": str(token_file), "ARM_USE_OIDC": "true"}


WRITERS = {"aws": aws_files, "azure": azure_files, "gcp": gcp_files}


def render(variables: dict[str, str], style: str) -> str:
    if style == "azure-devops":
        return "".join(
            f"##vso[task.setvariable variable={name}]{value}\n" for name, value in variables.items()
        )
    return "".join(f"export {name}='{value}'\n" for name, value in variables.items())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cloud", choices=sorted(WRITERS))
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--token-env", help="environment variable holding the OIDC token (GitLab id_tokens)")
    source.add_argument("--azure-devops", action="store_true", help="request the token from Azure DevOps")
    parser.add_argument("--dir", type=Path, help="where to write the files (default: a new private temp dir)")
    parser.add_argument("--format", choices=["shell", "azure-devops"], default="shell")
    args = parser.parse_args(argv)
    try:
        token = azure_devops_token() if args.azure_devops else _require(args.token_env)
        base = os.environ.get("AGENT_TEMPDIRECTORY") or os.environ.get("RUNNER_TEMP") or None
        directory = args.dir or Path(tempfile.mkdtemp(prefix="cloud-credentials-", dir=base))
        directory.mkdir(parents=True, exist_ok=True)
        variables = WRITERS[args.cloud](token, directory)
    except (CredentialsError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    sys.stdout.write(render(variables, args.format))
    return 0


if __name__ == "__main__":
    sys.exit(main())
