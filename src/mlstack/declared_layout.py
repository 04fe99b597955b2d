"""Apply a template's `_prune` table ourselves, so a preview render needs none of its hooks.

`_prune` (cookiecutter.json) maps each question to answer values and the globs kept only
when that value was chosen; boolean answers are "yes" and "no"; `dir/**` is a whole folder
(a `*` there matches one path component), any other glob is matched with fnmatch against
the path relative to the project root. The template's own post-generation hook applies the
same table for plain cookiecutter; tests keep the two renders byte-identical.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from mlstack.errors import TemplateError

PRUNE_KEY = "_prune"


def prune_table(context: Mapping[str, object]) -> dict[str, dict[str, list[str]]]:
    """The template's `_prune` table, checked: a malformed one is named, never half-applied."""
    table = context.get(PRUNE_KEY)
    if table is None:
        return {}
    where = f"cookiecutter.json: {PRUNE_KEY}"
    if not isinstance(table, dict):
        raise TemplateError(f"{where} must map questions to {{answer value: [globs]}}")
    for question, by_value in table.items():
        if not isinstance(by_value, dict):
            raise TemplateError(f"{where}.{question} must map answer values to lists of globs")
        for value, patterns in by_value.items():
            if not isinstance(patterns, list) or not all(isinstance(p, str) and p for p in patterns):
                raise TemplateError(f"{where}.{question}.{value} must be a list of globs (strings)")
            for pattern in patterns:
                if pattern.startswith("/") or ".." in pattern.split("/"):
                    raise TemplateError(f"{where}.{question}.{value}: {pattern!r} must be a path inside "
                                        "the project (no leading / and no ..)")
    return table


def choice_value(value: object) -> str:
    """How an answer is looked up in the table: booleans (and their spellings) as yes/no."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value).strip().lower()
    if text in {"true", "1", "y", "on"}:
        return "yes"
    if text in {"false", "0", "n", "off"}:
        return "no"
    return str(value)


def matches(relative_path: str, pattern: str) -> bool:
    if pattern.endswith("/**"):
        folder = pattern[:-3].split("/")
        parts = relative_path.split("/")
        return len(parts) > len(folder) and all(fnmatch.fnmatchcase(p, g) for p, g in zip(parts, folder, strict=False))
    return fnmatch.fnmatchcase(relative_path, pattern)


def unchosen_files(project: Path, context: Mapping[str, object]) -> list[Path]:
    """The files that belong only to answer values these answers did not choose."""
    patterns = [pattern
                for question, by_value in prune_table(context).items()
                for value, globs in by_value.items()
                if choice_value(context.get(question)) != value
                for pattern in globs]
    found = []
    for root, dirs, files in os.walk(project):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in files:
            path = Path(root, name)
            if any(matches(path.relative_to(project).as_posix(), pattern) for pattern in patterns):
                found.append(path)
    return sorted(found)


def prune_unchosen(project: Path, context: Mapping[str, object]) -> list[Path]:
    """Delete the unchosen files and the folders they leave empty (as the template's hook does)."""
    removed = unchosen_files(project, context)
    for path in removed:
        path.unlink()
    for root, _dirs, _files in sorted(os.walk(project), key=lambda entry: -len(entry[0])):
        relative = Path(root).relative_to(project).parts
        if relative and relative[0] != ".git" and not os.listdir(root):
            shutil.rmtree(root)
    return removed
