"""CI files of GitHub Actions, Azure DevOps and GitLab, parsed into one small model the CI rules judge.

Knows nothing of rules or findings. Each platform's YAML becomes `Pipeline`s of `Job`s of
`Step`s, with what governance asks about: triggers, branch conditions, environments, approvals
(a GitHub/Azure DevOps environment, a GitLab manual job), permissions, variables and the
third-party code a pipeline pulls in. Azure DevOps step templates and GitLab `extends:` /
local `include:` are resolved, so a rule sees what a job really runs. A file that cannot be
parsed is a `Problem`, never an exception.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

GITHUB, AZURE, GITLAB = "github_actions", "azure_devops", "gitlab"
PLATFORM_NAMES = {GITHUB: "GitHub Actions", AZURE: "Azure DevOps", GITLAB: "GitLab CI"}
GITLAB_KEYWORDS = {"default", "include", "stages", "variables", "workflow", "image", "services", "cache",
                   "before_script", "after_script", "spec"}


@dataclass
class Step:
    name: str
    uses: str | None = None  # a GitHub action or reusable workflow, an Azure DevOps task
    script: str | None = None  # the shell the step runs
    env: dict[str, str] = field(default_factory=dict)
    inputs: dict[str, Any] = field(default_factory=dict)  # `with:` / `inputs:`


@dataclass
class Job:
    name: str
    line: int | None = None
    environment: str | None = None  # as written: a name or an expression
    condition: str = ""  # GitHub `if`, Azure DevOps stage and job `condition`, GitLab rules' `if`s
    deployment: bool = False  # an Azure DevOps deployment job (the environment's checks gate it)
    manual: bool = False  # GitLab: every rule that runs it says `when: manual`
    permissions: Any = None  # GitHub: the job's `permissions` (None: inherits the workflow's)
    env: dict[str, str] = field(default_factory=dict)  # variables the job sees (pipeline + job level)
    variable_groups: list[str] = field(default_factory=list)  # Azure DevOps
    steps: list[Step] = field(default_factory=list)
    rules: list[dict] = field(default_factory=list)  # GitLab rules (after extends)
    only: list[str] = field(default_factory=list)  # GitLab only: refs
    id_tokens: list[str] = field(default_factory=list)  # GitLab OIDC tokens the job requests
    uses: str | None = None  # GitHub: a job that calls a reusable workflow

    @property
    def scripts(self) -> list[str]:
        return [s.script for s in self.steps if s.script]


@dataclass
class Pipeline:
    platform: str
    path: str
    triggers: dict[str, Any] = field(default_factory=dict)
    permissions: Any = None  # GitHub: top-level permissions (None: not declared)
    env: dict[str, str] = field(default_factory=dict)
    jobs: list[Job] = field(default_factory=list)
    references: list[tuple[str, int | None]] = field(default_factory=list)  # third-party code and its line
    text: str = ""

    def line_of(self, needle: str) -> int | None:
        for number, line in enumerate(self.text.splitlines(), 1):
            if needle in line:
                return number
        return None


@dataclass
class Problem:
    path: str
    message: str


Reader = Callable[[str], "str | None"]


def ci_files(files: Iterable[str]) -> dict[str, list[str]]:
    """The CI files of each platform among a repository's files."""
    found: dict[str, list[str]] = {GITHUB: [], AZURE: [], GITLAB: []}
    for path in files:
        if re.fullmatch(r"\.github/workflows/[^/]+\.ya?ml", path):
            found[GITHUB].append(path)
        elif re.fullmatch(r"(?:\.azure-pipelines/.+|azure-pipelines[^/]*)\.ya?ml", path):
            found[AZURE].append(path)
        elif path == ".gitlab-ci.yml":
            found[GITLAB].append(path)
    return found


