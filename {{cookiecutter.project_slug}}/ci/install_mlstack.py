"""Install the mlstack this repository was generated with, for the governance job.

Where from, the first that applies:
1. MLSTACK_PIP_SPEC (a CI variable): any pip requirement, e.g. `mlstack==0.3.1` or
   `git+https://git.example.com/platform/mlstack@v0.3.1`.
2. A git template source recorded in .mlstack/answers.yml: mlstack and its template ship from
   one repository, so `git+<source>@<recorded template version>`.
3. The template bundled with mlstack: `mlstack==<recorded mlstack version>` from the package
   index (MLSTACK_INDEX_URL if set, else pip's own configuration).
A template that came from a local folder cannot be reached from CI: that is said, with the fix.
It prints what it installs and why; when pip fails, one line says what to set instead.
Usage: python ci/install_mlstack.py [--dry-run]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

RECORD = Path(__file__).resolve().parents[1] / ".mlstack" / "answers.yml"
FIX = (
    "set the CI variable MLSTACK_PIP_SPEC to a pip requirement for mlstack "
    "(for example git+https://<host>/<org>/mlstack@<version>), or MLSTACK_INDEX_URL to the index that has it"
)


class ResolveError(Exception):
    """mlstack cannot be located; the message says what to set."""


def read_record(path: Path = RECORD) -> dict:
    import yaml

    if not path.is_file():
        raise ResolveError(f"{path.name} is missing, so the mlstack version is unknown: {FIX}")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {
        "source": str((data.get("template") or {}).get("source") or ""),
        "version": str((data.get("template") or {}).get("version") or ""),
        "mlstack_version": str(data.get("mlstack_version") or ""),
    }


def git_requirement(source: str, version: str) -> str | None:
    """pip's spelling of a git template source at a version, or None if it is not a git URL."""
    for prefix, host in (("gh:", "https://github.com/"), ("gl:", "https://gitlab.com/")):
        if source.startswith(prefix):
            source = f"{host}{source[len(prefix) :]}"
    if source.startswith("git@") and ":" in source:
        host, path = source[len("git@") :].split(":", 1)
        source = f"ssh://git@{host}/{path}"
    if source.startswith("git+"):
        source = source[len("git+") :]
    if not source.startswith(("https://", "http://", "ssh://", "file://")):
        return None
    return f"git+{source}@{version}"


def resolve(record: dict, environ: dict[str, str]) -> tuple[list[str], str]:
    """(pip arguments, why) for this repository."""
    spec = environ.get("MLSTACK_PIP_SPEC", "").strip()
    if spec:
        return [spec], "MLSTACK_PIP_SPEC is set"
    source, version = record["source"], record["version"]
    if source and source != "bundled":
        if not version:
            raise ResolveError(f"the answers file records the template {source} but no version: {FIX}")
        requirement = git_requirement(source, version)
        if requirement is None:
            raise ResolveError(
                f"the template came from the local folder {source}, which CI cannot reach: {FIX}"
            )
        return [requirement], f"the template came from {source} at {version}"
    release = record["mlstack_version"] or version
    if not release:
        raise ResolveError(f"the answers file records no mlstack version: {FIX}")
    index = environ.get("MLSTACK_INDEX_URL", "").strip()
    where = f"the index {index}" if index else "the package index"
    return [
        *(["--index-url", index] if index else []),
        f"mlstack=={release}",
    ], f"the template is the one bundled with mlstack {release}, from {where}"


def main(argv: list[str] | None = None, environ: dict[str, str] | None = None, run=subprocess.run) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dry-run", action="store_true", help="print what would be installed, install nothing"
    )
    args = parser.parse_args(argv)
    environ = dict(os.environ if environ is None else environ)
    try:
        pip_args, why = resolve(read_record(), environ)
    except ResolveError as error:
        print(f"error: cannot install mlstack: {error}", file=sys.stderr)
        return 1
    print(f"installing {' '.join(pip_args)} ({why})", flush=True)
    if args.dry_run:
        return 0
    result = run([sys.executable, "-m", "pip", "install", "--quiet", *pip_args])
    if result.returncode != 0:
        print(f"error: pip could not install {pip_args[-1]} ({why}): {FIX}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
