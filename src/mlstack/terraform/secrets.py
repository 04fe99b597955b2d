"""Credentials that must never be committed: known token formats and literal secret values."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from mlstack.terraform.findings import Finding

# (what it is, pattern). Formats are specific enough that a match is worth stopping for.
CREDENTIAL_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("Databricks personal access token", re.compile(r"\bdapi[0-9a-f]{32}(?:-\d+)?\b")),
    ("Databricks OAuth secret", re.compile(r"\bdose[0-9a-f]{32}\b")),
    ("AWS access key ID", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("AWS secret access key", re.compile(r"(?i)aws_secret_access_key\s*[=:]\s*[\"']?[A-Za-z0-9/+]{40}\b")),
    ("GitHub token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{60,})\b")),
    ("GitLab token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}")),
    ("Slack token", re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}")),
    ("Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    ("private key", re.compile(r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----")),
    ("Azure storage account key", re.compile(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{86}==(?![A-Za-z0-9+/=])")),
    ("Azure storage connection string", re.compile(r"AccountKey=[A-Za-z0-9+/=]{20,}")),
    ("shared access signature", re.compile(r"[?&]sig=[A-Za-z0-9%+/=]{20,}")),
]

# Attribute names whose value is a credential; `secret_name`, `task_key` and `key` are not.
SECRET_ATTRIBUTE = re.compile(
    r"(?:^|_)(?:password|passwd|secret|client_secret|token|access_token|api_key|apikey|access_key|"
    r"secret_key|private_key|sas_token|account_key|connection_string|plaintext_value|secret_value)$",
    re.IGNORECASE)

FIX = "remove it (and revoke it); CI gets credentials from its secret store or workload identity federation"


def scan_text(path: Path, text: str) -> list[Finding]:
    """Known credential formats anywhere in a text file."""
    findings = []
    for label, pattern in CREDENTIAL_PATTERNS:
        for match in pattern.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            findings.append(Finding("TF201", path, line, f"{label} in plain text: {FIX}"))
    return findings


def literal_secret_assignments(path: Path, assignments: Iterable[tuple[str, str, int]]) -> list[Finding]:
    """`password = "..."`-style assignments of a literal string (references are fine)."""
    return [
        Finding("TF202", path, line, f"'{name}' is set to a literal string: {FIX}")
        for name, value, line in assignments
        if SECRET_ATTRIBUTE.search(name) and value.strip()
    ]
