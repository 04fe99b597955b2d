"""Preflight of one environment before its first deploy: `make doctor ENV=staging|prod`.

Asks the environment's workspace, with the credentials of this shell (your CLI profile, or the
CI environment's DATABRICKS_* variables when CI runs it), whether everything the jobs need is in
place: the host answers, the environment's principal exists, the catalog and schema exist, the
principal holds the grants the jobs use (USE CATALOG, USE SCHEMA, CREATE TABLE, CREATE MODEL,
ownership of the model for its aliases), the training table exists with the data contract's
columns, and (in CI) the CI variables are set to this environment's values. Every failed check
is one line naming what is wrong and the command or grant that fixes it; exit code 1 if any.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

REPO_ROOT = Path(__file__).resolve().parents[1]
SCIM_API = "/api/2.0/preview/scim/v2"
UC_API = "/api/2.1/unity-catalog"
PRINCIPALS = {"staging": "{{ cookiecutter.staging_sp_name }}", "prod": "{{ cookiecutter.prod_sp_name }}"}
# The variables terraform/bootstrap writes into each CI environment and the pipelines read: the
# preflight (standard library only, next to this file) keeps the one list.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from preflight import REQUIRED_VARIABLES  # noqa: E402

CI_VARIABLES = tuple(REQUIRED_VARIABLES)
# What the jobs do in the project's schema: write tables (data, features, predictions) and the
# model's versions. Owning the schema includes them all.
SCHEMA_PRIVILEGES = ("USE_SCHEMA", "CREATE_TABLE", "CREATE_MODEL")
# Unity Catalog column types (type_name) by the data contract's type names.
CONTRACT_TYPES = {
    "string": {"STRING", "CHAR", "VARCHAR"},
    "integer": {"INT", "LONG", "SHORT", "BYTE"},
    "double": {"DOUBLE", "FLOAT", "DECIMAL"},
    "boolean": {"BOOLEAN"},
    "date": {"DATE"},
    "timestamp": {"TIMESTAMP", "TIMESTAMP_NTZ"},
}
CI_MARKERS = ("GITHUB_ACTIONS", "TF_BUILD", "GITLAB_CI")


class DatabricksApi(Protocol):
    """The one call this needs from the Databricks SDK: `WorkspaceClient().api_client.do`."""

    def do(
        self, method: str, path: str | None = None, query: dict | None = None, body: dict | None = None
    ) -> Any: ...


class Failed(Exception):
    """A check that failed: what is wrong and what fixes it."""

    def __init__(self, problem: str, fix: str):
        super().__init__(f"{problem} (fix: {fix})")
        self.problem, self.fix = problem, fix


class Skipped(Exception):
    """A check that cannot run here (it needs an earlier check to pass, or CI)."""


@dataclass
class Environment:
    """What one environment's configs say, and what the checks learn about it as they go."""

    name: str
    host: str
    catalog: str
    schema: str
    model: str
    training_table: str
    contract_columns: list[tuple[str, str]]
    principal_name: str
    learned: dict[str, Any] = field(default_factory=dict)

    @property
    def principal(self) -> str:
        if "principal" not in self.learned:
            raise Skipped(f"needs the principal {self.principal_name}")
        return self.learned["principal"]


def load_environment(env: str, repo_root: Path = REPO_ROOT) -> Environment:
    """The environment as the pipelines see it (configs/project.yml + configs/<env>.yml)."""
    sys.path.insert(0, str(repo_root / "src"))
    try:
        from {{ cookiecutter.package_name }}.config import load_config
        from {{ cookiecutter.package_name }}.core.data_contract import DataContract
        from {{ cookiecutter.package_name }}.io.tables import qualified_name
    finally:
        sys.path.remove(str(repo_root / "src"))
    config = load_config(env, repo_root / "configs")
    contract = DataContract.from_config(config["data_contract"])
    return Environment(
        name=env,
        host=str(config["workspace_url"]).rstrip("/"),
        catalog=str(config["catalog"]),
        schema=str(config["schema"]),
        model=str(config["mlflow"]["registered_model"]),
        training_table=qualified_name(config, "training_data"),
        contract_columns=[(rule.name, rule.type) for rule in contract.columns],
        principal_name=PRINCIPALS[env],
    )


# --- talking to the workspace -------------------------------------------------------------------

