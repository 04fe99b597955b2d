"""Print the environment's champion model version, or nothing while there is none.

Usage: python ci/champion_version.py --env staging           # "7", or nothing
       python ci/champion_version.py --env prod --serve      # also point the endpoint at it

`ci/terraform.sh` runs the first form before every plan: Terraform declares the serving
endpoint only once a champion exists and always serves that version. A missing model or
alias is not an error (the first deploy has neither); any other failure is, because planning
without the version would delete the endpoint. The rollback pipelines run `--serve` after
re-pointing the alias, so the endpoint serves the restored version without a Terraform apply.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
# The registry helpers of the rollback script beside this one: same config, same REST calls.
from rollback import (  # noqa: E402
    REGISTRY_API,
    DatabricksApi,
    current_champion,
    is_not_found,
    model_target,
    workspace_api,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
SERVING_API = "/api/2.0/serving-endpoints"
# What a served entity is configured with; the rest of what the API returns (state, creator,
# timestamps) describes it and is refused in an update.
SERVED_ENTITY_SETTINGS = (
    "name", "entity_name", "workload_size", "workload_type", "scale_to_zero_enabled",
    "environment_vars", "instance_profile_arn",
)
UPDATE_TIMEOUT_SECONDS = 1200
POLL_SECONDS = 15


class ServingFailed(Exception):
    """The endpoint could not be read, updated, or did not finish updating."""


def champion_version(api: DatabricksApi, env: str, repo_root: Path = REPO_ROOT) -> str | None:
    """The version `champion` points at in `env`'s registered model; None without model or alias."""
    return current_champion(api, REGISTRY_API, model_target(env, repo_root))


def endpoint_name(env: str, repo_root: Path = REPO_ROOT) -> str:
    import yaml

    path = repo_root / "configs" / f"{env}.yml"
    config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    name = (config.get("serving") or {}).get("endpoint_name")
    if not name:
        raise ServingFailed(f"{path}: serving.endpoint_name is not set")
    return str(name)


def served_entities_at(entities: list[dict[str, Any]], version: str) -> list[dict[str, Any]]:
    """The endpoint's served entities as an update request, each now at model `version`."""
    return [
        {**{key: entity[key] for key in SERVED_ENTITY_SETTINGS if entity.get(key) is not None},
         "entity_version": version}
        for entity in entities
    ]


def serve(
    api: DatabricksApi,
    name: str,
    version: str,
    timeout_seconds: int = UPDATE_TIMEOUT_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> str:
    """Point endpoint `name` at `version` and wait until it serves it; returns what happened."""
    try:
        endpoint = api.do("GET", f"{SERVING_API}/{name}")
    except Exception as error:  # noqa: BLE001 - only "no such endpoint" is expected
        if is_not_found(error):
            return f"serving endpoint {name} does not exist yet: the deploy pipeline's serve stage creates it"
        raise
    config = endpoint.get("config") or {}
    entities = config.get("served_entities") or []
    if not entities:
        raise ServingFailed(f"serving endpoint {name} serves nothing to update; apply Terraform instead")
    if all(str(entity.get("entity_version")) == version for entity in entities):
        return f"serving endpoint {name} already serves version {version}"
    body: dict[str, Any] = {"served_entities": served_entities_at(entities, version)}
    if config.get("traffic_config"):
        body["traffic_config"] = config["traffic_config"]
    api.do("PUT", f"{SERVING_API}/{name}/config", body=body)
    deadline = clock() + timeout_seconds
    while True:
        state = (api.do("GET", f"{SERVING_API}/{name}").get("state") or {}).get("config_update")
        if state == "NOT_UPDATING":
            return f"serving endpoint {name} now serves version {version}"
        if state in ("UPDATE_FAILED", "UPDATE_CANCELED"):
            raise ServingFailed(f"serving endpoint {name}: update to version {version} ended {state}; "
                                "see the endpoint's events in the workspace")
        if clock() >= deadline:
            raise ServingFailed(f"serving endpoint {name} is still updating to version {version} after "
                                f"{timeout_seconds}s; follow it on the endpoint's page")
        sleep(POLL_SECONDS)


def main(argv: list[str] | None = None, api: DatabricksApi | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", required=True, choices=["staging", "prod"])
    parser.add_argument("--serve", action="store_true", help="also point the serving endpoint at it and wait")
    args = parser.parse_args(argv)
    try:
        api = api or workspace_api()
        version = champion_version(api, args.env)
        if args.serve:
            if version is None:
                raise ServingFailed(f"{args.env} has no champion: nothing to serve")
            print(serve(api, endpoint_name(args.env), version), file=sys.stderr)
    except Exception as error:  # noqa: BLE001 - CI shows one line, whatever failed
        print(f"error: {args.env}: {' '.join(str(error).split()) or type(error).__name__}", file=sys.stderr)
        return 1
    if version:
        print(version)  # stdout holds the version alone: terraform.sh captures it
    return 0


if __name__ == "__main__":
    sys.exit(main())
