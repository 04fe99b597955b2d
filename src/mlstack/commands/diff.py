"""`mlstack diff`: how this repository differs from its template, in both directions.

First what you changed relative to the pristine render of your recorded version (the
recorded pristine commit against your work tree), then what an update to the latest (or
`--to`) version would bring and where it would conflict. Nothing is written, and none of
the template's code runs: the preview applies the template's `_prune` table and writes the
answers file itself instead of running its hooks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mlstack.answers_file import RECORD_PATH
from mlstack.commands.update import UpdateResult, head_record, locate_pristine, plan_update, preview_update
from mlstack.commands.update import describe as describe_update
from mlstack.errors import InvalidInput, one_line
from mlstack.gitrepo import Change, open_repo


@dataclass
class DiffReport:
    """Your changes since the recorded render, and the pending template update (if looked up)."""

    version: str
    pristine_commit: str
    user_changes: list[Change] = field(default_factory=list)
    user_patch: str = ""
    update: UpdateResult | None = None
    update_patch: str = ""
    update_problem: str | None = None

    @property
    def has_differences(self) -> bool:
        pending = self.update is not None and self.update.status != "up-to-date"
        return bool(self.user_changes) or pending or self.update_problem is not None


def diff_project(project: Path, *, to: str | None = None, patch: bool = False, local_only: bool = False,
                 trust: bool = False, template_spec: str | None = None) -> DiffReport:
    """Compare the work tree with the recorded pristine render and preview the next update."""
    repo = open_repo(project)
    record = head_record(repo)
    base = locate_pristine(repo, record)
    report = DiffReport(record.version, base.commit,
                        repo.changes(base.commit, None, exclude=(RECORD_PATH,)))
    if patch:
        report.user_patch = repo.patch(base.commit, None, exclude=(RECORD_PATH,))
    if local_only:
        return report
    # The preview's render lives in a scratch object store, kept until its patch is shown.
    with repo.scratch_objects():
        try:
            # Read-only means no template code either: no hooks, validators or migration code.
            with plan_update(project, to=to, preview=True, trust=trust, template_spec=template_spec,
                             run_template_code=False, repo=repo) as plan:
                report.update = preview_update(plan)
        except InvalidInput as error:
            report.update_problem = f"updating needs answers first: {error.message}"
            return report
        if patch and report.update.status != "up-to-date" and report.update.pristine_commit:
            report.update_patch = repo.patch(base.commit, report.update.pristine_commit, exclude=(RECORD_PATH,))
    return report


def describe(report: DiffReport) -> list[str]:
    """The text `mlstack diff` prints."""
    lines = [one_line(f"Your changes since the pristine render of template {report.version} "
                      f"({report.pristine_commit[:12]}): {len(report.user_changes) or 'none'}")]
    lines += [f"  {change}" for change in report.user_changes]  # Change escapes its paths
    if report.user_patch:
        lines.append(report.user_patch.rstrip("\n"))
    if report.update_problem:
        lines.append(one_line(report.update_problem))
    elif report.update is not None:
        if report.update.status == "up-to-date":
            lines.append(one_line(f"Template {report.update.to_version}: nothing to update."))
        else:
            summary = describe_update(report.update)
            lines.append(one_line(f"Updating to template {report.update.to_version} would bring:"))
            lines += [f"  {line}" for line in summary[1:] if line != "Nothing was changed (dry run)."]
            if report.update_patch:
                lines.append(report.update_patch.rstrip("\n"))
    return lines
