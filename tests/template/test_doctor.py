"""`make doctor` (the generated ci/doctor.py) against a local stand-in for a Databricks workspace.

The stand-in is an HTTP server on 127.0.0.1 answering like the documented REST API: SCIM
(`/api/2.0/preview/scim/v2/Me`, `/ServicePrincipals`) and Unity Catalog (`/api/2.1/unity-catalog/
catalogs|schemas|models|tables/<name>`, `/effective-permissions/<type>/<name>?principal=`), with
Databricks' error bodies (`{"error_code": ..., "message": ...}`) and statuses. The real
databricks-sdk client talks to it; every failure the doctor names is provoked once here.
"""

from __future__ import annotations

import copy
import json
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

import pytest
import yaml

from helpers.bakes import baked


def load(project: Path, name: str):
    """Import ci/<name>.py of a project as a fresh module (registered, as dataclasses need)."""
    import importlib.util
    import sys

    module_name = f"ci_{name}_{abs(hash(project))}"
    spec = importlib.util.spec_from_file_location(module_name, project / "ci" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module

APP = "6f1c2a9b-0d3e-4f5a-8b7c-1d2e3f4a5b6c"  # the staging principal's application ID
CATALOG, SCHEMA = "staging", "maternal_health_risk"
MODEL = f"{CATALOG}.{SCHEMA}.maternal_health_risk_model"
TABLE = f"{CATALOG}.{SCHEMA}.patient_outcomes_history"
UC = "/api/2.1/unity-catalog"


def contract_columns(project: Path) -> list[dict]:
    contract = yaml.safe_load((project / "configs" / "data_contract.yml").read_text())
    names = {"string": "STRING", "integer": "INT", "double": "DOUBLE"}
    return [{"name": name, "type_name": names[rule["type"]]} for name, rule in contract["columns"].items()]


def healthy_workspace(project: Path) -> dict:
    """Everything in place: (status, JSON) per path, as the REST API answers."""
    return {
        "/api/2.0/preview/scim/v2/Me": (200, {"userName": "admin@example.com"}),
        "/api/2.0/preview/scim/v2/ServicePrincipals": (200, {"totalResults": 1, "Resources": [
            {"displayName": "staging-sp", "applicationId": APP}]}),
        f"{UC}/catalogs/{CATALOG}": (200, {"name": CATALOG, "owner": "platform-admins"}),
        f"{UC}/schemas/{CATALOG}.{SCHEMA}": (200, {"full_name": f"{CATALOG}.{SCHEMA}", "owner": APP}),
        f"{UC}/effective-permissions/catalog/{CATALOG}": (200, {"privilege_assignments": [
            {"principal": APP, "privileges": [{"privilege": "USE_CATALOG", "inherited_from_type": None}]}]}),
        f"{UC}/models/{MODEL}": (200, {"full_name": MODEL, "owner": APP}),
        f"{UC}/tables/{TABLE}": (200, {"full_name": TABLE, "owner": APP, "columns": contract_columns(project)}),
    }


def not_found(code: str, message: str) -> tuple[int, dict]:
    return 404, {"error_code": code, "message": message}


class Workspace(BaseHTTPRequestHandler):
    routes: dict
    seen: list

    def do_GET(self):  # noqa: N802 - http.server's name
        url = urlparse(self.path)
        self.seen.append((unquote(url.path), parse_qs(url.query)))
        status, body = self.routes.get(unquote(url.path), not_found("ENDPOINT_NOT_FOUND", "No API found"))
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def bake() -> Path:
    return baked("azure", "github_actions")


@pytest.fixture
def workspace(bake, tmp_path, monkeypatch):
    """A copy of the project whose configs point at a stand-in workspace; yields its routes."""
    project = shutil.copytree(bake, tmp_path / "project")
    routes = healthy_workspace(project)
    handler = type("Handler", (Workspace,), {"routes": routes, "seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host = f"http://127.0.0.1:{server.server_port}"
    for env in ("staging", "prod"):
        path = project / "configs" / f"{env}.yml"
        config = path.read_text()
        path.write_text("\n".join(f"workspace_url: {host}" if line.startswith("workspace_url:") else line
                                  for line in config.splitlines()) + "\n")
    for key in ("DATABRICKS_HOST", "DATABRICKS_CLIENT_ID", "DATABRICKS_CLIENT_SECRET", "DATABRICKS_CONFIG_PROFILE",
                "DATABRICKS_CONFIG_FILE", "GITHUB_ACTIONS", "TF_BUILD", "GITLAB_CI", "ARM_CLIENT_ID"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("DATABRICKS_TOKEN", "dapi-local-test-token")
    monkeypatch.setenv("DATABRICKS_AUTH_TYPE", "pat")
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(tmp_path / "no-databrickscfg"))
    yield {"project": project, "routes": routes, "host": host, "seen": handler.seen}
    server.shutdown()
    server.server_close()


def doctor(workspace, env="staging", *extra: str) -> tuple[int, list[str]]:
    import io
    import sys

    module = load(workspace["project"], "doctor")
    out = io.StringIO()
    previous, sys.stdout = sys.stdout, out
    try:
        code = module.main(["--env", env, "--timeout", "3", *extra])
    finally:
        sys.stdout = previous
    return code, out.getvalue().splitlines()


def line(lines: list[str], check: str) -> str:
    [found] = [entry for entry in lines if entry.split(":")[0].split(None, 1)[-1] == check]
    return found


def test_a_ready_environment_passes_every_check(workspace):
    code, lines = doctor(workspace)
    assert code == 0, lines
    for check in ("host", "principal", "catalog", "schema", "catalog grant", "schema grants", "model owner",
                  "training table"):
        assert line(lines, check).startswith("ok    "), lines
    assert line(lines, "host") == f"ok    host: {workspace['host']} answers (as admin@example.com)"
    assert line(lines, "CI variables").startswith("skip  CI variables: CI variables are checked when this runs in CI")
    assert lines[-1] == "everything the jobs need is in place"
    assert (f"{UC}/effective-permissions/catalog/{CATALOG}", {"principal": [APP]}) in workspace["seen"]


def failing(workspace, check: str, env: str = "staging") -> str:
    code, lines = doctor(workspace, env)
    assert code == 1, lines
    found = line(lines, check)
    assert found.startswith(f"FAIL  {check}: ") and " -> fix: " in found, found
    assert not any("Traceback" in entry for entry in lines)
    return found


def test_an_unreachable_host_fails_in_one_line_and_skips_the_rest(workspace, tmp_path):
    for env in ("staging",):
        path = workspace["project"] / "configs" / f"{env}.yml"
        path.write_text(path.read_text().replace(workspace["host"], "http://127.0.0.1:9"))
    found = failing(workspace, "host")
    assert "cannot reach http://127.0.0.1:9" in found and "check workspace_url in configs/staging.yml" in found
    code, lines = doctor(workspace)
    assert line(lines, "catalog") == "skip  catalog: needs the host to answer"


def test_rejected_credentials_name_the_login_command(workspace):
    workspace["routes"]["/api/2.0/preview/scim/v2/Me"] = (401, {"error_code": "UNAUTHENTICATED",
                                                                "message": "Invalid access token."})
    found = failing(workspace, "host")
    assert f"{workspace['host']} refused these credentials (Invalid access token.)" in found
    assert f"databricks auth login --host {workspace['host']}" in found


def test_a_missing_principal_points_at_the_bootstrap_and_skips_its_grants(workspace):
    workspace["routes"]["/api/2.0/preview/scim/v2/ServicePrincipals"] = (200, {"totalResults": 0})
    found = failing(workspace, "principal")
    assert "service principal staging-sp is not in" in found and "make bootstrap" in found
    code, lines = doctor(workspace)
    assert line(lines, "catalog grant") == "skip  catalog grant: needs the principal staging-sp"


def test_a_missing_catalog_says_who_creates_it(workspace):
    workspace["routes"][f"{UC}/catalogs/{CATALOG}"] = not_found("CATALOG_DOES_NOT_EXIST",
                                                                "Catalog 'staging' does not exist.")
    found = failing(workspace, "catalog")
    assert "catalog staging does not exist -> fix: a metastore admin runs CREATE CATALOG `staging`" in found


def test_a_missing_schema_points_at_the_bootstrap(workspace):
    workspace["routes"][f"{UC}/schemas/{CATALOG}.{SCHEMA}"] = not_found("SCHEMA_DOES_NOT_EXIST", "Schema gone.")
    found = failing(workspace, "schema")
    assert found == f"FAIL  schema: schema {CATALOG}.{SCHEMA} does not exist -> fix: make bootstrap"
    code, lines = doctor(workspace)
    assert line(lines, "schema grants") == f"skip  schema grants: needs schema {CATALOG}.{SCHEMA}"


def test_a_missing_use_catalog_grant_prints_the_grant(workspace):
    workspace["routes"][f"{UC}/effective-permissions/catalog/{CATALOG}"] = (200, {"privilege_assignments": []})
    found = failing(workspace, "catalog grant")
    assert f"GRANT USE CATALOG ON CATALOG `staging` TO `{APP}`" in found


def test_missing_schema_privileges_are_listed_in_one_grant(workspace):
    workspace["routes"][f"{UC}/schemas/{CATALOG}.{SCHEMA}"] = (200, {"owner": "someone-else"})
    workspace["routes"][f"{UC}/effective-permissions/schema/{CATALOG}.{SCHEMA}"] = (200, {
        "privilege_assignments": [{"principal": APP, "privileges": [{"privilege": "USE_SCHEMA"}]}]})
    found = failing(workspace, "schema grants")
    assert "staging-sp lacks CREATE TABLE, CREATE MODEL on schema" in found
    assert f"GRANT CREATE TABLE, CREATE MODEL ON SCHEMA `staging`.`maternal_health_risk` TO `{APP}`" in found


def test_the_model_must_exist_and_be_owned_by_the_principal_for_its_aliases(workspace):
    workspace["routes"][f"{UC}/models/{MODEL}"] = not_found("RESOURCE_DOES_NOT_EXIST", "Model not found.")
    assert f"model {MODEL} does not exist -> fix: make bootstrap" in failing(workspace, "model owner")
    workspace["routes"][f"{UC}/models/{MODEL}"] = (200, {"owner": "alice@example.com"})
    found = failing(workspace, "model owner")
    assert "staging-sp does not own model" in found and "cannot set the champion alias" in found
    assert f"ALTER MODEL `staging`.`maternal_health_risk`.`maternal_health_risk_model` OWNER TO `{APP}`" in found


def test_a_missing_training_table_offers_seeding_in_staging_but_never_in_prod(workspace):
    workspace["routes"][f"{UC}/tables/{TABLE}"] = not_found("TABLE_DOES_NOT_EXIST", "Table not found.")
    found = failing(workspace, "training table")
    assert "point tables.training_data in configs/staging.yml at your table" in found
    assert "make seed-staging" in found
    prod = workspace["routes"]
    prod["/api/2.0/preview/scim/v2/ServicePrincipals"] = (200, {"Resources": [
        {"displayName": "prod-sp", "applicationId": APP}]})
    found = failing(workspace, "training table", env="prod")
    assert "configs/prod.yml" in found and "seed" not in found


def test_the_training_table_must_have_the_contract_columns_and_types(workspace):
    table = workspace["routes"][f"{UC}/tables/{TABLE}"][1]
    columns = copy.deepcopy(table["columns"])
    table["columns"] = [c for c in columns if c["name"] not in ("bmi", "high_risk")]
    found = failing(workspace, "training table")
    assert "lacks column(s) bmi, high_risk that configs/data_contract.yml requires" in found
    table["columns"] = [{**c, "type_name": "STRING"} if c["name"] == "age" else c for c in columns]
    found = failing(workspace, "training table")
    assert "age is STRING, the contract says integer" in found


def test_a_table_outside_the_project_schema_needs_select_for_the_principal(workspace):
    project = workspace["project"]
    path = project / "configs" / "staging.yml"
    path.write_text(path.read_text() + "\ntables:\n  training_data: raw.ehr.pregnancies\n")
    workspace["routes"][f"{UC}/tables/raw.ehr.pregnancies"] = (200, {
        "owner": "data-eng", "columns": contract_columns(project)})
    workspace["routes"][f"{UC}/effective-permissions/table/raw.ehr.pregnancies"] = (200, {})
    found = failing(workspace, "training table")
    assert f"GRANT SELECT ON TABLE `raw`.`ehr`.`pregnancies` TO `{APP}`" in found


def test_refused_reads_say_who_may_run_the_doctor(workspace):
    workspace["routes"][f"{UC}/catalogs/{CATALOG}"] = (403, {"error_code": "PERMISSION_DENIED",
                                                             "message": "User does not have USE CATALOG."})
    found = failing(workspace, "catalog")
    assert "these credentials may not read catalogs/staging (User does not have USE CATALOG.)" in found


def test_an_unexpected_answer_is_one_line(workspace):
    workspace["routes"][f"{UC}/catalogs/{CATALOG}"] = (400, {"error_code": "INVALID_STATE",
                                                             "message": "Metastore\nis being migrated."})
    found = failing(workspace, "catalog")
    assert "unexpected answer from" in found and "Metastore is being migrated." in found


@pytest.mark.parametrize("variables,message", [
    ({"DATABRICKS_HOST": None}, "CI variable(s) DATABRICKS_HOST not set in the staging CI environment"),
    ({"DATABRICKS_HOST": "https://adb-9.9.azuredatabricks.net"}, "CI variable DATABRICKS_HOST is https://adb-9.9"),
    ({"DATABRICKS_CLIENT_ID": "someone-else"}, "CI variable DATABRICKS_CLIENT_ID is someone-else, not staging-sp's"),
])
def test_in_ci_the_variables_must_be_set_to_this_environment(workspace, monkeypatch, variables, message):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    values = {"DATABRICKS_HOST": workspace["host"], "DATABRICKS_CLIENT_ID": APP, "ARM_CLIENT_ID": "c",
              "ARM_TENANT_ID": "t", "ARM_SUBSCRIPTION_ID": "s", **variables}
    for key, value in values.items():
        if value is None:
            monkeypatch.delenv(key, raising=False)
        else:
            monkeypatch.setenv(key, value)
    found = failing(workspace, "CI variables")
    assert message in found and "make bootstrap" in found


def test_in_ci_with_the_right_variables_every_check_passes(workspace, monkeypatch):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    for key, value in {"DATABRICKS_HOST": workspace["host"], "DATABRICKS_CLIENT_ID": APP, "ARM_CLIENT_ID": "c",
                       "ARM_TENANT_ID": "t", "ARM_SUBSCRIPTION_ID": "s"}.items():
        monkeypatch.setenv(key, value)
    code, lines = doctor(workspace)
    assert code == 0 and line(lines, "CI variables").startswith("ok    CI variables: "), lines


def test_the_ci_variables_are_the_ones_the_bootstrap_writes(bake):
    """Cross-file contract: doctor's list = the DATABRICKS_* and cloud variables of terraform/bootstrap."""
    import re

    main = (bake / "terraform" / "bootstrap" / "main.tf").read_text()
    cloud = (bake / "terraform" / "bootstrap" / "cloud_azure.tf").read_text()
    written = set(re.findall(r"^\s+([A-Z][A-Z_]+)\s+=", main, re.M)) | set(
        re.findall(r"^\s+(ARM_[A-Z_]+)\s+=", cloud, re.M))
    written.discard("ARM_USE_OIDC")  # a constant the workflows set themselves, not read from CI variables
    assert set(load(bake, "doctor").CI_VARIABLES) == written


def test_make_doctor_requires_staging_or_prod(bake):
    makefile = (bake / "Makefile").read_text()
    assert "doctor:  ## Preflight of an environment: make doctor ENV=staging|prod" in makefile
    assert "$(BIN)/python ci/doctor.py --env $(ENV)" in makefile
