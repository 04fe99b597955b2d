"""Carry a project's recorded answers (mlstack.answers_file) to a new template version.

Answers the user chose stay as they are on update, the others follow the template's (possibly
changed) defaults, and questions new in that version are asked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from mlstack.answers import (
    Asker,
    Question,
    _default_renderer,
    answer_checker,
    check_known_keys,
    coerce,
    describe_problem,
    questions_of,
    reask_invalid,
)
from mlstack.answers_file import RECORD_PATH
from mlstack.errors import InvalidInput


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
    questions = questions_of(context, contract)
    by_key = {q.key: q for q in questions}
    check_known_keys(overrides, questions, dict.fromkeys(overrides, "--set"))
    render = _default_renderer(context)
    answers: dict[str, Any] = {}
    result = CarriedAnswers(answers, [])
    asked: list[str] = []

    check = answer_checker(contract, answers)

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

    problems = reask_invalid(contract, answers, by_key, asker, asked, result.user_keys,
                             given=[*overrides, *(key for key in user_set if key in recorded)])
    result.new_questions.update({key: answers[key] for key in asked})  # with any answer typed again
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
