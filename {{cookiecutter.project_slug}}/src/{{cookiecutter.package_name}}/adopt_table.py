"""Make your own table the training data: `make adopt-table TABLE=<table> KEY=<key> LABEL=<label>`.

    python -m {{ cookiecutter.package_name }}.adopt_table --env local --table churn --key customer_id --label churned

Reads the table where the environment keeps its tables (locally a Parquet folder under
`.local/tables/<table>/`; on Databricks a table of the environment's schema, or
catalog.schema.table), profiles it in Spark, and writes its data contract, feature mappings,
feature selection and imputation into configs/, points `tables.training_data` (and, until you
have a batch table, `tables.scoring_data`) at it, turns the example off, sets the average
precision floor from its positive rate and names the fairness attribute (`--sensitive`, or none).
The first adoption parks the example's specs and settings in configs/example/, where the
project's tests still find them. Then it prints what it decided and why. All files change
together or none does: bad input (a missing table or column, a label that is not 0/1, a key
that is not unique) changes nothing.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from .config import (
    ENVIRONMENTS,
    EXAMPLE_DIR,
    EXAMPLE_SETTINGS,
    SPEC_FILES,
    ConfigError,
    find_config_dir,
    load_config,
    uses_example,
)
from .core.adoption import AP_LIFT, Adoption, AdoptionError, adopt
from .core.data_contract import DataContract
from .core.features import imputation_plan, parse_feature_mappings, select_features
from .io.config_files import ConfigFileError, replace_files, set_yaml_value, yaml_text
from .io.tables import TableNotFound, read_table, table_location

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

TABLE_NAME = re.compile(r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+){0,2}$")
HEADER = (
    "# Written by `make adopt-table` from a profile of {table} ({rows} rows, {env} environment).\n"
    "# Yours to edit: `make adopt-table` again rewrites it from a new profile.\n"
)


@dataclass
class AdoptionResult:
    """What was decided, and which settings changed in which file."""

    adoption: Adoption
    location: str
    written: list[str] = field(default_factory=list)
    settings: list[tuple[str, str, Any]] = field(default_factory=list)  # (file, key, value)

    def summary(self) -> str:
        return "\n".join(report_lines(self))


def adopt_table(
    spark: SparkSession,
    env: str,
    table: str,
    key: str,
    label: str,
    sensitive: str | None = None,
    config_dir: Path | None = None,
) -> AdoptionResult:
    """Profile `table`, write its specs and settings into configs/; or raise and write nothing."""
    from .spark.table_profile import profile_for_adoption

    if not TABLE_NAME.match(table):
        raise AdoptionError(
            f"TABLE={table}: not a table name; use letters, digits and _ (catalog.schema.table on Databricks)"
        )
    folder = Path(config_dir or find_config_dir()).resolve()
    config = environment_settings(env, folder)
    config["tables"] = {**config["tables"], "training_data": table}
    location = table_location(config, "training_data")
    try:
        df = read_table(spark, config, "training_data")
    except TableNotFound:
        where = (
            f"write it as Parquet under {location}/"
            if config["storage"]["format"] == "parquet"
            else "name an existing table (catalog.schema.table, or a table of the environment's schema)"
        )
        raise AdoptionError(f"TABLE={table}: no such table ({location}); {where}") from None
    adoption = adopt(profile_for_adoption(df, key, label), table, key, label, sensitive)

    project = yaml.safe_load((folder / "project.yml").read_text(encoding="utf-8")) or {}
    first = uses_example(project) and not (folder / EXAMPLE_DIR / EXAMPLE_SETTINGS).is_file()
    contents = park_example(folder, project) if first else {}
    for name, filename in SPEC_FILES.items():
        contents[folder / filename] = spec_text(name, getattr(adoption, name), adoption, env)
    settings = _settings(adoption, folder, env, first=first)
    for path, dotted, value in settings:
        contents[path] = set_yaml_value(
            contents.get(path, path.read_text(encoding="utf-8")), dotted, value, source=str(path)
        )
    _check_loads(folder, contents, env)
    parked = folder / EXAMPLE_DIR
    created = first and not parked.exists()
    if first:
        parked.mkdir(exist_ok=True)
    try:
        replace_files(contents)
    except BaseException:
        if created:
            shutil.rmtree(parked, ignore_errors=True)
        raise
    return AdoptionResult(
        adoption,
        location,
        written=[_relative(folder, path) for path in contents],
        settings=[(_relative(folder, path), dotted, value) for path, dotted, value in settings],
    )


def environment_settings(env: str, folder: Path) -> dict[str, Any]:
    """The environment's config, for its storage and Spark settings only.

    Read with the parked example's specs once there are some, so that the specs of an earlier
    adoption that no longer load (or were deleted) cannot stop this adoption from replacing them.
    """
    parked = (folder / EXAMPLE_DIR / EXAMPLE_SETTINGS).is_file()
    return load_config(env, folder, ["example.enabled=true"] if parked else [])


def park_example(folder: Path, project: dict[str, Any]) -> dict[Path, str]:
    """The example's spec files, a README and its settings for configs/example/."""
    parked = folder / EXAMPLE_DIR
    contents = {parked / name: (folder / name).read_text(encoding="utf-8") for name in SPEC_FILES.values()}
    validation = project.get("validation") or {}
    thresholds, fairness = validation.get("thresholds") or {}, validation.get("fairness") or {}
    settings = {
        "tables": project.get("tables") or {},
        "validation": {
            "thresholds": {"average_precision": thresholds.get("average_precision")},
            "fairness": {"sensitive_attribute": fairness.get("sensitive_attribute")},
        },
    }
    contents[parked / EXAMPLE_SETTINGS] = EXAMPLE_SETTINGS_HEADER + yaml.safe_dump(settings, sort_keys=False)
    contents[parked / "README.md"] = EXAMPLE_README
    return contents


