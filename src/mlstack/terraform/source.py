"""A small HCL lexer that keeps line numbers, for the facts python-hcl2's dicts lose.

python-hcl2 tells whether a file parses and what its values are, but not where things are.
This lexer finds declarations and references with their lines: it skips comments, treats
string and heredoc text as data, and lexes `${...}` / `%{...}` template parts as code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

IDENT_START = re.compile(r"[A-Za-z_]")
IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
HEREDOC = re.compile(r"<<(-?)([A-Za-z_][A-Za-z0-9_-]*)[ \t]*\r?\n")


@dataclass(frozen=True)
class Token:
    kind: str  # ident, string, number, punct
    value: str
    line: int
    interpolated: bool = False  # strings only: contains ${...} or %{...}


@dataclass(frozen=True)
class Reference:
    """A traversal such as var.x, module.m.out or aws_s3_bucket.b.arn, and where it is."""

    parts: tuple[str, ...]
    line: int
    block: str = ""  # type of the top-level block it appears in (resource, moved, output...)
    attribute: str = ""  # the block's own attribute it is part of (from, to, value...)


@dataclass(frozen=True)
class Block:
    """A top-level block: its type, labels and first line."""

    type: str
    labels: tuple[str, ...]
    line: int


@dataclass
class SourceFacts:
    """What one file declares and references, with line numbers."""

    blocks: list[Block] = field(default_factory=list)
    locals: list[tuple[str, int]] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    scoped_names: set[str] = field(default_factory=set)  # for-expression and dynamic iterators
    literal_assignments: list[tuple[str, str, int]] = field(default_factory=list)
    # Attributes directly inside each top-level block: (block type, labels) -> {name: line}.
    block_attributes: dict[tuple[str, tuple[str, ...]], dict[str, int]] = field(default_factory=dict)


class _Lexer:
    def __init__(self, text: str):
        self.text = text
        self.pos = 0
        self.line = 1
        self.tokens: list[Token] = []

    def _advance(self, count: int) -> str:
        chunk = self.text[self.pos:self.pos + count]
        self.line += chunk.count("\n")
        self.pos += count
        return chunk

    def code(self, until_close: bool = False) -> None:
        """Lex code until the end of text, or until the `}` closing an interpolation."""
        depth = 0
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char in " \t\r\n":
                self._advance(1)
            elif char == "#" or text.startswith("//", self.pos):
                end = text.find("\n", self.pos)
                self._advance((end if end >= 0 else len(text)) - self.pos)
            elif text.startswith("/*", self.pos):
                end = text.find("*/", self.pos + 2)
                self._advance((end + 2 if end >= 0 else len(text)) - self.pos)
            elif char == '"':
                self.string()
            elif text.startswith("<<", self.pos) and HEREDOC.match(text, self.pos):
                self.heredoc()
            elif IDENT_START.match(char):
                match = IDENT.match(text, self.pos)
                self.tokens.append(Token("ident", match.group(), self.line))
                self._advance(len(match.group()))
            elif char.isdigit():
                match = NUMBER.match(text, self.pos)
                self.tokens.append(Token("number", match.group(), self.line))
                self._advance(len(match.group()))
            else:
                if char in "{[(":
                    depth += 1
                elif char in "}])":
                    if until_close and char == "}" and depth == 0:
                        self._advance(1)
                        return
                    depth -= 1
                two = text[self.pos:self.pos + 2]
                value = two if two in ("==", "!=", "<=", ">=", "=>", "&&", "||") else char
                self.tokens.append(Token("punct", value, self.line))
                self._advance(len(value))

    def _template_text(self, end: str | None) -> tuple[str, bool]:
        """Template characters up to the closing quote (end='"') or end of text; lexes ${...}."""
        text = self.text
        literal: list[str] = []
        interpolated = False
        while self.pos < len(text):
            char = text[self.pos]
            if end == '"' and char == "\\":
                literal.append(self._advance(2))
            elif end == '"' and char == '"':
                self._advance(1)
                break
            elif end == '"' and char == "\n":  # unterminated string: let python-hcl2 report it
                break
            elif text.startswith("$${", self.pos) or text.startswith("%%{", self.pos):
                literal.append(self._advance(3)[1:])
            elif text.startswith("${", self.pos) or text.startswith("%{", self.pos):
                interpolated = True
                self._advance(2)
                self.code(until_close=True)
            else:
                literal.append(self._advance(1))
        return "".join(literal), interpolated

    def string(self) -> None:
        line = self.line
        self._advance(1)
        marker = len(self.tokens)
        value, interpolated = self._template_text('"')
        self.tokens.insert(marker, Token("string", value, line, interpolated))

    def heredoc(self) -> None:
        match = HEREDOC.match(self.text, self.pos)
        line = self.line
        marker_name = match.group(2)
        self._advance(match.end() - self.pos)
        closing = re.compile(rf"^[ \t]*{re.escape(marker_name)}[ \t]*$", re.M)
        end = closing.search(self.text, self.pos)
        stop = end.start() if end else len(self.text)
        body = _Lexer(self.text[self.pos:stop])
        body.line = self.line
        marker = len(self.tokens)
        value, interpolated = body._template_text(None)
        self.tokens.insert(marker, Token("string", value, line, interpolated))
        self.tokens.extend(body.tokens)
        self._advance((end.end() if end else len(self.text)) - self.pos)


def tokenize(text: str) -> list[Token]:
    lexer = _Lexer(text)
    lexer.code()
    return lexer.tokens


def _is(token: Token | None, kind: str, value: str | None = None) -> bool:
    return token is not None and token.kind == kind and (value is None or token.value == value)


def _traversal(tokens: list[Token], start: int) -> tuple[tuple[str, ...], int]:
    """Names of `a.b[...].c` starting at tokens[start], and where scanning resumes.

    An index counts as the part "[]"; scanning resumes inside the first index, so references
    in index expressions (aws_iam_role.ci[var.env]) are checked too.
    """
    parts = [tokens[start].value]
    i = start + 1
    resume = None
    while i < len(tokens):
        if _is(tokens[i], "punct", ".") and i + 1 < len(tokens) and tokens[i + 1].kind in ("ident", "number"):
            parts.append(tokens[i + 1].value)
            i += 2
        elif _is(tokens[i], "punct", "["):
            resume = resume if resume is not None else i
            depth, i = 1, i + 1
            while i < len(tokens) and depth:
                if _is(tokens[i], "punct", "["):
                    depth += 1
                elif _is(tokens[i], "punct", "]"):
                    depth -= 1
                i += 1
            parts.append("[]")
        else:
            break
    return tuple(parts), resume if resume is not None else i


def scan(text: str) -> SourceFacts:
    """Declarations, references, scoped names and literal string assignments of one file."""
    tokens = tokenize(text)
    facts = SourceFacts()
    depth = 0
    block_stack: list[str] = []
    current: tuple[str, tuple[str, ...]] | None = None
    attribute = ""
    i = 0
    while i < len(tokens):
        token = tokens[i]
        previous = tokens[i - 1] if i else None
        following = tokens[i + 1] if i + 1 < len(tokens) else None
        if _is(token, "punct", "{"):
            block_stack.append("")
            depth += 1
        elif _is(token, "punct", "}"):
            if block_stack:
                block_stack.pop()
            depth = max(depth - 1, 0)
        elif token.kind == "ident":
            if depth == 0 and (following is not None and (following.kind == "string" or _is(following, "punct", "{"))):
                labels, j = [], i + 1
                while j < len(tokens) and tokens[j].kind == "string":
                    labels.append(tokens[j].value)
                    j += 1
                if j < len(tokens) and _is(tokens[j], "punct", "{"):
                    facts.blocks.append(Block(token.value, tuple(labels), token.line))
                    current = (token.value, tuple(labels))
                    attribute = ""
                    facts.block_attributes.setdefault(current, {})
                    block_stack.append(token.value)
                    depth += 1
                    i = j + 1
                    continue
            if token.value == "dynamic" and _is(following, "string"):
                facts.scoped_names.add(following.value)
            if token.value == "iterator" and _is(following, "punct", "=") and i + 2 < len(tokens):
                facts.scoped_names.add(tokens[i + 2].value)
            if token.value == "for" and _is(following, "ident"):
                facts.scoped_names.add(following.value)
                if _is(tokens[i + 2] if i + 2 < len(tokens) else None, "punct", ","):
                    facts.scoped_names.add(tokens[i + 3].value)
            if _is(following, "punct", "=") and not _is(previous, "punct", "."):
                if depth == 1 and block_stack and block_stack[-1] == "locals":
                    facts.locals.append((token.value, token.line))
                if depth == 1 and current is not None:
                    facts.block_attributes[current].setdefault(token.value, token.line)
                    attribute = token.value
                value = tokens[i + 2] if i + 2 < len(tokens) else None
                after = tokens[i + 3] if i + 3 < len(tokens) else None
                ends_there = after is None or after.line > value.line or (
                    after.kind == "punct" and after.value in ("}", ","))
                if _is(value, "string") and not value.interpolated and ends_there:
                    facts.literal_assignments.append((token.value, value.value, token.line))
            if not _is(previous, "punct", ".") and _is(following, "punct", "."):
                parts, end = _traversal(tokens, i)
                if len(parts) >= 2:
                    facts.references.append(Reference(parts, token.line, current[0] if current else "", attribute))
                i = end
                continue
        i += 1
    return facts
