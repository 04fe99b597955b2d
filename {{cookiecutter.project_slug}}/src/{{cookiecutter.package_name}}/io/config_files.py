"""Change configs/ the way a person would: one value at a time, comments kept, every file or none.

`set_yaml_value` edits the text of a block-style YAML file (the shape of configs/*.yml) and
checks its work by parsing the result: the file must mean exactly what it meant before, with
that one value changed, or nothing is written. `replace_files` writes a set of files so that
either all of them change or none does.
"""

from __future__ import annotations

import copy
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import yaml

INDENT = "  "
KEY_LINE = re.compile(r"^(?P<head>\s*[^:#]+:)(?P<value>[^#\n]*?)(?P<comment>\s+#[^\n]*)?(?P<newline>\n?)$")


class ConfigFileError(ValueError):
    """A config file could not be changed safely; the message says which value to set by hand."""


def yaml_text(value: Any) -> str:
    """`value` as one line of YAML: a scalar, or a flow-style list or mapping."""
    text = yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=1 << 20, allow_unicode=True)
    text = text.strip()
    return text[: -len("...")].strip() if text.endswith("...") else text


def set_yaml_value(text: str, dotted_key: str, value: Any, *, source: str = "the file") -> str:
    """`text` with the mapping entry at `dotted_key` set to `value` (added if absent), comments kept."""
    lines = text.splitlines(keepends=True)
    parts = dotted_key.split(".")
    start, end, indent = 0, len(lines), ""
    for depth, part in enumerate(parts):
        found = _find_key(lines, start, end, indent, part)
        if found is None:
            lines[end:end] = _new_entries(parts[depth:], value, indent, lines, end)
            break
        if depth == len(parts) - 1:
            block_end = _block_end(lines, found + 1, indent)
            lines[found:block_end] = [_with_value(lines[found], value)]
            break
        start, end = found + 1, _block_end(lines, found + 1, indent)
        indent = _child_indent(lines, start, end, indent)
    updated = "".join(lines)
    _check(text, updated, parts, value, source, dotted_key)
    return updated


def _find_key(lines: list[str], start: int, end: int, indent: str, key: str) -> int | None:
    pattern = re.compile(rf"^{re.escape(indent)}{re.escape(key)}\s*:(\s|$)")
    for index in range(start, end):
        if pattern.match(lines[index]):
            return index
    return None


def _is_content(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def _block_end(lines: list[str], start: int, indent: str) -> int:
    """The end of the block under a key at `indent`: the next content line indented no deeper."""
    last = start
    for index in range(start, len(lines)):
        line = lines[index]
        if not _is_content(line):
            continue
        if len(line) - len(line.lstrip(" ")) <= len(indent):
            return last
        last = index + 1
    return last


def _child_indent(lines: list[str], start: int, end: int, indent: str) -> str:
    for index in range(start, end):
        if _is_content(lines[index]):
            line = lines[index]
            return line[: len(line) - len(line.lstrip(" "))]
    return indent + INDENT


def _with_value(line: str, value: Any) -> str:
    """The key line with its value replaced; a trailing comment stays in its column where it fits."""
    match = KEY_LINE.match(line)
    if match is None:
        return line
    entry = f"{match['head']} {yaml_text(value)}"
    comment = match["comment"] or ""
    if comment:
        column = len(match["head"]) + len(match["value"]) + len(comment) - len(comment.lstrip())
        entry += " " * max(1, column - len(entry)) + comment.lstrip()
    return entry + "\n"


def _new_entries(parts: list[str], value: Any, indent: str, lines: list[str], at: int) -> list[str]:
    entries = [f"{indent}{INDENT * depth}{part}:\n" for depth, part in enumerate(parts[:-1])]
    entries.append(f"{indent}{INDENT * (len(parts) - 1)}{parts[-1]}: {yaml_text(value)}\n")
    if at > 0 and not lines[at - 1].endswith("\n"):
        entries[0] = "\n" + entries[0]
    if not indent and at > 0 and lines[at - 1].strip():
        entries[0] = "\n" + entries[0]  # a new top-level section gets a blank line before it
    return entries


def _check(before: str, after: str, parts: list[str], value: Any, source: str, dotted_key: str) -> None:
    expected = copy.deepcopy(yaml.safe_load(before) or {})
    node = expected
    for part in parts[:-1]:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[parts[-1]] = value
    try:
        parsed = yaml.safe_load(after)
    except yaml.YAMLError:
        parsed = None
    if parsed != expected:
        raise ConfigFileError(
            f"{source}: could not set {dotted_key} while keeping the file's layout; "
            f"set it by hand to {yaml_text(value)}"
        )


def replace_files(contents: dict[Path, str]) -> None:
    """Write every file in `contents`, or none: temporary files first, then renamed into place.

    A failure while writing the temporary files changes nothing; one while renaming puts back
    the files already replaced.
    """
    temporary: dict[Path, Path] = {}
    try:
        for path, text in contents.items():
            handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(text)
            os.chmod(name, path.stat().st_mode & 0o777 if path.exists() else 0o644)
            temporary[path] = Path(name)
        originals = {path: path.read_bytes() if path.exists() else None for path in contents}
        replaced: list[Path] = []
        try:
            for path, staged in temporary.items():
                os.replace(staged, path)
                replaced.append(path)
        except OSError:
            for path in replaced:
                original = originals[path]
                if original is None:
                    path.unlink(missing_ok=True)
                else:
                    path.write_bytes(original)
            raise
    finally:
        for staged in temporary.values():
            staged.unlink(missing_ok=True)
