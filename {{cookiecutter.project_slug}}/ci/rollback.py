"""Point the `champion` alias back at an earlier model version and leave an audit trail.

Usage: python ci/rollback.py --env prod --version 7 --note "v9 over-predicts risk for ward B"

The registered model comes from `configs/<env>.yml` (the same name the pipelines use). The
new champion gets tags saying who rolled back, when, from which CI run, from which version
and why; the replaced version gets a tag pointing at its successor; one JSON audit line is
printed for the CI log. Batch inference loads `models:/<name>@champion`, so its next run
uses the restored version without a redeploy.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

CHAMPION = "champion"
VALIDATION_TAG = "validation_status"  # set by validate_model: passed or rejected
# The MLflow registry REST calls, as Unity Catalog serves them.
REGISTRY_API = "/api/2.0/mlflow/unity-catalog"
MAX_NOTE_CHARS = 1000
REPO_ROOT = Path(__file__).resolve().parents[1]


class DatabricksApi(Protocol):
    def do(
        self, method: str, path: str | None = None, query: dict | None = None, body: dict | None = None
    ) -> Any: ...


class RollbackRefused(Exception):
    """The rollback request is invalid or unsafe; nothing was changed."""


def model_target(env: str, repo_root: Path = REPO_ROOT) -> str:
    """The Unity Catalog model (catalog.schema.model) of `env`, from its config."""
    import yaml

    path = repo_root / "configs" / f"{env}.yml"
    config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    mlflow = config.get("mlflow") or {}
    name = mlflow.get("registered_model")
    if not name:
        raise RollbackRefused(f"{path}: mlflow.registered_model is not set")
    if mlflow.get("registry_uri") != "databricks-uc":
        # Aliases exist only in Unity Catalog on Databricks; the workspace registry has stages.
        raise RollbackRefused(
            f"{path}: mlflow.registry_uri must be databricks-uc (aliases need Unity Catalog)"
        )
    return str(name)


def is_not_found(error: Exception) -> bool:
    return getattr(error, "error_code", None) == "RESOURCE_DOES_NOT_EXIST" or type(error).__name__ in {
        "NotFound",
        "ResourceDoesNotExist",
    }


def current_champion(api: DatabricksApi, prefix: str, model: str) -> str | None:
    try:
        found = api.do("GET", f"{prefix}/registered-models/alias", query={"name": model, "alias": CHAMPION})
    except Exception as error:  # noqa: BLE001 - only "no such alias" is expected; the rest re-raises
        if is_not_found(error):
            return None
        raise
    return str(found["model_version"]["version"])


def check_request(version: str, note: str) -> None:
    if not version.isdigit() or int(version) < 1:
        raise RollbackRefused(f"--version {version!r}: must be a model version number such as 7")
    if not note.strip():
        raise RollbackRefused("--note: say why you roll back (it is recorded on the model version)")
    if len(note) > MAX_NOTE_CHARS:
        raise RollbackRefused(f"--note: at most {MAX_NOTE_CHARS} characters (got {len(note)})")


def rollback(
    api: DatabricksApi,
    model: str,
    version: str,
    note: str,
    actor: str,
    ci_run: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Re-point `champion` at `version`; return the audit record.

    Refuses no-ops, unready versions and versions that did not pass validation.
    """
    check_request(version, note)
    prefix = REGISTRY_API
    try:
        target = api.do("GET", f"{prefix}/model-versions/get", query={"name": model, "version": version})
    except Exception as error:  # noqa: BLE001
        if is_not_found(error):
            raise RollbackRefused(f"model {model} has no version {version}") from None
        raise
    found = target.get("model_version") or {}
    status = found.get("status")
    if status not in (None, "READY"):
        raise RollbackRefused(f"model {model} version {version} is {status}, not READY")
    # The rule deploy enforces holds in an emergency too: only a validated version serves patients.
    listed = [tag for tag in found.get("tags") or [] if isinstance(tag, dict)]
    version_tags = {str(tag.get("key")): str(tag.get("value")) for tag in listed}
    validation = version_tags.get(VALIDATION_TAG, "missing")
    if validation != "passed":
        raise RollbackRefused(
            f"model {model} version {version} has {VALIDATION_TAG}={validation!r}: only a version "
            "that passed validate_model can become champion; roll back to one that did"
        )
    previous = current_champion(api, prefix, model)
    if previous == version:
        raise RollbackRefused(f"version {version} of {model} is already the champion: nothing to roll back")
    moment = now or datetime.now(timezone.utc)  # noqa: UP017 - Python 3.10 has no datetime.UTC
    at = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    api.do(
        "POST",
        f"{prefix}/registered-models/alias",
        body={"name": model, "alias": CHAMPION, "version": version},
    )
    audit = {
        "action": "rollback",
        "model": model,
        "alias": CHAMPION,
        "version": version,
        "previous_version": previous,
        "by": actor,
        "at": at,
        "ci_run": ci_run,
        "note": note,
    }
    # Tag keys use underscores only: Unity Catalog rejects dots and dashes in tag keys.
    tags = {
        "rollback_note": note,
        "rollback_by": actor,
        "rollback_at": at,
        "rollback_from_version": previous or "none",
        "rollback_ci_run": ci_run,
    }
    for key, value in tags.items():
        api.do(
            "POST",
            f"{prefix}/model-versions/set-tag",
            body={"name": model, "version": version, "key": key, "value": value},
        )
    if previous:
        api.do(
            "POST",
            f"{prefix}/model-versions/set-tag",
            body={"name": model, "version": previous, "key": "replaced_by_rollback_to", "value": version},
        )
    return audit


