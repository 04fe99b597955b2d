"""The user's (or organisation's) mlstack settings: which template sources are trusted.

Read from $MLSTACK_SETTINGS, else ~/.config/mlstack/settings.yml; MLSTACK_TRUSTED_TEMPLATES
(prefixes separated by commas or spaces) adds to the file's `trusted_templates` list.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from mlstack.errors import InvalidInput

KNOWN_KEYS = ("trusted_templates", "org_defaults")


def settings_path() -> Path:
    if os.environ.get("MLSTACK_SETTINGS"):
        return Path(os.environ["MLSTACK_SETTINGS"])
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "mlstack" / "settings.yml"


def load_settings() -> dict:
    path = settings_path()
    if not path.exists():
        return {}
    from mlstack.yamlfile import read_yaml_file, refuse_unknown_keys

    data = read_yaml_file(path, str(path)) or {}
    if not isinstance(data, dict):
        raise InvalidInput(f"{path}: must be a mapping of settings")
    refuse_unknown_keys(data, KNOWN_KEYS, str(path), noun="setting")
    trusted = data.get("trusted_templates", [])
    if not isinstance(trusted, list) or not all(isinstance(item, str) for item in trusted):
        raise InvalidInput(f"{path}: trusted_templates must be a list of strings")
    if "org_defaults" in data and not isinstance(data["org_defaults"], str):
        raise InvalidInput(f"{path}: org_defaults must be a path to a defaults file")
    return data


def trusted_template_prefixes() -> list[str]:
    from_env = [p for p in re.split(r"[,\s]+", os.environ.get("MLSTACK_TRUSTED_TEMPLATES", "")) if p]
    return from_env + list(load_settings().get("trusted_templates", []))

