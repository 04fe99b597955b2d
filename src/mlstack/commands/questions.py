"""`mlstack questions`: the template's questions with their resolved defaults, as a list to read,
a fill-in answers file (`--format yaml`, which `init --answers-file` takes as printed) or JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from mlstack.answers import Question, asking_order, default_answers, questions_of
from mlstack.template import load_contract, open_template

FORMATS = ("text", "yaml", "json")
APPLIES = "asked with the default answers"
DOES_NOT_APPLY = "not asked with the default answers (it depends on an earlier choice)"


@dataclass
class QuestionList:
    """The questions in asking order and the answers `--no-input` would use."""

    questions: list[Question]
    defaults: dict[str, Any]
    conditions: dict[str, str]  # key -> when it is asked, for conditional questions


def template_questions(template_spec: str | None = None, ref: str | None = None, *,
                       trust: bool = False) -> QuestionList:
    """The questions of a template, their defaults computed (Jinja rendered) as init would."""
    with open_template(template_spec, ref, trust=trust) as opened:
        contract = load_contract(opened)
        questions = asking_order(questions_of(opened.context, contract))
        defaults = default_answers(opened.context, contract)
        conditions = {q.key: asked_when(q, contract, defaults) for q in questions if q.conditional}
        return QuestionList(questions, defaults, conditions)


def asked_when(question: Question, contract: Any, defaults: dict[str, Any]) -> str:
    """Why a conditional question may not apply, in words."""
    asked = contract is None or contract.is_asked(question.key, defaults)
    return APPLIES if asked else DOES_NOT_APPLY


def shown(value: Any) -> str:
    return ("yes" if value else "no") if isinstance(value, bool) else str(value)


def describe(listing: QuestionList) -> list[str]:
    """One block per question: key, prompt, resolved default, choices as a list, help."""
    lines: list[str] = []
    section = None
    for q in listing.questions:
        if q.section and q.section != section:
            section = q.section
            lines += ["", f"== {section} =="]
        flags = [flag for flag, on in (("derived", q.derived), ("conditional", q.conditional)) if on]
        lines.append(f"{q.key}: {q.prompt}" + (f"  ({', '.join(flags)})" if flags else ""))
        lines.append(f"    default: {shown(listing.defaults[q.key])}")
        if q.choices:
            lines.append(f"    choices: {', '.join(q.choices)}")
        elif q.is_bool:
            lines.append("    choices: yes, no")
        if q.help:
            lines.append(f"    {q.help}")
        if q.key in listing.conditions:
            lines.append(f"    conditional: {listing.conditions[q.key]}")
    return lines[1:] if lines and lines[0] == "" else lines


def yaml_scalar(value: Any) -> str:
    """A value as YAML that reads back as the same text (always quoted, except yes/no)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a YAML double-quoted scalar


def answers_file(listing: QuestionList) -> str:
    """A fill-in answers file: every question a key with its default; help and choices as comments.

    Derived answers and conditional ones the defaults don't call for are commented out: left
    so, they follow the answers they depend on (a project renamed in the file gets a new slug).
    """
    lines = ["# mlstack answers file: edit the values, then run",
             "#   mlstack init --answers-file THIS_FILE --no-input",
             "# Commented-out keys are derived or conditional: they follow the answers above",
             "# unless you uncomment them."]
    section = None
    for q in listing.questions:
        if q.section and q.section != section:
            section = q.section
            lines += ["", f"# --- {section} ---"]
        lines.append(f"# {q.help or q.prompt}")
        if q.choices:
            lines.append(f"# choices: {', '.join(q.choices)}")
        elif q.is_bool:
            lines.append("# choices: yes, no")
        if q.key in listing.conditions:
            lines.append(f"# conditional: {listing.conditions[q.key]}")
        inactive = q.derived or listing.conditions.get(q.key) == DOES_NOT_APPLY
        if q.derived:
            lines.append("# derived from the answers above")
        lines.append(f"{'# ' if inactive else ''}{q.key}: {yaml_scalar(listing.defaults[q.key])}")
    return "\n".join(lines) + "\n"


def as_json(listing: QuestionList) -> str:
    return json.dumps([{
        "key": q.key, "prompt": q.prompt, "help": q.help, "section": q.section,
        "default": listing.defaults[q.key],
        "choices": q.choices if q.choices else ([True, False] if q.is_bool else None),
        "type": "choice" if q.choices else "bool" if q.is_bool else "text",
        "derived": q.derived, "conditional": q.conditional,
    } for q in listing.questions], indent=2) + "\n"
