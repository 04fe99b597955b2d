"""Delete the files of options that were not chosen, so unchosen options leave no trace.

Which file belongs to which answer is data, `_prune` in cookiecutter.json: for each
question, each answer value lists the globs (relative to the project root, `**` for a whole
folder) that are kept only when that value was chosen; boolean answers use "yes" and "no".
Keeping it as data lets `mlstack diff` reproduce this hook's effect without running
template code. Whole files are removed, never `{% if %}` around whole bodies.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
from collections.abc import Mapping
from pathlib import Path


def choice_files(context: Mapping[str, object]) -> Mapping[str, Mapping[str, list[str]]]:
    """The template's `_prune` table, as cookiecutter passed it in the context."""
    return context.get("_prune") or {}  # type: ignore[return-value]


def _choice_value(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value).strip().lower()
    if text in {"true", "1", "y", "on"}:
        return "yes"
    if text in {"false", "0", "n", "off"}:
        return "no"
    return str(value)


def _matches(relative_path: str, pattern: str) -> bool:
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
        if _choice_value(context.get(question)) != value
        for pattern in patterns
    ]
    found = []
    for root, dirs, files in os.walk(project_dir):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in files:
            path = Path(root, name)
            relative = path.relative_to(project_dir).as_posix()
            if any(_matches(relative, pattern) for pattern in unwanted_patterns):
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
