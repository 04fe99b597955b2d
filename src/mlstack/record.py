"""The project's record `.mlstack/answers.yml`: read it, write it, and carry answers to a new version.

mlstack owns this file. It says which template (source, version) and which pristine commit
the repository was last merged from, every answer, and which answers the user chose: those
stay as they are on update, the others follow the template's (possibly changed) defaults.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from mlstack.answers import (
    Asker,
    Question,
    _default_renderer,
    check_known_keys,
    coerce,
    describe_problem,
    questions_of,
    unasked_problems,
)
from mlstack.errors import InvalidInput, RepoStateError

RECORD_PATH = ".mlstack/answers.yml"
PRISTINE_BRANCH = "mlstack/template"
OBJECT_ID = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
PRISTINE_BRANCH_NAME = re.compile(r"^mlstack/[A-Za-z0-9][A-Za-z0-9._-]*(?:/[A-Za-z0-9][A-Za-z0-9._-]*)*$")
HEADER = (
    "# Written by mlstack: how this repository was generated. Change answers with\n"
    "# `mlstack update --set KEY=VALUE` rather than by hand; `mlstack check` reads this file.\n"
)


@dataclass
class ProjectRecord:
    """What `.mlstack/answers.yml` says about how this repository was made."""

    source: str
    version: str
    answers: dict[str, Any]
    user_set: list[str] = field(default_factory=list)
    pristine_branch: str = PRISTINE_BRANCH
    pristine_commit: str | None = None
    mlstack_version: str | None = None
    managed: list[str] | None = None  # the template's managed globs, written into pristine renders

    def to_text(self) -> str:
        import yaml

        template: dict[str, Any] = {
            "source": self.source,
            "version": self.version,
            "pristine_branch": self.pristine_branch,
            "pristine_commit": self.pristine_commit,
        }
        if self.managed is not None:
            template["managed"] = list(self.managed)
        document = {
            "mlstack_version": self.mlstack_version,
            "template": template,
            "answers": dict(self.answers),
            "user_set": sorted(self.user_set),
        }
        return HEADER + yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


def parse_record(text: str, where: str) -> ProjectRecord:
    """A record from the text of an answers file; RepoStateError names what is wrong.

    The file is committed, so a pull request can change it: every field is checked before it
    can reach git (a pristine commit that is not an object id, a branch outside mlstack/).
    """
    from mlstack.yamlfile import YamlFileError, load_yaml

    try:
        data = load_yaml(text, numbers_as_text=True)
    except YamlFileError as error:
        raise RepoStateError(f"{where}: {error}; restore it from git (git checkout -- {RECORD_PATH})") from error
    if not isinstance(data, dict) or not isinstance(data.get("template"), dict) \
            or not isinstance(data.get("answers"), dict):
        raise RepoStateError(f"{where}: not an mlstack answers file (needs `template:` and `answers:` mappings)")
    template = data["template"]
    user_set = data.get("user_set") or []
    if not isinstance(user_set, list) or not all(isinstance(key, str) for key in user_set):
        raise RepoStateError(f"{where}: user_set must be a list of answer keys")
    for key in ("source", "version", "pristine_branch", "pristine_commit"):
        if template.get(key) is not None and not isinstance(template[key], str):
            raise RepoStateError(f"{where}: template.{key} must be a string")
    commit = template.get("pristine_commit") or None
    if commit is not None and not OBJECT_ID.match(commit):
        raise RepoStateError(f"{where}: template.pristine_commit {commit[:80]!r} is not a git object id; "
                             f"restore the file from git (git checkout -- {RECORD_PATH})")
    branch = template.get("pristine_branch") or PRISTINE_BRANCH
    if not PRISTINE_BRANCH_NAME.match(branch) or ".." in branch or branch.endswith(".lock"):
        raise RepoStateError(f"{where}: template.pristine_branch {branch[:80]!r} is not a branch under mlstack/ "
                             f"(mlstack only ever writes {PRISTINE_BRANCH}); restore the file from git")
    version = data.get("mlstack_version")
    return ProjectRecord(
        source=template.get("source") or "",
        version=str(template.get("version") or ""),
        answers=dict(data["answers"]),
        user_set=list(user_set),
        pristine_branch=branch,
        pristine_commit=commit,
        mlstack_version=str(version)[:100] if version else None,
    )


def rendered_record_text(cookiecutter: Mapping[str, Any]) -> str:
    """The answers file a pristine render holds, from the render's cookiecutter context.

    The template's post-generation hook writes this file when it runs; a render without hooks
    (the `mlstack diff` preview) gets the same bytes from here.
    """
    meta = cookiecutter.get("_mlstack") or {}
    record = ProjectRecord(
        source=str(meta.get("source") or cookiecutter.get("_template")),
        version=str(meta.get("template_version") or cookiecutter.get("_template_version")),
        answers={key: value for key, value in cookiecutter.items() if not key.startswith("_")},
        user_set=list(meta.get("user_keys") or []),
        mlstack_version=meta.get("mlstack_version") or None,
        managed=list(cookiecutter.get("_managed_files") or []),
    )
    return record.to_text()


def read_record(project: Path) -> ProjectRecord:
    path = project / RECORD_PATH
    if not path.is_file():
        raise RepoStateError(f"{project} has no {RECORD_PATH}, so mlstack did not generate it; "
                             "adopt it first with `mlstack link`")
    return parse_record(path.read_text(encoding="utf-8", errors="replace"), str(path))


@dataclass
class CarriedAnswers:
    """Answers for the target version, and what changed on the way (for the update summary)."""

    answers: dict[str, Any]
    user_keys: list[str]
    new_questions: dict[str, Any] = field(default_factory=dict)
    followed_defaults: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)
    changed_by_set: dict[str, tuple[Any, Any]] = field(default_factory=dict)


def carry_answers(
    context: Mapping[str, Any],
    contract: ModuleType | None,
    recorded: Mapping[str, Any],
    user_set: list[str],
    overrides: Mapping[str, str],
    asker: Asker | None,
    version: str,
) -> CarriedAnswers:
    """Recorded answers brought to a template version.

    User-set answers are kept, defaulted ones take the version's defaults, `overrides`
    (--set) win, and questions new in this version are asked (`asker`) or take their default
    when it is valid; with no asker an invalid default fails, naming the question.
    """
    questions = questions_of(context)
    by_key = {q.key: q for q in questions}
    check_known_keys(overrides, questions, dict.fromkeys(overrides, "--set"))
    render = _default_renderer(context)
    answers: dict[str, Any] = {}
    result = CarriedAnswers(answers, [])
    asked: list[str] = []

    def check(key: str) -> Callable[[Any], str | None]:
        def run(value: Any) -> str | None:
            if contract is None:
                return None
            problem = contract.check_answer(key, value, {**answers, key: value})
            return problem.rule if problem else None
        return run

    for question in questions:
        key = question.key
        default = question.choices[0] if question.choices is not None else render(question.raw_default, answers)
        if key in overrides:
            answers[key] = coerce(question, overrides[key], "--set")
            result.user_keys.append(key)
            if key in recorded and recorded[key] != answers[key]:
                result.changed_by_set[key] = (recorded[key], answers[key])
        elif key in recorded and key in user_set:
            answers[key] = _keep_user_answer(question, recorded[key], version)
            result.user_keys.append(key)
        elif key in recorded:
            answers[key] = default
            if _differs(recorded[key], default):
                result.followed_defaults[key] = (recorded[key], default)
        elif asker is not None and (contract is None or contract.is_asked(key, answers)):
            value = coerce(question, asker.ask(question, default, check(key)), "prompt")
            answers[key] = value
            asked.append(key)
            result.new_questions[key] = value
            if value != default:
                result.user_keys.append(key)
        else:
            answers[key] = default
            result.new_questions[key] = default

    given = [*overrides, *(key for key in user_set if key in recorded)]
    problems = (contract.validate(answers) + unasked_problems(contract, answers, given)) if contract else []
    while problems and asker is not None and all(p.field in asked for p in problems):
        for problem in problems:
            print(f"error: {describe_problem(problem)}")
            value = coerce(by_key[problem.field], asker.ask(by_key[problem.field], answers[problem.field],
                                                            check(problem.field)), "prompt")
            answers[problem.field] = result.new_questions[problem.field] = value
            if problem.field not in result.user_keys:
                result.user_keys.append(problem.field)
        problems = contract.validate(answers)
    if problems:
        first = problems[0]
        if first.field in result.new_questions and first.field not in asked:
            message = (f"template {version} asks a new question, {first.field}, whose default is not valid "
                       f"({first.rule}); answer it with --set {first.field}=VALUE")
        elif first.field in recorded and first.field in user_set and first.field not in overrides:
            message = (f"your answer {describe_problem(first)} is no longer accepted by template {version}; "
                       f"change it with --set {first.field}=VALUE")
        else:
            message = describe_problem(first)
        raise InvalidInput(message, details=[f"error: {message}"] + [f"error: {describe_problem(p)}"
                                                                     for p in problems[1:]])
    result.dropped = [key for key in recorded if key not in by_key]
    return result


def _keep_user_answer(question: Question, value: Any, version: str) -> Any:
    try:
        return coerce(question, value, RECORD_PATH)
    except InvalidInput as error:
        raise InvalidInput(f"{error.message}; template {version} no longer accepts your recorded answer: "
                           f"choose one with --set {question.key}=VALUE") from error


def _differs(old: Any, new: Any) -> bool:
    return str(old) != str(new) if not isinstance(old, bool) and not isinstance(new, bool) else old != new


def user_chosen_keys(context: Mapping[str, Any], answers: Mapping[str, Any]) -> list[str]:
    """The answers that differ from what the template would have defaulted to, given the others.

    Used when adopting a repository: nobody recorded which answers were typed, so an answer
    equal to its (derived) default counts as a default and will follow the template.
    """
    render = _default_renderer(context)
    chosen: list[str] = []
    so_far: dict[str, Any] = {}
    for question in questions_of(context):
        if question.key not in answers:
            continue
        if question.choices is not None:
            default: Any = question.choices[0]
        else:
            try:
                default = render(question.raw_default, so_far)
            except Exception:  # noqa: BLE001 - a default that can't render can't equal the answer
                default = object()
        if _differs(answers[question.key], default):
            chosen.append(question.key)
        so_far[question.key] = answers[question.key]
    return chosen
