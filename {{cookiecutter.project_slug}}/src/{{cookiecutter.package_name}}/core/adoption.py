"""Turn a table's profile into the specs that make it the training data (`make adopt-table`).

Pure logic: the table is summarised elsewhere (spark/table_profile.py, in Spark) and every
decision is made here, with the sentence that explains it, so the rules are unit-tested
without a cluster. A column becomes a model input unless it is the key, the label, the
sensitive attribute, an identifier, free text, a point in time, constant, empty, of a type
no feature can hold, or a category with too many values to one-hot encode; the contract
describes the key, the label, the features and the points in time as the profile found them.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass, field
from typing import Any

# A string (or an id-like integer) column with at most this many values is a category.
MAX_CATEGORIES = 20
# Feature kinds -> the group they are listed under in feature_mappings.yml.
GROUPS = {
    "numeric": ("numbers", "Numeric columns of {table}, as they are."),
    "binary": ("flags", "Yes/no columns of {table}, as 0/1."),
    "categorical": ("categories", "Categorical columns of {table}, one-hot encoded by the model."),
}
CONTRACT_TYPES = ("string", "integer", "double", "boolean", "date", "timestamp")
KEY_TYPES = ("string", "integer")
PLAIN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Names of identifiers (and of quasi-identifiers such as phone numbers and postcodes, PHI in health data).
ID_LIKE_NAME = re.compile(
    r"(^|_)(id|uuid|guid|key|number|no|code|ssn|mrn|phone|email|zip|zipcode|postcode)$|^id_", re.IGNORECASE
)
PROTECTED_LIKE_NAME = re.compile(
    r"gender|(^|_)sex($|_)|race|ethnic|religio|nationality|disab|marital|age_(group|band)", re.IGNORECASE
)
# Columns the pipeline adds to the feature and prediction tables (spark/splits.py, batch_inference.py).
PIPELINE_COLUMNS = frozenset(
    {"split", "role", "risk_score", "predicted_high_risk", "model_name", "model_version", "model_run_id",
     "batch_id", "scored_at", "input_table"}
)
# Free text: long values, or most values holding a space.
FREE_TEXT_LENGTH = 25
FREE_TEXT_SPACE_SHARE = 0.5
# An identifier: (nearly) every non-null value distinct.
IDENTIFIER_DISTINCT_SHARE = 0.9
# The average precision floor: this many times a random ranking's (the positive rate), at most the cap.
AP_LIFT = 1.5
AP_FLOOR_CAP = 0.5
# Contract ranges: the observed range widened by this share of its span on each side.
RANGE_MARGIN = 0.1


class AdoptionError(ValueError):
    """The table cannot be adopted as given; the message names the column and the fix."""


@dataclass(frozen=True)
class ColumnSummary:
    """What one aggregation pass learnt about a column (`values`: every distinct value, when few)."""

    name: str
    type: str  # the contract's type family (string, integer, ...) or Spark's name for other types
    nulls: int = 0
    distinct: int = 0  # approximate, nulls not counted
    minimum: Any = None
    maximum: Any = None
    mean_length: float | None = None  # strings only
    space_share: float | None = None  # strings only: share of values holding a space
    values: tuple[Any, ...] | None = None


@dataclass(frozen=True)
class TableSummary:
    """The table's row count, its columns in order, and the exact checks key and label need."""

    rows: int
    columns: dict[str, ColumnSummary]
    key_distinct: int | None = None  # exact count of distinct keys
    label_mean: float | None = None  # share of positives when the label is 0/1 or boolean


@dataclass(frozen=True)
class Decision:
    """What became of one column and why."""

    column: str
    role: str  # key | label | sensitive | feature | contract | left out
    kind: str  # the feature type, or why the column is left out / contract only
    reason: str


@dataclass
class Adoption:
    """Everything `make adopt-table` writes, and the decisions behind it."""

    table: str
    key: str
    label: str
    sensitive: str | None
    rows: int
    positive_rate: float
    decisions: list[Decision] = field(default_factory=list)
    data_contract: dict[str, Any] = field(default_factory=dict)
    feature_mappings: dict[str, Any] = field(default_factory=dict)
    feature_selection: dict[str, Any] = field(default_factory=dict)
    imputation: dict[str, Any] = field(default_factory=dict)

    @property
    def features(self) -> list[Decision]:
        return [d for d in self.decisions if d.role == "feature"]

    @property
    def left_out(self) -> list[Decision]:
        return [d for d in self.decisions if d.role in ("left out", "contract")]

    @property
    def average_precision_floor(self) -> float:
        """A random ranking's average precision is the positive rate: ask for AP_LIFT times that."""
        return round(min(AP_FLOOR_CAP, AP_LIFT * self.positive_rate), 2)

    def protected_like(self) -> list[str]:
        """Columns whose names suggest a protected attribute, for the fairness hint."""
        return [
            d.column
            for d in self.decisions
            if d.role not in ("key", "label", "sensitive") and PROTECTED_LIKE_NAME.search(d.column)
        ]


