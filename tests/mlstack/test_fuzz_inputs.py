"""Fuzzing every user-supplied input: each case ends in success or one-line errors, never a traceback."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from helpers import REPO_ROOT
from mlstack import errors
from mlstack.cli import app

runner = CliRunner()
QUESTIONS = [k for k in json.loads((REPO_ROOT / "cookiecutter.json").read_text()) if not k.startswith("_")]
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=30),
                    st.dates())
keys = st.one_of(st.sampled_from(QUESTIONS), st.text(max_size=15))
documents = st.recursive(scalars, lambda children: st.one_of(
    st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=6)), max_leaves=12)
raw_text = st.text(max_size=200)


def assert_clean_outcome(result, allowed: set[int]) -> None:
    """A documented exit code, and on failure only `error:` lines (no traceback)."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in allowed, (result.exit_code, result.output)
    assert "Traceback" not in result.output
    if result.exit_code not in (errors.OK,):
        lines = [line for line in result.output.splitlines() if line.strip()]
        if result.exit_code == errors.INVALID_INPUT:
            assert lines and all(line.startswith("error: ") for line in lines), result.output


def init_with(*args: str):
    out = Path(tempfile.mkdtemp(prefix="fuzz-init-"))
    try:
        return runner.invoke(app, ["init", "--no-input", "-o", str(out / "o"), *args])
    finally:
        shutil.rmtree(out, ignore_errors=True)


@FUZZ
@given(document=st.one_of(documents, st.dictionaries(st.sampled_from(QUESTIONS), scalars, max_size=8)))
def test_any_answers_file_structure(tmp_path, document):
    path = tmp_path / "answers.yml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True))
    assert_clean_outcome(init_with("--answers-file", str(path)), {errors.OK, errors.INVALID_INPUT})


@FUZZ
@given(text=raw_text)
def test_any_answers_file_text(tmp_path, text):
    path = tmp_path / "answers.yml"
    path.write_bytes(text.encode("utf-8", "replace"))
    assert_clean_outcome(init_with("--answers-file", str(path)), {errors.OK, errors.INVALID_INPUT})


@FUZZ
@given(pairs=st.lists(st.tuples(keys, st.text(max_size=40)), min_size=1, max_size=4))
def test_any_set_values(pairs):
    args = [arg for key, value in pairs for arg in ("--set", f"{key}={value}")]
    assert_clean_outcome(init_with(*args), {errors.OK, errors.INVALID_INPUT, errors.USAGE})


@FUZZ
@given(raw=st.lists(st.text(max_size=30), min_size=1, max_size=3))
def test_any_raw_set_arguments(raw):
    args = [arg for item in raw for arg in ("--set", item)]
    assert_clean_outcome(init_with(*args), {errors.OK, errors.INVALID_INPUT, errors.USAGE})


@pytest.fixture(scope="module")
def checked_project(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("fuzz-check")
    assert runner.invoke(app, ["init", "--no-input", "-o", str(out)]).exit_code == 0
    return out / "maternal-health-risk"


CHECK_CODES = {errors.OK, errors.FINDINGS, errors.INVALID_INPUT, errors.CHECK_DRIFT, errors.CHECK_UPDATE_AVAILABLE}
policy_documents = st.one_of(documents, st.fixed_dictionaries({}, optional={
    "version": scalars, "rules": st.one_of(documents, st.dictionaries(
        st.sampled_from(["select", "ignore", "severity", "unwaivable", "sevrity"]), documents, max_size=3)),
    "params": st.one_of(documents, st.dictionaries(st.sampled_from(
        ["min_template_version", "max_workers", "required_tags", "allowed_node_types", "max_data_file_bytes"]),
        documents, max_size=3))}))


@FUZZ
@given(document=policy_documents)
def test_any_policy_file(checked_project, tmp_path, document):
    path = tmp_path / "policy.yml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True))
    assert_clean_outcome(runner.invoke(app, ["check", str(checked_project), "--policy", str(path)]), CHECK_CODES)


@FUZZ
@given(text=raw_text)
def test_any_policy_text(checked_project, tmp_path, text):
    path = tmp_path / "policy.yml"
    path.write_bytes(text.encode("utf-8", "replace"))
    assert_clean_outcome(runner.invoke(app, ["check", str(checked_project), "--policy", str(path)]), CHECK_CODES)


waiver_entries = st.fixed_dictionaries({}, optional={
    "rule": scalars, "path": scalars, "reason": scalars, "owner": scalars, "expires": scalars, "extra": scalars})


@FUZZ
@given(document=st.one_of(documents, st.fixed_dictionaries({"waivers": st.lists(waiver_entries, max_size=3)})))
def test_any_waivers_file(checked_project, document):
    path = checked_project / ".mlstack" / "waivers.yml"
    try:
        path.write_text(yaml.safe_dump(document, allow_unicode=True))
        assert_clean_outcome(runner.invoke(app, ["check", str(checked_project)]), CHECK_CODES)
    finally:
        path.unlink(missing_ok=True)
