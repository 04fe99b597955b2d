"""Load the settings for one environment: configs/project.yml overlaid by configs/<env>.yml.

Pipelines are configured by these files only, so moving from a laptop to staging or prod is
a different `--env`, never a code change.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import yaml

ENVIRONMENTS = ("local", "dev", "staging", "prod")
REQUIRED_KEYS = (
    "environment",
    "paths.root",
    "mlflow.tracking_uri",
    "mlflow.registry_uri",
    "mlflow.experiment",
    "mlflow.registered_model",
)


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


def load_config(env: str, config_dir: Path | None = None) -> dict[str, Any]:
    """The merged settings of environment `env`, checked for the keys every pipeline needs."""
    if env not in ENVIRONMENTS:
        raise ConfigError(f"--env {env!r} is not one of {', '.join(ENVIRONMENTS)}")
    folder = config_dir or find_config_dir()
    config = merge(_read_yaml(folder / "project.yml"), _read_yaml(folder / f"{env}.yml"))
    missing = [key for key in REQUIRED_KEYS if _absent(config, key)]
    if missing:
        raise ConfigError(f"{folder / (env + '.yml')}: missing required keys: {', '.join(missing)}")
    if config["environment"] != env:
        found = config["environment"]
        raise ConfigError(f"{folder / (env + '.yml')}: environment is {found!r}, expected {env!r}")
    return config


def _absent(config: dict[str, Any], dotted_key: str) -> bool:
    try:
        return lookup(config, dotted_key) is None
    except KeyError:
        return True
