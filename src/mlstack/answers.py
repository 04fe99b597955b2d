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
    help: str = ""
    section: str = ""
    derived: bool = False  # asked only when the user reviews the infrastructure details
    conditional: bool = False  # asked only when earlier answers call for it

    @property
    def choices(self) -> list[str] | None:
        return [str(c) for c in self.raw_default] if isinstance(self.raw_default, list) else None

    @property
    def is_bool(self) -> bool:
        return isinstance(self.raw_default, bool)


def questions_of(context: Mapping[str, Any], contract: Any = None) -> list[Question]:
    """The prompts of a template, in cookiecutter.json order (private `_` keys excluded).

    With the template's questions module, each carries its help, section and whether it is
    derived or conditional (a template without those names just has none).
    """
    prompts = context.get("__prompts__") or {}
    helps = getattr(contract, "HELP", None) or {}
    derived = getattr(contract, "DERIVED", None) or ()
    conditional = getattr(contract, "ASKED_WHEN", None) or {}
    section_of = {key: title for title, keys in (getattr(contract, "SECTIONS", None) or ()) for key in keys}
    return [
        Question(key, raw, str(prompts.get(key, key)) if isinstance(prompts.get(key, key), str) else key,
                 help=str(helps.get(key, "")), section=section_of.get(key, ""), derived=key in derived,
                 conditional=key in conditional)
        for key, raw in context.items()
        if not key.startswith("_") and not isinstance(raw, dict)
    ]


def asking_order(questions: list[Question]) -> list[Question]:
    """Questions by section (in the order sections first appear), the rest after, in template order.

    The template lists sections so that a default only depends on questions asked before it.
    """
    sections = list(dict.fromkeys(q.section for q in questions if q.section))
    return sorted(questions, key=lambda q: sections.index(q.section) if q.section else len(sections))


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
    """How to talk to the person at the terminal (the CLI's implementation is mlstack.prompts)."""

    def ask(self, question: Question, default: Any, check: Callable[[Any], str | None]) -> Any: ...

    def section(self, title: str) -> None: ...

    def confirm(self, text: str, default: bool) -> bool: ...

    def show(self, lines: list[str]) -> None: ...

    def pick(self, text: str, count: int) -> int: ...


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
    concerns an answer a prompt may set (not a --set, file or locked one); what is left is returned."""
    if contract is None:
        return []
    problems = contract.validate(answers) + unasked_problems(contract, answers, list(given))
    while problems and asker is not None and all(p.field in asked for p in problems):
        for problem in problems:
            question = by_key[problem.field]
            print(f"error: {describe_problem(problem)}")
            check = prompt_check(contract, answers, problem.field)
            # Never offer the rejected value again: pressing Enter would loop on it.
            answers[problem.field] = coerce(question, asker.ask(question, None, check), "prompt")
            if problem.field not in user_keys:
                user_keys.append(problem.field)
        problems = contract.validate(answers)
    return problems


def prompt_check(contract: Any, answers: Mapping[str, Any], key: str) -> Callable[[Any], str | None]:
    """The check a prompt runs on a typed value: the answer's own rule, then the rules comparing
    it with the answers so far (distinct principals, branches), so a clash is reported at once."""
    def run(value: Any) -> str | None:
        if contract is None:
            return None
        together = {**answers, key: value}
        problem = contract.check_answer(key, value, together)
        if problem is None:
            problem = next((p for p in contract.validate(together) if p.field == key), None)
        return problem.rule if problem else None
    return run


@dataclass
class Defaults:
    """Computes each open answer's default from the answers before it, in template order."""

    questions: list[Question]
    provided: Provided
    render: Callable[[Any, dict], Any]

    def default(self, question: Question, answers: dict) -> Any:
        if question.key in self.provided.defaults:
            return coerce(question, self.provided.defaults[question.key],
                          self.provided.locked_by or "organisation defaults")
        if question.choices is not None:
            return question.choices[0]
        return self.render(question.raw_default, answers)

    def fill(self, fixed: Mapping[str, Any]) -> dict[str, Any]:
        """Every answer: the fixed ones as they are, the others their (re)computed default."""
        answers: dict[str, Any] = {}
        for question in self.questions:
            key = question.key
            answers[key] = fixed[key] if key in fixed else self.default(question, answers)
        return answers


def default_answers(context: Mapping[str, Any], contract: Any, provided: Provided | None = None) -> dict[str, Any]:
    """The answers nobody typed: what `--no-input` would use (`mlstack questions` shows them)."""
    provided = provided or Provided()
    questions = questions_of(context, contract)
    fixed = {q.key: coerce(q, provided.values[q.key], provided.origins.get(q.key, "answers"))
             for q in questions if q.key in provided.values and q.key not in provided.locked}
    return Defaults(questions, provided, _default_renderer(context)).fill(fixed)


def summary_rows(questions: list[Question], answers: Mapping[str, Any], contract: Any,
                 user_keys: Iterable[str]) -> list[tuple[Question, Any, bool]]:
    """(question, answer, derived?) for each question that applies, in asking order; an answer
    is derived when it is computed from others and nobody changed it."""
    chosen = set(user_keys)
    return [(q, answers[q.key], q.derived and q.key not in chosen)
            for q in asking_order(questions) if contract is None or contract.is_asked(q.key, answers)]


