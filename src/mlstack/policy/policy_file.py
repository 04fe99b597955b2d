"""The platform team's policy: which rules run, how severe they are, which can't be waived, parameters.

A policy is YAML, validated strictly (unknown keys are errors with a suggestion). It can be a
path, a file inside the checked repository, or a file in a git repository:
`https://git.example.com/platform/policies.git//mlstack/policy.yml?ref=v3`. docs/policy.md
describes every key, deadlines and levels included.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import tempfile
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from mlstack.errors import InvalidInput
from mlstack.policy.model import SEVERITIES, Params, all_rules, matches
from mlstack.yamlfile import calendar_day, did_you_mean, read_yaml_file, refuse_unknown_keys

TOP_KEYS = ("version", "rules", "params", "levels")
RULE_KEYS = ("select", "ignore", "severity", "unwaivable", "deadline")
LEVEL_KEYS = ("name", "rules")
VERSION_DEADLINE_KEYS = ("version", "by")
INTEGER_PARAMS = ("max_workers", "max_data_file_bytes", "phi_sample_bytes", "phi_sample_rows", "max_waiver_days")
NUMBER_PARAMS = ("min_champion_improvement", "max_fairness_gap")
GIT_POLICY = re.compile(r"^(?P<url>(?:https?|ssh|file)://.+?|git@.+?)//(?P<path>[^?]+)(?:\?ref=(?P<ref>.+))?$")


@dataclass
class Level:
    """A named bar (bronze, silver...): its rules (ids or families) must pass, and every level below it."""

    name: str
    rules: list[str]


@dataclass
class Policy:
    """A validated policy; `source` says where it came from (for reports).

    `deadline` maps rule ids or families to the last day their errors are only warnings
    (`min_template_version: {version, by}` lands here as TPL001's deadline).
    """

    source: str = "built-in"
    select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    severity: dict[str, str] = field(default_factory=dict)
    unwaivable: list[str] = field(default_factory=list)
    deadline: dict[str, dt.date] = field(default_factory=dict)
    params: Params = field(default_factory=Params)
    levels: list[Level] = field(default_factory=list)


def _rule_selector(value: Any, where: str, known: list[str]) -> str:
    text = str(value)
    if not text.strip():
        raise InvalidInput(f"{where}: an empty rule id or prefix matches every rule; name a rule id (SEC301) "
                           "or family (SEC)")
    if not any(rule == text or rule.startswith(text) for rule in known):
        raise InvalidInput(f"{where}: no rule or rule family {text!r}{did_you_mean(text, known)}")
    return text


def _string_list(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, (str, int, float)) for item in value):
        raise InvalidInput(f"{where}: must be a list of strings")
    return [str(item) for item in value]


def parse_policy(data: Any, source: str) -> Policy:
    """Validate a loaded policy document; every problem names the file and the key."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InvalidInput(f"{source}: a policy must be a mapping with keys {', '.join(TOP_KEYS)}")
    refuse_unknown_keys(data, TOP_KEYS, source)
    if data.get("version", 1) != 1:
        raise InvalidInput(f"{source}: version must be 1")
    known = list(all_rules())
    policy = Policy(source=source)
    rules = data.get("rules") or {}
    if not isinstance(rules, dict):
        raise InvalidInput(f"{source}: rules must be a mapping with keys {', '.join(RULE_KEYS)}")
    refuse_unknown_keys(rules, RULE_KEYS, source, prefix="rules.")
    for key, value in rules.items():
        where = f"{source}: rules.{key}"
        if key == "severity":
            if not isinstance(value, dict):
                raise InvalidInput(f"{where}: must map rule ids to {', '.join(SEVERITIES)}")
            for rule_id, level in value.items():
                _rule_selector(rule_id, f"{where}", known)
                if level not in SEVERITIES:
                    raise InvalidInput(f"{where}.{rule_id}: {level!r} is not one of {', '.join(SEVERITIES)}")
            policy.severity = {str(k): str(v) for k, v in value.items()}
        elif key == "deadline":
            if not isinstance(value, dict):
                raise InvalidInput(f"{where}: must map rule ids or families to dates, e.g. {{SEC303: 2027-01-31}}")
            policy.deadline = {_rule_selector(rule_id, where, known): calendar_day(day, f"{where}.{rule_id}")
                               for rule_id, day in value.items()}
        else:
            selectors = [_rule_selector(item, where, known) for item in _string_list(value, where)]
            setattr(policy, key, selectors)
    policy.params, version_deadline = _parse_params(data.get("params") or {}, source)
    if version_deadline:
        if "TPL001" in policy.deadline:
            raise InvalidInput(f"{source}: params.min_template_version.by and rules.deadline.TPL001 both set "
                               "TPL001's deadline; keep one of them")
        policy.deadline["TPL001"] = version_deadline
    policy.levels = _parse_levels(data.get("levels"), source, policy, known)
    return policy


def _parse_levels(data: Any, source: str, policy: Policy, known: list[str]) -> list[Level]:
    """Levels, lowest first; a level naming only rules the policy switches off could never be reached."""
    if data is None:
        return []
    shape = "a list of {name, rules} mappings, lowest level first"
    if not isinstance(data, list) or not data:
        raise InvalidInput(f"{source}: levels: must be {shape}")
    levels: list[Level] = []
    for index, entry in enumerate(data):
        where = f"{source}: levels[{index}]"
        if not isinstance(entry, dict):
            raise InvalidInput(f"{where}: must be a mapping with name and rules (levels: {shape})")
        refuse_unknown_keys(entry, LEVEL_KEYS, where)
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            raise InvalidInput(f"{where}.name: required, a name such as bronze")
        if name in (level.name for level in levels):
            raise InvalidInput(f"{where}.name: {name!r} is already a level; give each level its own name")
        if not entry.get("rules"):
            raise InvalidInput(f"{where}.rules: required, a list of rule ids or families such as [TPL, SEC]")
        selectors = [_rule_selector(item, f"{where}.rules", known)
                     for item in _string_list(entry["rules"], f"{where}.rules")]
        for selector in selectors:
            if not any(matches(rule, [selector]) for rule in policy_rules(policy, known)):
                raise InvalidInput(f"{where}.rules: {selector} is switched off by rules.select/rules.ignore, so "
                                   f"level {name!r} could never be reached; select it or drop it from the level")
        levels.append(Level(name.strip(), selectors))
    return levels


def policy_rules(policy: Policy, known: list[str]) -> list[str]:
    """The rules the policy itself runs (before --select/--ignore narrow a single check)."""
    return [rule for rule in known
            if (not policy.select or matches(rule, policy.select)) and not matches(rule, policy.ignore)]


def _parse_params(data: Any, source: str) -> tuple[Params, dt.date | None]:
    """The params, and min_template_version's deadline when it is given as {version, by}."""
    if not isinstance(data, dict):
        raise InvalidInput(f"{source}: params must be a mapping")
    defaults = Params()
    names = [f.name for f in fields(Params)]
    values: dict[str, Any] = {}
    version_deadline = None
    refuse_unknown_keys(data, names, source, prefix="params.")
    for key, value in data.items():
        where = f"{source}: params.{key}"
        default = getattr(defaults, key)
        if key in INTEGER_PARAMS:
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidInput(f"{where}: must be a whole number >= 0")
        elif key in NUMBER_PARAMS:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise InvalidInput(f"{where}: must be a number >= 0")
            value = float(value)
        elif key == "release_branch":
            if not isinstance(value, str) or not value.strip():
                raise InvalidInput(f"{where}: must be a branch name such as release")
        elif key == "min_template_version" and isinstance(value, dict):
            refuse_unknown_keys(value, VERSION_DEADLINE_KEYS, source, prefix=f"params.{key}.")
            if "version" not in value or "by" not in value:
                raise InvalidInput(f"{where}: a deadline needs both keys, e.g. {{version: 1.4.0, by: 2027-01-31}}")
            version_deadline = calendar_day(value["by"], f"{where}.by")
            value = _version(value["version"], f"{where}.version")
        elif key in ("min_template_version", "latest_template_version"):
            deadline_form = ", or a deadline {version: 0.3.0, by: YYYY-MM-DD}" if key == "min_template_version" else ""
            value = _version(value, where, deadline_form)
        elif isinstance(default, list) or key == "allowed_node_types":
            value = _string_list(value, where)
        values[key] = value
    return Params(**values), version_deadline


def _version(value: Any, where: str, also: str = "") -> str:
    if not isinstance(value, (str, int, float)) or isinstance(value, bool) or not str(value).strip():
        raise InvalidInput(f"{where}: must be a version such as 0.3.0{also}")
    return str(value)


def load_policy(spec: str | None, repo_root: Path | None = None) -> Policy:
    """The policy named by --policy (None: built-in defaults)."""
    if not spec:
        return Policy()
    match = GIT_POLICY.match(spec)
    if match:
        return _load_from_git(match.group("url"), match.group("path"), match.group("ref"), spec)
    path = Path(spec).expanduser()
    if not path.is_absolute() and not path.exists() and repo_root is not None and (repo_root / spec).exists():
        path = repo_root / spec
        # The checked repository is not trusted: its policy file must not be a link out of it.
        root = repo_root.resolve()
        if root not in path.resolve().parents:
            raise InvalidInput(f"--policy {spec}: links outside the checked repository; mlstack never follows "
                               "such links")
    return parse_policy(read_yaml_file(path, f"--policy {spec}"), spec)


def _load_from_git(url: str, path: str, ref: str | None, spec: str) -> Policy:
    from mlstack.gitrepo import CloneError, clone
    from mlstack.urls import redact

    workdir = Path(tempfile.mkdtemp(prefix="mlstack-policy-"))
    try:
        try:
            clone_root = clone(url, workdir / "p", ref=ref).resolve()
        except CloneError as error:
            raise InvalidInput(f"--policy {redact(spec)}: cannot clone {redact(url)} ({error.message})") from error
        shown = redact(spec)
        file = (clone_root / path).resolve()
        if clone_root not in file.parents:
            raise InvalidInput(f"--policy {shown}: {path!r} is not a file inside that repository")
        return parse_policy(read_yaml_file(file, f"--policy {shown}"), shown)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
