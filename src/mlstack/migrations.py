"""Template migrations: small Python steps a template ships for changes a merge can't express.

A template keeps them in `hooks/migrations/*.py` (files starting with `_` are ignored), run
in file-name order. Each module has a docstring (its first line is shown to the user) and:

    APPLIES_TO = ">=1.0.0,<2.0.0"           # recorded versions that need this step
    RENAMED_ANSWERS = {"old_key": "new_key"}  # optional: answer keys renamed in this range
    def migrate_answers(answers): ...          # optional: change answer values in place
    def migrate_files(project, answers): ...   # optional: move/rewrite the user's files

A step runs when an upgrade goes past its range: the recorded version is inside APPLIES_TO
(or below it) and the target version above it, so a jump over several versions runs each
step in turn. File steps run on the update branch and become their own commit before the
merge.

APPLIES_TO and RENAMED_ANSWERS are plain literals, so `mlstack diff` can read a step without
running it (`read_migrations`): its preview applies the renames and names the code steps
it did not run.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from mlstack.errors import TemplateError
from mlstack.versions import in_range, parse_version, position

MIGRATIONS_DIR = Path("hooks") / "migrations"


@dataclass
class Migration:
    """One step from the template's migrations folder."""

    name: str
    summary: str
    applies_to: str
    renamed_answers: dict[str, str]
    answers_step: Callable[[dict[str, Any]], None] | None
    files_step: Callable[[Path, dict[str, Any]], None] | None
    # Read without running it (read_migrations): which step functions it defines, not run.
    unrun_code: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.name}: {self.summary}" if self.summary else self.name


@dataclass
class Plan:
    """The steps to run for an upgrade, or why none could be chosen."""

    steps: list[Migration]
    skipped_reason: str | None = None


def _step_files(template_dir: Path) -> list[Path]:
    folder = template_dir / MIGRATIONS_DIR
    if not folder.is_dir():
        return []
    return [path for path in sorted(folder.glob("*.py")) if not path.name.startswith("_")]


def load_migrations(template_dir: Path) -> list[Migration]:
    """Every migration the template ships, in file-name order."""
    return [_load(path) for path in _step_files(template_dir)]


def _load(path: Path) -> Migration:
    module = _import(path)
    answers_step = getattr(module, "migrate_answers", None)
    files_step = getattr(module, "migrate_files", None)
    return _checked(path, module.__doc__, getattr(module, "APPLIES_TO", None),
                    getattr(module, "RENAMED_ANSWERS", {}),
                    answers_step if callable(answers_step) else None,
                    files_step if callable(files_step) else None)


def read_migrations(template_dir: Path) -> list[Migration]:
    """Every migration the template ships, read from its source without running any of it."""
    return [_read(path) for path in _step_files(template_dir)]


def _read(path: Path) -> Migration:
    where = f"migration {path.name}"
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=path.name)
    except (SyntaxError, ValueError, UnicodeDecodeError) as error:
        raise TemplateError(f"{where} cannot be read ({type(error).__name__}: {error})") from error
    constants: dict[str, Any] = {}
    functions = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions.add(node.name)
        targets = node.targets if isinstance(node, ast.Assign) else \
            [node.target] if isinstance(node, ast.AnnAssign) and node.value is not None else []
        for target in targets:
            if isinstance(target, ast.Name) and target.id in ("APPLIES_TO", "RENAMED_ANSWERS"):
                try:
                    constants[target.id] = ast.literal_eval(node.value)  # type: ignore[union-attr]
                except (ValueError, TypeError, SyntaxError, RecursionError) as error:
                    raise TemplateError(f"{where}: {target.id} must be a plain literal so that "
                                        "`mlstack diff` can read it without running the template") from error
    unrun = tuple(name for name in ("migrate_answers", "migrate_files") if name in functions)
    return _checked(path, ast.get_docstring(tree), constants.get("APPLIES_TO"),
                    constants.get("RENAMED_ANSWERS", {}), None, None, unrun_code=unrun)


