"""The command line, typer only: parse arguments, call mlstack.commands.<verb>, print its describe().

Failures map to one line and an exit code. Command modules (and cookiecutter, git, yaml behind
them) are imported inside each command so `--help` stays fast.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

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


# --- options several commands share, declared once ---------------------------------------------
TemplateOption = Annotated[str | None, typer.Option(
    "--template", help="Template path or git URL (default: the bundled one, or the one the project records).")]
RefOption = Annotated[str | None, typer.Option(
    "--ref", help="Tag, branch or commit of a --template git repository.")]
TrustOption = Annotated[bool, typer.Option(
    "--trust", help="Run the code (hooks, migrations) of a --template you trust.")]
SetOption = Annotated[list[str] | None, typer.Option(
    "--set", metavar="KEY=VALUE", help="Answer one question; on update the answer then stays as set (repeatable).")]
NoInputOption = Annotated[bool, typer.Option(
    "--no-input", help="Ask nothing: --set, --answers-file and valid defaults answer every question.")]
ProjectOption = Annotated[Path, typer.Option(
    "--project", "-C", help="The repository (default: here).")]
PolicyOption = Annotated[str | None, typer.Option(
    "--policy", help="Policy YAML: a path, a file in the repo, or GIT_URL//path/in/repo.yml?ref=REF.")]


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


def terminal_asker():
    """The terminal prompts, imported on first use (mlstack.prompts) so --help stays fast."""
    from mlstack.prompts import PromptAsker

    return PromptAsker()


@app.command()
def init(
    output_dir: Path = typer.Option(Path("."), "--output-dir", "-o", help="Where to create the project folder."),
    no_input: NoInputOption = False,
    set_: SetOption = None,
    answers_file: Path | None = typer.Option(None, "--answers-file", help="YAML file of answers."),
    template: TemplateOption = None,
    ref: RefOption = None,
    trust: TrustOption = False,
    defaults: Path | None = typer.Option(None, "--defaults", help="Organisation defaults file (defaults + locked)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Resolve and check the answers, list the files "
                                                          "that would be written, and write nothing."),
) -> None:
    """Create a new ML project from the template."""
    from mlstack.commands.init import describe, describe_plan, init_project

    result = run(lambda: init_project(
        output_dir, template_spec=template, ref=ref, trust=trust, set_options=set_ or [],
        answers_file=answers_file, asker=None if no_input else terminal_asker(), org_defaults=defaults,
        dry_run=dry_run))
    echo_lines(describe_plan(result) if dry_run else describe(result))


@app.command()
def questions(
    template: TemplateOption = None,
    ref: RefOption = None,
    trust: TrustOption = False,
    format_: str = typer.Option("text", "--format", help="text (to read), yaml (a fill-in answers file) or json."),
) -> None:
    """List the template's questions with their resolved defaults (keys for --set and answers files)."""
    from mlstack.commands.questions import FORMATS, answers_file, as_json, describe, template_questions
    from mlstack.errors import InvalidInput

    def listing():
        if format_ not in FORMATS:
            raise InvalidInput(f"--format {format_[:40]!r}: must be one of {', '.join(FORMATS)}")
        return template_questions(template, ref, trust=trust)

    result = run(listing)
    if format_ == "text":
        echo_lines(describe(result))
    else:
        typer.echo(answers_file(result) if format_ == "yaml" else as_json(result), nl=False)


@app.command()
def validate(
    directory: Path = typer.Argument(Path("."), help="Project (or its terraform/ folder) to check."),
    terraform: bool = typer.Option(True, "--terraform/--no-terraform",
                                   help="Also run terraform fmt/validate when a terraform binary is on PATH."),
    plugin_dir: Path | None = typer.Option(None, "--plugin-dir",
                                           help="Local provider mirror for terraform init (nothing is downloaded)."),
) -> None:
    """Check the project's Terraform offline: references, variables, secrets, formatting."""
    from mlstack.commands.validate import describe, validate_directory
    from mlstack.errors import FINDINGS

    report = run(lambda: validate_directory(directory, use_terraform=terraform, plugin_dir=plugin_dir))
    echo_lines(describe(report))
    if report.errors:
        raise typer.Exit(FINDINGS)


