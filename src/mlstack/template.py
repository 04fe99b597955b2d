"""Find a template (bundled, a local path, or a git URL at a ref) and read its contract.

The contract is the template's own `hooks/template_questions.py`: the questions' conditions
and validators, shared with its pre-generation hook so that `mlstack init` and plain
`cookiecutter` accept exactly the same answers.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from mlstack.errors import InvalidInput, RepoStateError, TemplateError, UntrustedTemplate
from mlstack.urls import expand_shorthand, is_git_url, is_within, location_problem, redact

BUNDLED = "bundled"


@dataclass
class Template:
    """A template on disk, where it came from, and which version it is."""

    path: Path
    source: str
    version: str
    trusted: bool
    context: dict = field(default_factory=dict)

    @property
    def declared_version(self) -> str:
        return str(self.context.get("_template_version", ""))


def bundled_template_dir() -> Path:
    """The template shipped inside the wheel, or this checkout's root when run from source."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "template", package.parents[1]):
        if (candidate / "cookiecutter.json").is_file() and (candidate / "hooks").is_dir():
            return candidate
    raise TemplateError("the bundled template is missing from this installation; reinstall mlstack")


@functools.cache
def bundled_hook(name: str) -> ModuleType:
    """A module of mlstack's own bundled template's hooks (never the template being rendered's).

    The template's hooks must work under plain cookiecutter, so the logic they share with
    mlstack (the `_prune` table, the answers file's text) lives there, once.
    """
    path = bundled_template_dir() / "hooks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"mlstack._bundled_hooks.{name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses and the like look their module up by name
    spec.loader.exec_module(module)
    return module


def read_cookiecutter_json(path: Path) -> dict:
    try:
        data = json.loads((path / "cookiecutter.json").read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise TemplateError(f"{path}: no cookiecutter.json, so this is not a template") from error
    except (ValueError, OSError) as error:
        raise TemplateError(f"{path / 'cookiecutter.json'}: not valid JSON ({error})") from error
    except RecursionError as error:
        raise TemplateError(f"{path / 'cookiecutter.json'}: nested too deeply to be a template's questions") \
            from error
    if not isinstance(data, dict):
        raise TemplateError(f"{path / 'cookiecutter.json'}: must be a JSON object")
    return data


def trusted_prefixes() -> list[str]:
    """Template sources trusted without --trust (MLSTACK_TRUSTED_TEMPLATES, comma-separated)."""
    from mlstack import settings

    return settings.trusted_template_prefixes()


def is_trusted_source(source: str) -> bool:
    """Whether `source` lies inside a trusted prefix, both normalised (`..`, case, default ports)."""
    if source == BUNDLED:
        return True
    return is_within(source, trusted_prefixes())


@dataclass(frozen=True)
class TemplateSource:
    """A template location, checked once: how to show it, where to fetch it, whether it may run."""

    shown: str  # what messages and the answers file say: a resolved path, or the URL without credentials
    location: str  # what git fetches: the URL with shorthands expanded, or the resolved path
    is_git: bool
    trusted: bool


BUNDLED_SOURCE = TemplateSource(BUNDLED, BUNDLED, False, True)


def decide_source(spec: str | None, *, trust: bool, recorded_in: str | None = None) -> TemplateSource:
    """The one place that decides whether a template source may be fetched and run.

    Callers decide before any git command or network access names the source. `recorded_in`
    names the repository file the source came from: such a source is attacker-controlled, and a
    malformed one is the repository's problem (exit 5), not the command line's.
    """
    if spec is None or spec == BUNDLED:
        return BUNDLED_SOURCE
    problem = location_problem(spec)
    if problem:
        where = f"{recorded_in}: template.source" if recorded_in else "--template"
        error = RepoStateError if recorded_in else InvalidInput
        raise error(f"{where} {redact(spec)[:200]!r} is not a template path or git URL ({problem}); "
                    "nothing was run" + ("; restore the file from git" if recorded_in else ""))
    if is_git_url(spec):
        location, shown = expand_shorthand(spec), redact(spec)
    else:
        location = shown = str(Path(spec).expanduser().resolve())
    trusted = is_trusted_source(location)
    if not (trusted or trust):
        origin = f" (recorded in {recorded_in})" if recorded_in else ""
        raise UntrustedTemplate(
            f"template {shown}{origin} is not trusted: rendering it runs its code on this machine "
            "(hooks, migrations, and Jinja, which is not a sandbox). "
            "Re-run with --trust if you trust it, or add it to the trusted templates "
            "(MLSTACK_TRUSTED_TEMPLATES or trusted_templates in the mlstack settings file)"
        )
    return TemplateSource(shown, location, is_git_url(spec), True)


@contextmanager
def open_template(spec: str | TemplateSource | None = None, ref: str | None = None, *,
                  trust: bool = False) -> Iterator[Template]:
    """Yield the template named by `spec` (None: bundled); clones of git URLs are removed after.

    `spec` may be a source already decided (decide_source); a string is decided here, first.
    """
    source = spec if isinstance(spec, TemplateSource) else decide_source(spec, trust=trust)
    if source is BUNDLED_SOURCE or source.location == BUNDLED:
        if ref:
            raise TemplateError("--ref applies to --template git URLs and paths, not to the bundled template")
        path = bundled_template_dir()
        context = read_cookiecutter_json(path)
        yield Template(path, BUNDLED, str(context.get("_template_version", "")), True, context)
        return
    if source.is_git:
        workdir = Path(tempfile.mkdtemp(prefix="mlstack-template-"))
        try:
            path = _clone(source.location, ref, workdir / "template", shown=source.shown)
            context = read_cookiecutter_json(path)
            yield Template(path, source.shown, _git_version(path) or str(context.get("_template_version", "")),
                           source.trusted, context)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        return
    path = Path(source.location)
    if not path.is_dir():
        raise TemplateError(f"--template {source.shown}: no such directory or git URL")
    if ref:
        workdir = Path(tempfile.mkdtemp(prefix="mlstack-template-"))
        try:
            clone = _clone(str(path), ref, workdir / "template", shown=source.shown)
            context = read_cookiecutter_json(clone)
            yield Template(clone, source.shown, _git_version(clone) or ref, source.trusted, context)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        return
    context = read_cookiecutter_json(path)
    version = str(context.get("_template_version", "")) or _git_version(path) or "unversioned"
    yield Template(path, source.shown, version, source.trusted, context)


def _clone(url: str, ref: str | None, into: Path, *, shown: str) -> Path:
    from mlstack.gitrepo import CloneError, clone

    try:
        return clone(url, into, ref=ref)
    except CloneError as error:
        if error.missing_ref:
            raise TemplateError(f"template {shown} has no ref {ref!r}: {error.message}") from error
        raise TemplateError(f"cannot clone template {shown}: {error.message}") from error


def _git_version(path: Path) -> str | None:
    """The tag at HEAD, else the commit: what `update --to` can check out again."""
    if not (path / ".git").exists():
        return None
    from mlstack.gitrepo import SAFE_GIT_CONFIG

    git = ["git", *SAFE_GIT_CONFIG, "-C", str(path)]
    tag = subprocess.run([*git, "describe", "--tags", "--exact-match"], capture_output=True, text=True)
    if tag.returncode == 0:
        return tag.stdout.strip()
    commit = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True)
    return commit.stdout.strip() if commit.returncode == 0 else None


CONTRACT_FUNCTIONS = ("check_answer", "is_asked", "validate")


class TemplateContract:
    """A template's questions module, called so that its faults are template errors (exit 7).

    It is the template's code: an exception, a `sys.exit()` or a missing function there must
    not become an internal error, nor a silent exit 0 having created nothing. Other names are
    the module's own (read-only).
    """

    def __init__(self, module: ModuleType, path: Path):
        missing = [name for name in CONTRACT_FUNCTIONS if not callable(getattr(module, name, None))]
        if missing:
            raise TemplateError(f"{path}: defines no {', '.join(missing)}(), so mlstack cannot check answers with it")
        self.module = module
        self.path = path

    def __getattr__(self, name: str):
        return getattr(self.module, name)

    def check_answer(self, key: str, value, answers):
        problem = self._call("check_answer", key, value, answers)
        if problem is not None:
            self._check_problems([problem])
        return problem

    def is_asked(self, key: str, answers) -> bool:
        return bool(self._call("is_asked", key, answers))

    def validate(self, answers) -> list:
        problems = list(self._call("validate", answers) or [])
        self._check_problems(problems)
        return problems

    def _call(self, name: str, *args):
        try:
            return getattr(self.module, name)(*args)
        except SystemExit as error:
            raise TemplateError(f"{self.path.name}: {name}() called sys.exit({error.code!r}); "
                                "a template's checks must return their findings") from error
        except Exception as error:  # noqa: BLE001 - the template's bug, reported as one
            raise TemplateError(f"{self.path.name}: {name}() failed ({type(error).__name__}: "
                                f"{_shortened(str(error))})") from error

    def _check_problems(self, problems: list) -> None:
        if not all(isinstance(getattr(p, "field", None), str) and isinstance(getattr(p, "rule", None), str)
                   for p in problems):
            raise TemplateError(f"{self.path.name}: returned problems without a `field` and a `rule`")


def _shortened(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def load_contract(template: Template) -> TemplateContract | None:
    """The template's questions module, or None for a template without one."""
    module_path = template.path / "hooks" / "template_questions.py"
    if not module_path.is_file():
        return None
    name = f"_mlstack_contract_{abs(hash(str(module_path)))}"
    if name in sys.modules:
        return TemplateContract(sys.modules[name], module_path)
    spec = importlib.util.spec_from_file_location(name, module_path)
    if spec is None or spec.loader is None:
        raise TemplateError(f"{module_path}: cannot be loaded")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    previous = sys.dont_write_bytecode
    sys.dont_write_bytecode = True
    try:
        spec.loader.exec_module(module)
    except (Exception, SystemExit) as error:  # noqa: BLE001 - a broken template must not crash mlstack
        del sys.modules[name]
        what = f"calls sys.exit({error.code!r})" if isinstance(error, SystemExit) else \
            f"fails to load ({type(error).__name__}: {_shortened(str(error))})"
        raise TemplateError(f"{module_path}: {what}") from error
    finally:
        sys.dont_write_bytecode = previous
    try:
        return TemplateContract(module, module_path)
    except TemplateError:
        del sys.modules[name]
        raise
