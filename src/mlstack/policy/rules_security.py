"""SEC: no credentials and no data in git (assume PHI)."""

from __future__ import annotations

import codecs
import re

from mlstack.policy.model import ERROR, WARNING, Finding, Rule, register
from mlstack.policy.repo import glob_match

SECRET_PATTERNS = {
    "Databricks personal access token": re.compile(r"\bdapi[0-9a-f]{32}(?:-\d)?\b"),
    "AWS access key id": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "AWS secret access key": re.compile(r"aws_secret_access_key\s*[:=]\s*['\"]?[A-Za-z0-9/+=]{40}\b", re.I),
    "GitHub token": re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})\b"),
    "GitLab token": re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}\b"),
    "Azure storage account key": re.compile(r"AccountKey=[A-Za-z0-9+/]{80,}={0,2}"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
    "Slack token": re.compile(r"\bxox[baprs]-[0-9A-Za-z-]{10,}\b"),
    "private key": re.compile(r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |PGP |ENCRYPTED )?PRIVATE KEY-----"),
    "hard-coded credential": re.compile(
        r"""(?ix)\b(?:password|passwd|client_secret|secret_key|api_key|access_token|auth_token)\b
            \s*[:=]\s*["']([^"'\s]{12,})["']"""),
}
# Values that are references to a secret store, not secrets.
REFERENCE = re.compile(r"\$\{|\$\(|\$\[|secrets\.|var\.|vars\.|env\.|<[A-Z_-]+>|^x+$|changeme|example", re.I)


# Larger files are named as not scanned rather than read whole into memory.
MAX_SCANNED_BYTES = 32 * 1024 * 1024
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


@register
class SEC301(Rule):
    """No credentials (tokens, keys, private keys, passwords) in any file."""

    family = "SEC"
    severity = ERROR
    fix = "remove it, rotate the credential now, and read it from the CI secret store or a secret scope instead"

    def check(self, repo, params):
        for path in repo.files:
            data = repo.read_bytes(path, limit=MAX_SCANNED_BYTES)
            if data is None:
                reason = repo.unreadable.get(path)
                if reason and reason != "it is a directory":
                    yield Finding(self.id, WARNING, f"not scanned for credentials: {reason}", path,
                                  fix="check this file by hand, or remove it from the repository")
                continue
            reported: set[int] = set()
            for text in scannable_texts(data):
                for number, line in enumerate(text.split("\n"), 1):
                    if number in reported:
                        continue
                    kind = _credential_in(line)
                    if kind:
                        reported.add(number)
                        # Never echo the secret itself: only what it looks like and where it is.
                        yield Finding(self.id, ERROR, f"looks like a {kind}", path, number)


def _credential_in(line: str) -> str | None:
    for kind, pattern in SECRET_PATTERNS.items():
        match = pattern.search(line)
        if not match:
            continue
        value = match.group(match.lastindex or 0)
        if kind == "hard-coded credential" and REFERENCE.search(value):
            continue
        return kind
    return None


@register
class SEC302(Rule):
    """No data files (csv, parquet, xlsx, ...) above a small size outside the allowed sample paths."""

    family = "SEC"
    severity = ERROR
    fix = "delete the file from git (and its history if it held real data); keep data in the lakehouse or .local/"

    def check(self, repo, params):
        extensions = tuple(e.lower() for e in params.data_file_extensions)
        for path in repo.files:
            if not path.lower().endswith(extensions):
                continue
            if any(glob_match(path, allowed) for allowed in params.allowed_data_paths):
                continue
            size = repo.size(path)
            if size > params.max_data_file_bytes:
                yield Finding(self.id, ERROR, f"data file of {size:,} bytes (limit {params.max_data_file_bytes:,})",
                              path)
