"""Find protected health information (PHI) in committed data files and notebooks' saved outputs.

Knows nothing of rules or findings: bytes of a file in, `Hit`s out (where, and what kind of
identifier). A hit never carries the value it found, only its location, so no report can leak it.
Files are sampled (the first `head_bytes`, the footer of a Parquet file, the first rows of a
sheet), never read whole: a committed file may be huge, compressed or hostile.

Two signals, as a reviewer would look:
- identifying columns: a header (CSV/TSV, JSON lines keys, Parquet schema, the first row of a
  sheet, a table in a notebook's output) named like one of IDENTIFIER_COLUMNS or an extra name
  the policy adds;
- identifying values: SSN, phone and e-mail patterns in any cell or output line, and a date next
  to an identifier (a date of birth beside an MRN or a name is what re-identifies a patient).
"""

from __future__ import annotations

import csv
import io
import json
import re
import struct
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO
from xml.etree import ElementTree

# Column names (normalized: lowercase words joined by "_") and the identifier each one is. A
# column matches when these words appear together in its name (`patient_mrn`, `Birth Date`).
# Documented in docs/phi.md (identifiers_markdown); a policy adds names with params.phi_columns.
IDENTIFIER_COLUMNS = {
    "mrn": "medical record number", "medical_record_number": "medical record number",
    "medical_record": "medical record number", "patient_id": "medical record number",
    "ssn": "social security number", "social_security_number": "social security number",
    "social_security": "social security number", "social_insurance_number": "social insurance number",
    "nhs_number": "national health number", "national_id": "national identity number",
    "dob": "date of birth", "date_of_birth": "date of birth", "birth_date": "date of birth",
    "birthdate": "date of birth", "birthday": "date of birth",
    "first_name": "name", "last_name": "name", "full_name": "name", "patient_name": "name",
    "given_name": "name", "family_name": "name", "surname": "name", "firstname": "name",
    "lastname": "name", "middle_name": "name",
    "address": "address", "street": "address", "street_address": "address", "address_line": "address",
    "zip": "postal code", "zip_code": "postal code", "zipcode": "postal code", "postal_code": "postal code",
    "postcode": "postal code",
    "phone": "phone number", "phone_number": "phone number", "telephone": "phone number",
    "mobile_number": "phone number", "mobile_phone": "phone number", "cell_phone": "phone number",
    "fax": "phone number", "fax_number": "phone number",
    "email": "e-mail address", "e_mail": "e-mail address", "email_address": "e-mail address",
    "member_id": "member id", "subscriber_id": "member id", "insurance_id": "member id",
    "policy_number": "member id", "beneficiary_id": "member id", "medicaid_id": "member id",
    "medicare_id": "member id",
}
# Column names that are identifiers only on their own (as part of a longer name they are not:
# `model_name`, `feature_name`).
EXACT_ONLY = {"name": "name", "patient": "name"}

SSN = re.compile(r"(?<![\d-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\d-])")
PHONE = re.compile(r"(?<![\w.-])(?:\+?1[ .-]?)?(?:\(\d{3}\) ?|\d{3}[ .-])\d{3}[ .-]\d{4}(?![\w-])")
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})")
DATE = re.compile(r"(?<!\d)(?:(?:19|20)\d\d[-/.](?:0?[1-9]|1[0-2])[-/.](?:0?[1-9]|[12]\d|3[01])"
                  r"|(?:0?[1-9]|1[0-2])/(?:0?[1-9]|[12]\d|3[01])/(?:19|20)\d\d)(?!\d)")
BIRTH_WORDS = re.compile(r"\b(?:dob|d\.o\.b|born|birth(?:day|date)?)\b", re.IGNORECASE)
# RFC 2606 / 6761 names that never belong to a person.
RESERVED_DOMAINS = re.compile(r"(?:^|\.)(?:example\.(?:com|org|net)|[^.]+\.(?:test|invalid|example|localhost))$",
                              re.IGNORECASE)
DATE_OF_BIRTH = "date of birth next to an identifier"

DATA_SUFFIXES = (".csv", ".tsv", ".csv.gz", ".tsv.gz", ".jsonl", ".ndjson", ".jsonl.gz", ".json.gz", ".parquet",
                 ".xlsx")
