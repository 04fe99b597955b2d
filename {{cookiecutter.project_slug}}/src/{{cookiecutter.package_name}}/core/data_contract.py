"""The data contract (configs/data_contract.yml) and the rules that judge a table against it.

Pure logic: a table is summarised into a `TableProfile` elsewhere (in Spark, one pass over
the data) and judged here, so every rule is testable without a cluster.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

TYPES = ("string", "integer", "double", "boolean", "date", "timestamp")
COLUMN_KEYS = {"type", "nullable", "max_null_fraction", "min", "max", "allowed", "pattern", "label"}


class ContractError(ValueError):
    """The data contract itself is malformed (a typo in the YAML, an unknown type...)."""


@dataclass(frozen=True)
class ColumnRule:
    """What one column must satisfy."""

    name: str
    type: str
    nullable: bool = True
    max_null_fraction: float | None = None
    min: float | None = None
    max: float | None = None
    allowed: tuple[Any, ...] | None = None
    pattern: str | None = None
    label: bool = False


@dataclass(frozen=True)
class DataContract:
    """Table-level rules plus one rule set per expected column."""

    key: str
    min_rows: int
    columns: tuple[ColumnRule, ...]
    allow_extra_columns: bool = True

    @classmethod
    def from_config(cls, spec: dict[str, Any]) -> DataContract:
        """Build from the YAML mapping; errors name the field and say how to fix it."""
        dataset = spec.get("dataset") or {}
        columns_spec = spec.get("columns") or {}
        if not columns_spec:
            raise ContractError("data_contract.columns: list at least one column")
        columns = tuple(_column_rule(name, rule or {}) for name, rule in columns_spec.items())
        key = dataset.get("key")
        if key not in columns_spec:
            raise ContractError(f"data_contract.dataset.key={key!r}: must name one of the contract's columns")
        return cls(
            key=str(key),
            min_rows=int(dataset.get("min_rows", 1)),
            columns=columns,
            allow_extra_columns=bool(dataset.get("allow_extra_columns", True)),
        )

    def for_scoring(self) -> DataContract:
        """The same contract for a batch to score: no label column, any non-empty size."""
        return replace(self, min_rows=1, columns=tuple(c for c in self.columns if not c.label))


def _column_rule(name: str, spec: dict[str, Any]) -> ColumnRule:
    where = f"data_contract.columns.{name}"
    unknown = sorted(set(spec) - COLUMN_KEYS)
    if unknown:
        raise ContractError(
            f"{where}: unknown rule(s) {', '.join(unknown)}; use {', '.join(sorted(COLUMN_KEYS))}"
        )
    column_type = spec.get("type")
    if column_type not in TYPES:
        raise ContractError(f"{where}.type={column_type!r}: must be one of {', '.join(TYPES)}")
    if spec.get("pattern") is not None:
        try:
            re.compile(spec["pattern"])
        except re.error as error:
            raise ContractError(f"{where}.pattern: not a valid regular expression ({error})") from error
    allowed = spec.get("allowed")
    return ColumnRule(
        name=name,
        type=column_type,
        nullable=bool(spec.get("nullable", True)),
        max_null_fraction=spec.get("max_null_fraction"),
        min=spec.get("min"),
        max=spec.get("max"),
        allowed=tuple(allowed) if allowed is not None else None,
        pattern=spec.get("pattern"),
        label=bool(spec.get("label", False)),
    )


@dataclass
class ColumnProfile:
    """Counts of rows breaking each value rule of one column (None: rule not checked)."""

    nulls: int = 0
    below_min: int | None = None
    above_max: int | None = None
    not_allowed: int | None = None
    pattern_mismatch: int | None = None


@dataclass
class TableProfile:
    """Everything the rules need to know about a table, gathered in one pass over it."""

    row_count: int
    column_types: dict[str, str]
    columns: dict[str, ColumnProfile] = field(default_factory=dict)
    distinct_keys: int | None = None


@dataclass(frozen=True)
class Violation:
    """One broken rule: which column, which rule, and what was found."""

    column: str
    rule: str
    detail: str

    def __str__(self) -> str:
        return f"{self.column} ({self.rule}: {self.detail})"


def check_contract(contract: DataContract, profile: TableProfile) -> list[Violation]:
    """Every rule the profiled table breaks; an empty list means it honours the contract."""
    violations: list[Violation] = []
    if profile.row_count < contract.min_rows:
        violations.append(
            Violation("<table>", "min_rows", f"{profile.row_count} rows, need {contract.min_rows}")
        )
    expected = {rule.name for rule in contract.columns}
    if not contract.allow_extra_columns:
        for extra in sorted(set(profile.column_types) - expected):
            violations.append(Violation(extra, "unexpected_column", "not in the contract"))
    for rule in contract.columns:
        violations.extend(_check_column(rule, profile))
    key_present = profile.column_types.get(contract.key) is not None
    if key_present and profile.distinct_keys is not None and profile.distinct_keys < profile.row_count:
        duplicates = profile.row_count - profile.distinct_keys
        violations.append(Violation(contract.key, "unique", f"{duplicates} duplicate or null key value(s)"))
    return violations


def _check_column(rule: ColumnRule, profile: TableProfile) -> list[Violation]:
    found_type = profile.column_types.get(rule.name)
    if found_type is None:
        return [Violation(rule.name, "present", "column is missing")]
    if found_type != rule.type:
        return [Violation(rule.name, "type", f"expected {rule.type}, found {found_type}")]
    stats = profile.columns.get(rule.name, ColumnProfile())
    rows = max(profile.row_count, 1)
    problems = []
    if not rule.nullable and stats.nulls:
        problems.append(
            Violation(rule.name, "nullable", f"{stats.nulls} null value(s) in a non-nullable column")
        )
    if rule.max_null_fraction is not None and stats.nulls / rows > rule.max_null_fraction:
        problems.append(
            Violation(
                rule.name,
                "max_null_fraction",
                f"{stats.nulls / rows:.1%} nulls, at most {rule.max_null_fraction:.1%} allowed",
            )
        )
    for rule_name, count, text in (
        ("min", stats.below_min, f"value(s) below {rule.min}"),
        ("max", stats.above_max, f"value(s) above {rule.max}"),
        ("allowed", stats.not_allowed, f"value(s) outside {list(rule.allowed or ())}"),
        ("pattern", stats.pattern_mismatch, f"value(s) not matching {rule.pattern!r}"),
    ):
        if count:
            problems.append(Violation(rule.name, rule_name, f"{count} {text}"))
    return problems


def describe_violations(violations: list[Violation]) -> str:
    """One line naming every failing column and rule, for logs and exceptions."""
    return f"{len(violations)} data contract rule(s) broken: " + "; ".join(str(v) for v in violations)
