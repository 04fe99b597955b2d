"""Waivers: a repository's written, owned, expiring exceptions to single rules.

`.mlstack/waivers.yml` lists entries with `rule`, optional `path` (a glob), `reason`, `owner`
and `expires` (YYYY-MM-DD). A waiver suppresses exactly its rule (and path) until it expires;
expired waivers, waivers for unknown rules, of unwaivable rules and waivers that reach further
ahead than the policy's `max_waiver_days` are findings (and the last three are not applied).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from mlstack.errors import InvalidInput
from mlstack.policy.model import ERROR, WARNING, Finding, Rule, matches, register
from mlstack.policy.repo import WAIVERS_FILE, RepoFacts, glob_match

REQUIRED = ("rule", "reason", "owner", "expires")
OPTIONAL = ("path",)


@dataclass
class Waiver:
    rule: str
    reason: str
    owner: str
    expires: dt.date
    path: str | None = None
    line: int | None = None

    def covers(self, finding: Finding) -> bool:
        if finding.rule != self.rule:
            return False
        return self.path is None or (finding.path is not None and glob_match(finding.path, self.path))

    def to_dict(self) -> dict[str, Any]:
        data = {"rule": self.rule, "reason": self.reason, "owner": self.owner, "expires": self.expires.isoformat()}
        if self.path:
            data["path"] = self.path
        return data


def load_waivers(repo: RepoFacts) -> list[Waiver]:
    """Parse the repository's waivers file; structural problems are one-line InvalidInput errors.

    The file is read like every other file of the checked repository: never through a link
    that leaves it, and with mlstack's YAML limits.
    """
    from mlstack.yamlfile import YamlFileError, calendar_day, load_yaml, refuse_unknown_keys

    raw = repo.read_bytes(WAIVERS_FILE)
    if raw is None:
        reason = repo.unreadable.get(WAIVERS_FILE, "")
        if "links outside" in reason:
            raise InvalidInput(f"{WAIVERS_FILE}: not read, {reason}: waivers must live in the repository "
                               "they waive (outside the repository)")
        if reason:
            raise InvalidInput(f"{WAIVERS_FILE}: not read, {reason}")
        return []
    try:
        data = load_yaml(raw)
    except YamlFileError as error:
        raise InvalidInput(f"{WAIVERS_FILE}: {error}") from error
    if data is None:
        return []
    if not isinstance(data, dict) or set(data) != {"waivers"} or not isinstance(data["waivers"], list):
        raise InvalidInput(f"{WAIVERS_FILE}: must be a mapping with one key, `waivers:`, holding a list")
    lines = _entry_lines(raw)
    waivers = []
    for index, entry in enumerate(data["waivers"]):
        where = f"{WAIVERS_FILE}: waivers[{index}]"
        if not isinstance(entry, dict):
            raise InvalidInput(f"{where}: must be a mapping with {', '.join(REQUIRED)}")
        refuse_unknown_keys(entry, REQUIRED + OPTIONAL, where)
        for key in REQUIRED:
            if key not in entry or entry[key] in (None, ""):
                raise InvalidInput(f"{where}: `{key}` is required")
        for key in ("rule", "reason", "owner", "path"):
            if key in entry and not isinstance(entry[key], str):
                raise InvalidInput(f"{where}.{key}: must be a string")
        expires = calendar_day(entry["expires"], f"{where}.expires")
        waivers.append(Waiver(entry["rule"].strip(), entry["reason"], entry["owner"], expires, entry.get("path"),
                              lines[index] if index < len(lines) else None))
    return waivers


def _entry_lines(raw: bytes) -> list[int]:
    """Line numbers where list entries start (for pointing reports at a waiver)."""
    lines = []
    for number, line in enumerate(raw.decode("utf-8", "replace").splitlines(), 1):
        if line.lstrip().startswith("- "):
            lines.append(number)
    return lines


def waiver_findings(waivers: list[Waiver], known_rules: list[str], unwaivable: list[str], today: dt.date,
                    max_days: int | None = None) -> list[Finding]:
    """Problems with the waivers themselves: the reasons a waiver is not applied, and expiry."""
    findings = []
    for waiver in waivers:
        findings += _rejections(waiver, known_rules, unwaivable, today, max_days)
        if waiver.expires < today:
            findings.append(Finding("WVR001", WARNING, f"waiver of {waiver.rule} (owner {waiver.owner}) expired on "
                                    f"{waiver.expires.isoformat()}", WAIVERS_FILE, waiver.line))
    return findings


def is_active(waiver: Waiver, known_rules: list[str], unwaivable: list[str], today: dt.date,
              max_days: int | None = None) -> bool:
    return waiver.expires >= today and not _rejections(waiver, known_rules, unwaivable, today, max_days)


def _rejections(waiver: Waiver, known_rules: list[str], unwaivable: list[str], today: dt.date,
                max_days: int | None) -> list[Finding]:
    """Why the policy refuses this waiver (an empty list: it may apply until it expires).

    A waiver records no creation date, so its length is measured from the day of the check: no
    waiver reaches further ahead than max_days, and renewing one means a new, reviewed expiry.
    """
    from mlstack.yamlfile import did_you_mean

    found = []
    if waiver.rule not in known_rules:
        found.append(Finding("WVR002", ERROR, f"waiver for unknown rule {waiver.rule!r}"
                             f"{did_you_mean(waiver.rule, known_rules)}", WAIVERS_FILE, waiver.line))
    elif matches(waiver.rule, unwaivable):
        found.append(Finding("WVR003", ERROR, f"{waiver.rule} may not be waived under this policy",
                             WAIVERS_FILE, waiver.line))
    if max_days is not None and (waiver.expires - today).days > max_days:
        latest = today + dt.timedelta(days=max_days)
        found.append(Finding("WVR004", ERROR, f"waiver of {waiver.rule} (owner {waiver.owner}) runs until "
                             f"{waiver.expires.isoformat()}, {(waiver.expires - today).days} days from today; this "
                             f"policy allows at most {max_days} days (params.max_waiver_days), so it is not applied",
                             WAIVERS_FILE, waiver.line))
        found[-1].fix = f"set `expires` to {latest.isoformat()} or earlier, and renew it then if still needed"
    return found


# The waiver rules are real rules (selectable, documented) whose findings the engine computes.
@register
class WVR001(Rule):
    """Waivers are renewed or removed before they expire."""

    family = "WVR"
    severity = WARNING
    fix = "fix the underlying finding and delete the waiver, or renew it with a new expiry and reason"

    def check(self, repo, params):
        return []


@register
class WVR002(Rule):
    """Waivers name rules that exist."""

    family = "WVR"
    severity = ERROR
    fix = "correct the rule id (see docs/rules.md) or delete the waiver"

    def check(self, repo, params):
        return []


@register
class WVR003(Rule):
    """Waivers do not cover rules the policy marks as unwaivable."""

    family = "WVR"
    severity = ERROR
    fix = "fix the finding instead; this rule can't be waived under your organisation's policy"

    def check(self, repo, params):
        return []


@register
class WVR004(Rule):
    """Waivers expire within the policy's maximum waiver length (params.max_waiver_days, 365 by default)."""

    family = "WVR"
    severity = ERROR
    fix = "move `expires` closer (no more than params.max_waiver_days ahead) and renew the waiver when it lapses"

    def check(self, repo, params):
        return []
