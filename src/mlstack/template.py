"""Find a template (bundled, a local path, or a git URL at a ref) and read its contract.

The contract is the template's own `hooks/template_questions.py`: the questions' conditions
and validators, shared with its pre-generation hook so that `mlstack init` and plain
`cookiecutter` accept exactly the same answers.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from mlstack.errors import TemplateError, UntrustedTemplate

BUNDLED = "bundled"
GIT_URL = re.compile(r"^(?:https?://|ssh://|git@|git\+|file://|gh:|gl:)|\.git/?$")


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


def is_git_url(spec: str) -> bool:
    return bool(GIT_URL.search(spec)) and not Path(spec).is_dir()


def read_cookiecutter_json(path: Path) -> dict:
    try:
        data = json.loads((path / "cookiecutter.json").read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise TemplateError(f"{path}: no cookiecutter.json, so this is not a template") from error
    except ValueError as error:
        raise TemplateError(f"{path / 'cookiecutter.json'}: not valid JSON ({error})") from error
    if not isinstance(data, dict):
        raise TemplateError(f"{path / 'cookiecutter.json'}: must be a JSON object")
    return data


def trusted_prefixes() -> list[str]:
    """Template sources trusted without --trust (MLSTACK_TRUSTED_TEMPLATES, comma-separated)."""
    from mlstack import settings

    return settings.trusted_template_prefixes()


def is_trusted_source(source: str) -> bool:
    if source == BUNDLED:
        return True
    return any(source.startswith(prefix) for prefix in trusted_prefixes() if prefix)


@contextmanager
def open_template(spec: str | None = None, ref: str | None = None, *, trust: bool = False) -> Iterator[Template]:
    """Yield the template named by `spec` (None: bundled); clones of git URLs are removed after."""
    if spec is None or spec == BUNDLED:
        if ref:
            raise TemplateError("--ref applies to --template git URLs and paths, not to the bundled template")
        path = bundled_template_dir()
        context = read_cookiecutter_json(path)
        yield Template(path, BUNDLED, str(context.get("_template_version", "")), True, context)
        return
    source = spec if is_git_url(spec) else str(Path(spec).expanduser().resolve())
    trusted = trust or is_trusted_source(source)
    if not trusted:
        raise UntrustedTemplate(
            f"template {source} is not trusted: rendering it runs its code on this machine "
            "(hooks, migrations, and Jinja, which is not a sandbox). "
            "Re-run with --trust if you trust it, or add it to the trusted templates "
            "(MLSTACK_TRUSTED_TEMPLATES or trusted_templates in the mlstack settings file)"
        )
    if is_git_url(spec):
        workdir = Path(tempfile.mkdtemp(prefix="mlstack-template-"))
        try:
            path = _clone(spec, ref, workdir / "template")
            context = read_cookiecutter_json(path)
            yield Template(path, source, _git_version(path) or str(context.get("_template_version", "")),
                           trusted, context)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        return
    path = Path(source)
    if not path.is_dir():
        raise TemplateError(f"--template {spec}: no such directory or git URL")
    if ref:
        workdir = Path(tempfile.mkdtemp(prefix="mlstack-template-"))
        try:
            clone = _clone(str(path), ref, workdir / "template")
            context = read_cookiecutter_json(clone)
            yield Template(clone, source, _git_version(clone) or ref, trusted, context)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        return
    context = read_cookiecutter_json(path)
    version = str(context.get("_template_version", "")) or _git_version(path) or "unversioned"
    yield Template(path, source, version, trusted, context)


def _clone(url: str, ref: str | None, into: Path) -> Path:
    """Clone one ref shallowly (tags and branches); fall back to a full clone for commit ids."""
    if url.startswith("gh:"):
        url = f"https://github.com/{url[3:]}.git"
    elif url.startswith("gl:"):
        url = f"https://gitlab.com/{url[3:]}.git"
    shallow = ["git", "clone", "--quiet", "--depth", "1", *(["--branch", ref] if ref else []), url, str(into)]
    if subprocess.run(shallow, capture_output=True, text=True).returncode == 0:
        return into
    shutil.rmtree(into, ignore_errors=True)
    result = subprocess.run(["git", "clone", "--quiet", "--no-checkout", url, str(into)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise TemplateError(f"cannot clone template {url}: {_last_line(result.stderr)}")
    checkout = subprocess.run(["git", "-C", str(into), "checkout", "--quiet", ref or "HEAD"],
                              capture_output=True, text=True)
    if checkout.returncode != 0:
        raise TemplateError(f"template {url} has no ref {ref!r}: {_last_line(checkout.stderr)}")
    return into


def _git_version(path: Path) -> str | None:
    """The tag at HEAD, else the commit: what `update --to` can check out again."""
    if not (path / ".git").exists():
        return None
    tag = subprocess.run(["git", "-C", str(path), "describe", "--tags", "--exact-match"],
                         capture_output=True, text=True)
    if tag.returncode == 0:
        return tag.stdout.strip()
    commit = subprocess.run(["git", "-C", str(path), "rev-parse", "HEAD"], capture_output=True, text=True)
    return commit.stdout.strip() if commit.returncode == 0 else None


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "unknown error"


def load_contract(template: Template) -> ModuleType | None:
    """The template's questions module, or None for a template without one."""
    module_path = template.path / "hooks" / "template_questions.py"
    if not module_path.is_file():
        return None
    name = f"_mlstack_contract_{abs(hash(str(module_path)))}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, module_path)
    if spec is None or spec.loader is None:
        raise TemplateError(f"{module_path}: cannot be loaded")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    previous = sys.dont_write_bytecode
    sys.dont_write_bytecode = True
    try:
        spec.loader.exec_module(module)
    except Exception as error:  # noqa: BLE001 - a broken template must not crash mlstack
        del sys.modules[name]
        raise TemplateError(f"{module_path}: fails to load ({type(error).__name__}: {error})") from error
    finally:
        sys.dont_write_bytecode = previous
    return module
