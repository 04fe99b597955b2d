"""`mlstack link`: adopt a repository made by plain cookiecutter (or by hand) so it can be updated.

It records the answers in `.mlstack/answers.yml`, commits the chosen version's exact render
on the pristine branch, and joins the two histories with one commit whose tree is your
current tree plus the answers file: no project file changes now, and the next update brings
only what the template changed after that version.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlstack import __version__
from mlstack.answers import Asker, Provided, parse_set_options, read_answers_file, resolve_answers
from mlstack.answers_file import PRISTINE_BRANCH, RECORD_PATH, ProjectRecord, parse_record
from mlstack.errors import RepoStateError, one_line
from mlstack.gitrepo import Change, open_repo, signals_held
from mlstack.record import user_chosen_keys
from mlstack.template import decide_source, load_contract, open_template


@dataclass
class LinkResult:
    branch: str
    template_source: str
    template_version: str
    pristine_commit: str
    link_commit: str
    answers: dict[str, Any]
    user_keys: list[str]
    differences: list[Change] = field(default_factory=list)


@dataclass
class AnswersSource:
    """Answers read for linking, plus the template and commit a cruft file names."""

    answers: dict[str, Any]
    origin: str
    template: str | None = None
    ref: str | None = None
    user_set: list[str] | None = None


def read_link_answers(path: Path) -> AnswersSource:
    """Answers from a flat YAML/JSON mapping, an mlstack answers file, a cookiecutter replay file
    (`{"cookiecutter": {...}}`) or cruft's `.cruft.json` (which also names template and commit)."""
    from mlstack.yamlfile import read_yaml_file

    origin = f"--answers-file {path}"
    data = read_yaml_file(path, origin, numbers_as_text=True)
    if isinstance(data, dict) and isinstance(data.get("context"), dict) \
            and isinstance(data["context"].get("cookiecutter"), dict):
        return AnswersSource(_public(data["context"]["cookiecutter"]), origin,
                             data.get("template"), data.get("commit") or data.get("checkout"))
    if isinstance(data, dict) and isinstance(data.get("cookiecutter"), dict) \
            and all(key == "cookiecutter" or key.startswith("_") for key in data):
        context = data["cookiecutter"]
        template = context.get("_template")
        template = template.removeprefix("git+") if isinstance(template, str) and template else None
        return AnswersSource(_public(context), origin, template, context.get("_checkout") or None)
    if isinstance(data, dict) and "template" in data and isinstance(data.get("answers"), dict):
        record = parse_record(path.read_text(encoding="utf-8"), str(path))
        return AnswersSource(dict(record.answers), origin, user_set=record.user_set)
    return AnswersSource(read_answers_file(path), origin)


def _public(context: dict) -> dict[str, Any]:
    return {k: v for k, v in context.items() if not k.startswith("_") and not isinstance(v, (dict, list))}


