"""Findings: one problem (or one skipped check) at a file and line, with a rule id and a fix."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

ERROR = "error"
NOTE = "note"

# Rule ids, so a message can be looked up and a CI log grepped.
RULES = {
    "TF100": "file does not parse as HCL",
    "TF101": "reference to an undeclared variable",
    "TF102": "reference to an undeclared local value",
    "TF103": "reference to an undeclared resource or data source",
    "TF104": "reference to an unknown module or module output",
    "TF105": "module call does not match the module's variables",
    "TF106": "required variable without a value",
    "TF107": "duplicate declaration",
    "TF108": "module source directory not found",
    "TF201": "hard-coded credential",
    "TF202": "secret-looking attribute set to a literal",
    "TF203": "Terraform state file inside the project",
    "TF301": "not formatted (terraform fmt)",
    "TF302": "terraform validate reported an error",
    "TF900": "check skipped",
}


@dataclass(frozen=True)
class Finding:
    """One problem in one file; `line` is 1-based (0 when the file as a whole is meant)."""

    rule: str
    path: Path
    line: int
    message: str
    severity: str = ERROR

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
