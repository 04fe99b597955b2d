"""The real terraform binary, when there is one: `fmt -check`, and `validate` where providers are local.

Runs through python-terraform. Nothing here downloads: `terraform init` only runs with a
local provider directory (-plugin-dir) or for configurations that need no provider, and it
runs on a temporary copy so the project gets no .terraform/ folder or lock file.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mlstack.terraform.findings import NOTE, Finding
from mlstack.terraform.modules import Module

DEFAULT_REGISTRY = "registry.terraform.io"
# No version checks, no prompts, no colour codes in what we parse.
OFFLINE_ENVIRONMENT = {"CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1", "TF_INPUT": "0"}
TERRAFORM_FILES = ("*.tf", "*.tf.json", "*.tfvars", "*.tfvars.json")


def find_terraform() -> str | None:
    return shutil.which("terraform")


@contextmanager
def _offline_environment() -> Iterator[None]:
    """Terraform's offline settings for the duration of a call (python-terraform passes os.environ)."""
    saved = {key: os.environ.get(key) for key in OFFLINE_ENVIRONMENT}
    os.environ.update(OFFLINE_ENVIRONMENT)
    try:
        with warnings.catch_warnings():
            # python-terraform 0.10 logs through the deprecated Logger.warn.
            warnings.simplefilter("ignore", DeprecationWarning)
            yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _terraform(binary: str, working_dir: Path):
    from python_terraform import Terraform

    return Terraform(working_dir=str(working_dir), terraform_bin_path=binary)


def terraform_version(binary: str) -> str:
    from python_terraform import IsFlagged

    with _offline_environment():
        code, out, _err = _terraform(binary, Path.cwd()).cmd("version", json=IsFlagged)
    try:
        return json.loads(out)["terraform_version"] if code == 0 else "unknown"
    except (ValueError, KeyError, TypeError):
        return "unknown"


def _first_changed_line(hunk_start: int, hunk_lines: list[str]) -> int:
    line = hunk_start
    for text in hunk_lines:
        if text.startswith("-"):
            return line
        if not text.startswith("+"):
            line += 1
    return hunk_start


def parse_fmt_diff(output: str, directory: Path) -> list[Finding]:
    """One finding per file `terraform fmt -check -diff` would rewrite, at its first changed line."""
    findings: dict[Path, Finding] = {}
    current: Path | None = None
    hunk: tuple[int, list[str]] | None = None

    def flush() -> None:
        if current is not None and hunk is not None and current not in findings:
            findings[current] = Finding("HCL301", current, _first_changed_line(*hunk),
                                        "not formatted: run `terraform fmt -recursive` and commit the result")

    for text in output.splitlines():
        if text.startswith("--- old/"):
            flush()
            current, hunk = directory / text[len("--- old/"):].strip(), None
        elif text.startswith("@@") and current is not None:
            flush()
            match = re.match(r"@@ -(\d+)", text)
            hunk = (int(match.group(1)) if match else 1, [])
        elif hunk is not None and not text.startswith("+++"):
            hunk[1].append(text)
    flush()
    listed = [directory / name for name in output.splitlines()
              if name.strip() and not name.startswith(("---", "+++", "@@", " ", "+", "-"))
              and (directory / name).is_file()]
    for path in listed:
        findings.setdefault(path, Finding("HCL301", path, 0,
                                          "not formatted: run `terraform fmt -recursive` and commit the result"))
    return list(findings.values())


def check_format(binary: str, directory: Path) -> tuple[list[Finding], str]:
    """`terraform fmt -check -recursive` over the directory; returns findings and what ran."""
    from python_terraform import IsFlagged

    with _offline_environment():
        code, out, err = _terraform(binary, directory).cmd(
            "fmt", check=IsFlagged, recursive=IsFlagged, diff=IsFlagged, no_color=IsFlagged)
    if code == 0:
        return [], "terraform fmt -check: passed"
    findings = parse_fmt_diff(out or "", directory)
    if findings:
        return findings, f"terraform fmt -check: {len(findings)} file(s) to format"
    reason = _first_error_line(err or out)
    return [Finding("HCL900", directory, 0, f"terraform fmt could not run: {reason}")], "terraform fmt: failed"


def _first_error_line(text: str) -> str:
    for line in (text or "").splitlines():
        cleaned = line.strip(" │╷╵\t")
        if cleaned and not cleaned.lower().startswith(("warning", "there are some problems with the cli")):
            if cleaned.lower().startswith("error:"):
                return cleaned[len("error:"):].strip()
    for line in (text or "").splitlines():
        cleaned = line.strip(" │╷╵\t")
        if cleaned:
            return cleaned
    return "no output"


# --- providers available offline ---------------------------------------------------------

def _cli_config_mirrors() -> list[Path]:
    """filesystem_mirror paths of the Terraform CLI configuration, if one is set."""
    config = os.environ.get("TF_CLI_CONFIG_FILE") or str(Path.home() / ".terraformrc")
    try:
        text = Path(config).read_text(encoding="utf-8")
    except OSError:
        return []
    return [Path(path) for path in re.findall(r'filesystem_mirror\s*\{[^}]*?path\s*=\s*"([^"]+)"', text, re.S)]


