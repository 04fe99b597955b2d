"""Load the settings for one environment: configs/project.yml overlaid by configs/<env>.yml.

Pipelines are configured by these files only, so moving from a laptop to staging or prod is
a different `--env`, never a code change. The declarative specs (data contract, feature
mappings, feature selection, imputation) are read from their own files into the same mapping:
from configs/. Once `make adopt-table` has replaced them with your table's, the example they
held is parked in configs/example/ and `--set example.enabled=true` runs it again (its
settings.yml laid over project.yml): that is how the project's tests keep testing the example.
`--set key=value` overrides any leaf for one run.

Config is strict: project.yml (and each spec file) defines every key there is, so a key an
environment file or `--set` introduces is a typo until proven otherwise and fails the load,
naming the file, the key path and the closest real key. Only OPEN_MAPPINGS take new keys.
"""

from __future__ import annotations

import copy
import difflib
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    import argparse

ENVIRONMENTS = ("local", "dev", "staging", "prod")
REQUIRED_KEYS = (
    "environment",
    "paths.root",
    "mlflow.tracking_uri",
    "mlflow.registry_uri",
    "mlflow.experiment",
    "mlflow.registered_model",
)
# Specs a team edits to change what the pipeline checks and learns from, one file each.
SPEC_FILES = {
    "data_contract": "data_contract.yml",
    "feature_mappings": "feature_mappings.yml",
    "feature_selection": "feature_selection_config.yml",
    "imputation": "imputation.yml",
}


# Where `make adopt-table` parks the example's specs, and the settings (table names...) that go with them.
EXAMPLE_DIR = "example"
EXAMPLE_SETTINGS = "settings.yml"


# Mappings whose keys are data, not settings: a new table, hyperparameter or metric bound is fine here.
OPEN_MAPPINGS = (
    "tables",
    "training.hyperopt.search_space.single_node",
    "training.hyperopt.search_space.distributed",
    "validation.thresholds",
    "spark.conf",
    "data_contract.columns",
    "feature_mappings.feature_groups",
    "imputation.features",
)
# Settings only project.yml may set, so what runs locally is what runs in prod (`--set` may try another).
PROJECT_WIDE_KEYS = ("training.engine", "example.enabled")
TRAINING_ENGINES = ("single_node", "distributed")


class ConfigError(ValueError):
    """A configuration file is missing, malformed or lacks a required key."""


def find_config_dir(start: Path | None = None) -> Path:
    """The repository's configs/ folder: $CONFIG_DIR, or the nearest configs/ above `start`."""
    if os.environ.get("CONFIG_DIR"):
        return Path(os.environ["CONFIG_DIR"])
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "configs" / "project.yml").is_file():
            return folder / "configs"
    packaged = Path(__file__).resolve().parents[2] / "configs"
    if (packaged / "project.yml").is_file():
        return packaged
    raise ConfigError("configs/project.yml not found: run from the repository or set CONFIG_DIR")


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge `override` into a copy of `base`: nested mappings merge, other values replace."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ConfigError(f"{path}: file not found") from error
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML ({error})") from error
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: must be a mapping of keys to values")
    return data


def lookup(config: dict[str, Any], dotted_key: str) -> Any:
    """config['a']['b'] for 'a.b'; KeyError naming the full key when absent."""
    value: Any = config
    for part in dotted_key.split("."):
        if not isinstance(value, dict) or part not in value:
            raise KeyError(dotted_key)
        value = value[part]
    return value


def load_config(env: str, config_dir: Path | None = None, overrides: Iterable[str] = ()) -> dict[str, Any]:
    """The merged settings of environment `env`, checked for the keys every pipeline needs."""
    if env not in ENVIRONMENTS:
        raise ConfigError(f"--env {env!r} is not one of {', '.join(ENVIRONMENTS)}")
    folder = Path(config_dir or find_config_dir()).resolve()
    overrides = list(overrides)
    project = _read_yaml(folder / "project.yml")
    parked = folder / EXAMPLE_DIR / EXAMPLE_SETTINGS
    spec_dir = folder
    if _uses_example(project, overrides) and parked.is_file():
        example = _read_yaml(parked)
        check_known_keys(example, project, source=str(parked))
        project = merge(project, example)
        spec_dir = parked.parent
    environment = _read_yaml(folder / f"{env}.yml")
    settings = {key: value for key, value in environment.items() if key not in SPEC_FILES}
    check_known_keys(settings, project, source=str(folder / f"{env}.yml"))
    for key in PROJECT_WIDE_KEYS:
        if not _absent(environment, key):
            raise ConfigError(
                f"{folder / (env + '.yml')}: {key} is project-wide (the same in every environment); "
                "set it in configs/project.yml"
            )
    config = merge(project, environment)
    missing = [key for key in REQUIRED_KEYS if _absent(config, key)]
    if missing:
        raise ConfigError(f"{folder / (env + '.yml')}: missing required keys: {', '.join(missing)}")
    if config["environment"] != env:
        found = config["environment"]
        raise ConfigError(f"{folder / (env + '.yml')}: environment is {found!r}, expected {env!r}")
    for key, filename in SPEC_FILES.items():
        # An environment file may adjust a spec (e.g. a smaller min_rows in dev) under the same key.
        spec = _read_yaml(spec_dir / filename)
        check_known_keys({key: environment.get(key) or {}}, {key: spec}, source=str(folder / f"{env}.yml"))
        config[key] = merge(spec, config.get(key) or {})
    config["repo_root"] = str(folder.parent)
    config = apply_overrides(config, overrides)
    training_engine(config)
    return config


