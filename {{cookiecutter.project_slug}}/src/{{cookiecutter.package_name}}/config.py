"""Load the settings for one environment: configs/project.yml overlaid by configs/<env>.yml.

Pipelines are configured by these files only, so moving from a laptop to staging or prod is
a different `--env`, never a code change. The declarative specs (data contract, feature
mappings, feature selection, imputation) are read from their own files in configs/ into the
same mapping, and `--set key=value` overrides any leaf for one run.
"""

from __future__ import annotations

import copy
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
    config = merge(_read_yaml(folder / "project.yml"), _read_yaml(folder / f"{env}.yml"))
    missing = [key for key in REQUIRED_KEYS if _absent(config, key)]
    if missing:
        raise ConfigError(f"{folder / (env + '.yml')}: missing required keys: {', '.join(missing)}")
    if config["environment"] != env:
        found = config["environment"]
        raise ConfigError(f"{folder / (env + '.yml')}: environment is {found!r}, expected {env!r}")
    for key, filename in SPEC_FILES.items():
        # An environment file may adjust a spec (e.g. a smaller min_rows in dev) under the same key.
        config[key] = merge(_read_yaml(folder / filename), config.get(key) or {})
    config["repo_root"] = str(folder.parent)
    return apply_overrides(config, overrides)


def apply_overrides(config: dict[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """A copy of `config` with each 'dotted.key=value' set; values are parsed as YAML (4, true, [a, b])."""
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
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"--set {override!r}: {part!r} holds a value, not a section")
            node = child
        node[parts[-1]] = value
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
