"""Validate a project's Terraform: parse, check, scan for secrets, then terraform itself if present."""

from __future__ import annotations

import os
from pathlib import Path

from mlstack.errors import InvalidInput, one_line
from mlstack.secrets import SECRET_ATTRIBUTE, credentials_in
from mlstack.terraform.checks import check_module
from mlstack.terraform.findings import NOTE, Finding, Report
from mlstack.terraform.modules import Module, ParsedFile, build_module, parse_file

# Never descended into: VCS data, tool caches, virtualenvs and local run outputs (may hold PHI).
SKIPPED_DIRECTORIES = {".git", ".terraform", ".venv", "venv", "node_modules", "__pycache__", ".mypy_cache",
                       ".pytest_cache", ".ruff_cache", ".local", "mlruns", "mlartifacts", "spark-warehouse"}
HCL_SUFFIXES = (".tf", ".tfvars", ".hcl")
MAX_SCANNED_BYTES = 1_000_000
SECRET_FIX = "remove it (and revoke it); CI gets credentials from its secret store or workload identity federation"


def _walk(directory: Path) -> tuple[list[Path], list[Path]]:
    """(files to check, symlinks that lead out of `directory`, which are never read)."""
    found, outside = [], []
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRECTORIES)
        for name in sorted(files):
            path = Path(root, name)
            real = Path(os.path.realpath(path))
            (found if real == directory or directory in real.parents else outside).append(path)
    return found, outside


def _read_texts(path: Path, report: Report) -> list[str]:
    """Every reading of the file in which a credential could be seen (see scannable_texts)."""
    from mlstack.secrets import scannable_texts

    try:
        size = path.stat().st_size
        if size > MAX_SCANNED_BYTES:
            report.add(Finding("HCL900", path, 0, f"not scanned for credentials: larger than "
                                                 f"{MAX_SCANNED_BYTES:,} bytes ({size:,})"))
            return []
        data = path.read_bytes()
    except OSError as error:
        report.add(Finding("HCL900", path, 0, f"not scanned for credentials: {error.strerror or error}"))
        return []
    return scannable_texts(data)


def load_modules(files: list[Path], report: Report) -> dict[Path, Module]:
    """Parse every .tf file and group them into one module per directory."""
    by_directory: dict[Path, list[ParsedFile]] = {}
    for path in files:
        if path.suffix != ".tf":
            continue
        parsed, problem = parse_file(path)
        if problem:
            report.add(problem)
        by_directory.setdefault(path.parent.resolve(), []).append(parsed)
    return {directory: build_module(directory, parsed) for directory, parsed in sorted(by_directory.items())}


def root_modules(modules: dict[Path, Module]) -> list[Module]:
    """Directories no other directory uses as a local module source."""
    called = {module.local_module_directory(call) for module in modules.values()
              for call in module.module_calls.values()}
    return [module for directory, module in modules.items() if directory not in called]


def _scan_secrets(files: list[Path], modules: dict[Path, Module], report: Report) -> None:
    facts = {parsed.path: parsed.facts for module in modules.values() for parsed in module.files}
    for path in files:
        if path.name.endswith((".tfstate", ".tfstate.backup")):
            report.add(Finding("HCL203", path, 0, "Terraform state may hold secrets and belongs in the remote "
                                                 "backend: delete it from the project and from git history"))
            continue
        texts = _read_texts(path, report)
        for text in texts:
            # In HCL a `name = "value"` is judged by the attribute's name below, not by this pattern.
            for number, kind in credentials_in(text, assignments=path.suffix not in HCL_SUFFIXES):
                report.add(Finding("HCL201", path, number, f"{kind} in plain text: {SECRET_FIX}"))
        if texts and path.suffix in HCL_SUFFIXES:
            text = texts[0]
            if path.resolve() in facts:
                assignments = facts[path.resolve()].literal_assignments
            else:
                from mlstack.terraform.source import scan

                assignments = scan(text).literal_assignments
            for name, value, line in assignments:
                if SECRET_ATTRIBUTE.search(name) and value.strip():
                    report.add(Finding("HCL202", path, line, f"'{name}' is set to a literal string: {SECRET_FIX}"))