NOTEBOOK_SOURCE_HEADERS = (b"# Databricks notebook source", b"-- Databricks notebook source",
                           b"// Databricks notebook source")
MAGIC_PREFIXES = ("# MAGIC", "-- MAGIC", "// MAGIC")
CELL_SEPARATORS = ("# COMMAND ----------", "-- COMMAND ----------", "// COMMAND ----------")


@dataclass(frozen=True)
class Limits:
    """How much of a file is sampled (policy params phi_sample_bytes, phi_sample_rows)."""

    head_bytes: int = 1024 * 1024
    rows: int = 1000
    # A notebook is JSON: it is judged whole or not at all (SEC301 reads files up to the same size).
    notebook_bytes: int = 32 * 1024 * 1024


@dataclass(frozen=True)
class Hit:
    """Where an identifier is (`column \\`mrn\\``, `cell 3 output 1 line 2`) and what kind it is."""

    where: str
    kind: str
    line: int | None = None


class Unreadable(Exception):
    """The file is not what its name says (malformed JSON, not a zip, no Parquet footer)."""


def normalize(name: str) -> str:
    return "_".join(re.findall(r"[a-z0-9]+", name.lower()))


def column_kind(name: str, extra: dict[str, str] | None = None) -> str | None:
    """The identifier a column name stands for, or None."""
    normal = normalize(name)
    if not normal:
        return None
    table = {**IDENTIFIER_COLUMNS, **(extra or {})}
    if normal in table:
        return table[normal]
    if normal in EXACT_ONLY:
        return EXACT_ONLY[normal]
    padded = f"_{normal}_"
    for key, kind in table.items():
        if f"_{key}_" in padded:
            return kind
    return None


def value_kinds(text: str) -> list[str]:
    """Identifier kinds whose value pattern occurs in one cell or line (dates are judged by callers)."""
    kinds = []
    if SSN.search(text):
        kinds.append("social security number")
    if any(not RESERVED_DOMAINS.search(m.group(1)) for m in EMAIL.finditer(text)):
        kinds.append("e-mail address")
    if PHONE.search(SSN.sub(" ", text)):
        kinds.append("phone number")
    return kinds


def is_notebook_source(name: str, head: bytes) -> bool:
    return name.lower().endswith((".py", ".sql", ".scala", ".r")) and head.lstrip().startswith(NOTEBOOK_SOURCE_HEADERS)


def is_data_file(name: str) -> bool:
    return name.lower().endswith(DATA_SUFFIXES)


def is_notebook(name: str, head: bytes) -> bool:
    """A Jupyter notebook or a Databricks source notebook (by its first line)."""
    return name.lower().endswith(".ipynb") or is_notebook_source(name, head)


# --- tables ---------------------------------------------------------------------------------
def table_hits(header: list[str] | None, rows: Iterable[tuple[int, list[str]]], extra: dict[str, str],
               row_word: str = "row") -> list[Hit]:
    """Hits of one table: identifier columns, then value patterns per column (first row each)."""
    hits: list[Hit] = []
    names = [str(h) for h in header] if header else []
    if any(_looks_like_data(name) for name in names):
        # No header row (its cells hold values): judge it as data and never print its cells as names.
        rows = [(1, names), *rows]
        names = []
    id_columns = set()
    for index, name in enumerate(names):
        kind = column_kind(name, extra)
        if kind:
            id_columns.add(index)
            hits.append(Hit(f"column `{_label(name)}`", f"{kind} column"))
    seen: set[tuple[int, str]] = set()
    for number, cells in rows:
        kinds_in_row: list[tuple[int, str]] = []
        dates = []
        for index, cell in enumerate(cells):
            text = str(cell)
            kinds_in_row += [(index, k) for k in value_kinds(text)]
            if DATE.search(text):
                dates.append(index)
        identified = bool(kinds_in_row) or any(i in id_columns for i, c in enumerate(cells) if str(c).strip())
        if identified:
            kinds_in_row += [(i, DATE_OF_BIRTH) for i in dates if i not in id_columns]
        for index, kind in kinds_in_row:
            if (index, kind) in seen:
                continue
            seen.add((index, kind))
            column = f"column `{_label(names[index])}`" if index < len(names) else f"column {index + 1}"
            hits.append(Hit(f"{column} ({row_word} {number})", kind if kind == DATE_OF_BIRTH else f"{kind} value",
                            number))
    return hits


