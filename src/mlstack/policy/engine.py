"""Run the selected rules on one repository, apply waivers, and decide the outcome."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlstack import errors
from mlstack.errors import InvalidInput
from mlstack.policy.model import ERROR, Finding, all_rules, matches
from mlstack.policy.policy_file import Policy
from mlstack.policy.repo import RepoFacts
from mlstack.policy.waivers import Waiver, is_active, load_waivers, waiver_findings

# Outcomes from worst to best, with the exit code each gives.
OUTCOMES = {"policy": errors.FINDINGS, "drift": errors.CHECK_DRIFT, "update": errors.CHECK_UPDATE_AVAILABLE,
            "ok": errors.OK}


@dataclass
class CheckReport:
    """Everything a renderer needs about one checked repository."""

    repo: str
    policy_source: str
    template_source: str | None
    template_version: str | None
    rules: list[str]
    findings: list[Finding] = field(default_factory=list)
    waived: list[Finding] = field(default_factory=list)
    active_waivers: list[Waiver] = field(default_factory=list)
    expired_waivers: list[Waiver] = field(default_factory=list)
    outcome: str = "ok"

    @property
    def exit_code(self) -> int:
        return OUTCOMES[self.outcome]

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    @property
    def drift_count(self) -> int:
        return sum(1 for f in self.findings if f.rule == "TPL002")

    def to_dict(self) -> dict[str, Any]:
        from mlstack.errors import as_text
        from mlstack.urls import redact

        return {
            "repo": as_text(self.repo),
            "policy": self.policy_source,
            "template": {"source": redact(as_text(self.template_source)) if self.template_source else None,
                         "version": self.template_version},
            "outcome": self.outcome,
            "exit_code": self.exit_code,
            "counts": {sev: self.count(sev) for sev in ("error", "warning", "info")} | {
                "waived": len(self.waived), "drift": self.drift_count},
            "findings": [f.to_dict() for f in self.findings],
            "waived": [f.to_dict() for f in self.waived],
            "waivers": {"active": [w.to_dict() for w in self.active_waivers],
                        "expired": [w.to_dict() for w in self.expired_waivers]},
            "rules": self.rules,
        }


def select_rules(policy: Policy, select: list[str] | None = None, ignore: list[str] | None = None) -> list[str]:
    """Rule ids to run: policy selection narrowed by --select and --ignore (ids or prefixes)."""
    known = list(all_rules())
    for selector in (select or []) + (ignore or []):
        if not selector.strip():
            # A prefix test would match every rule: `--ignore ""` must not switch all of them off.
            raise InvalidInput("--select/--ignore: an empty rule id or prefix matches every rule; "
                               "name a rule id (SEC301) or family (SEC)")
        if not any(rule == selector or rule.startswith(selector) for rule in known):
            from mlstack.yamlfile import did_you_mean

            raise InvalidInput(f"--select/--ignore: no rule or family {selector!r}{did_you_mean(selector, known)}")
    chosen = [r for r in known if not policy.select or matches(r, policy.select)]
    chosen = [r for r in chosen if not matches(r, policy.ignore)]
    if select:
        chosen = [r for r in chosen if matches(r, select)]
    return [r for r in chosen if not matches(r, ignore or [])]


def run_check(root: Path, policy: Policy, *, select: list[str] | None = None, ignore: list[str] | None = None,
              today: dt.date | None = None) -> CheckReport:
    """Check one repository against a policy."""
    if not root.is_dir():
        raise InvalidInput(f"{root}: no such directory")
    today = today or dt.date.today()
    rules = all_rules()
    chosen = select_rules(policy, select, ignore)
    facts = RepoFacts(root)
    waivers = load_waivers(facts)
    source = facts.template.get("source")
    report = CheckReport(str(root), policy.source, source if isinstance(source, str) else None,
                         facts.template_version, chosen)
    findings: list[Finding] = []
    for rule_id in chosen:
        rule = rules[rule_id]()
        severity = _severity(rule_id, policy)
        try:
            findings.extend(rule.run(facts, policy.params, severity))
        except Exception as error:  # noqa: BLE001 - one broken rule must not hide the others
            findings.append(Finding(rule_id, ERROR, f"rule could not run ({type(error).__name__}: {error})"))
    for finding in waiver_findings(waivers, list(rules), policy.unwaivable, today):
        if finding.rule in chosen:
            finding.severity = _severity(finding.rule, policy) or finding.severity
            finding.fix = rules[finding.rule].fix
            findings.append(finding)
    active = [w for w in waivers if is_active(w, list(rules), policy.unwaivable, today)]
    report.active_waivers = active
    report.expired_waivers = [w for w in waivers if w.expires < today]
    for finding in findings:
        waiver = next((w for w in active if w.covers(finding)), None)
        if waiver:
            finding.waived_by = waiver.to_dict()
            report.waived.append(finding)
        else:
            report.findings.append(finding)
    report.outcome = _outcome(report.findings, rules)
    return report


def _severity(rule_id: str, policy: Policy) -> str | None:
    matching = [key for key in policy.severity if rule_id == key or rule_id.startswith(key)]
    return policy.severity[max(matching, key=len)] if matching else None


def _outcome(findings: list[Finding], rules: dict) -> str:
    if any(f.severity == ERROR for f in findings):
        return "policy"
    kinds = {rules[f.rule].outcome for f in findings if f.rule in rules}
    if "drift" in kinds:
        return "drift"
    if "update" in kinds:
        return "update"
    return "ok"
