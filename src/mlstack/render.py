"""Render a template with a full set of answers, all or nothing.

The render happens in a temporary directory next to the destination (same filesystem), and
the finished project is moved into place with one atomic rename: an interrupted or failed
run leaves no partial project, and an existing non-empty directory is never touched.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mlstack.errors import DestinationExists, InvalidInput, TemplateError, one_line
from mlstack.template import Template

TEMP_PREFIX = ".mlstack-tmp-"
# Byte-code caches are not template sources: installing mlstack from a wheel compiles the bundled
# template's modules, and cookiecutter would copy those caches into every new project.
BYTECODE = ("__pycache__", "*.pyc", "*.pyo")


def build_context(template: Template, answers: Mapping[str, Any], meta: Mapping[str, Any],
                  output_dir: Path) -> dict[str, Any]:
    """The cookiecutter context: answers in question order plus the template's private keys."""
    cookiecutter: dict[str, Any] = {}
    for key, raw in template.context.items():
        if key in answers:
            cookiecutter[key] = answers[key]
        elif key.startswith("_"):
            cookiecutter[key] = raw
    cookiecutter["_mlstack"] = {**(template.context.get("_mlstack") or {}), **meta}
    cookiecutter["_template"] = template.source
    cookiecutter["_output_dir"] = str(output_dir)
    cookiecutter["_repo_dir"] = str(template.path)
    cookiecutter["_checkout"] = None
    return {
        "cookiecutter": cookiecutter,
        "_cookiecutter": {k: v for k, v in cookiecutter.items() if not k.startswith("_")},
    }


def is_empty_or_missing(path: Path) -> bool:
    return not path.exists() or (path.is_dir() and not any(path.iterdir()))


def remove_stale_temp_dirs(parent: Path) -> None:
    """Delete temp folders left by runs that were killed (their process is gone)."""
    for folder in parent.glob(f"{TEMP_PREFIX}*"):
        pid_text = folder.name[len(TEMP_PREFIX):].split("-", 1)[0]
        if pid_text.isdigit() and not process_alive(int(pid_text)):
            shutil.rmtree(folder, ignore_errors=True)