def _looks_like_data(cell: str) -> bool:
    return bool(value_kinds(cell) or DATE.search(cell))


def _label(name: str) -> str:
    """A column name as printed in a finding: short and on one line."""
    text = " ".join(str(name).split())
    return text if len(text) <= 60 else text[:57] + "..."


def _sample(handle: BinaryIO, size: int, limits: Limits) -> tuple[bytes, bool]:
    data = handle.read(limits.head_bytes)
    return data, size > len(data)


def _complete_lines(data: bytes, truncated: bool) -> str:
    if truncated and b"\n" in data:
        data = data[: data.rindex(b"\n")]
    return data.decode("utf-8", errors="replace")


def _delimited(text: str, delimiter: str, limits: Limits, extra: dict[str, str]) -> list[Hit]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader, None)
        rows = []
        for cells in reader:
            if len(rows) >= limits.rows:
                break
            rows.append((reader.line_num, cells))
    except csv.Error as error:
        raise Unreadable(f"not valid {'TSV' if delimiter == chr(9) else 'CSV'} ({error})") from error
    return table_hits(header, rows, extra, "line")


def _json_lines(text: str, limits: Limits, extra: dict[str, str]) -> list[Hit]:
    keys: list[str] = []
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if len(rows) >= limits.rows:
            break
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as error:
            raise Unreadable(f"line {number} is not JSON ({error})") from error
        if not isinstance(record, dict):
            continue
        flat = dict(_flatten(record))
        for key in flat:
            if key not in keys:
                keys.append(key)
        rows.append((number, [str(flat.get(k, "")) for k in keys]))
    return table_hits(keys, rows, extra, "line")


def _flatten(record: dict, prefix: str = "") -> Iterator[tuple[str, object]]:
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from _flatten(value, f"{name}.")
        else:
            yield name, value


def _gunzip(data: bytes, truncated: bool, limits: Limits) -> tuple[bytes, bool]:
    """The decompressed start of a gzip file (of which maybe only the first bytes were read)."""
    import zlib

    decoder = zlib.decompressobj(wbits=31)
    try:
        out = decoder.decompress(data, limits.head_bytes)
    except zlib.error as error:
        raise Unreadable(f"not gzip ({error})") from error
    return out, truncated or bool(decoder.unconsumed_tail) or not decoder.eof


# --- Parquet: the schema's column names, from the footer (Thrift compact protocol) ------------
def parquet_columns(handle: BinaryIO, size: int, max_footer: int = 16 * 1024 * 1024) -> list[str]:
    """Leaf column names of a Parquet file, read from its footer only."""
    if size < 12:
        raise Unreadable("too short for Parquet")
    handle.seek(size - 8)
    tail = handle.read(8)
    if tail[4:] != b"PAR1":
        raise Unreadable("no Parquet footer (PAR1 magic missing)")
    length = struct.unpack("<I", tail[:4])[0]
    if length > min(size - 8, max_footer):
        raise Unreadable(f"Parquet footer of {length:,} bytes is not plausible")
    handle.seek(size - 8 - length)
    reader = _Compact(handle.read(length))
    try:
        metadata = reader.struct()
    except (IndexError, ValueError, struct.error) as error:
        raise Unreadable(f"Parquet footer cannot be decoded ({error})") from error
    schema = metadata.get(2) or []
    # SchemaElement: 4 = name, 5 = num_children; the first element is the root.
    return [element.get(4, b"").decode("utf-8", "replace") for element in schema[1:]
            if isinstance(element, dict) and not element.get(5)]