def adopt(summary: TableSummary, table: str, key: str, label: str, sensitive: str | None = None) -> Adoption:
    """The specs of `table` from its profile; AdoptionError (one line) if key, label or attribute won't do."""
    check_key(summary, key)
    positives = check_label(summary, label)
    if sensitive is not None:
        check_sensitive(summary, sensitive, key, label)
    adoption = Adoption(table, key, label, sensitive, summary.rows, positives)
    contract: dict[str, Any] = {}
    features: dict[str, dict[str, dict[str, str]]] = {}
    for column in summary.columns.values():
        if column.name == key:
            contract[key] = {"type": column.type, "nullable": False}
            adoption.decisions.append(Decision(key, "key", column.type, "unique and never null"))
        elif column.name == label:
            contract[label] = _label_rule(column)
            adoption.decisions.append(Decision(label, "label", column.type, f"0/1, {positives:.1%} positive"))
        elif column.name == sensitive:
            contract[sensitive] = _categorical_rule(column, summary.rows)
            adoption.decisions.append(
                Decision(sensitive, "sensitive", column.type, "fairness compares its groups; not an input")
            )
        else:
            decision, rule, expr = _decide(column, summary.rows)
            adoption.decisions.append(decision)
            if rule is not None:
                contract[column.name] = rule
            if expr is not None:
                group = GROUPS[decision.kind][0]
                features.setdefault(group, {})[column.name] = {"expr": expr, "type": decision.kind}
    if not features:
        reasons = "; ".join(f"{d.column}: {d.kind}" for d in adoption.left_out) or "it has no other column"
        raise AdoptionError(f"TABLE={table}: no column besides key and label can be a feature ({reasons})")
    adoption.data_contract = {
        "dataset": {"key": key, "min_rows": max(1, summary.rows // 2), "allow_extra_columns": True},
        "columns": contract,
    }
    groups = {
        group: {"description": description.format(table=table), "features": features[group]}
        for group, description in GROUPS.values()
        if group in features
    }
    adoption.feature_mappings = {
        "entity_key": key,
        "label": label,
        "passthrough": [sensitive] if sensitive else [],
        "feature_groups": groups,
    }
    adoption.feature_selection = dict(include_groups=list(groups), include_features=[], exclude_features=[])
    adoption.imputation = {
        "defaults": {"numeric": "median", "binary": "most_frequent", "categorical": {"constant": "unknown"}},
        "features": {},
    }
    return adoption


def check_key(summary: TableSummary, key: str) -> None:
    column = _column(summary, key, "KEY", "the column that identifies a row")
    if column.type not in KEY_TYPES:
        raise AdoptionError(f"KEY={key} is a {column.type} column: a key is a string or integer id; pass one")
    if column.nulls:
        raise AdoptionError(
            f"KEY={key} has {column.nulls} null value(s): every row needs a key; fill or drop those rows"
        )
    if summary.key_distinct is not None and summary.key_distinct < summary.rows:
        duplicates = summary.rows - summary.key_distinct
        raise AdoptionError(
            f"KEY={key} is not unique: {duplicates} duplicate value(s) in {summary.rows} rows; "
            "pass a column that identifies one row, or deduplicate the table first"
        )


def check_label(summary: TableSummary, label: str) -> float:
    """The share of positive rows; the label must be 0/1 (or boolean) on every row."""
    column = _column(summary, label, "LABEL", "the 0/1 outcome the model predicts")
    values = column.values
    if values is None or len(values) > 2:
        count = len(values) if values is not None else f"about {column.distinct}"
        raise AdoptionError(
            f"LABEL={label} has {count} distinct values, more than two classes: the pipeline learns a 0/1 "
            "label; pass a 0/1 column (e.g. a view with CAST(<condition> AS INT))"
        )
    if column.nulls:
        raise AdoptionError(
            f"LABEL={label} has {column.nulls} null value(s): every training row needs its outcome; drop them"
        )
    if len(values) < 2:
        only = _values_text(values)
        raise AdoptionError(f"LABEL={label} has one class only ({only}): the model needs both 0 and 1")
    if set(values) != {0, 1} or column.type not in ("integer", "double", "boolean"):
        raise AdoptionError(
            f"LABEL={label} has the values {_values_text(values)}: the pipeline learns a 0/1 label "
            "(1 = positive); pass a 0/1 or boolean column"
        )
    return float(summary.label_mean or 0.0)


def check_sensitive(summary: TableSummary, sensitive: str, key: str, label: str) -> None:
    column = _column(summary, sensitive, "SENSITIVE", "the attribute whose groups fairness compares")
    if sensitive in (key, label):
        raise AdoptionError(f"SENSITIVE={sensitive} is the key or the label: pass another column")
    if column.values is None or column.type not in ("string", "integer", "boolean"):
        raise AdoptionError(
            f"SENSITIVE={sensitive} has about {column.distinct} distinct values: fairness compares a few "
            f"groups (at most {MAX_CATEGORIES}); pass a grouped column (e.g. an age band)"
        )


def _column(summary: TableSummary, name: str, variable: str, what: str) -> ColumnSummary:
    if name not in summary.columns:
        close = [c for c in summary.columns if c.lower() == name.lower()]
        close += difflib.get_close_matches(name, list(summary.columns), n=1, cutoff=0.7)
        hint = f"did you mean {close[0]}? " if close else ""
        raise AdoptionError(
            f"{variable}={name}: no such column; {hint}pass {what}, one of: {', '.join(summary.columns)}"
        )
    if not PLAIN_NAME.match(name) or name in PIPELINE_COLUMNS:
        raise AdoptionError(
            f"{variable}={name}: the pipeline needs a plain column name (letters, digits, _) that it does "
            "not add itself; rename the column in a view"
        )
    return summary.columns[name]


def _decide(column: ColumnSummary, rows: int) -> tuple[Decision, dict[str, Any] | None, str | None]:
    """(decision, contract rule or None, feature expression or None) for a column besides key and label."""
    name, kind = column.name, column.type

    def left_out(why: str, reason: str) -> tuple[Decision, None, None]:
        return Decision(name, "left out", why, reason), None, None

    if not PLAIN_NAME.match(name):
        return left_out("name", "not a plain name (letters, digits, _): rename it in a view to use it")
    if name in PIPELINE_COLUMNS:
        return left_out("name", "the pipeline adds a column of this name: rename it in a view to use it")
    if kind not in CONTRACT_TYPES:
        return left_out("type", f"a {kind} column: flatten or cast it in a view to use it")
    if column.nulls >= rows:
        return left_out("empty", "every value is null")
    if kind in ("date", "timestamp"):
        rule = {"type": kind, **_null_rule(column, rows)}
        reason = (
            f"a point in time ({column.minimum} .. {column.maximum}): as a number it only says when, and "
            "drifts with every new batch; kept in the contract, derive what matters (e.g. a tenure) in "
            "feature_mappings.yml"
        )
        return Decision(name, "contract", "date/time", reason), rule, None
    if column.distinct <= 1 and (column.values is None or len(column.values) <= 1):
        return left_out("constant", f"the same value in every row ({_values_text(column.values)}): no signal")
    if kind == "boolean":
        return (
            Decision(name, "feature", "binary", "boolean, as 0/1"),
            {"type": kind, **_null_rule(column, rows)},
            f"CAST({name} AS INT)",
        )
    if kind in ("integer", "double"):
        return _decide_number(column, rows)
    return _decide_string(column, rows)


def _decide_number(column: ColumnSummary, rows: int) -> tuple[Decision, dict[str, Any] | None, str | None]:
    name, kind, values = column.name, column.type, column.values
    nulls = _null_rule(column, rows)
    if ID_LIKE_NAME.search(name) and values is None:
        reason = f"an identifier (id-like name, about {column.distinct} distinct values)"
        return Decision(name, "left out", "identifier", reason), None, None
    if values is not None and set(values) <= {0, 1}:
        allowed = [int(v) if kind == "integer" else float(v) for v in sorted(values)]
        return (
            Decision(name, "feature", "binary", "only 0 and 1"),
            {"type": kind, **nulls, "allowed": allowed},
            name,
        )
    if ID_LIKE_NAME.search(name) and kind == "integer":
        reason = f"a code (id-like name, {len(values or ())} values): one-hot encoded, not a quantity"
        return (
            Decision(name, "feature", "categorical", reason),
            {"type": kind, **nulls, "allowed": sorted(values or ())},
            f"CAST({name} AS STRING)",
        )
    low, high = widened_range(float(column.minimum), float(column.maximum), integer=kind == "integer")
    observed = f"{_number(column.minimum)} .. {_number(column.maximum)}"
    reason = f"{kind} {observed}, contract range {_number(low)} .. {_number(high)}{_null_text(column, rows)}"
    return (
        Decision(name, "feature", "numeric", reason),
        {"type": kind, **nulls, "min": low, "max": high},
        name,
    )


def _decide_string(column: ColumnSummary, rows: int) -> tuple[Decision, dict[str, Any] | None, str | None]:
    name, values = column.name, column.values
    present = max(rows - column.nulls, 1)
    if values is not None and len(values) <= MAX_CATEGORIES:
        listed = f"{_values_text(values)}){_null_text(column, rows)}"
        reason = f"{len(values)} categories ({listed}, missing -> 'unknown'"
        return Decision(name, "feature", "categorical", reason), _categorical_rule(column, rows), name
    mean_length = column.mean_length or 0.0
    if mean_length >= FREE_TEXT_LENGTH or (column.space_share or 0.0) >= FREE_TEXT_SPACE_SHARE:
        reason = f"free text (about {column.distinct} distinct values, {mean_length:.0f} characters each)"
        return Decision(name, "left out", "free text", reason), None, None
    if ID_LIKE_NAME.search(name) or column.distinct >= IDENTIFIER_DISTINCT_SHARE * present:
        reason = f"an identifier (about {column.distinct / present:.0%} of its values are distinct)"
        return Decision(name, "left out", "identifier", reason), None, None
    reason = (
        f"about {column.distinct} categories, more than {MAX_CATEGORIES} to one-hot encode: group them "
        "(a CASE expression in feature_mappings.yml) to use it"
    )
    return Decision(name, "left out", "too many categories", reason), None, None


def _label_rule(column: ColumnSummary) -> dict[str, Any]:
    rule: dict[str, Any] = {"type": column.type, "nullable": False}
    if column.type == "integer":
        rule["allowed"] = [0, 1]
    elif column.type == "double":
        rule["allowed"] = [0.0, 1.0]
    rule["label"] = True
    return rule


def _categorical_rule(column: ColumnSummary, rows: int) -> dict[str, Any]:
    rule: dict[str, Any] = {"type": column.type, **_null_rule(column, rows)}
    if column.type != "boolean":
        rule["allowed"] = sorted(column.values or ())
    return rule


def _null_rule(column: ColumnSummary, rows: int) -> dict[str, Any]:
    """Not nullable when no null was seen; else at most twice the observed share, plus 5 points."""
    if not column.nulls:
        return {"nullable": False}
    share = column.nulls / max(rows, 1)
    return {"nullable": True, "max_null_fraction": min(1.0, math.ceil((2 * share + 0.05) * 100) / 100)}


def widened_range(low: float, high: float, *, integer: bool) -> tuple[float, float]:
    """The observed range plus RANGE_MARGIN of its span each side, rounded out; not below 0 if it wasn't."""
    span = high - low
    margin = RANGE_MARGIN * span if span > 0 else max(abs(high) * RANGE_MARGIN, 1.0)
    new_low, new_high = low - margin, high + margin
    if low >= 0:
        new_low = max(0.0, new_low)
    if integer:
        return math.floor(new_low), math.ceil(new_high)
    exponent = math.floor(math.log10(max(span, abs(high), abs(low), 1e-12))) - 2
    step = 10.0**exponent
    digits = max(0, -exponent)
    return round(math.floor(new_low / step) * step, digits), round(math.ceil(new_high / step) * step, digits)


def _number(value: Any) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() else f"{number:g}"


def _null_text(column: ColumnSummary, rows: int) -> str:
    return f", {column.nulls / max(rows, 1):.1%} null" if column.nulls else ""


def _values_text(values: tuple[Any, ...] | None, shown: int = 6) -> str:
    if not values:
        return "no values"
    listed = ", ".join(str(v) for v in values[:shown])
    return listed + (f", ... ({len(values)} in all)" if len(values) > shown else "")
