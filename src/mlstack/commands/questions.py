"""`mlstack questions`: the template's questions with their defaults (keys for --set and answers files)."""

from __future__ import annotations

from mlstack.answers import Question, questions_of
from mlstack.template import open_template


def template_questions(template_spec: str | None = None, ref: str | None = None) -> list[Question]:
    """The questions of a template, in prompt order."""
    # Reading cookiecutter.json runs no template code, so no --trust is needed here.
    with open_template(template_spec, ref, trust=True) as opened:
        return questions_of(opened.context)


def describe(questions: list[Question]) -> list[str]:
    return [f"{q.key}: {q.prompt} [default: {q.choices if q.choices else q.raw_default}]" for q in questions]