def _checked(path: Path, doc: str | None, applies_to: Any, renamed: Any,
             answers_step: Callable[..., None] | None, files_step: Callable[..., None] | None,
             unrun_code: tuple[str, ...] = ()) -> Migration:
    where = f"migration {path.name}"
    if not isinstance(applies_to, str) or not applies_to.strip():
        raise TemplateError(f"{where}: APPLIES_TO must be a version range string such as '>=1.0,<2.0'")
    try:
        in_range("0", applies_to)
    except ValueError as error:
        raise TemplateError(f"{where}: APPLIES_TO {applies_to!r} is not a version range ({error})") from error
    renamed = renamed or {}
    if not isinstance(renamed, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                for k, v in renamed.items()):
        raise TemplateError(f"{where}: RENAMED_ANSWERS must map old answer keys to new ones")
    if not (renamed or answers_step or files_step or unrun_code):
        raise TemplateError(f"{where}: defines none of RENAMED_ANSWERS, migrate_answers, migrate_files")
    summary = (doc or "").strip().splitlines()
    return Migration(path.stem, summary[0] if summary else "", applies_to, dict(renamed),
                     answers_step, files_step, unrun_code)


def _import(path: Path) -> ModuleType:
    name = f"_mlstack_migration_{abs(hash(str(path)))}_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise TemplateError(f"migration {path.name}: cannot be loaded")
    module = importlib.util.module_from_spec(spec)
    previous = sys.dont_write_bytecode
    sys.dont_write_bytecode = True
    try:
        spec.loader.exec_module(module)
    except (Exception, SystemExit) as error:  # noqa: BLE001 - a broken template must not crash mlstack
        raise TemplateError(f"migration {path.name} fails to load ({type(error).__name__}: {error})") from error
    finally:
        sys.dont_write_bytecode = previous
    return module


def plan(migrations: list[Migration], recorded_version: str, target_version: str) -> Plan:
    """The migrations an upgrade from `recorded_version` to `target_version` needs."""
    if not migrations:
        return Plan([])
    for label, version in (("recorded", recorded_version), ("target", target_version)):
        if parse_version(version) is None:
            return Plan([], f"the {label} template version {version!r} is not a release number, "
                            "so no migration could be matched to it")
    # An upgrade that goes past a step's range runs it, even when it starts below the range:
    # a jump over several versions runs each step in turn, like the upgrades in between would.
    steps = [m for m in migrations
             if position(recorded_version, m.applies_to) <= 0 and position(target_version, m.applies_to) == 1]
    return Plan(steps)


def migrate_answers(steps: list[Migration], answers: dict[str, Any], user_set: list[str]) -> list[str]:
    """Apply the answer steps in place; user_set follows renamed keys. Returns what happened."""
    notes = []
    for step in steps:
        for old, new in step.renamed_answers.items():
            if old in answers:
                answers[new] = answers.pop(old)
                notes.append(f"answer {old} is now {new}")
                if old in user_set:
                    user_set[user_set.index(old)] = new
        if "migrate_answers" in step.unrun_code:
            notes.append(f"{step.name} changes answers in code, not run for this preview")
        if step.answers_step:
            before = dict(answers)
            _run(step, step.answers_step, answers)
            changed = sorted(k for k in set(before) | set(answers) if before.get(k) != answers.get(k))
            if changed:
                notes.append(f"{step.name} changed answers: {', '.join(changed)}")
        for key in [k for k in user_set if k not in answers]:
            user_set.remove(key)
    return notes


def migrate_files(steps: list[Migration], project: Path, answers: dict[str, Any]) -> list[Migration]:
    """Run the file steps on the work tree; returns the steps that ran."""
    ran = []
    for step in steps:
        if step.files_step:
            _run(step, step.files_step, project, dict(answers))
            ran.append(step)
    return ran


def _run(step: Migration, function: Callable[..., Any], *args: Any) -> None:
    try:
        function(*args)
    except (Exception, SystemExit) as error:  # noqa: BLE001 - report which step broke, then roll back
        raise TemplateError(f"migration {step.name} failed ({type(error).__name__}: {error}); "
                            "nothing was changed") from error