def link_project(
    project: Path,
    *,
    template_spec: str | None = None,
    ref: str | None = None,
    trust: bool = False,
    answers_file: Path | None = None,
    set_options: list[str] | None = None,
    asker: Asker | None = None,
) -> LinkResult:
    """Record answers and a pristine render for `project`, changing none of its files."""
    from mlstack.commands.init import generation_meta
    from mlstack.render import render_into_temp

    repo = open_repo(project)
    repo.require_clean("linking")
    branch = repo.current_branch()
    if branch is None:
        raise RepoStateError("HEAD is detached; check out the branch to link (e.g. git switch main)")
    previous = _previous_record(repo)
    if repo.branch_exists(PRISTINE_BRANCH):
        raise RepoStateError(f"branch {PRISTINE_BRANCH} already exists, so this repository is linked; "
                             "use `mlstack update` (or delete that branch to link again)")
    source = read_link_answers(answers_file) if answers_file else None
    if source is None and previous is not None:
        source = AnswersSource(dict(previous.answers), RECORD_PATH, user_set=previous.user_set)
    overrides = parse_set_options(set_options or [])
    provided = Provided()
    if source is not None:
        provided.add(source.answers, source.origin)
    provided.add(overrides, "--set")
    spec = template_spec or (source.template if source else None) or (previous.source if previous else None)
    ref = ref or (source.ref if source and not template_spec else None)
    from_record = not template_spec and not (source and source.template) and previous is not None
    decided = decide_source(spec, trust=trust, recorded_in=f"{RECORD_PATH} at HEAD" if from_record else None)

    with open_template(decided, ref) as template:
        resolved = resolve_answers(template.context, load_contract(template), provided,
                                   None if source is not None else asker, confirm="Link with these answers?")
        if source is not None and source.user_set is not None:
            user_keys = sorted(set(source.user_set) | set(overrides))
        else:
            user_keys = sorted(set(overrides) | set(user_chosen_keys(template.context, resolved.answers)))
        meta = generation_meta(template, user_keys, git_init=False)
        scratch = Path(tempfile.mkdtemp(prefix="mlstack-link-"))
        try:
            _workdir, rendered = render_into_temp(template, resolved.answers, meta, scratch)
            shutil.rmtree(rendered / ".git", ignore_errors=True)
            pristine, _tree = repo.commit_directory(
                rendered, [], f"Render template {template.version} (pristine, written by mlstack link)\n")
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        record = ProjectRecord(template.source, template.version, resolved.answers, user_keys,
                               PRISTINE_BRANCH, pristine, __version__)
        head = repo.rev("HEAD") or ""
        tree = repo.tree_with_file(repo.tree_of(head), RECORD_PATH, record.to_text())
        message = (f"Link to template {template.version} (mlstack link)\n\n"
                   f"Records the answers in {RECORD_PATH} and joins the history of the pristine render\n"
                   f"{pristine} so that `mlstack update` merges only later template changes.\n"
                   "No project file was changed.\n")
        snapshot = repo.snapshot([PRISTINE_BRANCH, branch])
        repo.require_room_for(head, tree)
        snapshot.work_tree = [repo.tree_of(head), tree]
        try:
            link_commit = repo.commit_tree(tree, [head, pristine], message)
            repo.update_branch(PRISTINE_BRANCH, pristine, None, f"mlstack link: render {template.version}")
            repo.checkout_tree(head, link_commit)
            repo.update_branch(branch, link_commit, head, "mlstack link")
        except BaseException:
            with signals_held():
                snapshot.restore(repo)
            raise
        differences = repo.changes(pristine, link_commit, exclude=(RECORD_PATH,))
        return LinkResult(branch, template.source, template.version, pristine, link_commit,
                          resolved.answers, user_keys, differences)


def _previous_record(repo) -> ProjectRecord | None:
    """An existing answers file, unless it already points at a pristine commit this clone has."""
    text = repo.show_file("HEAD", RECORD_PATH)
    if text is None:
        return None
    record = parse_record(text, f"{RECORD_PATH} at HEAD")
    if record.pristine_commit and repo.has_commit(record.pristine_commit):
        raise RepoStateError(f"this repository is already linked to template {record.version} "
                             f"(pristine commit {record.pristine_commit[:12]}); use `mlstack update`")
    return record


def describe(result: LinkResult) -> list[str]:
    """What `mlstack link` prints (names escaped: they come from the repository and template)."""
    return [one_line(line) for line in _link_summary(result)]


def _link_summary(result: LinkResult) -> list[str]:
    lines = [f"Linked {result.branch} to template {result.template_version} ({result.template_source}).",
             f"  pristine render: {result.pristine_commit[:12]} on branch {PRISTINE_BRANCH}",
             f"  link commit:     {result.link_commit[:12]} (adds {RECORD_PATH}; no other file changed)",
             f"  answers you set: {', '.join(result.user_keys) or 'none (all follow the template defaults)'}"]
    if result.differences:
        lines.append(f"Your repository differs from that render in {len(result.differences)} files; "
                     "updates will keep these differences:")
        lines += [f"  {change}" for change in result.differences[:40]]
        if len(result.differences) > 40:
            lines.append(f"  ... and {len(result.differences) - 40} more (mlstack diff --local lists them)")
    else:
        lines.append("Your files match that render exactly.")
    lines.append("If these differences include template changes you never had, link to the version the "
                 "repository was really made from (--ref).")
    lines.append(f"Push both branches: git push origin {result.branch} {PRISTINE_BRANCH}")
    return lines
