"""Real-time scoring requests: parse a JSON body and check every row against the model's inputs.

Pure logic (no HTTP, no MLflow), so every rule is unit-tested. The two tabular payloads that
Databricks Model Serving accepts are accepted here too, so one client works locally and there:

    {"dataframe_records": [{"age": 31, "bmi": 24.5, ...}, ...]}
    {"dataframe_split": {"columns": ["age", "bmi", ...], "data": [[31, 24.5, ...], ...]}}

Errors name the row and the field and never repeat a submitted value: requests may carry PHI.
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

PAYLOAD_KEYS = ("dataframe_records", "dataframe_split")
DECIMAL_TYPES = ("double", "float")
WHOLE_NUMBER_TYPES = ("long", "integer")
_MAX_NAME_SHOWN = 64


@dataclass(frozen=True)
class InputColumn:
    """One model input as the model signature declares it.

    `required` follows MLflow: a required input was never missing in training, so it must be
    sent and must not be null; an optional one may be null or left out (the model imputes it).
    """

    name: str
    type: str
    required: bool = True


class RequestRejected(ValueError):
    """The request cannot be scored: `status` is the HTTP status, `field` the input at fault."""

    def __init__(self, message: str, *, status: int = 422, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.field = field


def parse_scoring_request(body: bytes, columns: Sequence[InputColumn], *, max_rows: int) -> pd.DataFrame:
    """The rows of a request as a frame with the model's columns, in signature order and types."""
    payload = _decode(body)
    rows, location = _rows(payload)
    if not rows:
        raise RequestRejected(f"{location}: no rows to score", status=400)
    if len(rows) > max_rows:
        raise RequestRejected(
            f"{location}: {len(rows)} rows, at most {max_rows} per request "
            "(score large batches with the batch_inference step)",
            status=413,
        )
    checked = [_check_row(row, columns, f"{location}[{index}]") for index, row in enumerate(rows)]
    return _frame(checked, columns)


def _decode(body: bytes) -> Any:
    def reject_constant(name: str) -> None:
        raise RequestRejected(f"body: {name} is not a JSON number; send null for a missing value", status=400)

    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise RequestRejected("body: not UTF-8 text; send JSON", status=400) from None
    try:
        return json.loads(text, parse_constant=reject_constant)
    except json.JSONDecodeError as error:
        raise RequestRejected(
            f"body: not valid JSON ({error.msg} at line {error.lineno} column {error.colno})", status=400
        ) from None


def _rows(payload: Any) -> tuple[list[Any], str]:
    """The submitted rows (each a mapping of field to value) and where they sit in the payload."""
    if not isinstance(payload, dict):
        raise RequestRejected(
            f"body: must be a JSON object with one of {', '.join(PAYLOAD_KEYS)}", status=400
        )
    unknown = [key for key in payload if key not in PAYLOAD_KEYS]
    if unknown:
        key = _shown(unknown[0])
        raise RequestRejected(
            f"body: unknown key {key!r}{_did_you_mean(unknown[0], PAYLOAD_KEYS)}; "
            f"send one of {', '.join(PAYLOAD_KEYS)}",
            status=400,
        )
    if len(payload) != 1:
        raise RequestRejected(f"body: send exactly one of {', '.join(PAYLOAD_KEYS)}", status=400)
    if "dataframe_records" in payload:
        records = payload["dataframe_records"]
        if not isinstance(records, list):
            raise RequestRejected("dataframe_records: must be a list of objects", status=400)
        return records, "dataframe_records"
    return _split_rows(payload["dataframe_split"]), "dataframe_split.data"


