"""Organisation defaults: a platform team pre-fills answers and can lock some of them.

Found, first match wins: `mlstack init --defaults FILE`, $MLSTACK_ORG_DEFAULTS, `org_defaults`
in the settings file, then `org-defaults.yml` at the root of the template (so a fork can ship
its own). Format:

    defaults: {cloud: azure, ci_platform: azure_devops}
    locked: [cloud, ci_platform]     # not asked, and --set / answers files can't change them
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlstack.errors import InvalidInput

TEMPLATE_FILE = "org-defaults.yml"
KEYS = ("defaults", "locked")


@dataclass
class OrgDefaults:
    source: str
    defaults: dict[str, Any] = field(default_factory=dict)
    locked: list[str] = field(default_factory=list)


def parse_org_defaults(data: Any, source: str) -> OrgDefaults:
    from mlstack.yamlfile import refuse_unknown_keys

    if data is None:
        return OrgDefaults(source)
    if not isinstance(data, dict):
        raise InvalidInput(f"{source}: must be a mapping with keys defaults and locked")
    refuse_unknown_keys(data, KEYS, source)
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, dict) or not all(isinstance(k, str) for k in defaults):
        raise InvalidInput(f"{source}: defaults must map question keys to values")
    for key, value in defaults.items():
        if isinstance(value, (dict, list)) or value is None:
            raise InvalidInput(f"{source}: defaults.{key} must be a single value")
    locked = data.get("locked") or []
    if not isinstance(locked, list) or not all(isinstance(k, str) for k in locked):
        raise InvalidInput(f"{source}: locked must be a list of question keys")
    for key in locked:
        if key not in defaults:
            raise InvalidInput(f"{source}: locked key {key!r} needs a value under defaults")
    return OrgDefaults(source, dict(defaults), list(locked))


def find_org_defaults(explicit: Path | None, template_dir: Path) -> OrgDefaults | None:
    """The organisation defaults that apply to this run, if any."""
    from mlstack.settings import load_settings
    from mlstack.yamlfile import read_yaml_file

    candidates = [explicit, os.environ.get("MLSTACK_ORG_DEFAULTS") or None, load_settings().get("org_defaults")]
    chosen = next((Path(str(c)).expanduser() for c in candidates if c), None)
    if chosen is None and (template_dir / TEMPLATE_FILE).is_file():
        chosen = template_dir / TEMPLATE_FILE
    if chosen is None:
        return None
    shown = f"organisation defaults {chosen}"
    return parse_org_defaults(read_yaml_file(chosen, shown, numbers_as_text=True), shown)