def spec_text(name: str, spec: dict[str, Any], adoption: Adoption, env: str) -> str:
    """A spec file as block YAML, one line per column rule or feature (like the example's)."""
    lines = [HEADER.format(table=adoption.table, rows=adoption.rows, env=env)]
    if name == "feature_mappings" and adoption.left_out:
        left_out = ", ".join(f"{d.column} ({d.kind})" for d in adoption.left_out)
        lines.append(f"# Not model inputs: {left_out}.\n")
    if name == "data_contract":
        lines.append("dataset:\n")
        lines += [f"  {k}: {yaml_text(v)}\n" for k, v in spec["dataset"].items()]
        lines.append("\ncolumns:\n")
        lines += [f"  {yaml_text(column)}: {yaml_text(rule)}\n" for column, rule in spec["columns"].items()]
    elif name == "feature_mappings":
        lines += [f"{k}: {yaml_text(spec[k])}\n" for k in ("entity_key", "label", "passthrough")]
        lines.append("\nfeature_groups:\n")
        for group, group_spec in spec["feature_groups"].items():
            description = yaml_text(group_spec["description"])
            lines.append(f"  {group}:\n    description: {description}\n    features:\n")
            lines += [f"      {yaml_text(f)}: {yaml_text(v)}\n" for f, v in group_spec["features"].items()]
    else:
        for section, value in spec.items():
            lines.append(f"{section}:{'' if value else ' ' + yaml_text(value)}\n")
            if isinstance(value, dict) and value:
                lines += [f"  {yaml_text(k)}: {yaml_text(v)}\n" for k, v in value.items()]
            elif isinstance(value, list) and value:
                lines += [f"  - {yaml_text(v)}\n" for v in value]
    text = "".join(lines)
    if yaml.safe_load(text) != spec:  # the one-line-per-entry layout must say exactly what was decided
        raise ConfigFileError(f"configs/{SPEC_FILES[name]}: could not be laid out; please report this")
    return text


def _settings(adoption: Adoption, folder: Path, env: str, *, first: bool) -> list[tuple[Path, str, Any]]:
    """(file, key, value) per setting: in configs/<env>.yml when that file sets the key, else project.yml.

    The first adoption also gives the feature and prediction tables names of their own (the
    example's hold other columns) and unsets the example's outcomes and drifted demo batch.
    """
    project_file, env_file = folder / "project.yml", folder / f"{env}.yml"
    project = yaml.safe_load(project_file.read_text(encoding="utf-8")) or {}
    environment = yaml.safe_load(env_file.read_text(encoding="utf-8")) or {}
    tables = {**(project.get("tables") or {}), **(environment.get("tables") or {})}
    wanted: dict[str, Any] = {
        "example.enabled": False,
        "tables.training_data": adoption.table,
        "validation.fairness.sensitive_attribute": adoption.sensitive,
        "validation.thresholds.average_precision": {"min": adoption.average_precision_floor},
    }
    # Scoring follows the adopted table until a real batch table is named (one other than the last adopted).
    if first or tables.get("scoring_data") in (None, tables.get("training_data")):
        wanted["tables.scoring_data"] = adoption.table
    if first:
        base = adoption.table.rsplit(".", 1)[-1]
        wanted.update(
            {
                "tables.features": f"{base}_features",
                "tables.predictions": f"{base}_predictions",
                "tables.outcomes": None,
                "tables.drifted_scoring_data": None,
            }
        )
    settings = []
    for dotted, value in wanted.items():
        in_env = dotted != "example.enabled" and _defines(environment, dotted)
        settings.append((env_file if in_env else project_file, dotted, value))
    return settings


