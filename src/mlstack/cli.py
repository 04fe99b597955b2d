"""The command line: parse arguments, call the command's function, map failures to exit codes.

Heavy modules (cookiecutter, git, yaml) are imported inside commands so `--help` stays fast.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from mlstack import __version__
from mlstack.errors import INTERRUPTED, MlstackError

app = typer.Typer(
    name="mlstack",
    help="Scaffold, upgrade and govern standardized machine-learning repositories.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def fail(error: MlstackError) -> None:
    for line in error.details or [f"error: {error.message}"]:
        typer.echo(line, err=True)
    raise typer.Exit(error.exit_code)


def run(command: Callable[[], Any]) -> Any:
    """Run a command body; MlstackError becomes its one-line message and exit code."""
    try:
        return command()
    except MlstackError as error:
        fail(error)
    except KeyboardInterrupt:
        typer.echo("interrupted: nothing was left half-written", err=True)
        raise typer.Exit(INTERRUPTED) from None


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"mlstack {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: bool = typer.Option(False, "--version", callback=_version_callback, is_eager=True,
                                 help="Show the version and exit."),
) -> None:
    """Scaffold, upgrade and govern standardized machine-learning repositories."""


class PromptAsker:
    """Ask one question on the terminal; re-ask until the template's rule accepts the answer."""

    def ask(self, question, default, check):
        if question.is_bool:
            while True:
                value = typer.confirm(question.prompt, default=bool(default))
                problem = check(value)
                if not problem:
                    return value
                typer.echo(f"error: {question.key}: {problem}", err=True)

        def validate(text: str) -> str:
            text = text.strip()
            if question.choices and text not in question.choices:
                raise typer.BadParameter(f"{question.key}={text!r}: choose one of {', '.join(question.choices)}")
            problem = check(text)
            if problem:
                raise typer.BadParameter(f"{question.key}={text!r}: {problem}")
            return text

        text = question.prompt
        if question.choices:
            text = f"{text} ({'/'.join(question.choices)})"
        return typer.prompt(text, default=str(default), value_proc=validate)


@app.command()
def init(
    output_dir: Path = typer.Option(Path("."), "--output-dir", "-o", help="Where to create the project folder."),
    no_input: bool = typer.Option(False, "--no-input", help="Ask nothing: use --set, --answers-file and defaults."),
    set_: list[str] | None = typer.Option(None, "--set", metavar="KEY=VALUE",
                                             help="Answer one question (repeatable)."),
    answers_file: Path | None = typer.Option(None, "--answers-file", help="YAML file of answers."),
    template: str | None = typer.Option(None, "--template", help="Template path or git URL (default: bundled)."),
    ref: str | None = typer.Option(None, "--ref", help="Tag, branch or commit of a --template git repository."),
    trust: bool = typer.Option(False, "--trust", help="Run the hooks of a --template you trust."),
) -> None:
    """Create a new ML project from the template."""
    from mlstack.init import init_project, summarize

    result = run(lambda: init_project(
        output_dir, template_spec=template, ref=ref, trust=trust, set_options=set_ or [],
        answers_file=answers_file, asker=None if no_input else PromptAsker()))
    typer.echo(f"Created {result.project} from template {result.template_version}:")
    for line in summarize(result.project):
        typer.echo(line)
    answers = result.answers
    typer.echo("\nNext steps:")
    typer.echo(f"  cd {result.project}")
    typer.echo("  make install && make test")
    typer.echo(f"  git remote add origin {answers.get('git_repo_url', '<your repository URL>')}")
    typer.echo("  git push --all origin")


@app.command()
def questions(
    template: str | None = typer.Option(None, "--template", help="Template path or git URL (default: bundled)."),
    ref: str | None = typer.Option(None, "--ref", help="Tag, branch or commit of a --template git repository."),
) -> None:
    """List the template's questions with their defaults (keys for --set and answers files)."""
    from mlstack.answers import questions_of
    from mlstack.template import open_template

    def body() -> None:
        # Reading cookiecutter.json runs no template code, so no --trust is needed here.
        with open_template(template, ref, trust=True) as opened:
            for question in questions_of(opened.context):
                default = question.choices if question.choices else question.raw_default
                typer.echo(f"{question.key}: {question.prompt} [default: {default}]")

    run(body)


@app.command()
def validate(
    directory: Path = typer.Argument(Path("."), help="Project (or its terraform/ folder) to check."),
    terraform: bool = typer.Option(True, "--terraform/--no-terraform",
                                   help="Also run terraform fmt/validate when a terraform binary is on PATH."),
    plugin_dir: Path | None = typer.Option(None, "--plugin-dir",
                                           help="Local provider mirror for terraform init (nothing is downloaded)."),
) -> None:
    """Check the project's Terraform offline: references, variables, secrets, formatting."""
    from mlstack.errors import FINDINGS
    from mlstack.terraform import render_report, validate_directory

    report = run(lambda: validate_directory(directory, use_terraform=terraform, plugin_dir=plugin_dir))
    for line in render_report(report):
        typer.echo(line)
    if report.errors:
        raise typer.Exit(FINDINGS)


def main() -> None:
    app()
