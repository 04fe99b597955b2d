"""Every databricks_* resource and data source the template generates fits the real provider schema.

Terraform providers cannot be downloaded here (no registry access, so no `terraform validate`),
but npm works: scripts/run-tests installs `@cdktf/provider-databricks` into .cache/provider-schema/.
Its `.jsii` file is JSON generated from the provider's own schema (version: package.json's `cdktf.provider`):
for each resource and data source a config struct whose properties are the arguments and nested
blocks, each marked optional or not, and documented as "<name> block." when it is a block. Each
property's docs link the registry anchor, which is the snake_case name Terraform uses.

The check walks every bake of test_terraform_template.py (each cloud x CI platform plus the
topology, serverless and serving variants), parsed with python-hcl2 keeping block markers.
"""

from __future__ import annotations

import functools
import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from test_terraform_template import each_bake

from helpers import REPO_ROOT

PACKAGE = REPO_ROOT / ".cache" / "provider-schema" / "node_modules" / "@cdktf" / "provider-databricks"
# Meta-arguments Terraform handles itself, per top-level block kind; `dynamic` is expanded below.
META_ARGUMENTS = {"resource": {"count", "for_each", "depends_on", "provider", "lifecycle", "provisioner",
                               "connection"},
                  "data": {"count", "for_each", "depends_on", "provider", "lifecycle"}}
BLOCK_MARKER = "__is_block__"
_TERRAFORM_NAME = re.compile(r"\{@link \S+/docs/(resources|data-sources)/\S+ (databricks_\w+)\}")
_ANCHOR = re.compile(r"#(\w+) \w+#\w+\}")
_BLOCK_DOC = re.compile(r"^\w+ block\.")


@dataclass
class Field:
    required: bool
    block: bool  # a nested block (`name { ... }`), not an argument (`name = ...`)
    struct: Struct | None = None  # the nested object's fields, for blocks and object arguments


@dataclass
class Struct:
    fields: dict[str, Field] = field(default_factory=dict)


@dataclass
class Schema:
    provider_version: str
    resources: dict[str, Struct]
    data_sources: dict[str, Struct]


def _struct_fqn(type_ref: dict[str, Any], types: dict[str, Any]) -> str | None:
    """The provider struct inside a jsii type reference (plain, list/set of it, or IResolvable union)."""
    fqn = type_ref.get("fqn")
    if fqn:
        return fqn if types.get(fqn, {}).get("datatype") else None
    if "collection" in type_ref:
        return _struct_fqn(type_ref["collection"]["elementtype"], types)
    for option in type_ref.get("union", {}).get("types", []):
        found = _struct_fqn(option, types)
        if found:
            return found
    return None