class _Compact:
    """Just enough of Thrift's compact protocol to walk a Parquet FileMetaData."""

    def __init__(self, data: bytes):
        self.data, self.at, self.depth = data, 0, 0

    def byte(self) -> int:
        value = self.data[self.at]
        self.at += 1
        return value

    def varint(self) -> int:
        shift = result = 0
        while True:
            byte = self.byte()
            result |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return result
            shift += 7
            if shift > 70:
                raise ValueError("varint too long")

    def zigzag(self) -> int:
        value = self.varint()
        return (value >> 1) ^ -(value & 1)

    def value(self, kind: int):
        if kind in (1, 2):
            return kind == 1
        if kind == 3:
            return self.byte()
        if kind in (4, 5, 6):
            return self.zigzag()
        if kind == 7:
            self.at += 8
            return None
        if kind == 8:
            length = self.varint()
            if self.at + length > len(self.data):
                raise ValueError("string past the footer")
            raw = self.data[self.at:self.at + length]
            self.at += length
            return raw
        if kind in (9, 10):
            header = self.byte()
            count, item = header >> 4, header & 0x0F
            if count == 15:
                count = self.varint()
            if count > len(self.data):
                raise ValueError("list longer than the footer")
            return [self.value(item) for _ in range(count)]
        if kind == 11:
            count = self.varint()
            if count:
                types = self.byte()
                return [(self.value(types >> 4), self.value(types & 0x0F)) for _ in range(count)]
            return []
        if kind == 12:
            return self.struct()
        raise ValueError(f"unknown compact type {kind}")

    def struct(self) -> dict[int, object]:
        self.depth += 1
        if self.depth > 64:
            raise ValueError("nesting too deep")
        fields, last = {}, 0
        while True:
            header = self.byte()
            if header == 0:
                self.depth -= 1
                return fields
            delta, kind = header >> 4, header & 0x0F
            last = last + delta if delta else self.zigzag()
            fields[last] = True if kind == 1 else False if kind == 2 else self.value(kind)


# --- xlsx: the first rows of every sheet (zip of XML) ----------------------------------------
NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def xlsx_tables(handle: BinaryIO, limits: Limits) -> Iterator[tuple[str, list[str], list[tuple[int, list[str]]]]]:
    """(sheet, header, rows) of each worksheet, streamed and cut at `limits.rows` rows."""
    try:
        book = zipfile.ZipFile(handle)
    except (zipfile.BadZipFile, OSError) as error:
        raise Unreadable(f"not an xlsx workbook ({error})") from error
    with book:
        names = book.namelist()
        try:
            strings = _shared_strings(book, limits) if "xl/sharedStrings.xml" in names else []
            for name in sorted(n for n in names if n.startswith("xl/worksheets/") and n.endswith(".xml")):
                rows = list(_sheet_rows(book, name, strings, limits))
                sheet = name.rsplit("/", 1)[-1][:-4]
                if rows:
                    yield sheet, rows[0][1], rows[1:]
        except (ElementTree.ParseError, zipfile.BadZipFile, KeyError, OSError, EOFError) as error:
            raise Unreadable(f"xlsx cannot be read ({type(error).__name__}: {error})") from error


def _shared_strings(book: zipfile.ZipFile, limits: Limits) -> list[str]:
    strings: list[str] = []
    cap = limits.rows * 200  # strings beyond the sampled rows' reach are not needed
    with book.open("xl/sharedStrings.xml") as stream:
        for _event, element in ElementTree.iterparse(stream):
            if element.tag == f"{NS}si":
                strings.append("".join(t.text or "" for t in element.iter(f"{NS}t")))
                element.clear()
                if len(strings) >= cap:
                    break
    return strings


def _sheet_rows(book, name, strings, limits) -> Iterator[tuple[int, list[str]]]:
    count = 0
    with book.open(name) as stream:
        for _event, element in ElementTree.iterparse(stream):
            if element.tag != f"{NS}row":
                continue
            cells: dict[int, str] = {}
            for cell in element.iter(f"{NS}c"):
                column = _column_index(cell.get("r", ""), len(cells))
                kind, value = cell.get("t"), cell.find(f"{NS}v")
                if kind == "s" and value is not None and (value.text or "").isdigit():
                    index = int(value.text)
                    text = strings[index] if index < len(strings) else ""
                elif kind == "inlineStr":
                    text = "".join(t.text or "" for t in cell.iter(f"{NS}t"))
                else:
                    text = value.text or "" if value is not None else ""
                cells[column] = text
            element.clear()
            width = max(cells) + 1 if cells else 0
            yield int(element.get("r") or count + 1), [cells.get(i, "") for i in range(min(width, 16384))]
            count += 1
            if count > limits.rows:
                return


def _column_index(reference: str, fallback: int) -> int:
    letters = re.match(r"[A-Z]+", reference)
    if not letters:
        return fallback
    index = 0
    for letter in letters.group(0):
        index = index * 26 + ord(letter) - 64
    return index - 1


