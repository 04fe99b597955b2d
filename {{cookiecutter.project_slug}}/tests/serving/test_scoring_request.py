"""Request checking against the model's inputs: every rejection names the row and field, never a value."""

import json

import pytest

from {{ cookiecutter.package_name }}.core.scoring_request import InputColumn, RequestRejected, parse_scoring_request

COLUMNS = [
    InputColumn("age", "double", required=True),
    InputColumn("bmi", "double", required=False),
    InputColumn("visits", "long", required=True),
    InputColumn("insurance_type", "string", required=True),
    InputColumn("smoking_status", "string", required=False),
]
ROW = {"age": 31, "bmi": 24.5, "visits": 7, "insurance_type": "medicaid", "smoking_status": "never"}


def parse(payload, max_rows=10):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return parse_scoring_request(body, COLUMNS, max_rows=max_rows)


def rejection(payload, **kwargs) -> RequestRejected:
    with pytest.raises(RequestRejected) as caught:
        parse(payload, **kwargs)
    return caught.value


def test_records_become_a_frame_in_signature_order_and_types():
    frame = parse({"dataframe_records": [{**ROW, "age": 40.5}, dict(reversed(list(ROW.items())))]})
    assert list(frame.columns) == [c.name for c in COLUMNS]
    assert frame["age"].tolist() == [40.5, 31.0] and str(frame["age"].dtype) == "float64"
    assert str(frame["visits"].dtype) == "int64"  # a whole number stays whole
    assert frame["insurance_type"].tolist() == ["medicaid", "medicaid"]


def test_split_payload_gives_the_same_frame_as_records():
    split = {"dataframe_split": {"columns": list(ROW), "data": [list(ROW.values())], "index": [0]}}
    assert parse(split).equals(parse({"dataframe_records": [ROW]}))


def test_optional_inputs_may_be_null_or_left_out():
    frame = parse(
        {"dataframe_records": [{**ROW, "bmi": None}, {k: v for k, v in ROW.items() if k != "smoking_status"}]}
    )
    assert frame["bmi"].isna().tolist() == [True, False]
    assert frame["smoking_status"].tolist() == ["never", None]


@pytest.mark.parametrize(
    "row,field,words",
    [
        ({k: v for k, v in ROW.items() if k != "age"}, "age", "missing"),
        ({**ROW, "age": None}, "age", "must not be null"),
        ({**ROW, "age": "31"}, "age", "expected a number, got a string"),
        ({**ROW, "age": True}, "age", "expected a number, got a boolean"),
        ({**ROW, "visits": 7.5}, "visits", "expected a whole number"),
        ({**ROW, "insurance_type": 3}, "insurance_type", "expected a string, got a number"),
        ({**ROW, "agee": 31}, "agee", "unknown field 'agee' (did you mean 'age'?)"),
    ],
)
def test_a_bad_field_is_a_422_naming_row_and_field(row, field, words):
    error = rejection({"dataframe_records": [ROW, row]})
    assert error.status == 422 and error.field == field
    assert str(error).startswith("dataframe_records[1]") and words in str(error)


def test_rejections_never_repeat_the_submitted_value():
    secret = "Jane Doe MRN 0042"
    for row in ({**ROW, "age": secret}, {**ROW, "smoking_status": 12, "insurance_type": secret}):
        error = rejection({"dataframe_records": [row]})
        assert secret not in str(error)


@pytest.mark.parametrize(
    "body,words",
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe", "not UTF-8"),
        (b'{"dataframe_records": [{"age": NaN}]}', "NaN is not a JSON number"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"records": []}', "unknown key 'records' (did you mean 'dataframe_records'?)"),
        (b'{"dataframe_records": [], "dataframe_split": {}}', "exactly one"),
        (b'{"dataframe_records": {"age": 1}}', "must be a list"),
        (b'{"dataframe_records": []}', "no rows"),
        (b'{"dataframe_split": {"columns": ["age", "age"], "data": []}}', "appears more than once"),
        (b'{"dataframe_split": {"columns": ["age"], "data": [[1, 2]]}}', "data[0]: 2 values for 1 columns"),
    ],
)
def test_a_malformed_body_is_a_400_saying_what_is_wrong(body, words):
    error = rejection(body)
    assert error.status == 400 and words in str(error)


def test_too_many_rows_is_a_413_pointing_at_batch_inference():
    error = rejection({"dataframe_records": [ROW] * 4}, max_rows=3)
    assert error.status == 413 and "at most 3" in str(error) and "batch_inference" in str(error)