def load(files: Iterable[str], read: Reader) -> tuple[list[Pipeline], list[Problem]]:
    """Every pipeline of the repository, and the files that could not be understood."""
    pipelines: list[Pipeline] = []
    problems: list[Problem] = []
    cache: dict[str, Any] = {}
    files = list(files)
    present = set(files)

    def document(path: str) -> Any:
        if path not in present and path not in cache:  # a template or include missing from the repository
            problems.append(Problem(path, "is included by a pipeline but is not a file of this repository"))
            cache[path] = None
        if path not in cache:
            cache[path] = _parse(path, read, problems)
        return cache[path]

    builders = {GITHUB: lambda path, data: _github(path, data, read(path) or ""),
                AZURE: lambda path, data: _azure(path, data, read(path) or "", document),
                GITLAB: lambda path, data: _gitlab(path, data, read(path) or "", document)}
    for platform, paths in ci_files(files).items():
        for path in paths:
            data = document(path)
            if data is None or platform == AZURE and _is_template(data):
                continue
            try:
                pipelines.append(builders[platform](path, data))
            except Malformed as error:
                problems.append(Problem(path, str(error)))
            except (AttributeError, TypeError, KeyError, ValueError) as error:
                problems.append(Problem(path, f"not a pipeline this platform accepts ({type(error).__name__}: "
                                        f"{error})"))
    return pipelines, problems


class Malformed(ValueError):
    """The YAML parses but is not the platform's shape (`jobs` is a list, a step is a number)."""


def _parse(path: str, read: Reader, problems: list[Problem]) -> Any:
    from mlstack.yamlfile import YamlFileError, load_yaml

    text = read(path)
    if text is None:
        problems.append(Problem(path, "cannot be read as UTF-8 text"))
        return None
    try:
        data = load_yaml(text)
    except YamlFileError as error:
        problems.append(Problem(path, str(error)))
        return None
    if not isinstance(data, dict):
        problems.append(Problem(path, "not a mapping at the top level"))
        return None
    return data