def error_code(error: Exception) -> str:
    """NOT_FOUND, PERMISSION_DENIED, UNAUTHENTICATED, ... from an SDK error (or its class name)."""
    code = str(getattr(error, "error_code", "") or "")
    name = type(error).__name__
    if code.endswith("DOES_NOT_EXIST") or name in ("NotFound", "ResourceDoesNotExist"):
        return "NOT_FOUND"
    if name == "PermissionDenied" or code == "PERMISSION_DENIED":
        return "PERMISSION_DENIED"
    if name == "Unauthenticated" or code in ("UNAUTHENTICATED", "INVALID_TOKEN"):
        return "UNAUTHENTICATED"
    return code or name


def one_line(error: Exception) -> str:
    """The error's message on one line, without the SDK's appended client configuration."""
    message = str(error).split(" Config: ", 1)[0].split("Config: ", 1)[0]
    return " ".join(message.split()) or type(error).__name__


def get(api: DatabricksApi, path: str, query: dict | None = None) -> dict | None:
    """GET `path`; None when it does not exist. Refusals fail the asking check; the rest goes up."""
    try:
        return api.do("GET", path, query=query) or {}
    except Exception as error:  # noqa: BLE001 - classified right here
        code = error_code(error)
        if code == "NOT_FOUND":
            return None
        if code == "PERMISSION_DENIED":
            what = path.removeprefix(f"{UC_API}/")
            raise Failed(f"these credentials may not read {what} ({one_line(error)})",
                         "run make doctor as a workspace admin, or in CI as the principal") from None
        raise


def privileges(api: DatabricksApi, securable: str, full_name: str, principal: str) -> set[str]:
    """The privileges `principal` holds on a securable, directly or inherited from its parents."""
    path = f"{UC_API}/effective-permissions/{securable}/{full_name}"
    answer = get(api, path, {"principal": principal}) or {}
    assignments = answer.get("privilege_assignments") or []
    return {p.get("privilege") for a in assignments for p in a.get("privileges") or []}


def quoted(full_name: str) -> str:
    return ".".join(f"`{part}`" for part in full_name.split("."))


# --- the checks, in the order a bring-up makes them pass ----------------------------------------

def check_host(api: DatabricksApi, env: Environment) -> str:
    """The host answers these credentials."""
    try:
        me = api.do("GET", f"{SCIM_API}/Me")
    except Exception as error:  # noqa: BLE001 - every failure here is "cannot talk to the workspace"
        code = error_code(error)
        if code in ("UNAUTHENTICATED", "PERMISSION_DENIED"):
            raise Failed(f"{env.host} refused these credentials ({one_line(error)})",
                         f"databricks auth login --host {env.host}, or set this CI environment's "
                         "DATABRICKS_CLIENT_ID (make bootstrap)") from None
        raise Failed(f"cannot reach {env.host} ({type(error).__name__}: {one_line(error)})",
                     f"check workspace_url in configs/{env.name}.yml and your network") from None
    env.learned["host"] = True
    who = me.get("userName") or me.get("displayName") or "unknown"
    return f"{env.host} answers (as {who})"


def check_principal(api: DatabricksApi, env: Environment) -> str:
    """The environment's service principal exists in the workspace."""
    query = {"filter": f'displayName eq "{env.principal_name}"'}
    found = (api.do("GET", f"{SCIM_API}/ServicePrincipals", query=query) or {}).get("Resources") or []
    if not found:
        raise Failed(f"service principal {env.principal_name} is not in {env.host}",
                     "make bootstrap (terraform/bootstrap creates it and assigns it to the workspace)")
    env.learned["principal"] = str(found[0]["applicationId"])
    return f"service principal {env.principal_name} ({env.learned['principal']})"


def check_catalog(api: DatabricksApi, env: Environment) -> str:
    """The environment's catalog exists (the platform team creates it; the bootstrap does not)."""
    if get(api, f"{UC_API}/catalogs/{env.catalog}") is None:
        raise Failed(f"catalog {env.catalog} does not exist",
                     f"a metastore admin runs CREATE CATALOG {quoted(env.catalog)}, then make bootstrap")
    return f"catalog {env.catalog}"


def check_schema(api: DatabricksApi, env: Environment) -> str:
    """The project's schema exists (terraform/bootstrap creates it, owned by the principal)."""
    schema = get(api, f"{UC_API}/schemas/{env.catalog}.{env.schema}")
    if schema is None:
        raise Failed(f"schema {env.catalog}.{env.schema} does not exist", "make bootstrap")
    env.learned["schema_owner"] = schema.get("owner")
    return f"schema {env.catalog}.{env.schema}"