def process_alive(pid: int) -> bool:
    """Whether a process with this id exists (one of another user counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def render_into_temp(template: Template, answers: Mapping[str, Any], meta: Mapping[str, Any],
                     parent: Path, *, run_hooks: bool = True) -> tuple[Path, Path]:
    """Render inside a fresh temporary folder under `parent`; return (temp folder, project).

    With run_hooks False no template code runs: mlstack applies the template's `_prune`
    table and writes the answers file itself, which is all the bundled template's hooks do.
    """
    from cookiecutter.environment import StrictEnvironment
    from cookiecutter.exceptions import CookiecutterException, FailedHookException
    from cookiecutter.generate import generate_files
    from jinja2 import TemplateError as JinjaError

    from mlstack.path_safety import check_rendered_tree, check_template_paths
    from mlstack.prune import prune_table

    context = build_context(template, answers, meta, parent)
    if not run_hooks:
        prune_table(context["cookiecutter"])  # a malformed table fails before anything is rendered
    check_template_paths(template.path, context["cookiecutter"], StrictEnvironment(context=context))
    parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temp_dirs(parent)
    # The pid in the name lets a later run recognise (and remove) the leftovers of a killed one.
    workdir = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-", dir=parent))
    sources = None
    try:
        sources = template_without_bytecode(template.path)
        with hook_output() as last_words:
            try:
                project = Path(generate_files(repo_dir=str(sources or template.path), context=context,
                                              output_dir=str(workdir), accept_hooks=run_hooks))
            except FailedHookException as error:
                status = HOOK_STATUS.search(str(error))
                if status and int(status.group(1)) in INTERRUPTED_STATUSES:
                    raise KeyboardInterrupt from error  # Ctrl-C stopped the hook: an interrupt, exit 130
                said = last_words()
                raise TemplateError(f"the template's hook failed: {error}" + (f": {said}" if said else "")
                                    + " (MLSTACK_DEBUG=1 shows its whole output)") from error
        check_rendered_tree(project)
        if not run_hooks:
            apply_declared_effects(project, context["cookiecutter"])
    except (CookiecutterException, JinjaError) as error:
        shutil.rmtree(workdir, ignore_errors=True)
        where = f" ({error.filename}, line {error.lineno})" if getattr(error, "lineno", None) else ""
        raise TemplateError(f"cannot render the template: {type(error).__name__}: {error}{where}") from error
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    finally:
        if sources is not None:
            shutil.rmtree(sources.parent, ignore_errors=True)
    return workdir, project


def template_without_bytecode(template_dir: Path) -> Path | None:
    """A copy of the template without byte-code caches, or None when it has none (the usual case)."""
    def has_bytecode() -> bool:  # in what cookiecutter copies: the `{{ ... }}` folders
        for top in (entry for entry in template_dir.iterdir() if "{{" in entry.name and entry.is_dir()):
            for _folder, subfolders, files in os.walk(top):
                if "__pycache__" in subfolders or any(name.endswith((".pyc", ".pyo")) for name in files):
                    return True
        return False

    if not has_bytecode():
        return None
    copy = Path(tempfile.mkdtemp(prefix="mlstack-template-")) / template_dir.name
    shutil.copytree(template_dir, copy, symlinks=True, ignore=shutil.ignore_patterns(*BYTECODE, ".git"))
    return copy


# cookiecutter's FailedHookException says "Hook script failed (exit status: N)".
HOOK_STATUS = re.compile(r"exit status: (-?\d+)")
INTERRUPTED_STATUSES = {130, -signal.SIGINT, 128 + signal.SIGINT, -signal.SIGTERM, 128 + signal.SIGTERM}


@contextmanager
def hook_output() -> Iterator[Callable[[], str]]:
    """What hooks write to stderr is held back: shown after a success, reduced to its last line
    when a hook fails (so a template's traceback is one line of mlstack's error), and passed
    through unchanged with MLSTACK_DEBUG=1. cookiecutter's own log of the failure is silenced."""
    logger = logging.getLogger("cookiecutter")
    if os.environ.get("MLSTACK_DEBUG"):
        yield lambda: ""
        return
    held = tempfile.TemporaryFile()
    sys.stderr.flush()
    saved = os.dup(2)
    os.dup2(held.fileno(), 2)
    level = logger.level
    logger.setLevel(logging.CRITICAL + 1)  # its child loggers (cookiecutter.hooks) inherit this
    failed = True

    def last_words() -> str:
        held.seek(0)
        lines = [line.strip() for line in held.read().decode("utf-8", "replace").splitlines() if line.strip()]
        return one_line(lines[-1])[:300] if lines else ""

    try:
        yield last_words
        failed = False
    finally:
        logger.setLevel(level)
        os.dup2(saved, 2)
        os.close(saved)
        if not failed:
            held.seek(0)
            sys.stderr.write(held.read().decode("utf-8", "replace"))
            sys.stderr.flush()
        held.close()


def apply_declared_effects(project: Path, cookiecutter: Mapping[str, Any]) -> None:
    """What the post-generation hook would have done, from data: prune, then the answers file."""
    from mlstack.answers_file import RECORD_PATH, rendered_record_text
    from mlstack.prune import prune_unchosen

    prune_unchosen(project, cookiecutter)
    record = project / RECORD_PATH
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(rendered_record_text(cookiecutter), encoding="utf-8")


def render_project(template: Template, answers: Mapping[str, Any], meta: Mapping[str, Any],
                   output_dir: Path) -> Path:
    """Render into output_dir/<project_slug>, refusing to write into a non-empty directory."""
    if output_dir.exists() and not output_dir.is_dir():
        raise InvalidInput(f"--output-dir {one_line(str(output_dir))} is a file, not a directory; "
                           "name a folder (it is created if missing)")
    destination = output_dir / str(answers["project_slug"])
    if not is_empty_or_missing(destination):
        raise DestinationExists(f"{destination} already exists and is not empty; "
                                "choose another --output-dir or project_slug (nothing was written)")
    created_output_dir = not output_dir.exists()
    try:
        workdir, project = render_into_temp(template, answers, meta, output_dir)
        try:
            os.rename(project, destination)
        except OSError as error:
            raise DestinationExists(f"{destination} appeared while rendering and is not empty; "
                                    "nothing was written") from error
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    except BaseException:
        if created_output_dir and is_empty_or_missing(output_dir) and output_dir.exists():
            output_dir.rmdir()
        raise
    return destination