def _mapping(value: Any, where: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Malformed(f"{where} must be a mapping")
    return value


def _list(value: Any, where: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise Malformed(f"{where} must be a list")
    return value


def _strings(value: Any) -> dict[str, str]:
    return {str(k): "" if v is None else str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def _key_line(text: str, key: str, indent: str = "") -> int | None:
    quoted = rf"[\"']?{re.escape(key)}[\"']?"
    pattern = re.compile(rf"^{indent}\s*(?:- )?(?:job: |deployment: |stage: )?{quoted}\s*:?\s*(?:#.*)?$")
    for number, line in enumerate(text.splitlines(), 1):
        if pattern.match(line):
            return number
    return None


# --- GitHub Actions ---------------------------------------------------------------------
def _github(path: str, data: dict, text: str) -> Pipeline:
    triggers = data.get("on", data.get(True))  # a YAML 1.1 reader would have made `on` True
    if isinstance(triggers, str):
        triggers = {triggers: None}
    elif isinstance(triggers, list):
        triggers = {str(t): None for t in triggers}
    pipeline = Pipeline(GITHUB, path, _mapping(triggers, "on"), data.get("permissions"),
                        _strings(data.get("env")), text=text)
    for name, body in _mapping(data.get("jobs"), "jobs").items():
        body = _mapping(body, f"jobs.{name}")
        environment = body.get("environment")
        if isinstance(environment, dict):
            environment = environment.get("name")
        job = Job(str(name), _key_line(text, str(name)), None if environment is None else str(environment),
                  str(body.get("if") or ""), permissions=body.get("permissions"),
                  env={**pipeline.env, **_strings(body.get("env"))}, uses=body.get("uses"))
        if job.uses:
            pipeline.references.append((str(job.uses), pipeline.line_of(str(job.uses))))
        for number, step in enumerate(_list(body.get("steps"), f"jobs.{name}.steps"), 1):
            step = _mapping(step, f"jobs.{name}.steps[{number}]")
            item = Step(str(step.get("name") or step.get("uses") or f"step {number}"),
                        str(step["uses"]) if step.get("uses") else None,
                        str(step["run"]) if step.get("run") is not None else None,
                        _strings(step.get("env")), _mapping(step.get("with"), f"jobs.{name}.steps[{number}].with"))
            job.steps.append(item)
            if item.uses:
                pipeline.references.append((item.uses, pipeline.line_of(f"uses: {item.uses}")))
        pipeline.jobs.append(job)
    return pipeline


# --- Azure DevOps -------------------------------------------------------------------------
def _is_template(data: dict) -> bool:
    """A template (steps, jobs or stages for other pipelines to include), not a pipeline of its own."""
    return not any(key in data for key in ("trigger", "pr", "schedules", "resources", "pool", "name")) and \
        any(key in data for key in ("steps", "jobs", "stages", "parameters"))


def _azure_variables(value: Any) -> tuple[dict[str, str], list[str]]:
    names: dict[str, str] = {}
    groups: list[str] = []
    if isinstance(value, dict):
        return _strings(value), groups
    for item in _list(value, "variables"):
        if isinstance(item, dict):
            if "group" in item:
                groups.append(str(item["group"]))
            elif "name" in item:
                names[str(item["name"])] = "" if item.get("value") is None else str(item.get("value"))
    return names, groups


def _azure(path: str, data: dict, text: str, document: Callable[[str], Any]) -> Pipeline:
    variables, groups = _azure_variables(data.get("variables"))
    triggers = {"trigger": data.get("trigger", "default"), "pr": data.get("pr", "default")}
    pipeline = Pipeline(AZURE, path, triggers, env=variables, text=text)
    for repository in _list(_mapping(data.get("resources"), "resources").get("repositories"),
                            "resources.repositories"):
        if isinstance(repository, dict) and repository.get("type") in ("github", "git", "bitbucket"):
            where = f"{repository.get('name')}@{repository.get('ref') or '(default branch)'}"
            pipeline.references.append((f"repository {where}", pipeline.line_of(str(repository.get("name")))))
    stages = data.get("stages")
    if stages is None:
        jobs = data.get("jobs") or [{"job": "__default", "steps": data.get("steps")}]
        stages = [{"stage": "__default", "jobs": jobs}]
    for stage in _list(stages, "stages"):
        stage = _mapping(stage, "stages[]")
        if "template" in stage:
            continue  # a stage template from elsewhere: its jobs are judged where it lives
        stage_condition = str(stage.get("condition") or "")
        stage_vars, stage_groups = _azure_variables(stage.get("variables"))
        for job in _list(stage.get("jobs"), f"stage {stage.get('stage')}.jobs"):
            job = _mapping(job, "jobs[]")
            if "template" in job:
                continue
            name = str(job.get("deployment") or job.get("job") or "__default")
            job_vars, job_groups = _azure_variables(job.get("variables"))
            environment = job.get("environment")
            if isinstance(environment, dict):
                environment = environment.get("name")
            steps_source = job.get("steps")
            if "deployment" in job:
                strategy = _mapping(job.get("strategy"), f"{name}.strategy")
                steps_source = [s for phase in strategy.values() if isinstance(phase, dict)
                                for hook in phase.values() if isinstance(hook, dict)
                                for s in _list(hook.get("steps"), f"{name}.strategy steps")]
            conditions = " and ".join(c for c in (stage_condition, str(job.get("condition") or "")) if c)
            item = Job(name, _key_line(text, name), None if environment is None else str(environment), conditions,
                       deployment="deployment" in job, env={**variables, **stage_vars, **job_vars},
                       variable_groups=groups + stage_groups + job_groups)
            item.steps = _azure_steps(steps_source, path, document, depth=0)
            pipeline.jobs.append(item)
    return pipeline


def _azure_steps(steps: Any, path: str, document: Callable[[str], Any], depth: int) -> list[Step]:
    out: list[Step] = []
    for number, step in enumerate(_list(steps, "steps"), 1):
        step = _mapping(step, f"steps[{number}]")
        if "template" in step:
            reference = str(step["template"])
            if "@" in reference or depth > 5:
                continue  # a template in another repository: judged there (its ref is a reference)
            included = posixpath.normpath(posixpath.join(posixpath.dirname(path), reference))
            template = document(included)
            if isinstance(template, dict):
                values = _mapping(step.get("parameters"), f"steps[{number}].parameters")
                out += [_with_parameters(s, values)
                        for s in _azure_steps(template.get("steps"), included, document, depth + 1)]
            continue
        if "checkout" in step:
            out.append(Step(f"checkout {step['checkout']}", f"checkout:{step['checkout']}",
                            inputs={k: v for k, v in step.items() if k != "checkout"}))
            continue
        script = next((str(step[k]) for k in ("script", "bash", "pwsh", "powershell") if step.get(k) is not None),
                      None)
        if str(step.get("task", "")).startswith(("Bash@", "CmdLine@", "PowerShell@")):
            inputs = _mapping(step.get("inputs"), "inputs")
            script = script or str(inputs.get("script") or inputs.get("arguments") or "")
        out.append(Step(str(step.get("displayName") or step.get("task") or f"step {number}"),
                        str(step["task"]) if step.get("task") else None, script, _strings(step.get("env")),
                        _mapping(step.get("inputs"), "inputs")))
    return out


def _with_parameters(step: Step, values: dict) -> Step:
    """A template's step with the caller's `${{ parameters.x }}` values filled in, as Azure DevOps expands them."""

    def fill(text: str) -> str:
        return re.sub(r"\$\{\{\s*parameters\.([\w-]+)\s*\}\}",
                      lambda m: str(values[m.group(1)]) if m.group(1) in values else m.group(0), text)

    return Step(fill(step.name), step.uses, fill(step.script) if step.script else None,
                {k: fill(v) for k, v in step.env.items()}, step.inputs)


# --- GitLab CI ----------------------------------------------------------------------------
def _gitlab(path: str, data: dict, text: str, document: Callable[[str], Any]) -> Pipeline:
    merged = dict(data)
    pipeline = Pipeline(GITLAB, path, text=text)
    includes = data.get("include")
    for include in includes if isinstance(includes, list) else [includes] if includes else []:
        if isinstance(include, str):
            include = {"local": include} if not include.startswith("http") else {"remote": include}
        include = _mapping(include, "include[]")
        if "local" in include:
            local = document(str(include["local"]).lstrip("/"))
            if isinstance(local, dict):
                merged = {**local, **merged}
        for kind in ("project", "remote", "component", "template"):
            if kind in include:
                ref = f"@{include['ref']}" if include.get("ref") else ""
                pipeline.references.append((f"{kind} {include[kind]}{ref}", pipeline.line_of(str(include[kind]))))
    pipeline.triggers = {"workflow": _mapping(merged.get("workflow"), "workflow")}
    pipeline.env = _gitlab_variables(merged.get("variables"))
    default = _mapping(merged.get("default"), "default")
    for name, body in merged.items():
        if name in GITLAB_KEYWORDS or str(name).startswith(".") or not isinstance(body, dict):
            continue
        body = _extends(merged, str(name), 0)
        if "script" not in body and "trigger" not in body:
            continue
        rules = [r for r in _list(body.get("rules"), f"{name}.rules") if isinstance(r, dict)]
        conditions = " || ".join(str(r.get("if")) for r in rules if r.get("if") and r.get("when") != "never")
        environment = body.get("environment")
        if isinstance(environment, dict):
            environment = environment.get("name")
        running = [r for r in rules if r.get("when") != "never"]
        manual = body.get("when") == "manual" or bool(running) and all(r.get("when") == "manual" for r in running)
        only = body.get("only")
        only = only.get("refs") if isinstance(only, dict) else only
        job = Job(str(name), _key_line(text, str(name)), None if environment is None else str(environment),
                  conditions, manual=manual, env={**pipeline.env, **_gitlab_variables(body.get("variables"))},
                  rules=rules, only=[str(o) for o in only] if isinstance(only, list) else [],
                  id_tokens=list(_mapping(body.get("id_tokens"), f"{name}.id_tokens")))
        for key in ("before_script", "script", "after_script"):
            lines = body.get(key, default.get(key) if key != "script" else None)
            lines = lines if isinstance(lines, list) else [lines] if lines else []
            job.steps += [Step(key, script=str(line)) for line in _flatten(lines)]
        pipeline.jobs.append(job)
    return pipeline


def _flatten(lines: list) -> list:
    out = []
    for line in lines:
        out += _flatten(line) if isinstance(line, list) else [line]
    return out


def _gitlab_variables(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v.get("value", "")) if isinstance(v, dict) else "" if v is None else str(v)
            for k, v in value.items()}


def _extends(document: dict, name: str, depth: int) -> dict:
    """A job with its `extends:` chain merged in (GitLab merges hashes deeply, the job winning)."""
    body = document.get(name)
    if not isinstance(body, dict):
        return {}
    if depth > 10:
        raise Malformed(f"{name}: `extends` nests more than 10 levels (or loops)")
    parents = body.get("extends") or []
    result: dict = {}
    for parent in [parents] if isinstance(parents, str) else parents:
        result = _deep_merge(result, _extends(document, str(parent), depth + 1))
    return _deep_merge(result, {k: v for k, v in body.items() if k != "extends"})


def _deep_merge(base: dict, over: dict) -> dict:
    merged = dict(base)
    for key, value in over.items():
        merged[key] = _deep_merge(merged[key], value) if isinstance(value, dict) and isinstance(
            merged.get(key), dict) else value
    return merged
