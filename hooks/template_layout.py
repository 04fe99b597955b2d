"""Delete the files of options that were not chosen, so unchosen options leave no trace.

Which file belongs to which answer is data, `_prune` in cookiecutter.json: for each
question, each answer value lists the globs (relative to the project root, `**` for a whole
folder) that are kept only when that value was chosen; boolean answers use "yes" and "no".
Keeping it as data lets `mlstack diff` reproduce this hook's effect without running
template code: mlstack loads this very module from its own bundled template (mlstack.prune),
so this is the only implementation. Whole files are removed, never `{% if %}` around bodies.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
from collections.abc import Mapping
from pathlib import Path

PRUNE_KEY = "_prune"


def choice_files(context: Mapping[str, object]) -> dict[str, dict[str, list[str]]]:
    """The template's `_prune` table, checked: a malformed one is named (ValueError), never half-applied."""
    table = context.get(PRUNE_KEY)
    if table is None:
        return {}
    where = f"cookiecutter.json: {PRUNE_KEY}"
    if not isinstance(table, dict):
        raise ValueError(f"{where} must map questions to {{answer value: [globs]}}")
    for question, by_value in table.items():
        if not isinstance(by_value, dict):
            raise ValueError(f"{where}.{question} must map answer values to lists of globs")
        for value, patterns in by_value.items():
            if not isinstance(patterns, list) or not all(isinstance(p, str) and p for p in patterns):
                raise ValueError(f"{where}.{question}.{value} must be a list of globs (strings)")
            for pattern in patterns:
                if pattern.startswith("/") or ".." in pattern.split("/"):
                    raise ValueError(f"{where}.{question}.{value}: {pattern!r} must be a path inside "
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
        # A folder and everything in it; `*` in the folder part matches one path component.
        prefix = pattern[:-3].split("/")
        parts = relative_path.split("/")
        return len(parts) > len(prefix) and all(
            fnmatch.fnmatchcase(part, glob) for part, glob in zip(parts, prefix, strict=False)
        )
    return fnmatch.fnmatchcase(relative_path, pattern)


def unwanted_files(project_dir: Path, context: Mapping[str, object]) -> list[Path]:
    """The files that belong only to choices these answers did not make."""
    unwanted_patterns = [
        pattern
        for question, files_by_value in choice_files(context).items()
        for value, patterns in files_by_value.items()
        if choice_value(context.get(question)) != value
        for pattern in patterns
    ]
    found = []
    for root, dirs, files in os.walk(project_dir):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in files:
            path = Path(root, name)
            relative = path.relative_to(project_dir).as_posix()
            if any(matches(relative, pattern) for pattern in unwanted_patterns):
                found.append(path)
    return sorted(found)


def prune(project_dir: Path, context: Mapping[str, object]) -> list[Path]:
    """Delete the unwanted files and any directories they leave empty."""
    removed = unwanted_files(project_dir, context)
    for path in removed:
        path.unlink()
    for root, _dirs, _files in sorted(os.walk(project_dir), key=lambda entry: -len(entry[0])):
        relative = Path(root).relative_to(project_dir).parts
        if relative and relative[0] != ".git" and not os.listdir(root):
            shutil.rmtree(root)
    return removed
