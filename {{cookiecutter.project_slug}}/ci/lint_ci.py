"""Check this repository's CI files against their platforms' published schemas, offline.

Runs check-jsonschema with its bundled schemas (GitHub workflows, Dependabot, Azure
Pipelines, GitLab CI) on whichever CI files exist, and actionlint on GitHub workflows when
an actionlint binary is installed. Exits non-zero on the first kind of problem found.
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
    (".gitlab-ci.yml", "vendor.gitlab-ci", []),
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


def main() -> int:
    commands = schema_commands()
    if not commands:
        print("error: no CI files found to check", file=sys.stderr)
        return 1
    actionlint = shutil.which("actionlint")
    if actionlint and (REPO_ROOT / ".github" / "workflows").is_dir():
        commands.append([actionlint])
    failed = 0
    for command in commands:
        print("+ " + " ".join(command[-6:] if len(command) > 6 else command), flush=True)
        failed |= subprocess.run(command, cwd=REPO_ROOT).returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
