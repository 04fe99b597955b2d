"""Databricks jobs as each environment deploys them: module code with that root's values filled in.

Governance rules must judge what prod will run, not the module's `var.node_type_id`. This
evaluates the simple expressions generated projects use (`var.x`, `var.x["k"]`, `local.x`,
string templates of those); anything else stays an `Unknown` and rules skip it rather than
guess. It never runs terraform.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from mlstack.policy.repo import RepoFacts

INTERPOLATION = re.compile(r"\$\{([^{}]+)\}")
TRAVERSAL = re.compile(r'^(var|local)\.([A-Za-z_][A-Za-z0-9_-]*)((?:\["[^"]*"\]|\.[A-Za-z_][A-Za-z0-9_-]*)*)$')
INDEX = re.compile(r'\["([^"]*)"\]|\.([A-Za-z_][A-Za-z0-9_-]*)')


@dataclass(frozen=True)
class Unknown:
    """A value terraform would compute at plan time (e.g. a data source attribute)."""

    expression: str


@dataclass
class Job:
    """One databricks_job in one environment, with its values evaluated."""

    environment: str
    name: str
    path: str
    line: int | None
    body: dict[str, Any]


@dataclass
class Scope:
    variables: dict[str, Any] = field(default_factory=dict)
    locals: dict[str, Any] = field(default_factory=dict)


def _blocks(body: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = body.get(key) or []
    return value if isinstance(value, list) else [value]


def _lookup(root: Any, accessors: str) -> Any:
    value = root
    for key, attribute in INDEX.findall(accessors):
        name = key or attribute
        if isinstance(value, dict) and name in value:
            value = value[name]
        else:
            return Unknown(accessors)
    return value


def evaluate(value: Any, scope: Scope, depth: int = 0) -> Any:
    """Fill in var./local. references; leave anything else as Unknown."""
    if depth > 20:
        return Unknown("too deep")
    if isinstance(value, dict):
        return {k: evaluate(v, scope, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [evaluate(v, scope, depth + 1) for v in value]
    if not isinstance(value, str) or "${" not in value:
        return value
    whole = re.fullmatch(r"\$\{([^{}]+)\}", value.strip())
    if whole:
        return _reference(whole.group(1).strip(), scope, depth)

    def substitute(match: re.Match) -> str:
        resolved = _reference(match.group(1).strip(), scope, depth)
        return match.group(0) if isinstance(resolved, (Unknown, dict, list)) else str(resolved)

    return INTERPOLATION.sub(substitute, value)


def _reference(expression: str, scope: Scope, depth: int) -> Any:
    match = TRAVERSAL.match(expression)
    if not match:
        return Unknown(expression)
    kind, name, accessors = match.groups()
    table = scope.variables if kind == "var" else scope.locals
    if name not in table:
        return Unknown(expression)
    base = evaluate(table[name], scope, depth + 1)
    return _lookup(base, accessors) if accessors else base


def _module_scope(repo: RepoFacts, directory: str) -> tuple[Scope, list[tuple[str, dict]]]:
    """Variable defaults, locals and parsed files of the module in `directory`."""
    scope = Scope()
    files = []
    for path, body in repo.terraform.items():
        if path.rsplit("/", 1)[0] != directory:
            continue
        files.append((path, body))
        for entry in _blocks(body, "variable"):
            for name, spec in entry.items():
                if isinstance(spec, dict) and "default" in spec:
                    scope.variables[name] = spec["default"]
        for entry in _blocks(body, "locals"):
            scope.locals.update(entry)
    return scope, files


def _jobs_in(repo: RepoFacts, files: list[tuple[str, dict]], scope: Scope, environment: str) -> list[Job]:
    jobs = []
    for path, body in files:
        for entry in _blocks(body, "resource"):
            for name, instance in (entry.get("databricks_job") or {}).items():
                line = repo.line_of(path, f'resource "databricks_job" "{name}"')
                jobs.append(Job(environment, name, path, line, evaluate(instance, scope)))
    return jobs


def environment_jobs(repo: RepoFacts) -> list[Job]:
    """Every job of every environment root (a directory calling a local module, or defining jobs itself)."""
    directories = sorted({path.rsplit("/", 1)[0] for path in repo.terraform if "/" in path})
    called = {_normalise(f"{directory}/{source}") for directory in directories
              for source in _local_module_sources(repo, directory)}
    jobs: list[Job] = []
    for directory in directories:
        if directory in called:
            continue  # a module is judged through the roots that call it, with their values
        root_scope, root_files = _module_scope(repo, directory)
        jobs.extend(_jobs_in(repo, root_files, root_scope, directory.rsplit("/", 1)[-1]))
        for _, body in root_files:
            for entry in _blocks(body, "module"):
                for _call, arguments in entry.items():
                    source = str(arguments.get("source", ""))
                    if not source.startswith(("./", "../")):
                        continue
                    module_dir = _normalise(f"{directory}/{source}")
                    module_scope, module_files = _module_scope(repo, module_dir)
                    inputs = {k: evaluate(v, root_scope) for k, v in arguments.items() if k != "source"}
                    scope = Scope({**module_scope.variables, **inputs}, module_scope.locals)
                    environment = str(inputs.get("environment") or directory.rsplit("/", 1)[-1])
                    jobs.extend(_jobs_in(repo, module_files, scope, environment))
    return jobs


def _local_module_sources(repo: RepoFacts, directory: str) -> list[str]:
    sources = []
    for path, body in repo.terraform.items():
        if path.rsplit("/", 1)[0] == directory:
            for entry in _blocks(body, "module"):
                for arguments in entry.values():
                    source = str(arguments.get("source", ""))
                    if source.startswith(("./", "../")):
                        sources.append(source)
    return sources


def _normalise(path: str) -> str:
    parts: list[str] = []
    for part in path.split("/"):
        if part == "..":
            if parts:
                parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    return "/".join(parts)


def first(block: Any) -> dict[str, Any]:
    """The first (usually only) instance of a nested block, or {}."""
    if isinstance(block, list):
        return block[0] if block and isinstance(block[0], dict) else {}
    return block if isinstance(block, dict) else {}


def clusters(job: Job) -> list[dict[str, Any]]:
    """Every cluster spec a job can start: job clusters and per-task new clusters."""
    found = [first(jc.get("new_cluster")) for jc in _blocks(job.body, "job_cluster")]
    found += [first(task.get("new_cluster")) for task in _blocks(job.body, "task") if task.get("new_cluster")]
    return [c for c in found if c]
