"""SEC303/SEC304: PHI in data files and notebooks' saved outputs is found at any size, never echoed.

Parquet and xlsx fixtures are written by the real writers (pyarrow, openpyxl); mlstack reads
them with the standard library only (the Parquet footer, the workbook's XML).
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import shutil
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from helpers import REPO_ROOT
from helpers.bakes import baked
from mlstack.policy import phi
from mlstack.policy.engine import run_check
from mlstack.policy.policy_file import parse_policy

TODAY = dt.date(2026, 11, 23)
# Invented values, shaped like the real thing (never a real person's).
SSN_VALUE = "123-45-6789"
EMAIL_VALUE = "jane.roe@gmail.com"
PHONE_VALUE = "(555) 867-5309"
DOB_VALUE = "1984-03-02"
MRN_VALUE = "MRN00417"


def check(root: Path, **params):
    report = run_check(root, parse_policy({"params": params}, "test-policy"), select=["SEC303", "SEC304"],
                       today=TODAY)
    return report


def found(report) -> list[tuple[str, str | None, str]]:
    return [(f.rule, f.path, f.message) for f in report.findings]


def never_echoes(report, *values: str) -> None:
    rendered = json.dumps(report.to_dict())
    for value in values:
        assert value not in rendered


def test_a_300_byte_csv_with_mrn_and_dob_columns_is_phi(tmp_path):
    rows = "".join(f"{MRN_VALUE[:-1]}{i},{DOB_VALUE},O14.{i}\n" for i in range(10))
    text = "mrn,dob,diagnosis\n" + rows
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "cohort.csv").write_text(text)
    assert 200 < len(text) <= 300
    report = check(tmp_path)
    assert found(report) == [
        ("SEC303", "data/cohort.csv", "column `mrn`: medical record number column"),
        ("SEC303", "data/cohort.csv", "column `dob`: date of birth column")]
    assert all(f.severity == "error" and f.fix for f in report.findings)
    never_echoes(report, MRN_VALUE[:-1], DOB_VALUE)


def test_data_without_identifiers_passes(tmp_path):
    (tmp_path / "features.csv").write_text("age,systolic_bp,model_name,visit_date\n31,120,xgb,2024-01-02\n")
    (tmp_path / "events.jsonl").write_text('{"age": 3, "score": 0.4}\n')
    assert found(check(tmp_path)) == []


def test_values_are_found_under_innocent_column_names(tmp_path):
    (tmp_path / "notes.tsv").write_text(f"note\tseen\nreach at {PHONE_VALUE}\t2024-02-03\n"
                                        f"ssn {SSN_VALUE}, {EMAIL_VALUE}\t{DOB_VALUE}\n")
    report = check(tmp_path)
    assert found(report) == [
        ("SEC303", "notes.tsv", "column `note` (line 2): phone number value"),
        ("SEC303", "notes.tsv", "column `seen` (line 2): date of birth next to an identifier"),
        ("SEC303", "notes.tsv", "column `note` (line 3): social security number value"),
        ("SEC303", "notes.tsv", "column `note` (line 3): e-mail address value")]
    assert [f.line for f in report.findings] == [2, 2, 3, 3]
    never_echoes(report, PHONE_VALUE, SSN_VALUE, EMAIL_VALUE, DOB_VALUE)


def test_reserved_example_domains_are_not_people(tmp_path):
    (tmp_path / "owners.csv").write_text("team,contact\nml,ml-platform@example.com\nops,ops@corp.test\n")
    assert found(check(tmp_path)) == []


def test_json_lines_keys_nested_and_gzipped(tmp_path):
    record = {"patient": {"member_id": "W123"}, "score": 0.2}
    (tmp_path / "scores.jsonl.gz").write_bytes(gzip.compress((json.dumps(record) + "\n").encode()))
    assert found(check(tmp_path)) == [("SEC303", "scores.jsonl.gz", "column `patient.member_id`: member id column")]


def test_parquet_columns_come_from_the_footer(tmp_path):
    table = pa.table({"Patient Name": ["x"], "age": [3], "address": pa.array([{"street": "y"}])})
    pq.write_table(table, tmp_path / "cohort.parquet")
    assert found(check(tmp_path)) == [
        ("SEC303", "cohort.parquet", "column `Patient Name`: name column"),
        ("SEC303", "cohort.parquet", "column `street`: address column")]


def test_xlsx_header_and_values_are_read_from_the_workbook_xml(tmp_path):
    book = openpyxl.Workbook()
    book.active.title = "Cohort"
    book.active.append(["Phone Number", "risk"])
    book.active.append(["n/a", 0.3])
    book.active.append(["n/a", SSN_VALUE])
    book.save(tmp_path / "cohort.xlsx")
    report = check(tmp_path)
    assert found(report) == [
        ("SEC303", "cohort.xlsx", "sheet `sheet1` column `Phone Number`: phone number column"),
        ("SEC303", "cohort.xlsx", "sheet `sheet1` column `risk` (row 3): social security number value")]
    never_echoes(report, SSN_VALUE)


def test_policy_adds_identifier_columns(tmp_path):
    (tmp_path / "a.csv").write_text("study_subject,age\nS1,3\n")
    assert found(check(tmp_path)) == []
    assert found(check(tmp_path, phi_columns=["study subject: trial subject id"])) == [
        ("SEC303", "a.csv", "column `study_subject`: trial subject id column")]


class CountingReader(io.BytesIO):
    """A file that records how many bytes each read asked for."""

    def __init__(self, data: bytes):
        super().__init__(data)
        self.reads: list[int] = []

    def read(self, size=-1):
        self.reads.append(size)
        return super().read(size)


def test_huge_files_are_sampled_not_read_whole(tmp_path):
    body = b"age,score\n" + b"31,0.5\n" * 160_000 + f"{SSN_VALUE},0.1\n".encode()  # ~1.1 MB
    handle = CountingReader(body)
    assert phi.scan("big.csv", handle, len(body)) == []  # the SSN lies beyond the 1 MiB sample
    assert handle.reads and all(0 < size <= 1024 * 1024 for size in handle.reads)
    (tmp_path / "big.csv").write_bytes(body)
    assert found(check(tmp_path)) == []
    assert found(check(tmp_path, phi_sample_bytes=4 * 1024 * 1024, phi_sample_rows=200_000)) == [
        ("SEC303", "big.csv", "column `age` (line 160002): social security number value")]


def test_a_huge_parquet_file_is_judged_by_its_footer_only():
    buffer = io.BytesIO()
    pq.write_table(pa.table({"ssn": [str(i) for i in range(300_000)]}), buffer, compression="none")
    handle = CountingReader(buffer.getvalue())
    assert [h.where for h in phi.scan("x.parquet", handle, len(buffer.getvalue()))] == ["column `ssn`"]
    assert sum(handle.reads) < 10_000 < len(buffer.getvalue())


def notebook(*outputs) -> str:
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "markdown", "source": ["# Cohort"], "metadata": {}},
        {"cell_type": "code", "source": ["df.select('mrn', 'dob').show()"], "metadata": {}, "execution_count": 1,
         "outputs": list(outputs)}]})


def test_a_notebook_output_with_a_patient_row_is_phi(tmp_path):
    shown = {"output_type": "stream", "name": "stdout", "text": [
        "+--------+----------+\n", "|     mrn|       dob|\n", "+--------+----------+\n",
        f"|{MRN_VALUE}|{DOB_VALUE}|\n"]}
    (tmp_path / "explore.ipynb").write_text(notebook(shown))
    report = check(tmp_path)
    assert found(report) == [
        ("SEC304", "explore.ipynb", "cell 2 output 1 line 2: date of birth column"),
        ("SEC304", "explore.ipynb", "cell 2 output 1 line 2: medical record number column"),
        ("SEC304", "explore.ipynb", "cell 2 output 1 line 4: date of birth next to an identifier")]
    never_echoes(report, MRN_VALUE, DOB_VALUE)


def test_html_table_outputs_and_values_are_read(tmp_path):
    html = {"output_type": "execute_result", "execution_count": 1, "metadata": {}, "data": {
        "text/html": ["<table><tr><th>email</th><th>risk</th></tr>",
                      f"<tr><td>{EMAIL_VALUE}</td><td>0.9</td></tr></table>"],
        "text/plain": [f"contact {EMAIL_VALUE}"]}}
    (tmp_path / "a.ipynb").write_text(notebook(html))
    assert found(check(tmp_path)) == [
        ("SEC304", "a.ipynb", "cell 2 output 1 line 1: e-mail address column"),
        ("SEC304", "a.ipynb", "cell 2 output 1 line 2: e-mail address value")]


def test_notebooks_without_phi_in_outputs_pass_whatever_their_code_says(tmp_path):
    (tmp_path / "clean.ipynb").write_text(notebook({"output_type": "stream", "name": "stdout",
                                                    "text": ["rows: 8000\n", "auc 0.81 on 2024-01-02\n"]}))
    assert found(check(tmp_path)) == []


def test_a_malformed_notebook_is_its_own_finding_not_a_crash(tmp_path):
    (tmp_path / "broken.ipynb").write_text('{"cells": [')
    (tmp_path / "ok.csv").write_text("ssn\n1\n")
    report = check(tmp_path)
    messages = {(f.path, f.severity, f.message.split(":")[0]) for f in report.findings}
    assert ("broken.ipynb", "warning", "not scanned for PHI") in messages
    assert ("ok.csv", "error", "column `ssn`") in messages
    assert not any("rule could not run" in f.message for f in report.findings)


def test_malformed_data_files_are_findings(tmp_path):
    (tmp_path / "a.parquet").write_bytes(b"PAR1 not really")
    (tmp_path / "b.xlsx").write_bytes(b"not a zip")
    (tmp_path / "c.jsonl").write_text("{nope\n")
    report = check(tmp_path)
    assert sorted((f.path, f.severity) for f in report.findings) == [
        ("a.parquet", "warning"), ("b.xlsx", "warning"), ("c.jsonl", "warning")]
    assert all(f.message.startswith("not scanned for PHI: ") for f in report.findings)


def test_databricks_source_notebook_result_cells_are_read_code_is_not(tmp_path):
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "explore.py").write_text(
        "# Databricks notebook source\n"
        "display(spark.table('cohort').select('mrn', 'dob'))\n\n"
        "# COMMAND ----------\n\n"
        "# MAGIC %md\n"
        "# MAGIC Result of the cell above:\n"
        "# MAGIC | mrn | dob |\n"
        "# MAGIC |-----|-----|\n"
        f"# MAGIC | {MRN_VALUE} | {DOB_VALUE} |\n")
    (tmp_path / "notebooks" / "plain.py").write_text("# MAGIC | mrn | dob |\n")  # not a notebook
    report = check(tmp_path)
    assert [(f.path, f.line, f.message) for f in report.findings] == [
        ("notebooks/explore.py", 8, "cell 2 line 3: date of birth column"),
        ("notebooks/explore.py", 8, "cell 2 line 3: medical record number column"),
        ("notebooks/explore.py", 10, "cell 2 line 5: date of birth next to an identifier")]
    never_echoes(report, MRN_VALUE, DOB_VALUE)


@pytest.mark.parametrize("name", ["model_name", "feature_name", "patient_count", "shipping", "zipper"])
def test_longer_names_that_merely_contain_a_word_are_not_identifiers(name):
    assert phi.column_kind(name) is None


@pytest.mark.parametrize("name,kind", [("MRN", "medical record number"), ("Patient MRN", "medical record number"),
                                       ("date-of-birth", "date of birth"), ("name", "name"),
                                       ("home_address_line_1", "address"), ("EMAIL", "e-mail address")])
def test_column_names_are_normalized_before_matching(name, kind):
    assert phi.column_kind(name) == kind


def test_hostile_parquet_footers_do_not_crash_or_allocate():
    for data in (b"\x00" * 4 + b"\xff\xff\xff\x7fPAR1", b"PAR1" + b"\x19\xfc" * 50 + b"\x64\x00\x00\x00PAR1"):
        with pytest.raises(phi.Unreadable):
            phi.parquet_columns(io.BytesIO(data), len(data))


def test_a_headerless_file_is_judged_as_data_and_its_cells_never_named(tmp_path):
    (tmp_path / "export.csv").write_text(f"{EMAIL_VALUE},{DOB_VALUE}\nother.person@gmail.com,1990-01-01\n")
    report = check(tmp_path)
    assert found(report) == [
        ("SEC303", "export.csv", "column 1 (line 1): e-mail address value"),
        ("SEC303", "export.csv", "column 2 (line 1): date of birth next to an identifier")]
    never_echoes(report, EMAIL_VALUE, DOB_VALUE, "other.person")


def test_deeply_nested_json_is_a_finding_not_a_crash(tmp_path):
    (tmp_path / "deep.ipynb").write_text("[" * 100_000 + "]" * 100_000)
    (tmp_path / "deep.jsonl").write_text('{"a":' * 50_000 + "1" + "}" * 50_000 + "\n")
    report = check(tmp_path)
    assert sorted((f.path, f.severity) for f in report.findings) == [("deep.ipynb", "warning"),
                                                                    ("deep.jsonl", "warning")]


def test_docs_list_the_identifiers_the_code_looks_for():
    assert (REPO_ROOT / "docs" / "phi.md").read_text() == phi.identifiers_markdown()


def test_a_small_csv_committed_to_a_generated_project_is_phi_not_only_a_size(tmp_path):
    """SEC302 judges size only; SEC303 reads the 300 bytes a careless commit added."""
    from helpers import git

    project = tmp_path / "repo"
    shutil.copytree(baked("azure", "github_actions"), project, symlinks=True)
    git(project, "init", "-q")
    (project / "data").mkdir()
    (project / "data" / "cohort.csv").write_text("mrn,dob,diagnosis\n" + f"{MRN_VALUE},{DOB_VALUE},O14.1\n" * 9)
    git(project, "add", "-f", "data/cohort.csv")
    report = run_check(project, parse_policy({}, "p"), select=["SEC302", "SEC303"], today=TODAY)
    assert [(f.rule, f.path, f.message) for f in report.findings] == [
        ("SEC303", "data/cohort.csv", "column `mrn`: medical record number column"),
        ("SEC303", "data/cohort.csv", "column `dob`: date of birth column")]