def check_catalog_grant(api: DatabricksApi, env: Environment) -> str:
    """The principal may use the catalog."""
    held = privileges(api, "catalog", env.catalog, env.principal)
    if not {"USE_CATALOG", "ALL_PRIVILEGES"} & held:
        raise Failed(f"{env.principal_name} lacks USE CATALOG on {env.catalog}",
                     f"GRANT USE CATALOG ON CATALOG {quoted(env.catalog)} TO `{env.principal}` "
                     "(or make bootstrap)")
    return f"{env.principal_name} may use catalog {env.catalog}"


def check_schema_grants(api: DatabricksApi, env: Environment) -> str:
    """The principal owns the schema, or holds what the jobs do in it."""
    full_name = f"{env.catalog}.{env.schema}"
    if "schema_owner" not in env.learned:
        raise Skipped(f"needs schema {full_name}")
    if env.learned["schema_owner"] == env.principal:
        return f"{env.principal_name} owns schema {full_name}"
    held = privileges(api, "schema", full_name, env.principal)
    missing = [p for p in SCHEMA_PRIVILEGES if p not in held and "ALL_PRIVILEGES" not in held]
    if missing:
        grants = ", ".join(p.replace("_", " ") for p in missing)
        raise Failed(f"{env.principal_name} lacks {grants} on schema {full_name}",
                     f"GRANT {grants} ON SCHEMA {quoted(full_name)} TO `{env.principal}` "
                     "(or make bootstrap, which makes it the owner)")
    return f"{env.principal_name} may {', '.join(p.lower() for p in SCHEMA_PRIVILEGES)} in {full_name}"


def check_model_owner(api: DatabricksApi, env: Environment) -> str:
    """The principal owns the model: moving the champion alias needs ownership."""
    model = get(api, f"{UC_API}/models/{env.model}")
    if model is None:
        raise Failed(f"model {env.model} does not exist", "make bootstrap (terraform/bootstrap creates it)")
    if model.get("owner") != env.principal:
        raise Failed(f"{env.principal_name} does not own model {env.model} (owner: {model.get('owner')}), "
                     "so it cannot set the champion alias",
                     f"ALTER MODEL {quoted(env.model)} OWNER TO `{env.principal}`")
    return f"{env.principal_name} owns model {env.model}"


def check_training_table(api: DatabricksApi, env: Environment) -> str:
    """The training table exists, the principal can read it, and it has the contract's columns."""
    table = get(api, f"{UC_API}/tables/{env.training_table}")
    if table is None:
        fix = f"point tables.training_data in configs/{env.name}.yml at your table"
        if env.name != "prod":
            fix += ", or write the synthetic sample there with make seed-staging"
        raise Failed(f"training table {env.training_table} does not exist", fix)
    principal = env.learned.get("principal")
    in_project_schema = env.training_table.startswith(f"{env.catalog}.{env.schema}.")
    owns_schema = in_project_schema and env.learned.get("schema_owner") == principal
    if principal and table.get("owner") != principal and not owns_schema:
        held = privileges(api, "table", env.training_table, principal)
        if not {"SELECT", "ALL_PRIVILEGES"} & held:
            raise Failed(f"{env.principal_name} cannot read {env.training_table} (no SELECT)",
                         f"GRANT SELECT ON TABLE {quoted(env.training_table)} TO `{principal}`")
    columns = {c.get("name"): str(c.get("type_name") or "").upper() for c in table.get("columns") or []}
    missing = [name for name, _ in env.contract_columns if name not in columns]
    if missing:
        raise Failed(f"training table {env.training_table} lacks column(s) {', '.join(missing)} "
                     "that configs/data_contract.yml requires",
                     "add them to the table, or change the contract")
    wrong = [f"{name} is {columns[name]}, the contract says {kind}" for name, kind in env.contract_columns
             if columns[name] not in CONTRACT_TYPES[kind]]
    if wrong:
        raise Failed(f"training table {env.training_table}: {'; '.join(wrong)}",
                     "cast the columns in the table, or change the types in configs/data_contract.yml")
    return f"training table {env.training_table} has the contract's {len(env.contract_columns)} columns"


