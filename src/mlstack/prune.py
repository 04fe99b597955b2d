"""Apply a template's `_prune` table ourselves, so a preview render needs none of its hooks.

The logic has one home, the bundled template's hooks/template_layout.py (plain cookiecutter
needs it without mlstack). mlstack loads that module from its *own* bundled template, never
from the template being rendered, so no template code runs and no trust question arises.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import ModuleType

from mlstack.errors import TemplateError


def _layout() -> ModuleType:
    from mlstack.template import bundled_hook

    return bundled_hook("template_layout")


def prune_table(context: Mapping[str, object]) -> dict[str, dict[str, list[str]]]:
    """The `_prune` table of this render's context, checked (TemplateError names a malformed entry)."""
    try:
        return _layout().choice_files(context)
    except ValueError as error:
        raise TemplateError(str(error)) from error


def prune_unchosen(project: Path, context: Mapping[str, object]) -> list[Path]:
    """Delete the unchosen files and the folders they leave empty (as the template's hook does)."""
    prune_table(context)
    return _layout().prune(project, context)
