"""Facts about a generated project's ML pipeline, read from its configs and code; knows nothing of rules.

- `environment_configs`: configs/project.yml with each environment file merged over it, as the
  generated `config` module does (an environment file overrides any key, mappings deeply);
- `setting`: one dotted key of a merged config, or MISSING;
- `input_examples`: every place the code hands an `input_example` to MLflow, and whether the
  value is built by an anonymizing function (an example made of real rows copies patient
  records into every model version), found with Python's ast, not by grepping.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

BASE = "configs/project.yml"
ENVIRONMENTS = ("local", "dev", "staging", "prod")
MISSING = object()
# Functions that build an example without copying a record (the template's own is anonymous_example).
ANONYMIZERS = ("anonymous_example", "synthetic_example", "anonymized_example")


@dataclass
class ConfigProblem:
    path: str
    message: str


def environment_configs(files: Iterable[str],
                        load: Callable[[str], Any]) -> tuple[dict[str, dict], list[ConfigProblem]]:
    """Each environment's merged config (only environments that have a file), and unreadable files."""
    present = set(files)
    problems: list[ConfigProblem] = []
    if BASE not in present:
        return {}, problems
    base = load(BASE)
    if not isinstance(base, dict):
        return {}, [ConfigProblem(BASE, "cannot be read as a YAML mapping")]
    merged: dict[str, dict] = {}
    for environment in ENVIRONMENTS:
        path = f"configs/{environment}.yml"
        if path not in present:
            continue
        override = load(path)
        if not isinstance(override, dict):
            problems.append(ConfigProblem(path, "cannot be read as a YAML mapping"))
            continue
        merged[environment] = deep_merge(base, override)
    return merged, problems


def deep_merge(base: dict, override: dict) -> dict:
    result = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = deep_merge(result[key], value)
        else:
            result[key] = value
    return result


def setting(config: dict, dotted: str) -> Any:
    value: Any = config
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return MISSING
        value = value[part]
    return value


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass
class InputExample:
    path: str
    line: int
    anonymized: bool
    expression: str


def input_examples(path: str, source: str) -> list[InputExample]:
    """Every `input_example=` of an MLflow log_model/save_model call and `"input_example":` options entry.

    A project's own wrapper (`log_sklearn_model(model, input_example=frame)`) is judged inside,
    where it calls MLflow.
    """
    try:
        tree = ast.parse(source, filename=path)
    except (SyntaxError, ValueError):
        return []
    found: list[InputExample] = []
    for node in ast.walk(tree):
        values: list[ast.expr] = []
        if isinstance(node, ast.Call) and _name(node.func).endswith(("log_model", "save_model")):
            values += [k.value for k in node.keywords if k.arg == "input_example"]
        elif isinstance(node, ast.Dict):
            values += [v for k, v in zip(node.keys, node.values, strict=False)
                       if isinstance(k, ast.Constant) and k.value == "input_example"]
        for value in values:
            found.append(InputExample(path, value.lineno, _anonymized(value), ast.unparse(value)[:80]))
    return found


def _anonymized(value: ast.expr) -> bool:
    if isinstance(value, ast.Constant) and value.value is None:
        return True  # no example at all holds no record either
    return isinstance(value, ast.Call) and _name(value.func) in ANONYMIZERS


def _name(function: ast.expr) -> str:
    return function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "")
