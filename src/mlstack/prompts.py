"""The terminal side of `mlstack init`: sections, one-line help, numbered choices, colour.

Colour only on a terminal and never with NO_COLOR (https://no-color.org). Ctrl-C and end
of input raise click's Abort, which the CLI turns into exit 130 with nothing written.
"""

from __future__ import annotations

import difflib
import os
import sys
from collections.abc import Callable
from typing import Any

import typer

from mlstack.answers import FALSE_WORDS, TRUE_WORDS, Question, shown_value


def use_colour() -> bool:
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def paint(text: str, **style: Any) -> str:
    return typer.style(text, **style) if use_colour() else text


def match_choice(text: str, choices: list[str]) -> tuple[str | None, str]:
    """The choice `text` names (its number, its name in any case, or an unambiguous prefix),
    else None and a one-line reason."""
    text = text.strip()
    if text.isdigit():
        number = int(text)
        if 1 <= number <= len(choices):
            return choices[number - 1], ""
        return None, f"choose a number from 1 to {len(choices)}"
    lowered = text.lower()
    exact = [c for c in choices if c.lower() == lowered]
    if exact:
        return exact[0], ""
    starting = [c for c in choices if lowered and c.lower().startswith(lowered)]
    if len(starting) == 1:
        return starting[0], ""
    if len(starting) > 1:
        return None, f"{shown_value(text)} could be {', '.join(starting)}; type more of it"
    by_lower = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(lowered[:100], list(by_lower), n=1, cutoff=0.6)
    hint = f" (did you mean {by_lower[close[0]]!r}?)" if close else ""
    return None, f"{shown_value(text)} is not one of {', '.join(choices)}{hint}"


class PromptAsker:
    """Ask on the terminal; an invalid answer is explained in one line and asked again."""

    def section(self, title: str) -> None:
        typer.echo("")
        typer.echo(paint(f"== {title} ==", bold=True, fg="cyan"))

    def show(self, lines: list[str]) -> None:
        for line in lines:
            typer.echo(line)

    def confirm(self, text: str, default: bool) -> bool:
        return self.ask_bool(text, default, lambda value: None)

    def pick(self, text: str, count: int) -> int:
        while True:
            typed = typer.prompt(paint(text, bold=True)).strip()
            if typed.isdigit() and 1 <= int(typed) <= count:
                return int(typed)
            self.error(f"choose a number from 1 to {count}")

    def error(self, message: str) -> None:
        typer.echo(paint(f"  error: {message}", fg="red"), err=True)

    def ask_bool(self, text: str, default: bool | None, check: Callable[[Any], str | None]) -> bool:
        hint = "[Y/n]" if default is True else "[y/N]" if default is False else "[y/n]"
        while True:
            typed = typer.prompt(f"{paint(text, bold=True)} {hint}", default="", show_default=False).strip().lower()
            if not typed and default is not None:
                value = default
            elif typed in TRUE_WORDS or typed in FALSE_WORDS:
                value = typed in TRUE_WORDS
            else:
                self.error("answer yes or no")
                continue
            problem = check(value)
            if not problem:
                return value
            self.error(problem)

    def ask(self, question: Question, default: Any, check: Callable[[Any], str | None]) -> Any:
        """`default` None means there is none to offer (e.g. it was just rejected)."""
        if question.help:
            typer.echo(paint(f"  {question.help}", dim=True))
        if question.is_bool:
            return self.ask_bool(question.prompt, None if default is None else bool(default),
                                 lambda value: self.named(question, value, check))
        choices = question.choices
        if choices:
            for number, choice in enumerate(choices, 1):
                typer.echo(f"    {number}. {choice}")
        while True:
            shown = "" if default in (None, "") else f" [{default}]"
            typed = typer.prompt(f"{paint(question.prompt, bold=True)}{shown}", default="",
                                 show_default=False).strip()
            if not typed:
                if default in (None, ""):
                    self.error(f"{question.key}: an answer is needed")
                    continue
                typed = str(default)
            if choices:
                typed, reason = match_choice(typed, choices)
                if typed is None:
                    self.error(f"{question.key}: {reason}")
                    continue
            problem = check(typed)
            if not problem:
                return typed
            self.error(f"{question.key}={shown_value(typed)}: {problem}")
            if typed == str(default):
                default = None  # never offer a rejected value again

    @staticmethod
    def named(question: Question, value: Any, check: Callable[[Any], str | None]) -> str | None:
        problem = check(value)
        return f"{question.key}: {problem}" if problem else None
