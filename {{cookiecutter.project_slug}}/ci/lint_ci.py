"""Check this repository's CI files, offline: their platforms' schemas and the identity handshake.

Runs check-jsonschema with its bundled schemas (GitHub workflows, Dependabot, Azure
Pipelines, GitLab CI) on whichever CI files exist, actionlint on GitHub workflows when an
actionlint binary is installed, and the identity cross-check (ci/ci_identity.py): every job
that talks to Databricks or the cloud presents a token the bootstrap trusts for its own
environment only. Exits non-zero if any of them finds a problem.
Needs ci/requirements-lint.txt: python -m pip install -r ci/requirements-lint.txt
Usage: python ci/lint_ci.py   (or `make lint-ci`)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
# (glob, check-jsonschema builtin schema, extra flags)
SCHEMAS = [
    (".github/workflows/*.yml", "vendor.github-workflows", []),
    (".github/dependabot.yml", "vendor.dependabot", []),
    # The Azure schema's patterns need the non-unicode regex engine or valid files crash it.
    (".azure-pipelines/**/*.yml", "vendor.azure-pipelines", ["--regex-variant", "nonunicode"]),
    # GitLab expands CI/CD variables in environment:url ($INTEGRATION_RUN_URL), which the schema's
    # `format: uri` cannot know; check-jsonschema enforces formats once rfc3986-validator is installed.
    (".gitlab-ci.yml", "vendor.gitlab-ci", ["--disable-formats", "uri"]),
]


def check_jsonschema_command() -> list[str]:
    found = shutil.which("check-jsonschema")
    return [found] if found else [sys.executable, "-m", "check_jsonschema"]


def schema_commands(root: Path = REPO_ROOT) -> list[list[str]]:
    """One check-jsonschema command per schema that has files in this repository."""
    commands = []
    for pattern, schema, flags in SCHEMAS:
        files = sorted(str(path.relative_to(root)) for path in root.glob(pattern) if path.is_file())
        if files:
            commands.append([*check_jsonschema_command(), "--builtin-schema", schema, *flags, *files])
    return commands


def identity_problems() -> list[str]:
    try:
        import ci_identity
        import hcl2  # noqa: F401 - the identity check reads the bootstrap Terraform with it
        import yaml  # noqa: F401
    except ImportError as error:
        return [f"{error.name} is not installed: python -m pip install -r ci/requirements-lint.txt"]
    return ci_identity.check(REPO_ROOT)


def main() -> int:
    commands = schema_commands()
    if not commands:
        print("error: no CI files found to check", file=sys.stderr)
        return 1
    actionlint = shutil.which("actionlint")
    workflows = sorted(str(path.relative_to(REPO_ROOT)) for path in REPO_ROOT.glob(".github/workflows/*.yml"))
    if actionlint and workflows:
        commands.append([actionlint, *workflows])
    failed = 0
    for command in commands:
        print("+ " + " ".join(command[-6:] if len(command) > 6 else command), flush=True)
        failed |= subprocess.run(command, cwd=REPO_ROOT).returncode != 0
    print("+ identity handshakes (ci/identities.json vs the CI files and terraform/bootstrap)", flush=True)
    problems = identity_problems()
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if failed or problems else 0


if __name__ == "__main__":
    sys.exit(main())
