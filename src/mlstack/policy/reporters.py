"""Render a CheckReport as terminal text, JSON, SARIF 2.1.0 or Markdown (renderers know no rules)."""

from __future__ import annotations

import json
import os
from urllib.parse import quote

from mlstack import __version__
from mlstack.answers_file import RECORD_PATH
from mlstack.errors import one_line
from mlstack.policy.engine import CheckReport
from mlstack.policy.model import ERROR, FAMILIES, INFO, WARNING, all_rules

MARKS = {ERROR: "✗", WARNING: "!", INFO: "i"}
OUTCOME_TEXT = {
    "ok": "OK",
    "update": "a newer template version is available",
    "drift": "managed files drifted from the template",
    "policy": "policy failure",
}
SARIF_LEVEL = {ERROR: "error", WARNING: "warning", INFO: "note"}
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
FALLBACK_LOCATION = RECORD_PATH  # SARIF needs a location for findings about no file


def render_text(report: CheckReport) -> str:
    """The terminal report; every line is escaped, so names in the repository can't forge one."""
    from mlstack.urls import redact

    rules = all_rules()
    lines = [f"mlstack check {report.repo}",
             f"  template {report.template_version or 'unknown'} from {redact(report.template_source or 'unknown')}; "
             f"policy: {report.policy_source}"]
    for family, description in FAMILIES.items():
        in_family = [r for r in report.rules if rules[r].family == family]
        if not in_family:
            continue
        failing = [f for f in report.findings if rules[f.rule].family == family]
        waived = [f for f in report.waived if rules[f.rule].family == family]
        passed = len({*in_family} - {f.rule for f in failing + waived})
        lines += ["", f"{family} — {description}: {passed}/{len(in_family)} rules pass"]
        for finding in failing:
            where = f" {finding.location()}" if finding.path else ""
            lines.append(f"  {MARKS[finding.severity]} {finding.rule} [{finding.severity}]{where}: {finding.message}")
            if finding.fix:
                lines.append(f"      fix: {finding.fix}")
        for finding in waived:
            waiver = finding.waived_by or {}
            lines.append(f"  ~ {finding.rule} waived{(' ' + finding.location()) if finding.path else ''} "
                         f"until {waiver.get('expires')} ({waiver.get('owner')}): {waiver.get('reason')}")
    if report.levels:
        lines += ["", f"Level: {render_level(report)}"]
    lines += ["", render_summary(report)]
    return "\n".join(one_line(line) for line in lines)


def render_level(report: CheckReport) -> str:
    """The level reached and what the next one needs: `silver (gold needs: CI103, ML105)`."""
    reached = report.level or "none"
    blocked = next((level for level in report.levels if not level.reached), None)
    if blocked is None:
        return f"{reached} (the top level)"
    not_run = [rule for rule in blocked.failing_rules if rule not in report.rules]
    needs = ", ".join(f"{rule} (not run)" if rule in not_run else rule for rule in blocked.failing_rules)
    return f"{reached} ({blocked.name} needs: {needs})"


def render_summary(report: CheckReport) -> str:
    """The verdict in one line: the last line of the text report, and all the terminal shows with -O."""
    counts = ", ".join(f"{report.count(s)} {s}{'s' if report.count(s) != 1 else ''}" for s in (ERROR, WARNING, INFO))
    return f"{counts}, {len(report.waived)} waived → {OUTCOME_TEXT[report.outcome]} (exit {report.exit_code})"


def render_json(report: CheckReport) -> str:
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False)


