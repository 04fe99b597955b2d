"""Point the environment's Model Serving endpoint at a newly promoted champion (Databricks only).

The endpoint itself is Terraform's (terraform/modules/ml_project/serving.tf). After a promotion
the deploy step moves it here, keeping every served entity setting but the model version; the
next `terraform apply` passes the same champion version, so the two never disagree. The
Databricks SDK comes with MLflow and with every Databricks runtime.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

# The deploy task may run 30 minutes; a new version is usually served within 5 to 15.
UPDATE_TIMEOUT = timedelta(minutes=20)
# What a served entity is configured with; the rest of what the API returns (state, creator,
# timestamps) describes it and is refused in an update.
SERVED_ENTITY_SETTINGS = (
    "name",
    "entity_name",
    "workload_size",
    "workload_type",
    "scale_to_zero_enabled",
    "environment_vars",
    "instance_profile_arn",
)
NOT_FOUND_CODES = ("RESOURCE_DOES_NOT_EXIST", "NOT_FOUND")
NOT_FOUND_ERRORS = ("NotFound", "ResourceDoesNotExist")
REPAIRED_BY = "the next terraform apply (CI's serve stage) sets it"


def follow_champion(config: dict[str, Any], version: str, client: Any = None) -> str | None:
    """Serve model `version` on the configured endpoint; a sentence saying what happened.

    Never raises: the champion alias has already moved and stays the source of truth (batch
    inference follows it), and failing now would report a promotion that did happen as failed.
    CI's serve stage applies Terraform with that same version right after the training run,
    so it repairs (loudly, if it cannot) an endpoint this call could not update.
    """
    name = (config.get("serving") or {}).get("endpoint_name")
    if not name:
        return None
    try:
        workspace = client or _workspace_client()
        endpoint = workspace.serving_endpoints.get(name)
    except Exception as error:  # noqa: BLE001 - any failure is reported, the promotion stands
        if _is_not_found(error):
            return f"serving endpoint {name} does not exist yet: CI's serve stage creates it with v{version}"
        return f"WARNING: could not read serving endpoint {name} ({_one_line(error)}); {REPAIRED_BY}"
    current = endpoint.config
    entities = list(current.served_entities or []) if current else []
    if not entities:
        return f"WARNING: serving endpoint {name} serves no model; {REPAIRED_BY}"
    if all(str(entity.entity_version) == str(version) for entity in entities):
        return f"serving endpoint {name} already serves v{version}"
    try:
        from databricks.sdk.service.serving import ServedEntityInput

        # Through the JSON form, so the output's field types fit the input of any SDK version.
        settings = [served_entity_settings(entity.as_dict(), version) for entity in entities]
        workspace.serving_endpoints.update_config_and_wait(
            name,
            served_entities=[ServedEntityInput.from_dict(entity) for entity in settings],
            traffic_config=current.traffic_config,
            timeout=UPDATE_TIMEOUT,
        )
    except Exception as error:  # noqa: BLE001 - see the docstring
        return f"WARNING: serving endpoint {name} not moved to v{version} ({_one_line(error)}); {REPAIRED_BY}"
    return f"serving endpoint {name} now serves v{version}"


def served_entity_settings(entity: dict[str, Any], version: str) -> dict[str, Any]:
    """A served entity as the endpoint reports it, reduced to its settings, at model `version`."""
    settings = {key: entity[key] for key in SERVED_ENTITY_SETTINGS if entity.get(key) is not None}
    return {**settings, "entity_version": str(version)}


def _workspace_client() -> Any:
    from databricks.sdk import WorkspaceClient

    return WorkspaceClient()


def _is_not_found(error: Exception) -> bool:
    return getattr(error, "error_code", None) in NOT_FOUND_CODES or type(error).__name__ in NOT_FOUND_ERRORS


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split()) or type(error).__name__
