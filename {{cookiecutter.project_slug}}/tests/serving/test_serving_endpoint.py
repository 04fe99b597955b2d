"""After a promotion the serving endpoint serves the new champion with its settings; it never fails one."""

from __future__ import annotations

from databricks.sdk.service.serving import ServingEndpointDetailed

from {{ cookiecutter.package_name }}.io.serving_endpoint import follow_champion

CONFIG = {"serving": {"endpoint_name": "{{ cookiecutter.project_slug }}-staging"}}
MODEL = "{{ cookiecutter.catalog_staging }}.{{ cookiecutter.schema_name }}.{{ cookiecutter.model_name }}"


def endpoint(version: str) -> ServingEndpointDetailed:
    """An endpoint as the API returns it: settings plus what only describes them."""
    return ServingEndpointDetailed.from_dict({
        "name": CONFIG["serving"]["endpoint_name"],
        "state": {"ready": "READY", "config_update": "NOT_UPDATING"},
        "config": {
            "config_version": 3,
            "served_entities": [{
                "name": "champion",
                "entity_name": MODEL,
                "entity_version": version,
                "workload_size": "Small",
                "scale_to_zero_enabled": True,
                "workload_type": "CPU",
                "creator": "staging-sp",
                "creation_timestamp": 1700000000000,
                "state": {"deployment": "DEPLOYMENT_READY"},
            }],
            "traffic_config": {"routes": [{"served_entity_name": "champion", "traffic_percentage": 100}]},
        },
    })


class NotFound(Exception):
    error_code = "RESOURCE_DOES_NOT_EXIST"


class FakeServingEndpoints:
    """The two calls the deploy step makes, recorded; `get` answers or raises what it is given."""

    def __init__(self, found):
        self.found = found
        self.updates: list[tuple[str, dict]] = []
        self.update_error: Exception | None = None

    def get(self, name):
        if isinstance(self.found, Exception):
            raise self.found
        return self.found

    def update_config_and_wait(self, name, **settings):
        self.updates.append((name, settings))
        if self.update_error:
            raise self.update_error


class FakeWorkspace:
    def __init__(self, found):
        self.serving_endpoints = FakeServingEndpoints(found)


def test_the_endpoint_moves_to_the_new_version_keeping_every_setting():
    workspace = FakeWorkspace(endpoint("3"))
    message = follow_champion(CONFIG, "4", client=workspace)
    assert message == f"serving endpoint {CONFIG['serving']['endpoint_name']} now serves v4"
    [(name, settings)] = workspace.serving_endpoints.updates
    assert name == CONFIG["serving"]["endpoint_name"]
    assert [entity.as_dict() for entity in settings["served_entities"]] == [{
        "name": "champion", "entity_name": MODEL, "entity_version": "4", "workload_size": "Small",
        "scale_to_zero_enabled": True, "workload_type": "CPU",
    }]
    assert settings["traffic_config"].as_dict() == {
        "routes": [{"served_entity_name": "champion", "traffic_percentage": 100}]}
    assert settings["timeout"].total_seconds() <= 25 * 60, "the deploy task times out after 30 minutes"


def test_a_missing_endpoint_is_left_to_the_ci_serve_stage():
    workspace = FakeWorkspace(NotFound("endpoint does not exist"))
    message = follow_champion(CONFIG, "1", client=workspace)
    assert "does not exist yet" in message and "serve stage" in message
    assert workspace.serving_endpoints.updates == []


def test_an_endpoint_serving_the_version_already_is_left_alone():
    workspace = FakeWorkspace(endpoint("4"))
    assert follow_champion(CONFIG, "4", client=workspace).endswith("already serves v4")
    assert workspace.serving_endpoints.updates == []


def test_api_failures_are_reported_and_never_fail_the_promotion():
    unreadable = FakeWorkspace(PermissionError("CAN_MANAGE required"))
    assert follow_champion(CONFIG, "4", client=unreadable).startswith("WARNING: could not read")
    failing = FakeWorkspace(endpoint("3"))
    failing.serving_endpoints.update_error = TimeoutError("timed out after 0:20:00")
    message = follow_champion(CONFIG, "4", client=failing)
    assert message.startswith("WARNING:") and "timed out after 0:20:00" in message
    assert "terraform apply" in message


def test_without_a_configured_endpoint_nothing_is_called():
    class NoCalls:
        def __getattr__(self, name):
            raise AssertionError(f"unexpected call: {name}")

    assert follow_champion({"serving": {"endpoint_name": None}}, "4", client=NoCalls()) is None
    assert follow_champion({}, "4", client=NoCalls()) is None