def _split_rows(split: Any) -> list[dict[str, Any]]:
    if not isinstance(split, dict) or not isinstance(split.get("columns"), list):
        raise RequestRejected(
            "dataframe_split: must be an object with 'columns' and 'data' lists", status=400
        )
    extra = [key for key in split if key not in ("columns", "data", "index")]
    if extra:
        raise RequestRejected(
            f"dataframe_split: unknown key {_shown(extra[0])!r}; expected columns, data and optionally index",
            status=400,
        )
    names = split["columns"]
    if not all(isinstance(name, str) for name in names):
        raise RequestRejected("dataframe_split.columns: every column name must be a string", status=400)
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise RequestRejected(
            f"dataframe_split.columns: {_shown(duplicates[0])!r} appears more than once",
            status=400,
            field=duplicates[0],
        )
    data = split.get("data")
    if not isinstance(data, list):
        raise RequestRejected("dataframe_split.data: must be a list of rows", status=400)
    rows = []
    for index, values in enumerate(data):
        if not isinstance(values, list) or len(values) != len(names):
            count = len(values) if isinstance(values, list) else "not a list of"
            raise RequestRejected(
                f"dataframe_split.data[{index}]: {count} values for {len(names)} columns", status=400
            )
        rows.append(dict(zip(names, values, strict=True)))
    return rows


def _check_row(row: Any, columns: Sequence[InputColumn], location: str) -> dict[str, Any]:
    if not isinstance(row, dict):
        raise RequestRejected(f"{location}: must be an object of field names to values", status=400)
    known = {column.name for column in columns}
    for name in row:
        if name not in known:
            raise RequestRejected(
                f"{location}: unknown field {_shown(name)!r}{_did_you_mean(name, sorted(known))}; "
                "GET /metadata lists the model's inputs",
                field=name,
            )
    checked = {}
    for column in columns:
        where = f"{location}.{column.name}"
        if column.name not in row:
            if column.required:
                raise RequestRejected(f"{where}: missing; the model needs this field", field=column.name)
            checked[column.name] = None
            continue
        checked[column.name] = _check_value(row[column.name], column, where)
    return checked


def _check_value(value: Any, column: InputColumn, where: str) -> Any:
    if value is None:
        if column.required:
            raise RequestRejected(
                f"{where}: must not be null (the model was trained without missing values here)",
                field=column.name,
            )
        return None
    if column.type in DECIMAL_TYPES or column.type in WHOLE_NUMBER_TYPES:
        # JSON booleans are not numbers here, even though Python treats True as 1.
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise RequestRejected(f"{where}: expected a number, got {_json_type(value)}", field=column.name)
        if not math.isfinite(value):
            raise RequestRejected(f"{where}: expected a finite number", field=column.name)
        if column.type in WHOLE_NUMBER_TYPES:
            if isinstance(value, float) and not value.is_integer():
                raise RequestRejected(f"{where}: expected a whole number", field=column.name)
            return int(value)
        return float(value)
    if column.type == "string" and not isinstance(value, str):
        raise RequestRejected(f"{where}: expected a string, got {_json_type(value)}", field=column.name)
    if column.type == "boolean" and not isinstance(value, bool):
        raise RequestRejected(f"{where}: expected true or false, got {_json_type(value)}", field=column.name)
    return value


def _frame(rows: list[dict[str, Any]], columns: Sequence[InputColumn]) -> pd.DataFrame:
    data = {}
    for column in columns:
        values = [row[column.name] for row in rows]
        if column.type in DECIMAL_TYPES:
            data[column.name] = pd.Series(values, dtype="float64")
        elif column.type in WHOLE_NUMBER_TYPES and None not in values:
            data[column.name] = pd.Series(values, dtype="int64")
        else:
            data[column.name] = pd.Series(values, dtype="object")
    return pd.DataFrame(data)


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


def _shown(name: str) -> str:
    """A field name as it may appear in an error: shortened, since it is caller-controlled text."""
    return name if len(name) <= _MAX_NAME_SHOWN else name[:_MAX_NAME_SHOWN] + "..."


def _did_you_mean(name: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, choices, n=1)
    if not close and len(name) >= 3:
        close = [choice for choice in choices if name.lower() in choice.lower()][:1]
    return f" (did you mean {close[0]!r}?)" if close else ""