def _run_terraform(directory: Path, modules: dict[Path, Module], report: Report, plugin_dir: Path | None) -> None:
    from mlstack.terraform import terraform_cli

    binary = terraform_cli.find_terraform()
    if binary is None:
        report.add(Finding("HCL900", directory, 0, "skipped terraform fmt and terraform validate: no terraform "
                                                  "binary on PATH (the offline checks above still ran)"))
        report.ran.append("terraform: not on PATH, skipped")
        return
    findings, ran = terraform_cli.check_format(binary, directory)
    for finding in findings:
        report.add(finding)
    report.ran.append(ran)
    skipped: list[str] = []
    missing: set[str] = set()
    for root in root_modules(modules):
        needed = terraform_cli.providers_of(root, modules)
        available, mirror = terraform_cli.plugin_dir_for(needed, plugin_dir)
        if not available:
            skipped.append(root.directory.relative_to(directory).as_posix() or ".")
            missing.update(needed)
            continue
        findings, ran = terraform_cli.validate_root(binary, root, directory, mirror)
        for finding in findings:
            report.add(finding)
        report.ran.append(ran)
    if skipped:
        report.add(Finding("HCL900", directory, 0,
                           f"skipped terraform validate in {', '.join(skipped)}: providers "
                           f"{', '.join(sorted(missing))} are not available offline; pass --plugin-dir with a "
                           "local provider mirror to run it"))
        report.ran.append(f"terraform validate: skipped for {len(skipped)} root module(s) (providers not "
                          "available offline)")


def validate_directory(directory: Path, *, use_terraform: bool = True, plugin_dir: Path | None = None) -> Report:
    """Check every Terraform file under `directory` (a project or its terraform/ folder)."""
    directory = Path(directory)
    if not directory.exists():
        raise InvalidInput(f"directory={str(directory)!r}: does not exist; pass a project or its terraform/ folder")
    if not directory.is_dir():
        raise InvalidInput(f"directory={str(directory)!r}: is not a directory; pass a project or its terraform/ "
                           "folder")
    if plugin_dir is not None and not Path(plugin_dir).is_dir():
        raise InvalidInput(f"--plugin-dir={str(plugin_dir)!r}: is not a directory")
    directory = directory.resolve()
    files, outside = _walk(directory)
    if not any(path.suffix == ".tf" for path in files):
        raise InvalidInput(f"directory={str(directory)!r}: holds no .tf files; pass a project or its terraform/ "
                           "folder")
    report = Report(directory=directory)
    for path in outside:
        report.add(Finding("HCL900", path, 0, "not read: a symbolic link out of the checked directory "
                                             "(mlstack never follows those)"))
    modules = load_modules(files, report)
    report.files_checked = sum(len(module.files) for module in modules.values())
    roots = {module.directory for module in root_modules(modules)}
    for module in modules.values():
        for finding in check_module(module, modules, module.directory in roots, directory):
            report.add(finding)
    report.ran.append(f"python-hcl2 checks: {report.files_checked} .tf files in {len(modules)} modules")
    _scan_secrets(files, modules, report)
    report.ran.append(f"secret scan: {len(files)} files")
    if use_terraform:
        _run_terraform(directory, modules, report, plugin_dir)
    else:
        report.ran.append("terraform: not run (--no-terraform)")
    return report


def describe(report: Report, base: Path | None = None) -> list[str]:
    """Lines for the terminal: errors, then notes, then what ran and a one-line verdict."""
    base = base or report.directory
    ordered = sorted(report.findings, key=lambda f: (f.severity == NOTE, str(f.path), f.line, f.rule))
    lines = [one_line(finding.render(base)) for finding in ordered]
    lines += [f"ran: {item}" for item in report.ran]
    errors, notes = len(report.errors), len(report.notes)
    verdict = "FAILED" if errors else "passed"
    lines.append(one_line(f"mlstack validate {verdict}: {errors} error{'s' if errors != 1 else ''}, "
                          f"{notes} note{'s' if notes != 1 else ''} in {report.files_checked} .tf files under "
                          f"{report.directory}"))
    return lines
