"""The folder shows the verbs: one module per `mlstack <verb>`, and cli.py only parses arguments."""

from __future__ import annotations

import ast
import importlib

from helpers import SOURCE_ROOT

VERBS = ("init", "questions", "update", "diff", "link", "validate", "check", "rules", "fleet", "fleet_update")
# `mlstack fleet report` lives in commands/fleet.py, `mlstack fleet update` in commands/fleet_update.py.
MODULE_OF_COMMAND = {"fleet_report": "fleet"}


def test_every_verb_has_its_module_with_a_describe():
    modules = {path.stem for path in (SOURCE_ROOT / "commands").glob("*.py")} - {"__init__"}
    assert modules == set(VERBS)
    for verb in VERBS:
        assert callable(importlib.import_module(f"mlstack.commands.{verb}").describe), verb


def test_each_command_calls_its_own_module():
    tree = ast.parse((SOURCE_ROOT / "cli.py").read_text())
    commands = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)
                and any("command" in ast.unparse(d) for d in node.decorator_list)}
    for name, node in commands.items():
        verb = MODULE_OF_COMMAND.get(name.removesuffix("_command"), name.removesuffix("_command"))
        imported = {n.module for n in ast.walk(node) if isinstance(n, ast.ImportFrom) and n.module}
        assert f"mlstack.commands.{verb}" in imported, (name, imported)


def test_shared_options_are_declared_once():
    text = (SOURCE_ROOT / "cli.py").read_text()
    for option in ("--template", "--ref", "--trust", "--set", "--no-input", "--project", "--policy"):
        assert text.count(f'"{option}"') == 1, option
