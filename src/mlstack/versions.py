"""The one order of template versions: `v1.2.0` = `1.2` < `1.2.1`, and a pre-release below its release.

`update` picks the highest tag and matches migrations with it, `check` says whether an update
is available, `fleet` counts how far behind each repository is: all three ask this module, so
they can't disagree about whether 1.2.0rc1 is older than 1.2.0 (it is).
"""

from __future__ import annotations

import re

_VERSION = re.compile(r"^[vV]?(\d+(?:\.\d+)*)(?:[-+.]?([0-9A-Za-z.+-]*))?$")
_COMMIT_ID = re.compile(r"^[0-9a-f]{7,40}$")
_COMPARATOR = re.compile(r"^(>=|<=|==|>|<)\s*(\S+)$")

VersionKey = tuple[tuple[int, ...], int]


def parse_version(text: str) -> tuple[tuple[int, ...], bool] | None:
    """(numbers, is_release) for 'v1.2.3' / '1.2' / '2.0.0rc1'; None for a commit id or a name."""
    text = str(text).strip()
    if _COMMIT_ID.match(text) and not text.isdigit():
        return None
    match = _VERSION.match(text)
    if not match:
        return None
    numbers = tuple(int(part) for part in match.group(1).split("."))
    while len(numbers) > 1 and numbers[-1] == 0:
        numbers = numbers[:-1]
    return numbers, not match.group(2)


def version_key(text: str) -> VersionKey | None:
    """A sort key (a pre-release sorts below its release); None when `text` is not a version."""
    parsed = parse_version(text)
    if parsed is None:
        return None
    numbers, is_release = parsed
    return numbers, 1 if is_release else 0


def _key(text: str) -> VersionKey:
    key = version_key(text)
    if key is None:
        raise ValueError(text)
    return key


def is_older(version: str, than: str) -> bool | None:
    """True/False when both are versions; None when either is not (a commit id, a branch name)."""
    a, b = version_key(version), version_key(than)
    if a is None or b is None:
        return None
    return a < b


def highest_version(names: list[str]) -> str | None:
    """The highest release-looking name (tags such as v1.2.0); None when none looks like one."""
    versions = [name for name in names if parse_version(name)]
    return max(versions, key=_key) if versions else None


def position(version: str, spec: str) -> int:
    """-1 when `version` is below the range `spec` (e.g. '>=1.0,<2.0'), 0 inside it, 1 above it."""
    key = _key(version)
    below = above = False
    for clause in filter(None, (part.strip() for part in spec.split(","))):
        match = _COMPARATOR.match(clause)
        if not match:
            raise ValueError(f"bad comparator {clause!r}")
        operator, bound_text = match.groups()
        bound = _key(bound_text)
        if operator in (">=", ">") and not (key >= bound if operator == ">=" else key > bound):
            below = True
        elif operator in ("<=", "<") and not (key <= bound if operator == "<=" else key < bound):
            above = True
        elif operator == "==" and key != bound:
            below, above = below or key < bound, above or key > bound
    return -1 if below else 1 if above else 0


def in_range(version: str, spec: str) -> bool:
    """Whether `version` satisfies every comparator of `spec`."""
    return position(version, spec) == 0
