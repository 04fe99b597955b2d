"""Credentials that must never be committed: the one table of their formats, and how files are read for them.

`mlstack check` (SEC301, every file of a repository) and `mlstack validate` (HCL201, every file
under the checked folder) scan with this table, so neither misses what the other flags.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class CredentialFormat:
    """What a credential looks like; `unless` matches values that only name a secret store."""

    kind: str
    pattern: re.Pattern[str]
    unless: re.Pattern[str] | None = None

    @property
    def is_assignment(self) -> bool:
        """A `name = "value"` rule rather than a token format (validate judges HCL's itself)."""
        return self.unless is not None


# Values that are references to a secret store, not secrets.
REFERENCE = re.compile(r"\$\{|\$\(|\$\[|secrets\.|var\.|vars\.|env\.|<[A-Z_-]+>|^x+$|changeme|example", re.I)

# Formats are specific enough that a match is worth stopping for.
CREDENTIAL_FORMATS: tuple[CredentialFormat, ...] = (
    CredentialFormat("Databricks personal access token", re.compile(r"\bdapi[0-9a-f]{32}(?:-\d+)?\b")),
    CredentialFormat("Databricks OAuth secret", re.compile(r"\bdose[0-9a-f]{32}\b")),
    CredentialFormat("AWS access key ID", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    CredentialFormat("AWS secret access key",
                     re.compile(r"(?i)aws_secret_access_key\s*[:=]\s*['\"]?[A-Za-z0-9/+=]{40}\b")),
    CredentialFormat("GitHub token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})\b")),
    CredentialFormat("GitLab token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}")),
    CredentialFormat("Slack token", re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}")),
    CredentialFormat("Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    CredentialFormat("private key", re.compile(r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----")),
    # 64 random bytes in base64; a `-` before it is an integrity hash (sha512-...), not a key.
    CredentialFormat("Azure storage account key",
                     re.compile(r"(?<![A-Za-z0-9+/=-])[A-Za-z0-9+/]{86}==(?![A-Za-z0-9+/=])")),
    CredentialFormat("Azure storage connection string", re.compile(r"AccountKey=[A-Za-z0-9+/=]{20,}")),
    CredentialFormat("shared access signature", re.compile(r"[?&]sig=[A-Za-z0-9%+/=]{20,}")),
    CredentialFormat("hard-coded credential", re.compile(
        r"""(?ix)\b(?:password|passwd|client_secret|secret_key|api_key|access_token|auth_token)\b
            \s*[:=]\s*["']([^"'\s]{12,})["']"""), unless=REFERENCE),
)

# HCL attribute names whose value is a credential; `secret_name`, `task_key` and `key` are not.
SECRET_ATTRIBUTE = re.compile(
    r"(?:^|_)(?:password|passwd|secret|client_secret|token|access_token|api_key|apikey|access_key|"
    r"secret_key|private_key|sas_token|account_key|connection_string|plaintext_value|secret_value)$",
    re.IGNORECASE)

BYTE_ORDER_MARKS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
                    (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


def scannable_texts(data: bytes) -> list[str]:
    """Every reading of a file's bytes in which a credential could be seen, line numbers kept.

    A byte-order mark decides the encoding; otherwise the bytes are read as UTF-8 with
    replacement (one bad byte hides nothing), and when they hold NULs also without them, which
    is UTF-16 or UTF-32 text without a mark (or text inside a binary file).
    """
    for mark, codec in BYTE_ORDER_MARKS:
        if data.startswith(mark):
            return [data[len(mark):].decode(codec, "replace")]
    texts = [data.decode("utf-8", "replace")]
    if b"\0" in data:
        texts.append(data.replace(b"\0", b"").decode("utf-8", "replace"))
    return texts


def credential_in(line: str, *, assignments: bool = True) -> str | None:
    """The kind of the first credential on `line`, or None; `assignments` False skips `name = "value"`."""
    for credential in CREDENTIAL_FORMATS:
        if credential.is_assignment and not assignments:
            continue
        match = credential.pattern.search(line)
        if match is None:
            continue
        if credential.unless is not None and credential.unless.search(match.group(match.lastindex or 0)):
            continue
        return credential.kind
    return None


def credentials_in(text: str, *, assignments: bool = True) -> list[tuple[int, str]]:
    """(line number, kind) of every line of `text` that holds a credential."""
    found = []
    for number, line in enumerate(text.split("\n"), 1):
        kind = credential_in(line, assignments=assignments)
        if kind:
            found.append((number, kind))
    return found


def with_article(kind: str) -> str:
    """'an AWS access key ID', 'a GitHub token': the article goes by the first letter's sound."""
    return f"{'an' if kind[:1].upper() in 'AEIO' else 'a'} {kind}"