# --- notebooks' saved outputs ---------------------------------------------------------------
TABLE_SPLIT = re.compile(r"\s*[|,\t]\s*|\s{2,}")


def text_hits(lines: Iterable[str], where: str, extra: dict[str, str]) -> list[Hit]:
    """Hits in an output's text: a table header naming identifiers, identifier values, dates beside them."""
    hits: list[Hit] = []
    seen: set[str] = set()
    table_has_ids = False
    for number, line in enumerate(lines, 1):
        cells = [c for c in TABLE_SPLIT.split(line.strip().strip("|")) if c]
        kinds = []
        header = [column_kind(c, extra) for c in cells] if len(cells) >= 2 else []
        header_kinds = sorted({k for k in header if k})
        if header_kinds and sum(1 for c in cells if column_kind(c, extra) or not _looks_like_value(c)) == len(cells):
            table_has_ids = True
            kinds += [f"{k} column" for k in header_kinds]
        else:
            values = value_kinds(line)
            kinds += [f"{k} value" for k in values]
            if DATE.search(line) and (values or table_has_ids or BIRTH_WORDS.search(line)):
                kinds.append(DATE_OF_BIRTH)
        for kind in kinds:
            if kind not in seen:
                seen.add(kind)
                hits.append(Hit(f"{where} line {number}", kind, number))
    return hits


def _looks_like_value(cell: str) -> bool:
    return bool(re.search(r"\d", cell)) or "@" in cell


def ipynb_hits(data: bytes, extra: dict[str, str]) -> list[Hit]:
    """Hits in a Jupyter notebook's saved outputs (the code itself is not judged)."""
    try:
        notebook = json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise Unreadable(f"not a notebook: {error}") from error
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list):
        # nbformat 3 kept cells under worksheets; anything else is not a notebook.
        worksheets = notebook.get("worksheets") if isinstance(notebook, dict) else None
        if not isinstance(worksheets, list):
            raise Unreadable("not a notebook: no `cells` list")
        cells = [c for w in worksheets if isinstance(w, dict) for c in (w.get("cells") or [])]
    hits: list[Hit] = []
    for number, cell in enumerate(cells, 1):
        outputs = cell.get("outputs") if isinstance(cell, dict) else None
        for index, output in enumerate(outputs if isinstance(outputs, list) else [], 1):
            # A line number inside an output is not a line of the file: the cell and output locate it.
            hits += [Hit(h.where, h.kind) for h in text_hits(_output_lines(output), f"cell {number} output {index}",
                                                               extra)]
    return hits


def _output_lines(output) -> list[str]:
    if not isinstance(output, dict):
        return []
    parts = [output.get("text"), output.get("traceback")]
    data = output.get("data")
    if isinstance(data, dict):
        for mime, value in data.items():
            if mime.startswith("text/") or mime.endswith("json"):
                parts.append(value if not mime.endswith("json") else json.dumps(value))
    lines: list[str] = []
    for part in parts:
        text = "".join(p for p in part if isinstance(p, str)) if isinstance(part, list) else part
        if isinstance(text, str):
            rows = re.sub(r"</tr\s*>|<br\s*/?>", "\n", text, flags=re.IGNORECASE)
            lines += re.sub(r"<[^>]{0,200}>", "\t", rows).splitlines()
    return lines


def source_notebook_hits(text: str, extra: dict[str, str]) -> list[Hit]:
    """Hits in a Databricks source notebook's result and markdown cells (`# MAGIC` lines).

    The code lines are not judged (code names columns such as `mrn` legitimately); what a
    notebook shows as text, a pasted result table or markdown, is.
    """
    hits: list[Hit] = []
    cell, lines, starts = 1, [], []
    for number, line in enumerate(text.splitlines() + [CELL_SEPARATORS[0]], 1):
        if line.strip() in CELL_SEPARATORS:
            for hit in text_hits(lines, f"cell {cell}", extra):
                hits.append(Hit(hit.where, hit.kind, starts[hit.line - 1]))
            cell, lines, starts = cell + 1, [], []
            continue
        stripped = line.lstrip()
        for prefix in MAGIC_PREFIXES:
            if stripped.startswith(prefix):
                lines.append(stripped[len(prefix):])
                starts.append(number)
                break
    return hits