def plugin_directories(extra: Path | None = None) -> list[Path]:
    """Local provider mirrors in the order terraform would consult them."""
    home = Path.home()
    data_home = Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share")
    candidates = [extra] if extra else []
    candidates += _cli_config_mirrors()
    candidates += [home / ".terraform.d" / "plugins", data_home / "terraform" / "plugins"]
    candidates += [Path(d) / "terraform" / "plugins"
                   for d in (os.environ.get("XDG_DATA_DIRS") or "/usr/local/share:/usr/share").split(":") if d]
    seen: list[Path] = []
    for path in candidates:
        if path is not None and path.is_dir() and path not in seen:
            seen.append(path)
    return seen


def provider_address(source: str) -> tuple[str, str, str]:
    parts = source.lower().split("/")
    if len(parts) == 2:
        return DEFAULT_REGISTRY, parts[0], parts[1]
    if len(parts) == 3:
        return parts[0], parts[1], parts[2]
    return DEFAULT_REGISTRY, "hashicorp", parts[-1]


def _mirror_has(mirror: Path, source: str) -> bool:
    host, namespace, name = provider_address(source)
    base = mirror / host / namespace / name
    if not base.is_dir():
        return False
    target = f"{platform.system().lower()}_{'amd64' if platform.machine() in ('x86_64', 'AMD64') else 'arm64'}"
    unpacked = any((version / target).is_dir() for version in base.iterdir() if version.is_dir())
    packed = any(base.glob(f"terraform-provider-{name}_*_{target}.zip"))
    return unpacked or packed


def providers_of(root: Module, modules: dict[Path, Module]) -> set[str]:
    """Provider sources a root needs: declared ones plus those implied by resource types."""
    needed: set[str] = set()
    pending, visited = [root], set()
    while pending:
        module = pending.pop()
        if module.directory in visited:
            continue
        visited.add(module.directory)
        declared = dict(module.required_providers)
        needed.update(declared.values())
        for address in [*module.resources, *module.data_sources]:
            prefix = address.split(".")[0].split("_")[0]
            if prefix not in declared and prefix != "terraform":
                needed.add(f"hashicorp/{prefix}")
        for call in module.module_calls.values():
            target = module.local_module_directory(call)
            if target in modules:
                pending.append(modules[target])
    return needed


def plugin_dir_for(sources: set[str], extra: Path | None) -> tuple[bool, Path | None]:
    """(available, directory): a local mirror holding every provider, or no provider needed."""
    if not sources:
        return True, None
    for mirror in plugin_directories(extra):
        if all(_mirror_has(mirror, source) for source in sources):
            return True, mirror
    return False, None


# --- init + validate on a copy -----------------------------------------------------------

def _copy_configuration(base: Path, target: Path) -> None:
    for pattern in (*TERRAFORM_FILES, "*.hcl"):
        for path in base.rglob(pattern):
            relative = path.relative_to(base)
            if any(part in (".terraform", ".git") for part in relative.parts):
                continue
            destination = target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, destination)


def validate_root(binary: str, root: Module, base: Path, plugin_dir: Path | None) -> tuple[list[Finding], str]:
    """`terraform init -backend=false` then `terraform validate -json` on a copy of `base`."""
    from python_terraform import IsFlagged

    relative_root = root.directory.relative_to(base)
    shown = relative_root.as_posix() or "."
    with tempfile.TemporaryDirectory(prefix="mlstack-validate-") as temp, _offline_environment():
        copy = Path(temp) / "project"
        _copy_configuration(base, copy)
        working = copy / relative_root
        terraform = _terraform(binary, working)
        options = {"backend": False, "input": False, "no_color": IsFlagged}
        if plugin_dir is not None:
            options["plugin_dir"] = str(plugin_dir)
        code, out, err = terraform.cmd("init", **options)
        if code != 0:
            reason = _first_error_line(err or out)
            if "Unsupported Terraform Core version" in (err or "") + (out or ""):
                reason = f"terraform {terraform_version(binary)} does not satisfy required_version"
            return [Finding("HCL900", root.directory, 0,
                            f"skipped terraform validate in {shown}: terraform init failed ({reason})")], \
                f"terraform validate {shown}: skipped (init failed)"
        code, out, err = terraform.cmd("validate", json=IsFlagged, no_color=IsFlagged)
    try:
        result = json.loads(out or "{}")
    except ValueError:
        return [Finding("HCL302", root.directory, 0, f"terraform validate: {_first_error_line(err or out)}")], \
            f"terraform validate {shown}: failed"
    findings = []
    for diagnostic in result.get("diagnostics", []):
        where = diagnostic.get("range") or {}
        filename = where.get("filename")
        path = (root.directory / filename).resolve() if filename else root.directory
        line = (where.get("start") or {}).get("line", 0)
        message = diagnostic.get("summary", "")
        if diagnostic.get("detail"):
            message = f"{message}: {' '.join(diagnostic['detail'].split())}"
        severity = None if diagnostic.get("severity") == "error" else NOTE  # terraform's warnings are notes
        findings.append(Finding("HCL302", path, line, message, severity))
    state = "passed" if result.get("valid") else "failed"
    return findings, f"terraform validate {shown}: {state}"