def render_markdown(report: CheckReport) -> str:
    """A compact summary for a pull-request comment.

    A rule id links to its explanation further down the same comment: the checked repository
    has no rule catalogue of its own for a link to reach (`mlstack rules` prints it).
    """
    rules = all_rules()
    lines = [f"### mlstack check: {OUTCOME_TEXT[report.outcome]}", "",
             f"Template `{report.template_version or 'unknown'}` · policy `{report.policy_source}` · "
             f"{report.count(ERROR)} errors · {report.count(WARNING)} warnings · {len(report.waived)} waived", ""]
    if report.levels:
        lines += [_md_cell(f"Level: {render_level(report)}"), ""]
    if not report.findings:
        lines.append("No findings.")
        return "\n".join(lines) + "\n"
    lines += ["| rule | severity | where | finding | fix |", "|---|---|---|---|---|"]
    for f in report.findings:
        cells = [f"[{f.rule}](#{f.rule.lower()})", f.severity, f"`{f.location()}`" if f.path else "", f.message, f.fix]
        lines.append("| " + " | ".join(_md_cell(c) for c in cells) + " |")
    lines += ["", "<details><summary>The rules above (all of them: <code>mlstack rules</code>)</summary>", ""]
    for rule_id in dict.fromkeys(f.rule for f in report.findings):
        rule = rules[rule_id]
        lines += [f"#### {rule.id}", "", _md_cell(rule.reason()), ""]
    lines.append("</details>")
    return "\n".join(lines) + "\n"


def _md_cell(text: str) -> str:
    return one_line(str(text)).replace("|", "\\|")


def render_sarif(report: CheckReport) -> str:
    """SARIF 2.1.0, so code scanning shows findings inline; waived findings carry a suppression."""
    rules = all_rules()
    used = sorted({f.rule for f in report.findings + report.waived} | set(report.rules))
    index = {rule_id: n for n, rule_id in enumerate(used)}
    descriptors = []
    for rule_id in used:
        rule = rules[rule_id]
        descriptors.append({
            "id": rule_id,
            "name": rule.__name__,
            "shortDescription": {"text": rule.reason()},
            "fullDescription": {"text": f"{rule.reason()} Fix: {rule.fix}" if rule.fix else rule.reason()},
            "help": {"text": rule.fix or rule.reason(), "markdown": f"{rule.reason()}\n\n**Fix:** {rule.fix}"},
            "defaultConfiguration": {"level": SARIF_LEVEL[rule.severity]},
            "properties": {"family": rule.family, "docs": rule.anchor()},
        })
    results = []
    for finding in report.findings + report.waived:
        region = {"startLine": finding.line} if finding.line else None
        location = {"artifactLocation": {"uri": artifact_uri(finding.path or FALLBACK_LOCATION),
                                         "uriBaseId": "%SRCROOT%"}}
        if region:
            location["region"] = region
        result = {
            "ruleId": finding.rule,
            "ruleIndex": index[finding.rule],
            "level": SARIF_LEVEL[finding.severity],
            "message": {"text": f"{finding.message}. Fix: {finding.fix}" if finding.fix else finding.message},
            "locations": [{"physicalLocation": location}],
        }
        if finding.waived_by:
            waiver = finding.waived_by
            result["suppressions"] = [{"kind": "external", "status": "accepted",
                                       "justification": f"{waiver.get('reason')} (owner {waiver.get('owner')}, "
                                                        f"expires {waiver.get('expires')})"}]
        results.append(result)
    document = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "mlstack", "version": __version__, "rules": descriptors}},
            "results": results,
            "properties": {"outcome": report.outcome, "templateVersion": report.template_version,
                           "policy": report.policy_source, "level": report.level,
                           "levels": [level.to_dict() for level in report.levels]},
        }],
    }
    return json.dumps(document, indent=2, ensure_ascii=False)


def artifact_uri(path: str) -> str:
    """A repository path as SARIF wants it: a relative URI reference, every unsafe byte %-encoded.

    Spaces, `#`, `?`, `%`, `:` (a first segment with one would read as a scheme), newlines,
    non-ASCII and bytes that are not UTF-8 are all encoded; `/` separates segments.
    """
    return quote(os.fsencode(path), safe="/")


RENDERERS = {"text": render_text, "json": render_json, "sarif": render_sarif, "markdown": render_markdown}