# --- one file -------------------------------------------------------------------------------
def scan(name: str, handle: BinaryIO, size: int, limits: Limits = Limits(),
         extra_columns: dict[str, str] | None = None) -> list[Hit]:
    """PHI hits of one file by its kind (a data file or a notebook), sampled within `limits`."""
    extra = {normalize(k): v for k, v in (extra_columns or {}).items() if normalize(k)}
    try:
        return _scan(name, handle, size, limits, extra)
    except RecursionError as error:
        raise Unreadable("nested too deeply to be read") from error


def _scan(name: str, handle: BinaryIO, size: int, limits: Limits, extra: dict[str, str]) -> list[Hit]:
    lower = name.lower()
    if lower.endswith(".parquet"):
        return table_hits(parquet_columns(handle, size), [], extra)
    if lower.endswith(".xlsx"):
        hits = []
        for sheet, header, rows in xlsx_tables(handle, limits):
            hits += [Hit(f"sheet `{sheet}` {h.where}", h.kind, h.line) for h in table_hits(header, rows, extra)]
        return hits
    if lower.endswith(".ipynb"):
        data = handle.read(limits.notebook_bytes)
        if size > len(data):
            raise Unreadable(f"notebook larger than {limits.notebook_bytes:,} bytes; it cannot be judged in part")
        return ipynb_hits(data, extra)
    data, truncated = _sample(handle, size, limits)
    if lower.endswith(".gz"):
        data, truncated = _gunzip(data, truncated, limits)
        lower = lower[:-3]
    if is_notebook_source(name, data[:200]):
        return source_notebook_hits(_complete_lines(data, truncated), extra)
    text = _complete_lines(data, truncated)
    if lower.endswith(".tsv"):
        return _delimited(text, "\t", limits, extra)
    if lower.endswith(".csv"):
        return _delimited(text, ",", limits, extra)
    if lower.endswith((".jsonl", ".ndjson", ".json")):
        return _json_lines(text, limits, extra)
    return []


def identifiers_markdown() -> str:
    """docs/phi.md: the identifier list SEC303/SEC304 look for (kept equal to the code by a test)."""
    lines = ["# What mlstack check treats as PHI", "",
             "SEC303 (data files) and SEC304 (notebooks' saved outputs) report a column, a table in an output or",
             "a value that identifies a patient. A finding names the file, the column or cell and the kind, never",
             "the value. Generated from `mlstack.policy.phi`; do not edit by hand.", "",
             "## Identifying columns", "",
             "A column matches when its name, lowercased with every run of other characters made `_`, is one of",
             "these or holds one as whole words (`Patient MRN`, `home_address_line_1`). A policy adds names with",
             "`params.phi_columns: [\"study subject: trial subject id\"]` (`name` or `name: kind`).", "",
             "| kind | column names |", "| --- | --- |"]
    kinds: dict[str, list[str]] = {}
    for name, kind in IDENTIFIER_COLUMNS.items():
        kinds.setdefault(kind, []).append(f"`{name}`")
    for name, kind in EXACT_ONLY.items():
        kinds.setdefault(kind, []).append(f"`{name}` (alone)")
    lines += [f"| {kind} | {', '.join(names)} |" for kind, names in kinds.items()]
    lines += ["", "## Identifying values", "",
              "- social security number: `123-45-6789` shapes (not 000, 666 or 9xx area numbers);",
              "- phone number: North American numbers such as `(555) 867-5309`, `555.867.5309`, `+1 555 867 5309`;",
              "- e-mail address: any address outside the reserved example domains (example.com, .test, .invalid);",
              "- date next to an identifier: a date (`1984-03-02`, `3/2/1984`) in a row that has an identifier,",
              "  or in an output line that mentions birth.", "",
              "## What is read", "",
              f"- {', '.join(DATA_SUFFIXES)}: the first `params.phi_sample_bytes` (default 1 MiB) and",
              "  `params.phi_sample_rows` (default 1000) rows; Parquet by its footer's schema only; xlsx by the",
              "  first rows of every sheet;",
              "- `.ipynb`: every cell's saved outputs (text, HTML tables, errors), whole up to 32 MiB;",
              "- Databricks source notebooks (`# Databricks notebook source`): the `# MAGIC` lines of every cell",
              "  (results and markdown), not the code.",
              "- A file that cannot be read as its kind is a warning finding of its own."]
    return "\n".join(lines) + "\n"
