"""`.mlstack/answers.yml`, the project's record: its only reader and writer in mlstack.

mlstack owns this file. It says which template (source, version) and which pristine commit
the repository was last merged from, every answer, and which answers the user chose. Its text
is made by the bundled template's hook (hooks/template_setup.py, which plain cookiecutter
runs), loaded from mlstack's own copy: a render with or without hooks writes the same bytes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlstack.errors import RepoStateError

RECORD_PATH = ".mlstack/answers.yml"
PRISTINE_BRANCH = "mlstack/template"
OBJECT_ID = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
PRISTINE_BRANCH_NAME = re.compile(r"^mlstack/[A-Za-z0-9][A-Za-z0-9._-]*(?:/[A-Za-z0-9][A-Za-z0-9._-]*)*$")


@dataclass
class ProjectRecord:
    """What `.mlstack/answers.yml` says about how this repository was made."""

    source: str
    version: str
    answers: dict[str, Any]
    user_set: list[str] = field(default_factory=list)
    pristine_branch: str = PRISTINE_BRANCH
    pristine_commit: str | None = None
    mlstack_version: str | None = None
    managed: list[str] | None = None  # the template's managed globs, written into pristine renders

    def to_text(self) -> str:
        template: dict[str, Any] = {
            "source": self.source,
            "version": self.version,
            "pristine_branch": self.pristine_branch,
            "pristine_commit": self.pristine_commit,
        }
        if self.managed is not None:
            template["managed"] = list(self.managed)
        document = {
            "mlstack_version": self.mlstack_version,
            "template": template,
            "answers": dict(self.answers),
            "user_set": sorted(self.user_set),
        }
        return answers_text(document)


def parse_record(text: str, where: str) -> ProjectRecord:
    """A record from the text of an answers file; RepoStateError names what is wrong.

    The file is committed, so a pull request can change it: every field is checked before it
    can reach git (a pristine commit that is not an object id, a branch outside mlstack/).
    """
    from mlstack.yamlfile import YamlFileError

    try:
        data = load_answers_document(text)
    except YamlFileError as error:
        raise RepoStateError(f"{where}: {error}; restore it from git (git checkout -- {RECORD_PATH})") from error
    except ValueError:
        data = None
    if data is None or not isinstance(data.get("template"), dict):
        raise RepoStateError(f"{where}: not an mlstack answers file (needs `template:` and `answers:` mappings)")
    template = data["template"]
    user_set = data.get("user_set") or []
    if not isinstance(user_set, list) or not all(isinstance(key, str) for key in user_set):
        raise RepoStateError(f"{where}: user_set must be a list of answer keys")
    for key in ("source", "version", "pristine_branch", "pristine_commit"):
        if template.get(key) is not None and not isinstance(template[key], str):
            raise RepoStateError(f"{where}: template.{key} must be a string")
    commit = template.get("pristine_commit") or None
    if commit is not None and not OBJECT_ID.match(commit):
        raise RepoStateError(f"{where}: template.pristine_commit {commit[:80]!r} is not a git object id; "
                             f"restore the file from git (git checkout -- {RECORD_PATH})")
    branch = template.get("pristine_branch") or PRISTINE_BRANCH
    if not PRISTINE_BRANCH_NAME.match(branch) or ".." in branch or branch.endswith(".lock"):
        raise RepoStateError(f"{where}: template.pristine_branch {branch[:80]!r} is not a branch under mlstack/ "
                             f"(mlstack only ever writes {PRISTINE_BRANCH}); restore the file from git")
    version = data.get("mlstack_version")
    return ProjectRecord(
        source=template.get("source") or "",
        version=str(template.get("version") or ""),
        answers=dict(data["answers"]),
        user_set=list(user_set),
        pristine_branch=branch,
        pristine_commit=commit,
        mlstack_version=str(version)[:100] if version else None,
    )


def rendered_record_text(cookiecutter: Mapping[str, Any]) -> str:
    """The answers file a pristine render holds, from the render's cookiecutter context.

    The template's post-generation hook writes this file when it runs; a render without hooks
    (the `mlstack diff` preview) gets the same bytes from here.
    """
    meta = cookiecutter.get("_mlstack") or {}
    record = ProjectRecord(
        source=str(meta.get("source") or cookiecutter.get("_template")),
        version=str(meta.get("template_version") or cookiecutter.get("_template_version")),
        answers={key: value for key, value in cookiecutter.items() if not key.startswith("_")},
        user_set=list(meta.get("user_keys") or []),
        mlstack_version=meta.get("mlstack_version") or None,
        managed=list(cookiecutter.get("_managed_files") or []),
    )
    return record.to_text()


def read_record(project: Path) -> ProjectRecord:
    path = project / RECORD_PATH
    if not path.is_file():
        raise RepoStateError(f"{project} has no {RECORD_PATH}, so mlstack did not generate it; "
                             "adopt it first with `mlstack link`")
    return parse_record(path.read_text(encoding="utf-8", errors="replace"), str(path))


def answers_text(document: Mapping[str, Any]) -> str:
    """The file's text for a document (header comment, then the YAML), as the template's hook writes it."""
    from mlstack.template import bundled_hook

    return bundled_hook("template_setup").answers_text(document)


def load_answers_document(data: str | bytes) -> dict[str, Any]:
    """The parsed file: YamlFileError when it is not YAML, ValueError when it is not an answers file."""
    from mlstack.yamlfile import load_yaml

    document = load_yaml(data, numbers_as_text=True)
    if not isinstance(document, dict) or not isinstance(document.get("answers"), dict):
        raise ValueError("lacks an `answers:` mapping")
    return document
