"""The command line: parse arguments, call the command's function, map failures to exit codes.

Heavy modules (cookiecutter, git, yaml) are imported inside commands so `--help` stays fast.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import typer

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
    from mlstack.errors import one_line

    for line in error.details or [f"error: {error.message}"]:
        typer.echo(one_line(line), err=True)
    raise typer.Exit(error.exit_code)


def run(command: Callable[[], Any]) -> Any:
    """Run a command body; MlstackError becomes its one-line message and exit code."""
    try:
        return command()
    except MlstackError as error:
        fail(error)
    except (KeyboardInterrupt, typer.Abort):
        # typer turns Ctrl-C and end of input at a prompt into Abort; both leave nothing behind.
        typer.echo("interrupted: nothing was left half-written (with no terminal, use --no-input)", err=True)
        raise typer.Exit(INTERRUPTED) from None


def _version_callback(value: bool) -> None:
    if value:
        from mlstack import package_version

        typer.echo(f"mlstack {package_version()}")
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
            from mlstack.answers import shown_value

            text = text.strip()
            if question.choices and text not in question.choices:
                raise typer.BadParameter(f"{question.key}={shown_value(text)}: choose one of "
                                         f"{', '.join(question.choices)}")
            problem = check(text)
            if problem:
                raise typer.BadParameter(f"{question.key}={shown_value(text)}: {problem}")
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
    defaults: Path | None = typer.Option(None, "--defaults", help="Organisation defaults file (defaults + locked)."),
) -> None:
    """Create a new ML project from the template."""
    from mlstack.init import init_project, summarize

    result = run(lambda: init_project(
        output_dir, template_spec=template, ref=ref, trust=trust, set_options=set_ or [],
        answers_file=answers_file, asker=None if no_input else PromptAsker(), org_defaults=defaults))
    typer.echo(f"Created {result.project} from template {result.template_version}:")
    for line in summarize(result.project):
        typer.echo(line)
    typer.echo("\nNext steps:")
    for line in next_steps(result.project, result.answers):
        typer.echo(line)


def next_steps(project: Path, answers: dict) -> list[str]:
    """What to do after `init`, in the order of the README's "First deployment": nothing deploys
    before the bootstrap, and release (production) is pushed last."""
    url = answers.get("git_repo_url", "<your repository URL>")
    main, dev, release = (answers.get(key, default) for key, default in
                          (("main_branch", "main"), ("dev_branch", "dev"), ("release_branch", "release")))
    return [
        f"  cd {project}",
        "  make install && make test",
        "  First deployment, in this order (README.md says who and how):",
        f"  1. Create the empty repository {url}",
        f"  2. Push {main} and {dev} only ({release} deploys to production):",
        f"       git remote add origin {url}",
        f"       git push -u origin {main} {dev}",
        "  3. An administrator runs the bootstrap once: make bootstrap",
        "  4. Point tables: in configs/staging.yml at real data, or seed staging (never prod): make seed-staging",
        "     then check staging: make doctor ENV=staging",
        f"  5. First staging deploy: re-run the stopped deploy-staging run of {main} (or merge a pull request)",
        f"  6. Release: git push -u origin {release}",
    ]


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


@app.command()
def check(
    directory: Path = typer.Argument(Path("."), help="Repository to check."),
    policy: str | None = typer.Option(None, "--policy", help="Policy YAML: a path, a file in the repo, or "
                                         "GIT_URL//path/in/repo.yml?ref=REF."),
    output_format: str = typer.Option("text", "--format", help="text, json, sarif or markdown."),
    select: list[str] | None = typer.Option(None, "--select", help="Only these rule ids or prefixes (repeatable)."),
    ignore: list[str] | None = typer.Option(None, "--ignore", help="Skip these rule ids or prefixes (repeatable)."),
    fail_on: str = typer.Option("update", "--fail-on", help="Mildest outcome that fails: update, drift or policy."),
    output: Path | None = typer.Option(None, "--output", "-O", help="Write the report to a file as well."),
) -> None:
    """Check a repository against the policy: exit 0 OK, 10 update available, 11 drift, 1 policy failure."""
    from mlstack.check import check_repository, exit_code, render

    def body() -> int:
        report = check_repository(directory, policy_spec=policy, select=select, ignore=ignore)
        text = render(report, output_format)
        code = exit_code(report, fail_on)
        if output:
            from mlstack.errors import one_line
            from mlstack.policy.reporters import render_summary

            output.write_text(text + "\n", encoding="utf-8")
            typer.echo(one_line(f"mlstack check {report.repo}: {render_summary(report)}; report in {output}"))
        else:
            typer.echo(text)
        return code

    raise typer.Exit(run(body))


@app.command()
def rules(
    output_format: Literal["text", "markdown"] = typer.Option("text", "--format", help="text or markdown."),
) -> None:
    """List every governance rule with its severity and reason."""
    from mlstack.policy.rules_doc import render_catalogue_markdown, render_catalogue_text

    if output_format == "markdown":
        typer.echo(render_catalogue_markdown(), nl=False)
    else:
        typer.echo(render_catalogue_text())


fleet_app = typer.Typer(help="Reports across many repositories.", no_args_is_help=True)
app.add_typer(fleet_app, name="fleet")


@fleet_app.command("report")
def fleet_report_command(
    repos: list[str] | None = typer.Argument(None, help="Repository paths or git URLs."),
    from_file: Path | None = typer.Option(None, "--from", help="File listing repositories, one per line."),
    policy: str | None = typer.Option(None, "--policy", help="Policy YAML (path or GIT_URL//path?ref=REF)."),
    output_format: str = typer.Option("table", "--format", help="table, json, csv or html."),
    output: Path | None = typer.Option(None, "--output", "-O", help="Write the report to this file."),
    jobs: int | None = typer.Option(None, "--jobs", "-j", help="Parallel workers (default: one per core)."),
    cache_dir: Path | None = typer.Option(None, "--cache-dir", help="Where git URLs are cloned."),
    fail_on_policy: bool = typer.Option(False, "--fail-on-policy", help="Exit 1 when any repository fails."),
) -> None:
    """Check many repositories in parallel and produce one table (terminal, JSON, CSV or HTML)."""
    from mlstack.fleet import RENDERERS, fleet_report, read_targets
    from mlstack.policy.policy_file import load_policy

    def body() -> int:
        from mlstack.errors import InvalidInput

        if output_format not in RENDERERS:
            raise InvalidInput(f"--format {output_format!r}: choose one of {', '.join(RENDERERS)}")
        targets = read_targets(repos or [], from_file)
        report = fleet_report(targets, load_policy(policy), cache_dir=cache_dir, jobs=jobs)
        text = RENDERERS[output_format](report)
        if output:
            output.write_text(text, encoding="utf-8")
            typer.echo(f"wrote {output} ({len(report.rows)} repositories)")
        else:
            typer.echo(text)
        failing = any(row.outcome in ("policy", "broken") for row in report.rows)
        return 1 if fail_on_policy and failing else 0

    raise typer.Exit(run(body))


@app.command()
def update(
    project: Path = typer.Option(Path("."), "--project", "-C", help="The generated repository (default: here)."),
    to: str | None = typer.Option(None, "--to", help="Template version (tag or commit); default: the latest."),
    set_: list[str] | None = typer.Option(None, "--set", metavar="KEY=VALUE",
                                             help="Change one answer (repeatable); it then stays as set."),
    no_input: bool = typer.Option(False, "--no-input", help="Ask nothing: new questions take valid defaults."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would change and conflict; change nothing."),
    branch: bool = typer.Option(False, "--branch", help="Merge on a new branch mlstack/update-<version>."),
    template: str | None = typer.Option(None, "--template",
                                        help="Where the template lives now (default: the recorded source)."),
    trust: bool = typer.Option(False, "--trust", help="Run the hooks and migrations of a template you trust."),
    recover: bool = typer.Option(False, "--recover",
                                 help="Undo an update that was killed half-way, then stop."),
) -> None:
    """Merge a newer template version into this repository (exit 1: conflicts left to resolve)."""
    from mlstack.errors import FINDINGS
    from mlstack.update import describe, update_project

    if recover:
        from mlstack.update_recovery import recover_update

        typer.echo(run(lambda: recover_update(project)))
        return

    result = run(lambda: update_project(
        project, to=to, set_options=set_ or [], asker=None if no_input else PromptAsker(), dry_run=dry_run,
        branch=branch, trust=trust, template_spec=template))
    for line in describe(result):
        typer.echo(line)
    if result.has_conflicts:
        raise typer.Exit(FINDINGS)


@app.command()
def diff(
    project: Path = typer.Option(Path("."), "--project", "-C", help="The generated repository (default: here)."),
    to: str | None = typer.Option(None, "--to", help="Template version to compare with; default: the latest."),
    patch: bool = typer.Option(False, "--patch", "-p", help="Show the full changes, not just the file names."),
    local: bool = typer.Option(False, "--local", help="Only your changes; don't fetch the template."),
    exit_code: bool = typer.Option(False, "--exit-code", help="Exit 1 when there is any difference."),
    template: str | None = typer.Option(None, "--template",
                                        help="Where the template lives now (default: the recorded source)."),
    trust: bool = typer.Option(False, "--trust", help="Render a template you trust (diff never runs its "
                               "hooks or migration code; Jinja still renders)."),
) -> None:
    """Show your changes since the recorded template render, and what an update would bring."""
    from mlstack.diff import describe_diff, diff_project
    from mlstack.errors import FINDINGS

    report = run(lambda: diff_project(project, to=to, patch=patch, local_only=local, trust=trust,
                                      template_spec=template))
    for line in describe_diff(report):
        typer.echo(line)
    if exit_code and report.has_differences:
        raise typer.Exit(FINDINGS)


@app.command()
def link(
    project: Path = typer.Option(Path("."), "--project", "-C", help="The repository to adopt (default: here)."),
    template: str | None = typer.Option(None, "--template", help="Template path or git URL (default: bundled)."),
    ref: str | None = typer.Option(None, "--ref", help="The template version the repository was made from."),
    answers_file: Path | None = typer.Option(None, "--answers-file",
                                             help="Answers: YAML/JSON mapping, cookiecutter replay or .cruft.json."),
    set_: list[str] | None = typer.Option(None, "--set", metavar="KEY=VALUE",
                                             help="Answer one question (repeatable)."),
    no_input: bool = typer.Option(False, "--no-input", help="Ask nothing: use --set, --answers-file and defaults."),
    trust: bool = typer.Option(False, "--trust", help="Run the hooks of a --template you trust."),
) -> None:
    """Adopt a repository made by plain cookiecutter so `mlstack update` can upgrade it."""
    from mlstack.link import describe_link, link_project

    result = run(lambda: link_project(project, template_spec=template, ref=ref, trust=trust,
                                      answers_file=answers_file, set_options=set_ or [],
                                      asker=None if no_input else PromptAsker()))
    for line in describe_link(result):
        typer.echo(line)



def _terminate(signum: int, frame: Any) -> None:
    """SIGTERM unwinds like Ctrl-C, so half-written work is cleaned up."""
    raise KeyboardInterrupt


def main() -> None:
    """Entry point: every failure ends as one line and a documented exit code, never a traceback."""
    import os
    import signal
    import sys

    from mlstack.errors import INTERNAL_ERROR

    signal.signal(signal.SIGTERM, _terminate)
    try:
        app(standalone_mode=True)
    except KeyboardInterrupt:
        typer.echo("interrupted: nothing was left half-written", err=True)
        sys.exit(INTERRUPTED)
    except Exception as error:  # noqa: BLE001 - the last line of defence
        if os.environ.get("MLSTACK_DEBUG"):
            raise
        from mlstack.errors import one_line

        detail = one_line(str(error).strip().splitlines()[0]) if str(error).strip() else ""
        typer.echo(f"error: internal error ({type(error).__name__}{': ' + detail if detail else ''}); "
                   "please report it, MLSTACK_DEBUG=1 shows the traceback", err=True)
        sys.exit(INTERNAL_ERROR)