def _defines(data: dict[str, Any], dotted: str) -> bool:
    node: Any = data
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def _check_loads(folder: Path, contents: dict[Path, str], env: str) -> None:
    """Load the changed configs from a scratch copy the way every pipeline will, before touching configs/."""
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "configs"
        shutil.copytree(folder, copy, ignore=shutil.ignore_patterns(".*", "__pycache__"))
        for path, text in contents.items():
            target = copy / path.relative_to(folder)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        config = load_config(env, copy)
    DataContract.from_config(config["data_contract"])
    mappings = parse_feature_mappings(config["feature_mappings"])
    features = select_features(mappings, config["feature_selection"])
    imputation_plan(features, config["imputation"], mappings.names())
    if uses_example(config):
        raise ConfigError(f"{folder / 'project.yml'}: example.enabled is still true after adoption")


EXAMPLE_SETTINGS_HEADER = """\
# The example's settings, parked here by the first `make adopt-table` (as configs/project.yml had
# them). Laid over configs/project.yml, with the specs of this folder, when a run sets
# `--set example.enabled=true`: the project's tests do, so they keep testing the example.
"""
EXAMPLE_README = """\
# `configs/example/`: the invented example this project started with

Maternal-health records invented by `src/{{ cookiecutter.package_name }}/core/sample_data.py`
(seeded, PHI-free, ids starting with `SYN-`): an example, not this project's data. `make
adopt-table` moved its spec files here when it wrote your table's into `configs/`, and kept
the table names and acceptance settings that go with them in `settings.yml`.

`--set example.enabled=true` runs the pipeline on the example again (the project's tests do,
so they pass whatever table the project has adopted). Delete this folder only together with
the tests that use the example.
"""


def report_lines(result: AdoptionResult) -> list[str]:
    """What was decided and why, for the terminal."""
    adoption = result.adoption
    width = max(len(d.column) for d in adoption.decisions)
    roles = {d.role: d for d in adoption.decisions}
    columns = len(adoption.decisions)
    lines = [f"adopted {adoption.table} ({adoption.rows} rows, {columns} columns) from {result.location}"]
    for role in ("key", "label", "sensitive"):
        if role in roles:
            decision = roles[role]
            lines.append(f"  {role:<9} {decision.column:<{width}}  {decision.kind}, {decision.reason}")
    lines.append(f"  features ({len(adoption.features)}):")
    lines += [f"    {d.column:<{width}}  {d.kind:<11}  {d.reason}" for d in adoption.features]
    if adoption.left_out:
        lines.append(f"  not model inputs ({len(adoption.left_out)}):")
        lines += [f"    {d.column:<{width}}  {d.kind:<11}  {d.reason}" for d in adoption.left_out]
    lines.append(
        f"  contract: at least {adoption.data_contract['dataset']['min_rows']} rows (half of today's), "
        "ranges widened by 10% of their span, categories as seen, nullable where nulls were seen"
    )
    lines.append(
        f"  acceptance: average_precision >= {adoption.average_precision_floor} ({AP_LIFT:g} times the "
        f"{adoption.positive_rate:.1%} positive rate, which a random ranking scores); "
        "roc_auc and recall bars as in configs/project.yml"
    )
    if adoption.sensitive:
        lines.append(f"  fairness: recall gap across the groups of {adoption.sensitive}")
    else:
        hint = ", ".join(adoption.protected_like())
        lines.append(
            "  fairness: NOT CHECKED (no SENSITIVE=<column>)"
            + (f"; columns that look like protected attributes: {hint}" if hint else "")
        )
    parked = [path for path in result.written if path.startswith(f"configs/{EXAMPLE_DIR}/")]
    if parked:
        lines.append(f"parked the example in configs/{EXAMPLE_DIR}/ ({len(parked)} files)")
    lines.append("wrote " + ", ".join(path for path in result.written if path not in parked))
    by_file: dict[str, list[str]] = {}
    for file, key, value in result.settings:
        by_file.setdefault(file, []).append(f"{key}={yaml_text(value)}")
    lines += [f"set in {file}: {', '.join(keys)}" for file, keys in by_file.items()]
    lines.append(
        "scoring: tables.scoring_data is the same table until you name a batch table (the label is ignored "
        "when scoring); outcomes: none until tables.outcomes names one"
    )
    lines.append(f"next: make pipeline (the tests run the example parked in configs/{EXAMPLE_DIR}/)")
    return lines


def _relative(folder: Path, path: Path) -> str:
    return f"configs/{path.relative_to(folder).as_posix()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--env", default="local", choices=ENVIRONMENTS, help="where the table lives")
    parser.add_argument("--table", required=True, help="locally: a Parquet folder in .local/tables/")
    parser.add_argument("--key", required=True, help="the column that identifies a row (unique, never null)")
    parser.add_argument("--label", required=True, help="the 0/1 (or boolean) outcome to predict")
    parser.add_argument("--sensitive", default=None, help="a column whose groups the fairness check compares")
    args = parser.parse_args(argv)
    from .pipelines.common import USER_ERRORS
    from .spark.session import get_spark

    try:
        config = environment_settings(args.env, find_config_dir())
        spark = get_spark(config)
        result = adopt_table(spark, args.env, args.table, args.key, args.label, args.sensitive or None)
    except (*USER_ERRORS, AdoptionError, ConfigFileError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(result.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