def ci_identity() -> tuple[str, str]:
    """(who triggered the run, link to the CI run) from whichever CI platform runs this."""
    env = os.environ
    if env.get("GITHUB_ACTIONS") == "true":
        server, repository = env.get("GITHUB_SERVER_URL", ""), env.get("GITHUB_REPOSITORY", "")
        run = f"{server}/{repository}/actions/runs/{env.get('GITHUB_RUN_ID', '')}"
        return env.get("GITHUB_TRIGGERING_ACTOR") or env.get("GITHUB_ACTOR", "unknown"), run
    if env.get("TF_BUILD"):
        collection, project = env.get("SYSTEM_COLLECTIONURI", ""), env.get("SYSTEM_TEAMPROJECT", "")
        run = f"{collection}{project}/_build/results?buildId={env.get('BUILD_BUILDID', '')}"
        return env.get("BUILD_REQUESTEDFOREMAIL") or env.get("BUILD_REQUESTEDFOR", "unknown"), run
    if env.get("GITLAB_CI"):
        return env.get("GITLAB_USER_LOGIN", "unknown"), env.get("CI_PIPELINE_URL", "")
    return env.get("USER", "unknown"), "local"


def workspace_api() -> DatabricksApi:
    from databricks.sdk import WorkspaceClient

    return WorkspaceClient().api_client


def main(argv: list[str] | None = None, api: DatabricksApi | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", required=True, choices=["staging", "prod"])
    parser.add_argument("--version", required=True, help="model version that becomes the champion again")
    parser.add_argument("--note", required=True, help="why (recorded on the model version)")
    args = parser.parse_args(argv)
    try:
        check_request(args.version, args.note)
        model = model_target(args.env)
        actor, ci_run = ci_identity()
        audit = rollback(api or workspace_api(), model, args.version, args.note, actor, ci_run)
    except (RollbackRefused, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(json.dumps(audit, sort_keys=True))
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as handle:
            handle.write(
                f"### Rollback of {model} in {args.env}\n\n"
                f"`{CHAMPION}` now points at version {audit['version']} "
                f"(was {audit['previous_version']}), by {actor}: {args.note}\n"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