@app.command()
def check(
    directory: Path = typer.Argument(Path("."), help="Repository to check."),
    policy: PolicyOption = None,
    output_format: str = typer.Option("text", "--format", help="text, json, sarif or markdown."),
    select: list[str] | None = typer.Option(None, "--select", help="Only these rule ids or prefixes (repeatable)."),
    ignore: list[str] | None = typer.Option(None, "--ignore", help="Skip these rule ids or prefixes (repeatable)."),
    fail_on: str = typer.Option("update", "--fail-on", help="Mildest outcome that fails: update, drift or policy."),
    output: Path | None = typer.Option(None, "--output", "-O",
                                       help="Write the report to this file; print only the verdict."),
    today: str | None = typer.Option(None, "--today", metavar="YYYY-MM-DD",
                                     help="Check as on this day: preview policy deadlines and waiver expiry."),
) -> None:
    """Check a repository against the policy: exit 0 OK, 10 update available, 11 drift, 1 policy failure."""
    from mlstack.commands.check import check_repository, describe, exit_code

    def body() -> int:
        report = check_repository(directory, policy_spec=policy, select=select, ignore=ignore, today=today)
        text = describe(report, output_format)
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
    """List every rule of check and validate with its severity and reason."""
    from mlstack.commands.rules import describe

    typer.echo(describe(output_format), nl=False)


fleet_app = typer.Typer(help="Reports and template rollouts across many repositories.", no_args_is_help=True)
app.add_typer(fleet_app, name="fleet")


@fleet_app.command("report")
def fleet_report_command(
    repos: list[str] | None = typer.Argument(None, help="Repository paths or git URLs."),
    from_file: Path | None = typer.Option(None, "--from", help="File listing repositories, one per line."),
    policy: PolicyOption = None,
    output_format: str = typer.Option("table", "--format", help="table, json, csv or html."),
    output: Path | None = typer.Option(None, "--output", "-O", help="Write the report to this file."),
    jobs: int | None = typer.Option(None, "--jobs", "-j", help="Parallel workers (default: one per core)."),
    cache_dir: Path | None = typer.Option(None, "--cache-dir", help="Where git URLs are cloned."),
    fail_on_policy: bool = typer.Option(False, "--fail-on-policy", help="Exit 1 when any repository fails."),
    history: Path | None = typer.Option(None, "--history", help="Keep this run's JSON in DIR; the HTML "
                                        "dashboard charts the stored runs over time.", metavar="DIR"),
    state: Path | None = typer.Option(None, "--state", help="Add rollout columns from a fleet update state file.",
                                      metavar="FILE"),
) -> None:
    """Check many repositories in parallel and produce one table (terminal, JSON, CSV or HTML)."""
    from mlstack.commands.fleet import (
        RENDERERS,
        apply_rollout_state,
        describe,
        fleet_report,
        read_rollout_state,
        read_targets,
    )
    from mlstack.policy.policy_file import load_policy

    def body() -> int:
        from mlstack.errors import InvalidInput

        if output_format not in RENDERERS:
            raise InvalidInput(f"--format {output_format!r}: choose one of {', '.join(RENDERERS)}")
        targets = read_targets(repos or [], from_file)
        entries = read_rollout_state(state) if state is not None else None
        if history is not None and history.exists() and not history.is_dir():
            raise InvalidInput(f"--history {history}: not a directory (name a folder for the stored runs)")
        report = fleet_report(targets, load_policy(policy), cache_dir=cache_dir, jobs=jobs)
        if entries is not None:
            apply_rollout_state(report, entries)
        if history is not None:
            from mlstack.commands.fleet import report_document
            from mlstack.fleet_history import record_run

            report.history = record_run(history, report_document(report))
            for warning in report.history.warnings:
                typer.echo(warning, err=True)
        text = describe(report, output_format)
        if output:
            output.write_text(text, encoding="utf-8")
            typer.echo(f"wrote {output} ({len(report.rows)} repositories)")
        else:
            typer.echo(text)
        failing = any(row.outcome in ("policy", "broken") for row in report.rows)
        return 1 if fail_on_policy and failing else 0

    raise typer.Exit(run(body))


