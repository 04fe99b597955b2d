"""The rule catalogue (docs/rules.md and `mlstack rules`), generated from the two rule tables.

`mlstack check`'s rules live in the policy registry; `mlstack validate`'s findings have their
own family (HCL) in mlstack.terraform.findings. Every id is listed once, so a waiver or a CI log
line names exactly one rule.
"""

from __future__ import annotations

from mlstack.policy.model import FAMILIES, all_rules

OUTCOME_WORDS = {"policy": "policy failure (exit 1) when the severity is error",
                 "drift": "drift (exit 11) unless raised to error by the policy",
                 "update": "update available (exit 10)"}


def all_rule_ids() -> list[str]:
    """Every rule id of both commands, in catalogue order (a repeated id appears twice)."""
    from mlstack.terraform.findings import RULES as VALIDATE_RULES

    return [*all_rules(), *VALIDATE_RULES]


def render_catalogue_markdown() -> str:
    from mlstack.terraform.findings import FAMILY, FAMILY_DESCRIPTION
    from mlstack.terraform.findings import RULES as VALIDATE_RULES

    rules = all_rules()
    lines = ["# mlstack rules", "",
             "Generated from the rule tables by `mlstack rules --format markdown`; do not edit by hand.", "",
             "`mlstack check` reports the families below except HCL. Select rules with `--select`/`--ignore`",
             "(ids or prefixes such as `TF` or `TF1`); waive one in `.mlstack/waivers.yml` with a reason,",
             "an owner and an expiry date.", ""]
    for family, description in FAMILIES.items():
        members = [r for r in rules.values() if r.family == family]
        if not members:
            continue
        lines += [f"## {family}: {description}", ""]
        for rule in members:
            lines += [f"### {rule.id}", "", f"{rule.reason()}", "",
                      f"- severity: `{rule.severity}`; a failure means: {OUTCOME_WORDS[rule.outcome]}",
                      f"- fix: {rule.fix}" if rule.fix else "- fix: see the finding's message", ""]
    lines += [f"## {FAMILY}: {FAMILY_DESCRIPTION}", "",
              "Any error makes `mlstack validate` exit 1; notes never do.", ""]
    for rule in VALIDATE_RULES.values():
        lines += [f"### {rule.id}", "", f"{rule.summary[0].upper()}{rule.summary[1:]}.", "",
                  f"- severity: `{rule.severity}`", ""]
    return "\n".join(lines).rstrip() + "\n"


def render_catalogue_text() -> str:
    from mlstack.terraform.findings import RULES as VALIDATE_RULES

    lines = [f"{r.id:7} {r.severity:7} {r.reason()}" for r in all_rules().values()]
    lines += [f"{r.id:7} {r.severity:7} mlstack validate: {r.summary}" for r in VALIDATE_RULES.values()]
    return "\n".join(lines)


def describe(output_format: str = "text") -> str:
    """What `mlstack rules` prints: the catalogue as text, or as docs/rules.md's Markdown."""
    return render_catalogue_markdown() if output_format == "markdown" else render_catalogue_text() + "\n"
