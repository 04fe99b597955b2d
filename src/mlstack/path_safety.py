"""Refuse templates that would write outside the project or smuggle files in through symlinks.

Plain cookiecutter renders file names as it writes them, so a name like
`{{ cookiecutter.x }}` with x = "../../elsewhere" lands outside the output folder, and a
symlink in the template is copied as the content of whatever it points at. mlstack renders
every path name first and inspects every symlink, and refuses before anything is written.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from mlstack.errors import TemplateError


def project_template_dir(template_dir: Path) -> Path:
    """The template's project folder: the top-level folder whose name is a cookiecutter variable."""
    candidates = [p for p in template_dir.iterdir() if p.is_dir() and "cookiecutter" in p.name and "{{" in p.name]
    if len(candidates) != 1:
        raise TemplateError(f"{template_dir}: expected one project folder named like {{{{cookiecutter.x}}}}, "
                            f"found {len(candidates)}")
    return candidates[0]


def unsafe_reason(rendered: str) -> str | None:
    """Why a rendered relative path is unsafe, or None when it stays inside the project."""
    if not rendered.strip():
        return "renders to an empty name"
    if "\x00" in rendered:
        return "contains a NUL byte"
    path = PurePosixPath(rendered.replace("\\", "/"))
    if path.is_absolute() or rendered.startswith("~") or (len(rendered) > 1 and rendered[1] == ":"):
        return "renders to an absolute path"
    if ".." in path.parts:
        return "contains '..'"
    return None


def check_template_paths(template_dir: Path, answers: Mapping[str, Any], env: Any) -> None:
    """Render every path name of the project folder and vet every symlink; raise on the first problem."""
    project = project_template_dir(template_dir)
    context = {"cookiecutter": dict(answers)}
    root_name = env.from_string(project.name).render(**context)
    problem = unsafe_reason(root_name)
    if problem or "/" in root_name or "\\" in root_name:
        raise TemplateError(f"unsafe template: the project folder name {project.name!r} "
                            f"{problem or 'renders to a nested path'} ({root_name!r}); refusing to render")
    project_real = project.resolve()
    for folder, dirs, files in os.walk(project, followlinks=False):
        for name in dirs + files:
            source = Path(folder, name)
            relative = source.relative_to(project).as_posix()
            if source.is_symlink():
                target = Path(os.path.realpath(source))
                if not target.is_relative_to(project_real):
                    raise TemplateError(f"unsafe template: {relative} is a symlink to {os.readlink(source)!r}, "
                                        "outside the template; refusing to render")
            try:
                rendered = env.from_string(relative).render(**context)
            except Exception as error:  # noqa: BLE001 - a name that can't render is itself a defect
                raise TemplateError(f"template path {relative!r} cannot be rendered ({error})") from error
            problem = unsafe_reason(rendered) if rendered else None
            if problem:
                raise TemplateError(f"unsafe template: path {relative!r} {problem} ({rendered!r}); "
                                    "refusing to render")


def check_rendered_tree(project: Path) -> None:
    """After rendering: no symlink in the output may point outside it."""
    real = project.resolve()
    for folder, dirs, files in os.walk(project, followlinks=False):
        for name in dirs + files:
            path = Path(folder, name)
            if path.is_symlink() and not Path(os.path.realpath(path)).is_relative_to(real):
                raise TemplateError(f"unsafe render: {path.relative_to(project)} links outside the project")
