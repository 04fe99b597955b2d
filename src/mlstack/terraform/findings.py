"""Findings of `mlstack validate`: one problem (or one skipped check) at a file and line, with a rule id."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

ERROR = "error"
NOTE = "note"

FAMILY = "HCL"
FAMILY_DESCRIPTION = "mlstack validate: Terraform checked offline (python-hcl2), then terraform fmt/validate"


@dataclass(frozen=True)
class ValidationRule:
    """One kind of problem `mlstack validate` reports: its id names it in a CI log, its severity is the default."""

    id: str
    summary: str
    severity: str = ERROR


# The one table of validate's rule ids (a family of their own: `mlstack check` has the TF ids).
RULES = {rule.id: rule for rule in (
    ValidationRule("HCL100", "file does not parse as HCL"),
    ValidationRule("HCL101", "reference to an undeclared variable"),
    ValidationRule("HCL102", "reference to an undeclared local value"),
    ValidationRule("HCL103", "reference to an undeclared resource or data source"),
    ValidationRule("HCL104", "reference to an unknown module or module output"),
    ValidationRule("HCL105", "module call does not match the module's variables"),
    ValidationRule("HCL106", "required variable without a value (a note for inputs given at apply time)"),
    ValidationRule("HCL107", "duplicate declaration"),
    ValidationRule("HCL108", "module source directory not found"),
    ValidationRule("HCL201", "hard-coded credential"),
    ValidationRule("HCL202", "secret-looking attribute set to a literal"),
    ValidationRule("HCL203", "Terraform state file inside the project"),
    ValidationRule("HCL301", "not formatted (terraform fmt)"),
    ValidationRule("HCL302", "terraform validate reported an error (a note for its warnings)"),
    ValidationRule("HCL900", "check skipped", NOTE),
)}


@dataclass(frozen=True)
class Finding:
    """One problem in one file; `line` is 1-based (0 when the file as a whole is meant).

    The severity is the rule's unless this finding says otherwise (a required input that is
    given at apply time is a note of an error rule).
    """

    rule: str
    path: Path
    line: int
    message: str
    severity_override: str | None = None

    def __post_init__(self) -> None:
        if self.rule not in RULES:
            raise ValueError(f"unknown validate rule id {self.rule!r}")

    @property
    def severity(self) -> str:
        return self.severity_override or RULES[self.rule].severity

    def render(self, base: Path) -> str:
        try:
            shown = self.path.relative_to(base).as_posix()
        except ValueError:
            shown = str(self.path)
        if shown == "." and not self.line:
            return f"{self.severity} {self.rule}: {self.message}"
        location = f"{shown}:{self.line}" if self.line else shown
        return f"{location}: {self.severity} {self.rule}: {self.message}"


@dataclass
class Report:
    """Everything one validation found, plus what it ran and what it had to skip."""

    directory: Path
    files_checked: int = 0
    findings: list[Finding] = field(default_factory=list)
    ran: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def notes(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == NOTE]

    def add(self, finding: Finding) -> None:
        if finding not in self.findings:
            self.findings.append(finding)
