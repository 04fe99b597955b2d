"""`mlstack init`: answers in, a validated, git-initialised project out (or nothing at all)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlstack import __version__
from mlstack.answers import Asker, Provided, parse_set_options, read_answers_file, resolve_answers
from mlstack.errors import one_line
from mlstack.org_defaults import find_org_defaults
from mlstack.render import render_project
from mlstack.template import Template, load_contract, open_template


@dataclass
class InitResult:
    project: Path
    template_source: str
    template_version: str
    answers: dict[str, Any]
    user_keys: list[str]
    planned: list[str] | None = None  # a dry run's files (relative paths); None when created


def plan_project(template: Template, answers: dict[str, Any], meta: dict[str, Any],
                 output_dir: Path) -> tuple[Path, list[str]]:
    """The destination and the files init would write there, rendered in a scratch folder.

    No template code runs (mlstack applies the template's declared effects itself, as the
    `diff` preview does), and the destination is checked as a real init would check it.
    """
    import shutil
    import tempfile

    from mlstack.errors import DestinationExists, InvalidInput
    from mlstack.render import is_empty_or_missing, render_into_temp

    if output_dir.exists() and not output_dir.is_dir():
        raise InvalidInput(f"--output-dir {one_line(str(output_dir))} is a file, not a directory; name a folder")
    destination = output_dir / str(answers["project_slug"])
    if not is_empty_or_missing(destination):
        raise DestinationExists(f"{destination} already exists and is not empty; "
                                "choose another --output-dir or project_slug")
    scratch = Path(tempfile.mkdtemp(prefix="mlstack-dry-run-"))
    try:
        _workdir, rendered = render_into_temp(template, answers, meta, scratch, run_hooks=False)
        files = sorted(str(f.relative_to(rendered)) for f in rendered.rglob("*") if f.is_file())
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return destination, files


def describe_plan(result: InitResult) -> list[str]:
    """What `init --dry-run` prints: the files per folder that would be written, then the answers."""
    from collections import defaultdict

    by_folder: dict[str, list[str]] = defaultdict(list)
    for path in result.planned or []:
        folder, _, name = path.rpartition("/")
        by_folder[folder].append(name)
    lines = [f"Dry run: nothing was written. `mlstack init` would create {result.project} "
             f"({len(result.planned or [])} files) from template {result.template_version}:"]
    for folder in sorted(by_folder):
        lines.append(f"  {one_line(folder or '.')}/  ({len(by_folder[folder])})")
        lines += [f"      {one_line(name)}" for name in by_folder[folder]]
    lines += ["", "Answers (* = you set it):"]
    chosen = set(result.user_keys)
    lines += [f"  {'*' if key in chosen else ' '} {key}: {one_line(str(value))}"
              for key, value in result.answers.items()]
    return lines


def gather_provided(set_options: list[str], answers_file: Path | None) -> Provided:
    provided = Provided()
    if answers_file is not None:
        provided.add(read_answers_file(answers_file), f"--answers-file {answers_file}")
    provided.add(parse_set_options(set_options), "--set")
    return provided


def init_project(
    output_dir: Path,
    *,
    template_spec: str | None = None,
    ref: str | None = None,
    trust: bool = False,
    set_options: list[str] | None = None,
    answers_file: Path | None = None,
    asker: Asker | None = None,
    org_defaults: Path | None = None,
    dry_run: bool = False,
) -> InitResult:
    """Generate a project under output_dir; `asker` None means --no-input.

    With dry_run everything is resolved, checked and rendered in a scratch folder that is
    removed again; the result lists the files (`planned`) and output_dir is left untouched.
    """
    provided = gather_provided(set_options or [], answers_file)
    with open_template(template_spec, ref, trust=trust) as template:
        org = find_org_defaults(org_defaults, template.path)
        if org is not None:
            provided.add_org_defaults(org.defaults, org.locked, org.source)
        resolved = resolve_answers(template.context, load_contract(template), provided, asker,
                                   confirm="Show what would be created?" if dry_run else "Create the project?")
        if dry_run:
            project, planned = plan_project(template, resolved.answers, generation_meta(
                template, resolved.user_keys, git_init=False), output_dir.resolve())
            return InitResult(project, template.source, template.version, resolved.answers, resolved.user_keys,
                              planned)
        project = render_project(template, resolved.answers, generation_meta(template, resolved.user_keys),
                                 output_dir.resolve())
        return InitResult(project, template.source, template.version, resolved.answers, resolved.user_keys)


def generation_meta(template: Template, user_keys: list[str], *, git_init: bool = True) -> dict[str, Any]:
    """What the post-generation hook records in .mlstack/answers.yml besides the answers."""
    return {
        "source": template.source,
        "mlstack_version": __version__,
        "template_version": template.version,
        "user_keys": sorted(user_keys),
        "git_init": git_init,
    }


def summarize(project: Path, limit: int = 12) -> list[str]:
    """A short tree: each top-level entry with how many files it holds."""
    lines = []
    entries = sorted(p for p in project.iterdir() if p.name != ".git")
    for entry in entries[:limit]:
        if entry.is_dir():
            count = sum(1 for f in entry.rglob("*") if f.is_file())
            lines.append(f"  {one_line(entry.name)}/  ({count} file{'s' if count != 1 else ''})")
        else:
            lines.append(f"  {one_line(entry.name)}")
    if len(entries) > limit:
        lines.append(f"  ... and {len(entries) - limit} more")
    return lines


def describe(result: InitResult) -> list[str]:
    """What `mlstack init` prints: the project's top-level tree, then the first steps in order."""
    return [f"Created {result.project} from template {result.template_version}:", *summarize(result.project),
            "", "Next steps:", *next_steps(result.project, result.answers)]


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
