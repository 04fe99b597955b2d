"""The one way mlstack reads YAML: bounded, strict, and without YAML 1.1's surprises.

Most YAML that mlstack reads was written by someone else: a repository's answers and waivers
(a pull request can change them), another team's policy. So every file is read with limits
(size, nesting depth, and how far aliases may expand: an "alias bomb" of a few hundred bytes
otherwise grows to gigabytes), duplicate keys are errors rather than "last one wins", and plain
scalars follow YAML 1.2's core schema: `NO` and `on` are text, `010` is ten, `12:30` is text
and `2099-02-30` is text rather than a crash. With numbers_as_text (answers files) a plain
scalar is text unless it is true, false or null, so an answer is exactly what was written.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from mlstack.errors import InvalidInput

MAX_BYTES = 2 * 1024 * 1024
MAX_DEPTH = 64
# Nodes after expanding every alias (each use of an anchor counts its whole subtree again).
MAX_NODES = 100_000

TAG = "tag:yaml.org,2002:"
NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
INT = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
FLOAT = re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)"
                   r"|\.(?:nan|NaN|NAN))$")


class YamlFileError(ValueError):
    """A YAML document mlstack refuses to use; the message says why (and where, when it can)."""


class _Resolver(yaml.resolver.BaseResolver):
    """YAML 1.2 core schema for plain scalars, plus `<<` merge keys (GitLab CI relies on them)."""


for _tag, _pattern, _first in (
        ("null", NULL, ["~", "n", "N", ""]),
        ("bool", BOOL, list("tTfF")),
        ("int", INT, list("-+0123456789")),
        ("float", FLOAT, list("-+.0123456789")),
        ("merge", re.compile(r"^<<$"), ["<"])):
    _Resolver.add_implicit_resolver(TAG + _tag, _pattern, _first)


class _TextResolver(yaml.resolver.BaseResolver):
    """Plain scalars are text unless they are true, false or null (answers files)."""


for _tag, _pattern, _first in (("null", NULL, ["~", "n", "N", ""]), ("bool", BOOL, list("tTfF")),
                               ("merge", re.compile(r"^<<$"), ["<"])):
    _TextResolver.add_implicit_resolver(TAG + _tag, _pattern, _first)


class _Constructor(SafeConstructor):
    """The core types only; any other tag (e.g. GitLab's `!reference`) builds the plain value."""

    yaml_constructors: dict = {}

    def construct_core_int(self, node: ScalarNode) -> int:
        text = self.construct_scalar(node)
        sign = -1 if text.startswith("-") else 1
        digits = text.lstrip("+-")
        if digits.startswith(("0o", "0x")):
            return int(digits[2:], 8 if digits[1] == "o" else 16)
        return sign * int(digits, 10)

    def construct_core_float(self, node: ScalarNode) -> float:
        text = self.construct_scalar(node).lower()
        if text.lstrip("+-") == ".inf":
            return float("-inf") if text.startswith("-") else float("inf")
        if text == ".nan":
            return float("nan")
        return float(text)

    def construct_plain(self, node: Node) -> Any:
        if isinstance(node, SequenceNode):
            return self.construct_yaml_seq(node)
        if isinstance(node, MappingNode):
            return self.construct_yaml_map(node)
        return self.construct_scalar(node)

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict:
        seen: dict[Any, int] = {}
        for key_node, _value in node.value:
            if key_node.tag == TAG + "merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                if key in seen:
                    raise ConstructorError(None, None, f"duplicate key {key!r} (first on line {seen[key]})",
                                           key_node.start_mark)
                seen[key] = key_node.start_mark.line + 1
            except TypeError:
                pass  # an unhashable key: the base class names it
        return super().construct_mapping(node, deep=deep)


for _name in ("null", "bool", "str", "seq", "map"):
    _Constructor.add_constructor(TAG + _name, SafeConstructor.yaml_constructors[TAG + _name])
_Constructor.add_constructor(TAG + "int", _Constructor.construct_core_int)
_Constructor.add_constructor(TAG + "float", _Constructor.construct_core_float)
_Constructor.add_constructor(None, _Constructor.construct_plain)


class _Loader(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser, yaml.composer.Composer,
              _Constructor, _Resolver):
    def __init__(self, stream: str):
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        _Constructor.__init__(self)
        _Resolver.__init__(self)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise ComposerError(None, None, f"nested more than {MAX_DEPTH} levels deep",
                                    self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def get_single_node(self) -> Node | None:
        node = super().get_single_node()
        if node is not None:
            _check_expansion(node)
        return node


class _TextLoader(_Loader):
    yaml_implicit_resolvers = _TextResolver.yaml_implicit_resolvers


def _check_expansion(root: Node) -> None:
    """Refuse documents whose aliases expand past MAX_NODES or MAX_DEPTH (counted without expanding)."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node: Node, depth: int) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in open_nodes:
            raise ComposerError(None, None, "an alias refers to the node that contains it", node.start_mark)
        if depth > MAX_DEPTH:
            raise ComposerError(None, None, f"aliases nest more than {MAX_DEPTH} levels deep", node.start_mark)
        open_nodes.add(key)
        total = 1
        if isinstance(node, SequenceNode):
            children = node.value
        elif isinstance(node, MappingNode):
            children = [part for pair in node.value for part in pair]
        else:
            children = []
        for child in children:
            total += size(child, depth + 1)
            if total > MAX_NODES:
                raise ComposerError(None, None, f"aliases expand to more than {MAX_NODES:,} nodes "
                                    "(an alias bomb?)", node.start_mark)
        open_nodes.discard(key)
        sizes[key] = total
        return total

    size(root, 0)


def load_yaml(text: str | bytes, *, numbers_as_text: bool = False, max_bytes: int = MAX_BYTES) -> Any:
    """Parse one YAML document within the limits; YamlFileError says what is wrong and where."""
    length = len(text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass"))
    if length > max_bytes:
        raise YamlFileError(f"{length:,} bytes is more than the {max_bytes:,} mlstack reads")
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as error:
            raise YamlFileError(f"not UTF-8 (byte {error.start})") from error
    loader = None
    try:
        loader = (_TextLoader if numbers_as_text else _Loader)(text)
        return loader.get_single_data()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise YamlFileError(f"not valid YAML ({where}{error.problem or error.context or 'syntax error'})") from error
    except yaml.YAMLError as error:
        raise YamlFileError(f"not valid YAML ({_first_line(error)})") from error
    except (ValueError, TypeError, OverflowError, RecursionError) as error:
        raise YamlFileError(f"not valid YAML ({type(error).__name__}: {_first_line(error)})") from error
    finally:
        if loader is not None:
            loader.dispose()


def read_yaml(path: Path, *, numbers_as_text: bool = False, max_bytes: int = MAX_BYTES) -> Any:
    """Read and parse a YAML file within the limits (never reading more than max_bytes + 1)."""
    with path.open("rb") as handle:
        data = handle.read(max_bytes + 1)
    return load_yaml(data, numbers_as_text=numbers_as_text, max_bytes=max_bytes)


def read_yaml_file(path: Path, shown: str, *, numbers_as_text: bool = False) -> Any:
    """A YAML file the user named, or InvalidInput saying in one line why it can't be used.

    `shown` names the file as the user gave it (`--policy ci/policy.yml`), so every file that
    mlstack reads fails with the same wording: no such file, cannot be read, or what is wrong.
    """
    try:
        return read_yaml(path, numbers_as_text=numbers_as_text)
    except FileNotFoundError as error:
        raise InvalidInput(f"{shown}: no such file") from error
    except OSError as error:
        raise InvalidInput(f"{shown}: cannot be read ({error.strerror or error})") from error
    except YamlFileError as error:
        raise InvalidInput(f"{shown}: {error}") from error


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the closest candidate, or '' when nothing is close."""
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def refuse_unknown_keys(data: Mapping[Any, Any], known: Iterable[str], where: str, *, prefix: str = "",
                        noun: str = "key") -> None:
    """Config is strict: an unknown key is a typo until proven otherwise, so name it and the likely key."""
    known = list(known)
    for key in data:
        if key not in known:
            shown = f"{prefix}{key}" if prefix else repr(key)
            raise InvalidInput(f"{where}: unknown {noun} {shown}{did_you_mean(str(key), known)}")


ISO_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def calendar_day(value: Any, where: str) -> dt.date:
    """A YYYY-MM-DD day from config (YAML 1.2 leaves it text): the one parser of waiver and policy dates."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and ISO_DAY.match(value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InvalidInput(f"{where}: {str(value)[:40]!r} is not a date; write it as YYYY-MM-DD, e.g. 2027-01-31")


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:200] if text else type(error).__name__
