"""The rule catalogue (docs/rules.md and `mlstack rules`), generated from the registry."""

from __future__ import annotations

from mlstack.policy.model import FAMILIES, all_rules


def render_catalogue_markdown() -> str:
    rules = all_rules()
    lines = ["# mlstack check rules", "",
             "Generated from the rule registry by `mlstack rules --format markdown`; do not edit by hand.",
             "Select rules with `--select`/`--ignore` (ids or prefixes such as `TF` or `TF1`); waive one",
             "in `.mlstack/waivers.yml` with a reason, an owner and an expiry date.", ""]
    for family, description in FAMILIES.items():
        members = [r for r in rules.values() if r.family == family]
        if not members:
            continue
        lines += [f"## {family}: {description}", ""]
        for rule in members:
            lines += [f"### {rule.id}", "", f"{rule.reason()}", "",
                      f"- severity: `{rule.severity}`; a failure means: {OUTCOME_WORDS[rule.outcome]}",
                      f"- fix: {rule.fix}" if rule.fix else "- fix: see the finding's message", ""]
    return "\n".join(lines).rstrip() + "\n"


OUTCOME_WORDS = {"policy": "policy failure (exit 1) when the severity is error",
                 "drift": "drift (exit 11) unless raised to error by the policy",
                 "update": "update available (exit 10)"}


def render_catalogue_text() -> str:
    return "\n".join(f"{r.id:7} {r.severity:7} {r.reason()}" for r in all_rules().values())