def _snake(camel: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", camel).lower()


def _struct(fqn: str, types: dict[str, Any], cache: dict[str, Struct]) -> Struct:
    if fqn in cache:
        return cache[fqn]
    struct = cache[fqn] = Struct()
    for prop in types[fqn].get("properties", []):
        docs = prop.get("docs", {})
        text = f"{docs.get('summary', '')} {docs.get('remarks', '')}"
        anchor = _ANCHOR.search(text)
        nested = _struct_fqn(prop["type"], types)
        struct.fields[anchor.group(1) if anchor else _snake(prop["name"])] = Field(
            required=not prop.get("optional", False),
            block=bool(_BLOCK_DOC.match(docs.get("summary", ""))),
            struct=_struct(nested, types, cache) if nested else None)
    return struct


@functools.cache
def provider_schema() -> Schema:
    jsii = PACKAGE / ".jsii"
    if not jsii.is_file():
        pytest.fail(f"{jsii} is missing: scripts/run-tests installs it with npm (see PROVIDER_SCHEMA_PACKAGE there)")
    assembly = json.loads(jsii.read_text(encoding="utf-8"))
    types, cache = assembly["types"], {}
    kinds = {"cdktf.TerraformResource": {}, "cdktf.TerraformDataSource": {}}
    for spec in types.values():
        if spec.get("base") not in kinds:
            continue
        name = _TERRAFORM_NAME.search(spec["docs"]["summary"])
        (config,) = [p for p in spec["initializer"]["parameters"] if p["name"] == "config"]
        kinds[spec["base"]][name.group(2)] = _struct(config["type"]["fqn"], types, cache)
    package = json.loads((PACKAGE / "package.json").read_text(encoding="utf-8"))
    return Schema(package["cdktf"]["provider"]["version"],
                  kinds["cdktf.TerraformResource"], kinds["cdktf.TerraformDataSource"])


def _is_block(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(
        isinstance(item, dict) and item.get(BLOCK_MARKER) for item in value)


def check_body(body: dict[str, Any], struct: Struct, path: str, meta: set[str] = frozenset()) -> list[str]:
    """Problems of one block body (or object value) against its schema struct, each naming its path."""
    problems = []
    present = set()
    for name, value in body.items():
        if name == BLOCK_MARKER or name in meta:
            continue
        if name == "dynamic":
            for dynamic in value:
                for block_name, spec in dynamic.items():
                    if block_name == BLOCK_MARKER:
                        continue
                    present.add(block_name)
                    known = struct.fields.get(block_name)
                    where = f"{path}.dynamic.{block_name}"
                    if known is None or not known.block:
                        problems.append(f"{where}: the provider has no {block_name} block here")
                        continue
                    for content in spec.get("content", []):
                        problems += check_body(content, known.struct or Struct(), f"{where}.content")
            continue
        present.add(name)
        known = struct.fields.get(name)
        where = f"{path}.{name}"
        if known is None:
            problems.append(f"{where}: not an argument or block of the provider schema")
        elif known.block and not _is_block(value):
            problems.append(f"{where}: is a nested block in the provider schema, write `{name} {{ ... }}`")
        elif not known.block and _is_block(value):
            problems.append(f"{where}: is an argument in the provider schema, write `{name} = ...`")
        elif known.struct is not None:
            items = value if isinstance(value, list) else [value]
            for index, item in enumerate(items):
                if isinstance(item, dict):  # an expression (a reference, a for) cannot be checked here
                    label = f"{where}[{index}]" if len(items) > 1 else where
                    problems += check_body(item, known.struct, label)
    problems += [f"{path}.{name}: required by the provider schema but missing"
                 for name, spec in struct.fields.items() if spec.required and name not in present]
    return problems


def parse_with_blocks(path: Path) -> dict[str, Any]:
    import hcl2
    from hcl2 import SerializationOptions

    options = SerializationOptions(strip_string_quotes=True, explicit_blocks=True, with_comments=False)
    return hcl2.loads(path.read_text(encoding="utf-8"), serialization_options=options)


def schema_problems(terraform: Path) -> tuple[list[str], int]:
    """Every schema problem of the databricks_* blocks under terraform/, and how many blocks were checked."""
    schema = provider_schema()
    catalogue = {"resource": schema.resources, "data": schema.data_sources}
    problems, checked = [], 0
    for path in sorted(terraform.rglob("*.tf")):
        relative = path.relative_to(terraform.parent).as_posix()
        parsed = parse_with_blocks(path)
        for kind, known in catalogue.items():
            for entry in parsed.get(kind, []):
                for block_type, instances in entry.items():
                    if not block_type.startswith("databricks_"):
                        continue
                    for label, body in instances.items():
                        address = f"{relative}: {'data.' if kind == 'data' else ''}{block_type}.{label}"
                        if block_type not in known:
                            problems.append(f"{address}: the provider {schema.provider_version} has no such {kind}")
                            continue
                        checked += 1
                        problems += check_body(body, known[block_type], address, META_ARGUMENTS[kind])
    return problems, checked


def test_the_schema_comes_from_the_provider_version_the_template_pins():
    """15.16.1 is cdktf's last build (the bindings were archived in 12/2025); the template pins ~> 1.100."""
    schema = provider_schema()
    major, minor, _ = (int(part) for part in schema.provider_version.split("."))
    assert (major, minor) >= (1, 99), schema.provider_version
    assert {"databricks_job", "databricks_data_quality_monitor", "databricks_model_serving"} <= set(schema.resources)
    job = schema.resources["databricks_job"]
    assert job.fields["task"].block and not job.fields["task"].required
    assert job.fields["task"].struct.fields["task_key"].required
    monitor = schema.resources["databricks_data_quality_monitor"]
    assert monitor.fields["object_id"].required and not monitor.fields["data_profiling_config"].block


@each_bake
def test_every_databricks_block_fits_the_provider_schema(bakes, bake_name):
    problems, checked = schema_problems(bakes[bake_name].terraform)
    assert checked >= 20, f"only {checked} databricks_* blocks found"
    assert not problems, "\n".join(problems)


def test_the_serving_and_monitor_resources_are_among_those_checked(bakes):
    types = set()
    for path in bakes["serving-azure"].terraform.rglob("*.tf"):
        for entry in parse_with_blocks(path).get("resource", []):
            types |= set(entry)
    assert {"databricks_model_serving", "databricks_data_quality_monitor", "databricks_mlflow_experiment",
            "databricks_job", "databricks_grants"} <= types


def _copy_with(bakes, tmp_path, filename: str, pattern: str, new: str) -> Path:
    """A copy of a baked terraform/ whose first line matching `pattern` (not a comment) is edited."""
    copy = tmp_path / "project"
    shutil.copytree(bakes["serving-azure"].project / "terraform", copy / "terraform")
    target = copy / "terraform" / filename
    text, edits = re.subn(pattern, new, target.read_text(), count=1, flags=re.MULTILINE)
    assert edits == 1, f"{filename} has no line matching {pattern!r} any more: pick another edit"
    target.write_text(text)
    return copy / "terraform"


def test_a_misspelled_nested_argument_fails_naming_its_path(bakes, tmp_path):
    terraform = _copy_with(bakes, tmp_path, "modules/ml_project/jobs.tf", r"^(\s+)task_key(\s*=)", r"\1task_kye\2")
    problems, _ = schema_problems(terraform)
    assert any(re.match(r"terraform/modules/ml_project/jobs\.tf: databricks_job\.\w+\.task(\[\d+\])?\.task_kye: "
                        r"not an argument", p) for p in problems), problems
    assert any(p.endswith(".task_key: required by the provider schema but missing") for p in problems), problems


def test_a_block_written_as_an_argument_fails(bakes, tmp_path):
    terraform = _copy_with(bakes, tmp_path, "modules/ml_project/jobs.tf", r"^(\s+)email_notifications \{",
                           r"\1email_notifications = {")
    problems, _ = schema_problems(terraform)
    assert any(".email_notifications: is a nested block" in p for p in problems), problems


def test_a_nested_argument_written_as_a_block_or_misspelled_inside_fails(bakes, tmp_path):
    """databricks_data_quality_monitor's settings are object arguments (`= {}`), not blocks."""
    terraform = _copy_with(bakes, tmp_path, "modules/ml_project/monitors.tf", r"^(\s+)data_profiling_config = \{",
                           r"\1data_profiling_config {")
    problems, _ = schema_problems(terraform)
    assert any(re.search(r"databricks_data_quality_monitor\.\w+\.data_profiling_config: is an argument", p)
               for p in problems), problems
    terraform = _copy_with(bakes, tmp_path / "typo", "modules/ml_project/monitors.tf", r"^(\s+)inference_log = \{",
                           r"\1inference_logs = {")
    problems, _ = schema_problems(terraform)
    assert any(re.search(r"data_quality_monitor\.\w+\.data_profiling_config\.inference_logs: not an argument", p)
               for p in problems), problems