def uses_example(config: dict[str, Any]) -> bool:
    """True while the project runs on the invented example, not on a table of its own (make adopt-table)."""
    return bool((config.get("example") or {}).get("enabled", True))


def _uses_example(project: dict[str, Any], overrides: Iterable[str]) -> bool:
    """`example.enabled` from project.yml, or the last `--set example.enabled=...` (tests pin the example)."""
    enabled = (project.get("example") or {}).get("enabled", True)
    for override in overrides:
        key, separator, raw_value = override.partition("=")
        if separator and key.strip() == "example.enabled":
            try:
                enabled = yaml.safe_load(raw_value)
            except yaml.YAMLError as error:
                raise ConfigError(f"--set {override!r}: value is not valid YAML ({error})") from error
    if not isinstance(enabled, bool):
        raise ConfigError(f"example.enabled={enabled!r}: use true (the example) or false (your table)")
    return enabled


def training_engine(config: dict[str, Any]) -> str:
    """`training.engine`: single_node (scikit-learn on the driver) or distributed (XGBoost on Spark)."""
    engine = (config.get("training") or {}).get("engine")
    if engine not in TRAINING_ENGINES:
        raise ConfigError(
            f"training.engine={engine!r}: use {' or '.join(TRAINING_ENGINES)}"
            f"{_did_you_mean(str(engine), TRAINING_ENGINES)}"
        )
    return str(engine)


def check_known_keys(data: dict[str, Any], schema: dict[str, Any], *, source: str, path: str = "") -> None:
    """Refuse any key of `data` that `schema` (what project.yml and the specs define) does not have."""
    if path in OPEN_MAPPINGS:
        return
    for key, value in data.items():
        dotted = f"{path}.{key}" if path else str(key)
        if key not in schema:
            raise ConfigError(
                f"{source}: {dotted} is not a setting (configs/project.yml defines no such key)"
                f"{_did_you_mean(str(key), list(schema), path)}"
            )
        known = schema[key]
        if isinstance(known, dict) and value is not None and not isinstance(value, dict):
            raise ConfigError(
                f"{source}: {dotted} is a section of settings ({', '.join(known)}), not a value"
            )
        if isinstance(known, dict) and isinstance(value, dict):
            check_known_keys(value, known, source=source, path=dotted)


def _did_you_mean(key: str, candidates: Iterable[str], path: str = "") -> str:
    close = difflib.get_close_matches(key, [str(c) for c in candidates], n=1, cutoff=0.6)
    if not close:
        return ""
    return f"; did you mean {path + '.' if path else ''}{close[0]}?"


def apply_overrides(config: dict[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """A copy of `config` with each 'dotted.key=value' set; values are parsed as YAML (4, true, [a, b]).

    Only keys the config already has can be set (or new keys inside OPEN_MAPPINGS).
    """
    updated = copy.deepcopy(config)
    for override in overrides:
        key, separator, raw_value = override.partition("=")
        if not separator or not key.strip():
            raise ConfigError(f"--set {override!r}: expected KEY=VALUE, e.g. training.hyperopt.max_evals=5")
        try:
            value = yaml.safe_load(raw_value)
        except yaml.YAMLError as error:
            raise ConfigError(f"--set {override!r}: value is not valid YAML ({error})") from error
        node = updated
        parts = key.strip().split(".")
        path = ""
        for index, part in enumerate(parts):
            is_open = path in OPEN_MAPPINGS or any(path.startswith(f"{m}.") for m in OPEN_MAPPINGS)
            if part not in node and not is_open:
                raise ConfigError(
                    f"--set {override!r}: {'.'.join(parts[: index + 1])} is not a setting"
                    f"{_did_you_mean(part, list(node), path)}"
                )
            path = f"{path}.{part}" if path else part
            if index == len(parts) - 1:
                node[part] = value
                break
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"--set {override!r}: {part!r} holds a value, not a section")
            node = child
    return updated


def add_set_option(parser: argparse.ArgumentParser, example: str) -> None:
    """The `--set KEY=VALUE` option every command line shares; `apply_overrides` reads it."""
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=f"override one setting for this run, e.g. {example}",
    )


def resolve_path(config: dict[str, Any], path: str) -> str:
    """`path` as given when absolute or a URI; else relative to the repository root, not the cwd."""
    if "://" in path or path.startswith(("/", "dbfs:")):
        return path
    return str(Path(config["repo_root"]) / path)


def _absent(config: dict[str, Any], dotted_key: str) -> bool:
    try:
        return lookup(config, dotted_key) is None
    except KeyError:
        return True
