"""Gather a template's answers from every source, check them, and remember who set which.

Precedence, lowest first: template defaults, organisation defaults, the answers file,
`--set`, then prompts for whatever is still open. Locked organisation answers can't be
overridden. An answer counts as *set by the user* when it came from a file, `--set` or was
typed at a prompt; the rest follow the template's defaults when the template changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

from mlstack.errors import InvalidInput, TemplateError
from mlstack.yamlfile import did_you_mean

TRUE_WORDS = {"1", "true", "yes", "y", "on"}
FALSE_WORDS = {"0", "false", "no", "n", "off"}


@dataclass(frozen=True)
class Question:
    """One key of cookiecutter.json: its raw default (maybe Jinja), choices and prompt text."""

    key: str
    raw_default: Any
    prompt: str

    @property
    def choices(self) -> list[str] | None:
        return [str(c) for c in self.raw_default] if isinstance(self.raw_default, list) else None

    @property
    def is_bool(self) -> bool:
        return isinstance(self.raw_default, bool)


def questions_of(context: Mapping[str, Any]) -> list[Question]:
    """The prompts of a template, in cookiecutter.json order (private `_` keys excluded)."""
    prompts = context.get("__prompts__") or {}
    return [
        Question(key, raw, str(prompts.get(key, key)) if isinstance(prompts.get(key, key), str) else key)
        for key, raw in context.items()
        if not key.startswith("_") and not isinstance(raw, dict)
    ]


def shown_value(value: Any) -> str:
    """A value for an error message: its repr, cut short when long (a megabyte answer is not echoed)."""
    text = repr(value)
    if len(text) <= 80:
        return text
    size = len(value) if isinstance(value, str) else len(text)
    return f"{text[:60]}... ({size} characters)"


def describe_problem(problem: Any) -> str:
    """A template's Problem as one line: field, the value (shortened), the rule it breaks."""
    return f"{problem.field}={shown_value(getattr(problem, 'value', ''))}: {problem.rule}"


def unasked_problems(contract: Any, answers: Mapping[str, Any], keys: Iterable[str]) -> list[Any]:
    """Rule violations of answers someone gave to questions these answers don't ask.

    The template's validate() skips questions that are not asked, but a value given for one
    still lands in the answers file (and in any file that uses it), so it is checked too.
    """
    if contract is None:
        return []
    problems = []
    for key in keys:
        if key in answers and not contract.is_asked(key, answers):
            problem = contract.check_answer(key, answers[key], answers)
            if problem:
                problems.append(problem)
    return problems


def parse_set_options(items: Iterable[str]) -> dict[str, str]:
    """KEY=VALUE strings from repeated --set options."""
    parsed: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InvalidInput(f"--set {shown_value(item)}: expected KEY=VALUE, e.g. --set cloud=aws")
        parsed[key] = value
    return parsed


def read_answers_file(path: Path) -> dict[str, Any]:
    """Answers from YAML: a flat mapping, or an mlstack `.mlstack/answers.yml` (its `answers:`).

    Values are taken as written (`NO` is text, `010` stays `010`): see mlstack.yamlfile.
    """
    from mlstack.yamlfile import read_yaml_file

    data = read_yaml_file(path, f"--answers-file {path}", numbers_as_text=True)
    if data is None:
        return {}
    if isinstance(data, dict) and isinstance(data.get("answers"), dict) and "template" in data:
        data = data["answers"]
    if not isinstance(data, dict):
        raise InvalidInput(f"--answers-file {path}: must be a mapping of question: answer")
    for key, value in data.items():
        if not isinstance(key, str):
            raise InvalidInput(f"--answers-file {path}: key {shown_value(key)} must be a string")
        if isinstance(value, (dict, list)) or value is None:
            raise InvalidInput(f"--answers-file {path}: {key} must be a single value, not {type(value).__name__}")
    return dict(data)


def check_known_keys(provided: Mapping[str, Any], questions: list[Question],
                     origins: Mapping[str, str]) -> None:
    known = [q.key for q in questions]
    for key in provided:
        if key not in known:
            raise InvalidInput(f"{origins.get(key, 'answers')}: unknown question {shown_value(key)}"
                               f"{did_you_mean(key[:100], known)}; `mlstack questions` lists them")


def coerce(question: Question, value: Any, origin: str) -> Any:
    """Bring a value from a file or the command line to the type the template uses."""
    if question.is_bool:
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise InvalidInput(f"{origin}: {question.key}={shown_value(value)}: must be yes or no")
    text = value if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)
    if question.choices is not None and text not in question.choices:
        raise InvalidInput(f"{origin}: {question.key}={shown_value(text)}: must be one of "
                           f"{', '.join(question.choices)}{did_you_mean(text[:100], question.choices)}")
    return text


class Asker(Protocol):
    """How to ask one question interactively (the CLI implements it with typer prompts)."""

    def ask(self, question: Question, default: Any, check: Callable[[Any], str | None]) -> Any: ...


