"""Terraform modules (one per directory) as python-hcl2 sees them, with declaration lines."""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlstack.terraform.findings import ERROR, Finding
from mlstack.terraform.source import SourceFacts, scan

# Arguments of a module block that are not the module's input variables.
MODULE_META_ARGUMENTS = {"source", "version", "providers", "count", "for_each", "depends_on"}


@dataclass(frozen=True)
class Declaration:
    name: str
    path: Path
    line: int


@dataclass
class ParsedFile:
    path: Path
    text: str
    body: dict[str, Any] | None
    facts: SourceFacts


@dataclass
class ModuleCall:
    name: str
    source: str
    arguments: dict[str, Any]
    path: Path
    line: int


@dataclass
class Module:
    """Everything declared in one directory's .tf files."""

    directory: Path
    files: list[ParsedFile] = field(default_factory=list)
    variables: dict[str, Declaration] = field(default_factory=dict)
    required_variables: set[str] = field(default_factory=set)
    locals: dict[str, Declaration] = field(default_factory=dict)
    resources: dict[str, Declaration] = field(default_factory=dict)  # "type.name"
    data_sources: dict[str, Declaration] = field(default_factory=dict)  # "type.name"
    module_calls: dict[str, ModuleCall] = field(default_factory=dict)
    outputs: dict[str, Declaration] = field(default_factory=dict)
    required_providers: dict[str, str] = field(default_factory=dict)  # local name -> source
    has_backend: bool = False
    duplicates: list[Finding] = field(default_factory=list)

    @property
    def calls_local_modules(self) -> bool:
        return any(call.source.startswith(("./", "../")) for call in self.module_calls.values())

    def local_module_directory(self, call: ModuleCall) -> Path | None:
        if not call.source.startswith(("./", "../")):
            return None
        return (self.directory / call.source).resolve()


def hcl_options():
    from hcl2 import SerializationOptions

    return SerializationOptions(strip_string_quotes=True, explicit_blocks=False, with_comments=False)


@functools.lru_cache(maxsize=512)
def _parsed(text: str) -> dict[str, Any]:
    """Parsing is most of check's and validate's time, and a fleet's repositories (and check and
    validate on one repository) share most of their Terraform files word for word."""
    import hcl2

    return hcl2.loads(text, serialization_options=hcl_options())


def parse_text(path: Path, text: str) -> tuple[dict[str, Any] | None, Finding | None]:
    """python-hcl2's view of a file (a copy: callers may change it), or the parse error at its line."""
    try:
        return copy.deepcopy(_parsed(text)), None
    except Exception as error:  # noqa: BLE001 - lark raises many error types; all mean "does not parse"
        line = getattr(error, "line", 0) or 0
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return None, Finding("HCL100", path, int(line) if line and line > 0 else 0,
                             f"does not parse: {first}", ERROR)


def parse_file(path: Path) -> tuple[ParsedFile, Finding | None]:
    text = path.read_text(encoding="utf-8", errors="replace")
    body, problem = parse_text(path, text)
    return ParsedFile(path, text, body, scan(text)), problem


def _block_line(facts: SourceFacts, block_type: str, labels: tuple[str, ...]) -> int:
    for block in facts.blocks:
        if block.type == block_type and block.labels[:len(labels)] == labels:
            return block.line
    return 0


def _declare(module: Module, table: dict[str, Declaration], kind: str, name: str, parsed: ParsedFile,
             line: int) -> None:
    if name in table:
        first = table[name]
        module.duplicates.append(Finding(
            "HCL107", parsed.path, line,
            f"{kind} '{name}' is declared again (first in {first.path.name}:{first.line}); keep one"))
        return
    table[name] = Declaration(name, parsed.path, line)


def _entries(body: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = body.get(key) or []
    return value if isinstance(value, list) else [value]


def build_module(directory: Path, files: list[ParsedFile]) -> Module:
    """Index the declarations of one directory's parsed .tf files."""
    module = Module(directory=directory, files=files)
    for parsed in files:
        body = parsed.body or {}
        facts = parsed.facts
        for entry in _entries(body, "variable"):
            for name, spec in entry.items():
                _declare(module, module.variables, "variable", name, parsed,
                         _block_line(facts, "variable", (name,)))
                if not isinstance(spec, dict) or "default" not in spec:
                    module.required_variables.add(name)
        for name, line in facts.locals:
            _declare(module, module.locals, "local value", name, parsed, line)
        for kind, table in (("resource", module.resources), ("data", module.data_sources)):
            for entry in _entries(body, kind):
                for type_name, instances in entry.items():
                    for name in instances or {}:
                        _declare(module, table, kind, f"{type_name}.{name}", parsed,
                                 _block_line(facts, kind, (type_name, name)))
        for entry in _entries(body, "module"):
            for name, arguments in entry.items():
                line = _block_line(facts, "module", (name,))
                if name in module.module_calls:
                    first = module.module_calls[name]
                    module.duplicates.append(Finding(
                        "HCL107", parsed.path, line,
                        f"module '{name}' is declared again (first in {first.path.name}:{first.line}); keep one"))
                    continue
                arguments = arguments if isinstance(arguments, dict) else {}
                module.module_calls[name] = ModuleCall(name, str(arguments.get("source", "")), arguments,
                                                       parsed.path, line)
        for entry in _entries(body, "output"):
            for name in entry:
                _declare(module, module.outputs, "output", name, parsed, _block_line(facts, "output", (name,)))
        for terraform_block in _entries(body, "terraform"):
            if terraform_block.get("backend"):
                module.has_backend = True
            for providers in _entries(terraform_block, "required_providers"):
                for local_name, spec in providers.items():
                    source = spec.get("source") if isinstance(spec, dict) else None
                    module.required_providers[local_name] = str(source or f"hashicorp/{local_name}")
    return module
