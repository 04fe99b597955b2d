"""SEC: no credentials and no data in git (assume PHI)."""

from __future__ import annotations

from mlstack.policy.model import ERROR, WARNING, Finding, Rule, register
from mlstack.policy.repo import glob_match
from mlstack.secrets import credentials_in, scannable_texts, with_article

# Larger files are named as not scanned rather than read whole into memory.
MAX_SCANNED_BYTES = 32 * 1024 * 1024


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
                for number, kind in credentials_in(text):
                    if number not in reported:
                        reported.add(number)
                        # Never echo the secret itself: only what it looks like and where it is.
                        yield Finding(self.id, ERROR, f"looks like {with_article(kind)}", path, number)


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
