"""Compare template versions such as `0.3.1`, `v1.2.0` or `1.4.0rc1` without extra dependencies."""

from __future__ import annotations

import re


def version_key(version: str) -> tuple[int, ...] | None:
    """Numeric key of a release-like version; None for things like commit hashes."""
    match = re.fullmatch(r"v?(\d+(?:\.\d+)*)(?:[-.+]?[A-Za-z0-9.+-]*)?", str(version).strip())
    return tuple(int(part) for part in match.group(1).split(".")) if match else None


def is_older(version: str, than: str) -> bool | None:
    """True/False when both versions compare; None when either is not a release version."""
    a, b = version_key(version), version_key(than)
    if a is None or b is None:
        return None
    width = max(len(a), len(b))
    return a + (0,) * (width - len(a)) < b + (0,) * (width - len(b))
