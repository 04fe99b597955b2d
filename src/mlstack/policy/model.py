"""What a governance rule is, what it reports, and the registry of all rules.

A rule is a tiny class: an id grouped by family (`TF104`), a severity, a one-line reason
(its docstring), a fix hint and a docs anchor. `check()` yields findings; no findings
means the repository passes the rule. Renderers never look inside rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from mlstack.policy.repo import RepoFacts

ERROR = "error"
WARNING = "warning"
INFO = "info"
SEVERITIES = (ERROR, WARNING, INFO)

FAMILIES = {
    "TPL": "template currency and drift",
    "REPO": "repository layout",
    "TF": "Terraform and Databricks jobs",
    "CI": "CI/CD pipelines",
    "SEC": "secrets and data",
    "ML": "ML pipeline hygiene",
    "WVR": "waivers",
}
DOCS_PAGE = "docs/rules.md"


@dataclass
class Finding:
    """One way a repository breaks one rule, located as precisely as the rule can."""

    rule: str
    severity: str
    message: str
    path: str | None = None
    line: int | None = None
    fix: str = ""
    waived_by: dict[str, Any] | None = None

    def location(self) -> str:
        if not self.path:
            return ""
        return f"{self.path}:{self.line}" if self.line else self.path

    def to_dict(self) -> dict[str, Any]:
        from mlstack.errors import as_text

        data = {key: value for key, value in asdict(self).items() if value not in (None, "")}
        if "path" in data:
            data["path"] = as_text(data["path"])
        return data


@dataclass
class Params:
    """Policy parameters the rules read (defaults are mlstack's standard)."""

    min_template_version: str | None = None
    latest_template_version: str | None = None
    required_tags: list[str] = field(default_factory=lambda: ["project", "environment", "owner", "template_version"])
    allowed_node_types: list[str] | None = None
    max_workers: int = 20
    max_data_file_bytes: int = 100_000
    data_file_extensions: list[str] = field(default_factory=lambda: [
        ".csv", ".tsv", ".parquet", ".xlsx", ".xls", ".avro", ".orc", ".feather", ".pkl", ".pickle",
        ".h5", ".hdf5", ".sav", ".dta", ".sas7bdat", ".db", ".sqlite", ".json.gz", ".jsonl", ".npy", ".npz"])
    allowed_data_paths: list[str] = field(default_factory=lambda: ["tests/fixtures/**", "**/sample/**"])
    # PHI (SEC303, SEC304): extra identifying column names ("name" or "name: kind"), and how much
    # of each file is sampled. Allowed data paths are not exempt: a fixture with PHI is still PHI.
    phi_columns: list[str] = field(default_factory=list)
    phi_sample_bytes: int = 1024 * 1024
    phi_sample_rows: int = 1000
    # CI (CI104): the branch prod deploys from (None: the answers' release_branch) and prod's names.
    release_branch: str | None = None
    prod_environments: list[str] = field(default_factory=lambda: ["prod", "production"])
    # ML (ML102, ML103): the least improvement a challenger needs, the widest fairness gap allowed.
    min_champion_improvement: float = 0.0
    max_fairness_gap: float = 0.2
    # WVR004: how many days ahead of the check a waiver may expire.
    max_waiver_days: int = 365


class Rule:
    """Base class: subclasses set the class attributes and implement `check`."""

    id: ClassVar[str]
    family: ClassVar[str]
    severity: ClassVar[str] = ERROR
    fix: ClassVar[str] = ""
    # What a failure of this rule means for `mlstack check`'s exit code.
    outcome: ClassVar[str] = "policy"  # "policy" | "drift" | "update"
    # The verb of a policy deadline's message: "upgrade by 2027-01-31".
    deadline_verb: ClassVar[str] = "fix"

    @classmethod
    def reason(cls) -> str:
        return " ".join((cls.__doc__ or cls.id).split())

    @classmethod
    def anchor(cls) -> str:
        return f"{DOCS_PAGE}#{cls.id.lower()}"

    def check(self, repo: RepoFacts, params: Params) -> Iterable[Finding | str]:
        raise NotImplementedError

    def run(self, repo: RepoFacts, params: Params, severity: str | None = None) -> Iterator[Finding]:
        """Findings with the rule's id, severity and fix filled in (a str is a bare message).

        The policy's severity wins; else a finding keeps its own (a file a rule could not read
        is a warning of an error rule); else it gets the rule's.
        """
        for item in self.check(repo, params):
            finding = item if isinstance(item, Finding) else Finding(self.id, "", str(item))
            finding.rule = self.id
            finding.severity = severity or finding.severity or self.severity
            finding.fix = finding.fix or self.fix
            yield finding


REGISTRY: dict[str, type[Rule]] = {}


def register(rule: type[Rule]) -> type[Rule]:
    """Class decorator adding a rule to the registry; the class name is the stable id."""
    rule.id = rule.__dict__.get("id") or rule.__name__
    if rule.id in REGISTRY:
        raise ValueError(f"duplicate rule id {rule.id}")
    if rule.family not in FAMILIES or not rule.id.startswith(rule.family):
        raise ValueError(f"rule {rule.id} has unknown family {rule.family}")
    REGISTRY[rule.id] = rule
    return rule


def all_rules() -> dict[str, type[Rule]]:
    """Every registered rule, importing the rule modules on first use."""
    from mlstack.policy import (  # noqa: F401
        rules_ci,
        rules_ml,
        rules_phi,
        rules_repo,
        rules_security,
        rules_template,
        rules_terraform,
        waivers,
    )

    return dict(sorted(REGISTRY.items(), key=lambda item: (list(FAMILIES).index(item[1].family), item[0])))


def matches(rule_id: str, selectors: Iterable[str]) -> bool:
    """A rule is selected by its exact id or by an id prefix (`TF`, `TF1`)."""
    return any(rule_id == s or rule_id.startswith(s) for s in selectors)