@dataclass
class Resolved:
    """The full set of answers and which of them the user chose."""

    answers: dict[str, Any]
    user_keys: list[str] = field(default_factory=list)


@dataclass
class Provided:
    """Answers given before prompting, each with where it came from (for error messages)."""

    values: dict[str, Any] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)
    locked: set[str] = field(default_factory=set)
    defaults: dict[str, Any] = field(default_factory=dict)

    locked_by: str = ""

    def add(self, values: Mapping[str, Any], origin: str) -> None:
        for key, value in values.items():
            self.values[key] = value
            self.origins[key] = origin

    def add_org_defaults(self, defaults: Mapping[str, Any], locked: Iterable[str], source: str) -> None:
        """Pre-fill answers; locked ones are neither asked nor changeable."""
        self.defaults.update(defaults)
        self.locked.update(locked)
        self.locked_by = source


def _default_renderer(context: Mapping[str, Any]) -> Callable[[Any, dict], Any]:
    from cookiecutter.environment import StrictEnvironment
    from cookiecutter.prompt import render_variable

    env = StrictEnvironment(context={"cookiecutter": dict(context)})

    def render(raw: Any, answers: dict) -> Any:
        try:
            return render_variable(env, raw, answers)
        except Exception as error:  # noqa: BLE001 - Jinja errors of many kinds
            raise TemplateError(f"cannot compute a default ({type(error).__name__}: {error})") from error

    return render


def answer_checker(contract: Any, answers: Mapping[str, Any]) -> Callable[[str], Callable[[Any], str | None]]:
    """For a question key, the check a prompt runs on each typed value (the contract's rule, if any)."""
    def check(key: str) -> Callable[[Any], str | None]:
        def run(value: Any) -> str | None:
            if contract is None:
                return None
            problem = contract.check_answer(key, value, {**answers, key: value})
            return problem.rule if problem else None
        return run
    return check


def reask_invalid(contract: Any, answers: dict[str, Any], by_key: Mapping[str, Question], asker: Asker | None,
                  asked: list[str], user_keys: list[str], *, given: Iterable[str]) -> list:
    """The template's problems with the whole set of answers, after asking again while each one
    concerns an answer typed at a prompt (the only answers a prompt can fix); what is left is returned."""
    if contract is None:
        return []
    check = answer_checker(contract, answers)
    problems = contract.validate(answers) + unasked_problems(contract, answers, list(given))
    while problems and asker is not None and all(p.field in asked for p in problems):
        for problem in problems:
            question = by_key[problem.field]
            print(f"error: {describe_problem(problem)}")
            answers[problem.field] = coerce(question, asker.ask(question, answers[problem.field],
                                                                check(problem.field)), "prompt")
            if problem.field not in user_keys:
                user_keys.append(problem.field)
        problems = contract.validate(answers)
    return problems


def resolve_answers(
    context: Mapping[str, Any],
    contract: ModuleType | None,
    provided: Provided,
    asker: Asker | None = None,
) -> Resolved:
    """Every answer of the template, prompting (when `asker` is given) for the open ones."""
    questions = questions_of(context)
    by_key = {q.key: q for q in questions}
    check_known_keys({**provided.defaults, **provided.values}, questions,
                     {**{k: "organisation defaults" for k in provided.defaults}, **provided.origins})
    render = _default_renderer(context)
    answers: dict[str, Any] = {}
    user_keys: list[str] = []
    asked: list[str] = []

    check = answer_checker(contract, answers)

    for question in questions:
        key = question.key
        if key in provided.defaults:
            default = coerce(question, provided.defaults[key], provided.locked_by or "organisation defaults")
            # The organisation chose it, not the template: it must not follow template defaults on update.
            user_keys.append(key)
        elif question.choices is not None:
            default = question.choices[0]
        else:
            default = render(question.raw_default, answers)
        if key in provided.locked and key in provided.values:
            wanted = coerce(question, provided.values[key], provided.origins.get(key, "answers"))
            if wanted != default:
                raise InvalidInput(f"{provided.origins.get(key, 'answers')}: {key} is locked to {default!r} by "
                                   f"{provided.locked_by}; ask your platform team to change it")
        if key in provided.values and key not in provided.locked:
            answers[key] = coerce(question, provided.values[key], provided.origins.get(key, "answers"))
            if key not in user_keys:
                user_keys.append(key)
            continue
        if key in provided.locked or asker is None or (contract and not contract.is_asked(key, answers)):
            answers[key] = default
            continue
        value = asker.ask(question, default, check(key))
        answers[key] = coerce(question, value, "prompt")
        asked.append(key)
        if answers[key] != default and key not in user_keys:
            user_keys.append(key)

    problems = reask_invalid(contract, answers, by_key, asker, asked, user_keys,
                             given=[*provided.values, *provided.defaults])
    if problems:
        raise InvalidInput(describe_problem(problems[0]), details=[f"error: {describe_problem(p)}" for p in problems])
    return Resolved(answers, user_keys)