@fleet_app.command("update")
def fleet_update_command(
    repos: list[str] | None = typer.Argument(None, help="Repository paths or git URLs."),
    from_file: Path | None = typer.Option(None, "--from", help="File listing repositories, one per line."),
    to: str | None = typer.Option(None, "--to", help="The template release to roll out (default: the highest "
                                                     "version tag of --template)."),
    template: TemplateOption = None,
    trust: TrustOption = False,
    policy: PolicyOption = None,
    canary: int | None = typer.Option(None, "--canary", help="Update only the first N repositories of the list."),
    wave: int | None = typer.Option(None, "--wave", help="Update the next N repositories not done yet."),
    max_failures: int | None = typer.Option(None, "--max-failures",
                                            help="Start no further repository once K have failed."),
    retry_failed: bool = typer.Option(False, "--retry-failed", help="Try the repositories that failed again."),
    push: bool = typer.Option(False, "--push", help="Push mlstack/update-<version> and mlstack/template."),
    open_pr: bool = typer.Option(False, "--open-pr", help="Open a pull/merge request (token from the environment; "
                                                          "without one, the compare URL is recorded)."),
    state: Path | None = typer.Option(None, "--state", help="Rollout state file (default: next to --from, "
                                                            "repos.rollout.json)."),
    jobs: int | None = typer.Option(None, "--jobs", "-j", help="Parallel workers (default: one per core)."),
    work_dir: Path | None = typer.Option(None, "--work-dir", help="Where repositories are cloned "
                                                                  "(default: a temporary folder)."),
) -> None:
    """Roll a template release out: update each repository on a branch, verify, push (exit 1: any failed)."""
    from mlstack.commands.fleet import read_targets
    from mlstack.commands.fleet_update import (
        RolloutSettings,
        describe,
        describe_outcome,
        fleet_update,
        rollout_version,
    )
    from mlstack.errors import FINDINGS, InvalidInput
    from mlstack.policy.policy_file import load_policy
    from mlstack.rollout_state import default_state_path

    def body() -> int:
        if state is None and from_file is None:
            raise InvalidInput("fleet update: pass --state FILE (or --from FILE, whose state file sits next to it)")
        targets = read_targets(repos or [], from_file, "fleet update")
        version = rollout_version(to, template, trust)
        settings = RolloutSettings(version, template, trust, push, open_pr, str(work_dir or ""),
                                   load_policy(policy) if policy else None)
        report = fleet_update(targets, settings, state_path=state or default_state_path(from_file),
                              canary=canary, wave=wave, max_failures=max_failures, retry_failed=retry_failed,
                              jobs=jobs, on_outcome=lambda outcome: echo_lines(describe_outcome(outcome)))
        echo_lines(describe(report, shown_as_they_came=True))
        return FINDINGS if report.failed else 0

    raise typer.Exit(run(body))


@app.command()
def update(
    project: ProjectOption = Path("."),
    to: str | None = typer.Option(None, "--to", help="Template version (tag or commit); default: the latest."),
    set_: SetOption = None,
    no_input: NoInputOption = False,
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would change and conflict; change nothing."),
    branch: bool = typer.Option(False, "--branch", help="Merge on a new branch mlstack/update-<version>."),
    template: TemplateOption = None,
    trust: TrustOption = False,
    recover: bool = typer.Option(False, "--recover",
                                 help="Undo an update that was killed half-way, then stop."),
) -> None:
    """Merge a newer template version into this repository (exit 1: conflicts left to resolve)."""
    from mlstack.commands.update import apply_update, describe, plan_update, preview_update
    from mlstack.errors import FINDINGS

    if recover:
        from mlstack.update_recovery import recover_update

        typer.echo(run(lambda: recover_update(project)))
        return

    def body():
        with plan_update(project, to=to, set_options=set_ or [], asker=None if no_input else terminal_asker(),
                         preview=dry_run, trust=trust, template_spec=template) as plan:
            return preview_update(plan) if dry_run else apply_update(plan, branch=branch)

    result = run(body)
    echo_lines(describe(result))
    if result.has_conflicts:
        raise typer.Exit(FINDINGS)


@app.command()
def diff(
    project: ProjectOption = Path("."),
    to: str | None = typer.Option(None, "--to", help="Template version to compare with; default: the latest."),
    patch: bool = typer.Option(False, "--patch", "-p", help="Show the full changes, not just the file names."),
    local: bool = typer.Option(False, "--local", help="Only your changes; don't fetch the template."),
    exit_code: bool = typer.Option(False, "--exit-code", help="Exit 1 when there is any difference."),
    template: TemplateOption = None,
    trust: TrustOption = False,
) -> None:
    """Show your changes since the recorded template render, and what an update would bring.

    diff never runs a template's hooks or migration code (Jinja still renders, hence --trust).
    """
    from mlstack.commands.diff import describe, diff_project
    from mlstack.errors import FINDINGS

    report = run(lambda: diff_project(project, to=to, patch=patch, local_only=local, trust=trust,
                                      template_spec=template))
    echo_lines(describe(report))
    if exit_code and report.has_differences:
        raise typer.Exit(FINDINGS)


@app.command()
def link(
    project: ProjectOption = Path("."),
    template: TemplateOption = None,
    ref: RefOption = None,
    answers_file: Path | None = typer.Option(None, "--answers-file",
                                             help="Answers: YAML/JSON mapping, cookiecutter replay or .cruft.json."),
    set_: SetOption = None,
    no_input: NoInputOption = False,
    trust: TrustOption = False,
) -> None:
    """Adopt a repository made by plain cookiecutter so `mlstack update` can upgrade it (--ref: its version)."""
    from mlstack.commands.link import describe, link_project

    result = run(lambda: link_project(project, template_spec=template, ref=ref, trust=trust,
                                      answers_file=answers_file, set_options=set_ or [],
                                      asker=None if no_input else terminal_asker()))
    echo_lines(describe(result))


def echo_lines(lines: list[str]) -> None:
    for line in lines:
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
