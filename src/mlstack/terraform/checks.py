"""The offline checks: references resolve, module calls match, environments get values."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mlstack.terraform.findings import NOTE, Finding
from mlstack.terraform.modules import MODULE_META_ARGUMENTS, Module, ModuleCall
from mlstack.terraform.source import Reference

# A resource type is <provider>_<kind>; plain names (each.key, tags.value) are not resources.
RESOURCE_TYPE = re.compile(r"^[a-z][a-z0-9]*_[a-z0-9_]+$")
BUILTIN_HEADS = {"each", "count", "self", "path", "terraform"}


def _names_a_former_address(ref: Reference) -> bool:
    """The `from` of a moved block and a removed block name addresses that are gone on purpose."""
    return (ref.block == "moved" and ref.attribute == "from") or ref.block == "removed"


def _shown(path: Path, base: Path) -> str:
    try:
        return path.relative_to(base).as_posix() or "."
    except ValueError:
        return str(path)


def check_references(module: Module, modules: dict[Path, Module], base: Path) -> list[Finding]:
    """Every var./local./module./data./resource reference names something declared."""
    findings = []
    scoped = set().union(*(parsed.facts.scoped_names for parsed in module.files)) if module.files else set()
    where = _shown(module.directory, base)
    for parsed in module.files:
        for ref in parsed.facts.references:
            head, parts = ref.parts[0], ref.parts
            if head in BUILTIN_HEADS or head in scoped or len(parts) < 2 or _names_a_former_address(ref):
                continue
            if head == "var" and parts[1] not in module.variables:
                findings.append(Finding("HCL101", parsed.path, ref.line,
                                        f"'var.{parts[1]}' is not declared in {where}: add a variable "
                                        f"\"{parts[1]}\" block or fix the name"))
            elif head == "local" and parts[1] not in module.locals:
                findings.append(Finding("HCL102", parsed.path, ref.line,
                                        f"'local.{parts[1]}' is not defined in any locals block of {where}"))
            elif head == "module":
                findings.extend(_check_module_reference(module, modules, parsed.path, ref.line, parts, base))
            elif head == "data" and len(parts) >= 3 and f"{parts[1]}.{parts[2]}" not in module.data_sources:
                findings.append(Finding("HCL103", parsed.path, ref.line,
                                        f"'data.{parts[1]}.{parts[2]}' is not declared in {where}"))
            elif (head not in ("var", "local", "module", "data") and RESOURCE_TYPE.match(head)
                  and f"{head}.{parts[1]}" not in module.resources):
                findings.append(Finding("HCL103", parsed.path, ref.line,
                                        f"'{head}.{parts[1]}' is not a resource declared in {where}"))
    return findings


def _check_module_reference(module: Module, modules: dict[Path, Module], path: Path, line: int,
                            parts: tuple[str, ...], base: Path) -> list[Finding]:
    call = module.module_calls.get(parts[1])
    if call is None:
        return [Finding("HCL104", path, line,
                        f"'module.{parts[1]}' is not a module block in {_shown(module.directory, base)}")]
    rest = [part for part in parts[2:] if part != "[]"]
    target_dir = module.local_module_directory(call)
    target = modules.get(target_dir) if target_dir else None
    if rest and target is not None and rest[0] not in target.outputs:
        return [Finding("HCL104", path, line,
                        f"module '{call.name}' ({call.source}) has no output '{rest[0]}': add it to "
                        f"{_shown(target.directory, base)}/outputs.tf or fix the name")]
    return []


def check_module_calls(module: Module, modules: dict[Path, Module], base: Path) -> list[Finding]:
    """Local module calls pass only declared variables and every variable without a default."""
    findings = []
    for call in module.module_calls.values():
        target_dir = module.local_module_directory(call)
        if target_dir is None:
            continue  # registry or git module: its variables are not known offline
        target = modules.get(target_dir)
        if target is None:
            findings.append(Finding("HCL108", call.path, call.line,
                                    f"module '{call.name}' source '{call.source}' has no .tf files "
                                    f"({_shown(target_dir, base)})"))
            continue
        lines = _call_argument_lines(module, call)
        passed = set(call.arguments) - MODULE_META_ARGUMENTS
        target_name = _shown(target.directory, base)
        for name in sorted(passed - set(target.variables)):
            findings.append(Finding("HCL105", call.path, lines.get(name, call.line),
                                    f"module '{call.name}' sets '{name}', which {target_name} does not declare: "
                                    "remove the argument or add the variable"))
        for name in sorted(target.required_variables - passed):
            findings.append(Finding("HCL105", call.path, call.line,
                                    f"module '{call.name}' does not set '{name}', a variable of {target_name} "
                                    "without a default: pass a value here"))
    return findings


def _call_argument_lines(module: Module, call: ModuleCall) -> dict[str, int]:
    for parsed in module.files:
        if parsed.path == call.path:
            return parsed.facts.block_attributes.get(("module", (call.name,)), {})
    return {}


def variable_values(directory: Path) -> tuple[set[str], list[Finding]]:
    """Variable names given a value by terraform.tfvars(.json) and *.auto.tfvars(.json)."""
    import json

    from mlstack.terraform.modules import parse_text

    names: set[str] = set()
    problems: list[Finding] = []
    candidates = sorted({*directory.glob("terraform.tfvars"), *directory.glob("*.auto.tfvars"),
                         *directory.glob("terraform.tfvars.json"), *directory.glob("*.auto.tfvars.json")})
    for path in candidates:
        text = path.read_text(encoding="utf-8", errors="replace")
        body: dict[str, Any] | None
        if path.suffix == ".json":
            try:
                body = json.loads(text)
            except ValueError as error:
                problems.append(Finding("HCL100", path, getattr(error, "lineno", 0), f"does not parse: {error}"))
                continue
        else:
            body, problem = parse_text(path, text)
            if problem:
                problems.append(problem)
                continue
        names.update((body or {}).keys())
    return names, problems


def check_root_values(module: Module, base: Path) -> list[Finding]:
    """Variables of a root module without a default need a value in that root.

    An environment root (one that instantiates a local module) must be plannable from the
    repository alone, so a missing value is an error there; other roots (the bootstrap) take
    their administrator inputs at apply time, so they are listed as notes.
    """
    values, findings = variable_values(module.directory)
    environment_root = module.calls_local_modules
    where = _shown(module.directory, base)
    for name in sorted(module.required_variables - values):
        declaration = module.variables[name]
        if environment_root:
            findings.append(Finding("HCL106", declaration.path, declaration.line,
                                    f"variable '{name}' has no default and no value in {where}/terraform.tfvars "
                                    "or *.auto.tfvars: this environment cannot be planned as committed"))
        else:
            findings.append(Finding("HCL106", declaration.path, declaration.line,
                                    f"input '{name}' has no default: pass -var {name}=... or TF_VAR_{name} "
                                    f"when applying {where}", NOTE))
    for name in sorted(values - set(module.variables)):
        findings.append(Finding("HCL106", module.directory, 0,
                                f"a .tfvars file sets '{name}', which {where} does not declare", NOTE))
    return findings


def check_module(module: Module, modules: dict[Path, Module], is_root: bool, base: Path) -> list[Finding]:
    findings = list(module.duplicates)
    findings += check_references(module, modules, base)
    findings += check_module_calls(module, modules, base)
    if is_root:
        findings += check_root_values(module, base)
    return findings