def check_ci_variables(api: DatabricksApi, env: Environment, environ: dict[str, str] | None = None) -> str:
    """In CI: the variables the bootstrap writes are set, to this environment's host and principal."""
    environ = os.environ if environ is None else environ
    if not any(environ.get(marker) for marker in CI_MARKERS):
        raise Skipped("CI variables are checked when this runs in CI, where they are set")
    unset = [name for name in CI_VARIABLES if not environ.get(name)]
    if unset:
        raise Failed(f"CI variable(s) {', '.join(unset)} not set in the {env.name} CI environment",
                     "make bootstrap (terraform/bootstrap writes them), and bind the job to that environment")
    if environ["DATABRICKS_HOST"].rstrip("/") != env.host:
        raise Failed(f"CI variable DATABRICKS_HOST is {environ['DATABRICKS_HOST']}, "
                     f"configs/{env.name}.yml says {env.host}",
                     "make bootstrap (it writes the configured host)")
    if environ["DATABRICKS_CLIENT_ID"] != env.principal:
        raise Failed(f"CI variable DATABRICKS_CLIENT_ID is {environ['DATABRICKS_CLIENT_ID']}, "
                     f"not {env.principal_name}'s application ID {env.principal}",
                     "make bootstrap (it writes the principal's application ID)")
    return f"CI variables {', '.join(CI_VARIABLES)} set for {env.name}"


CHECKS: tuple[tuple[str, Callable[[DatabricksApi, Environment], str]], ...] = (
    ("host", check_host),
    ("principal", check_principal),
    ("catalog", check_catalog),
    ("schema", check_schema),
    ("catalog grant", check_catalog_grant),
    ("schema grants", check_schema_grants),
    ("model owner", check_model_owner),
    ("training table", check_training_table),
    ("CI variables", check_ci_variables),
)


def run_checks(api: DatabricksApi, env: Environment, out: Any = None) -> int:
    """Run every check; print one line each; return the number that failed."""
    out = out or sys.stdout
    failures = 0
    for name, check in CHECKS:
        if name != "host" and "host" not in env.learned:
            print(f"skip  {name}: needs the host to answer", file=out)
            continue
        try:
            print(f"ok    {name}: {check(api, env)}", file=out)
        except Failed as failure:
            failures += 1
            print(f"FAIL  {name}: {failure.problem} -> fix: {failure.fix}", file=out)
        except Skipped as skipped:
            print(f"skip  {name}: {skipped}", file=out)
        except Exception as error:  # noqa: BLE001 - an unexpected answer: one line, no traceback
            failures += 1
            print(f"FAIL  {name}: unexpected answer from {env.host} ({type(error).__name__}: "
                  f"{one_line(error)}) -> fix: run again; if it persists, check the workspace", file=out)
    return failures


def workspace_api(host: str, timeout_seconds: float) -> DatabricksApi:
    """The SDK's client for `host`, with this shell's credentials; fails fast when nothing answers."""
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.core import Config

    # The SDK logs its fallbacks (host metadata, auth probing); the checks report what matters.
    logging.getLogger("databricks.sdk").setLevel(logging.CRITICAL)
    profile = os.environ.get("DATABRICKS_CONFIG_PROFILE") or None
    config = Config(host=host, profile=profile, http_timeout_seconds=timeout_seconds,
                    retry_timeout_seconds=timeout_seconds)
    return WorkspaceClient(config=config).api_client


def main(argv: list[str] | None = None, api: DatabricksApi | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", required=True, choices=sorted(PRINCIPALS))
    parser.add_argument("--timeout", type=float, default=30, help="seconds to wait for the workspace")
    args = parser.parse_args(argv)
    try:
        env = load_environment(args.env)
    except Exception as error:  # noqa: BLE001 - a config problem: one line
        print(f"error: configs/{args.env}.yml: {one_line(error)}", file=sys.stderr)
        return 1
    if not re.match(r"^https?://", env.host):
        print(f"error: configs/{args.env}.yml: workspace_url {env.host!r} is not a URL", file=sys.stderr)
        return 1
    print(f"doctor {env.name}: {env.host}, principal {env.principal_name}")
    try:
        api = api or workspace_api(env.host, args.timeout)
    except Exception as error:  # noqa: BLE001 - no usable credentials in this shell
        print(f"FAIL  credentials: {one_line(error)} -> fix: databricks auth login --host {env.host}")
        return 1
    failures = run_checks(api, env)
    print(f"{failures} problem(s) found" if failures else "everything the jobs need is in place")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
