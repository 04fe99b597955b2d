"""Run the selected rules on one repository, apply deadlines and waivers, decide the outcome and level."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlstack import errors
from mlstack.errors import InvalidInput
from mlstack.policy.model import ERROR, WARNING, Finding, all_rules, matches
from mlstack.policy.policy_file import Policy, policy_rules
from mlstack.policy.repo import RepoFacts
from mlstack.policy.waivers import Waiver, is_active, load_waivers, waiver_findings

# Outcomes from worst to best, with the exit code each gives.
OUTCOMES = {"policy": errors.FINDINGS, "drift": errors.CHECK_DRIFT, "update": errors.CHECK_UPDATE_AVAILABLE,
            "ok": errors.OK}


@dataclass
class LevelResult:
    """One policy level for one repository: reached only when its rules and every lower level's pass."""

    name: str
    reached: bool
    failing_rules: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "reached": self.reached, "failing_rules": self.failing_rules}


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
    levels: list[LevelResult] = field(default_factory=list)

    @property
    def level(self) -> str | None:
        """The highest level reached (None: no level, or a policy without levels)."""
        reached = [level.name for level in self.levels if level.reached]
        return reached[-1] if reached else None

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
            "level": self.level,
            "levels": [level.to_dict() for level in self.levels],
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
    chosen = policy_rules(policy, known)
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
    max_days = policy.params.max_waiver_days
    for finding in waiver_findings(waivers, list(rules), policy.unwaivable, today, max_days):
        if finding.rule in chosen:
            finding.severity = _severity(finding.rule, policy) or finding.severity
            finding.fix = finding.fix or rules[finding.rule].fix
            findings.append(finding)
    for finding in findings:
        _apply_deadline(finding, policy, today, rules)
    # While WVR004 has a deadline ahead, a too-long waiver still applies (with its warning).
    cap = None if _in_grace("WVR004", policy, today) else max_days
    active = [w for w in waivers if is_active(w, list(rules), policy.unwaivable, today, cap)]
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
    report.levels = assess_levels(policy, chosen, report.findings)
    return report


def assess_levels(policy: Policy, ran: list[str], findings: list[Finding]) -> list[LevelResult]:
    """Which levels the findings (waived ones removed) let the repository reach.

    A level's rules are its selectors among the rules the policy runs; one fails with an
    unwaived error finding, or when --select/--ignore kept it from running (nothing proves it
    passes). Warnings (drift, a deadline not yet due) don't block a level.
    """
    failing = {f.rule for f in findings if f.severity == ERROR}
    known = policy_rules(policy, list(all_rules()))
    results, lower_reached = [], True
    for level in policy.levels:
        required = [rule for rule in known if matches(rule, level.rules)]
        failing_here = sorted(rule for rule in required if rule in failing or rule not in ran)
        lower_reached = lower_reached and not failing_here
        results.append(LevelResult(level.name, lower_reached, failing_here))
    return results


def _most_specific(rule_id: str, by_selector: dict[str, Any]) -> Any:
    """The value of the longest selector (id or prefix) matching the rule, like CSS specificity."""
    matching = [key for key in by_selector if rule_id == key or rule_id.startswith(key)]
    return by_selector[max(matching, key=len)] if matching else None


def _severity(rule_id: str, policy: Policy) -> str | None:
    return _most_specific(rule_id, policy.severity)


def _in_grace(rule_id: str, policy: Policy, today: dt.date) -> bool:
    """A deadline is the last day of grace: its rule's errors are warnings through that day."""
    by = _most_specific(rule_id, policy.deadline)
    return by is not None and today <= by


def _apply_deadline(finding: Finding, policy: Policy, today: dt.date, rules: dict) -> None:
    """Soften an error to a warning until its rule's deadline, and say so in the message."""
    by = _most_specific(finding.rule, policy.deadline)
    if by is None or finding.severity != ERROR:
        return
    verb = rules[finding.rule].deadline_verb if finding.rule in rules else "fix"
    if _in_grace(finding.rule, policy, today):
        finding.severity = WARNING
        finding.message += (f"; {verb} by {by.isoformat()} (policy deadline: an error from "
                            f"{(by + dt.timedelta(days=1)).isoformat()})")
    else:
        finding.message += f" (policy deadline to {verb} was {by.isoformat()})"


def _outcome(findings: list[Finding], rules: dict) -> str:
    if any(f.severity == ERROR for f in findings):
        return "policy"
    kinds = {rules[f.rule].outcome for f in findings if f.rule in rules}
    if "drift" in kinds:
        return "drift"
    if "update" in kinds:
        return "update"
    return "ok"