class Interview:
    """The interactive part of init: core questions by section, the derived ones behind one
    review question, then a summary to confirm or correct by number."""

    def __init__(self, questions: list[Question], contract: Any, defaults: Defaults, asker: Asker,
                 fixed: dict[str, Any], locked: Iterable[str], user_keys: list[str], confirm: str):
        self.confirm_text = confirm
        self.questions = questions
        self.contract = contract
        self.defaults = defaults
        self.asker = asker
        self.fixed = fixed  # answers that no longer follow their default (given or typed differently)
        self.settable = [q.key for q in questions if q.key not in fixed and q.key not in set(locked)]
        self.user_keys = user_keys
        self.answers = defaults.fill(fixed)

    def applies(self, key: str) -> bool:
        return self.contract is None or bool(self.contract.is_asked(key, self.answers))

    def ask(self, question: Question) -> None:
        self.answers = self.defaults.fill(self.fixed)
        default = self.answers[question.key]
        check = prompt_check(self.contract, self.answers, question.key)
        offered = default if check(default) is None else None
        value = coerce(question, self.asker.ask(question, offered, check), "prompt")
        if value != default or question.key in self.fixed:
            self.fixed[question.key] = value
            if question.key not in self.user_keys:
                self.user_keys.append(question.key)
        self.answers = self.defaults.fill(self.fixed)

    def ask_each(self, questions: list[Question]) -> None:
        shown = ""
        for question in questions:
            if question.key not in self.settable or not self.applies(question.key):
                continue
            if question.section and question.section != shown:
                self.asker.section(question.section)
                shown = question.section
            self.ask(question)

    def run(self) -> dict[str, Any]:
        ordered = asking_order(self.questions)
        self.ask_each([q for q in ordered if not q.derived])
        derived = [q for q in ordered if q.derived and q.key in self.settable and self.applies(q.key)]
        if derived and self.asker.confirm(
                f"Review infrastructure details ({len(derived)} derived answers: names, URLs, branches)?", False):
            self.ask_each(derived)
        while True:
            rows = summary_rows(self.questions, self.answers, self.contract, self.user_keys)
            self.asker.show(summary_lines(rows))
            if self.asker.confirm(self.confirm_text, True):
                return self.answers
            number = self.asker.pick("Change which answer (number)?", len(rows))
            question = rows[number - 1][0]
            if question.key not in self.settable:
                by = "--set or --answers-file" if question.key in self.fixed else "your organisation (locked)"
                self.asker.show([f"{question.key} is set by {by}; it cannot be changed here"])
                continue
            self.ask(question)


def summary_lines(rows: list[tuple[Question, Any, bool]]) -> list[str]:
    """The numbered table of answers shown before creating; derived answers are marked."""
    width = max((len(q.key) for q, _, _ in rows), default=0)
    lines = ["", "Summary (* = derived from the answers above it):"]
    for number, (question, value, derived) in enumerate(rows, 1):
        shown = ("yes" if value else "no") if isinstance(value, bool) else str(value)
        lines.append(f"  {number:>2}. {question.key:<{width}}  {'*' if derived else ' '} {shown}")
    return lines


def resolve_answers(
    context: Mapping[str, Any],
    contract: ModuleType | None,
    provided: Provided,
    asker: Asker | None = None,
    *,
    confirm: str = "Create the project?",
) -> Resolved:
    """Every answer of the template, prompting (when `asker` is given) for the open ones;
    `confirm` is the last question, after the summary."""
    questions = questions_of(context, contract)
    by_key = {q.key: q for q in questions}
    check_known_keys({**provided.defaults, **provided.values}, questions,
                     {**{k: "organisation defaults" for k in provided.defaults}, **provided.origins})
    defaults = Defaults(questions, provided, _default_renderer(context))
    # The organisation chose these, not the template: they must not follow template defaults on update.
    user_keys: list[str] = [q.key for q in questions if q.key in provided.defaults]
    fixed: dict[str, Any] = {}
    locked_wanted: dict[str, Any] = {}
    for question in questions:
        key = question.key
        if key not in provided.values:
            continue
        wanted = coerce(question, provided.values[key], provided.origins.get(key, "answers"))
        if key in provided.locked:
            locked_wanted[key] = wanted
            continue
        fixed[key] = wanted
        if key not in user_keys:
            user_keys.append(key)

    locked_values = defaults.fill(fixed)
    for key, wanted in locked_wanted.items():
        if wanted != locked_values[key]:
            raise InvalidInput(f"{provided.origins.get(key, 'answers')}: {key} is locked to {locked_values[key]!r} by "
                               f"{provided.locked_by}; ask your platform team to change it")
    if asker is None:
        answers = defaults.fill(fixed)
        settable: list[str] = []
    else:
        interview = Interview(questions, contract, defaults, asker, fixed, provided.locked, user_keys, confirm)
        answers = interview.run()
        settable = interview.settable

    problems = reask_invalid(contract, answers, by_key, asker, settable, user_keys,
                             given=[*provided.values, *provided.defaults])
    if problems:
        raise InvalidInput(describe_problem(problems[0]), details=[f"error: {describe_problem(p)}" for p in problems])
    return Resolved(answers, user_keys)
