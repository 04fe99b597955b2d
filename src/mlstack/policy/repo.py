"""Read-only facts about one repository, loaded lazily and cached for all rules.

Nothing here runs template code or hooks: the pristine render is read from the git
pristine commit, Terraform is parsed with python-hcl2, YAML with safe_load.
"""

from __future__ import annotations

import fnmatch
import os
import subprocess
from functools import cached_property
from pathlib import Path
from typing import Any

ANSWERS_FILE = ".mlstack/answers.yml"
WAIVERS_FILE = ".mlstack/waivers.yml"
SKIPPED_DIRS = {".git", ".venv", "venv", ".local", "node_modules", "__pycache__", ".terraform", ".pytest_cache",
                ".ruff_cache", "mlruns", "spark-warehouse"}


def glob_match(path: str, pattern: str) -> bool:
    """fnmatch where `dir/**` also matches everything below dir and `**/x` matches x at the root."""
    if fnmatch.fnmatchcase(path, pattern):
        return True
    if pattern.endswith("/**") and (path == pattern[:-3] or path.startswith(pattern[:-2])):
        return True
    return pattern.startswith("**/") and glob_match(path, pattern[3:])


class RepoFacts:
    """Lazily loaded view of a repository for the rules."""

    def __init__(self, root: Path):
        self.root = root.resolve()
        self._text: dict[str, str | None] = {}
        self.problems: list[str] = []  # facts that could not be loaded (reported by TPL004)

    # --- git ----------------------------------------------------------------------------
    def git(self, *args: str, input: bytes | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(["git", "-C", str(self.root), *args], capture_output=True, input=input)

    @cached_property
    def is_git(self) -> bool:
        return (self.root / ".git").exists() and self.git("rev-parse", "--git-dir").returncode == 0

    @cached_property
    def files(self) -> list[str]:
        """Files that are (or would be) committed: git's view when there is a git repo."""
        if self.is_git:
            listed = self.git("ls-files", "-z", "--cached", "--others", "--exclude-standard")
            if listed.returncode == 0:
                names = [n for n in listed.stdout.decode("utf-8", "replace").split("\0") if n]
                return sorted(n for n in set(names) if (self.root / n).is_file())
        found = []
        for folder, dirs, names in os.walk(self.root):
            dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS]
            for name in names:
                found.append((Path(folder) / name).relative_to(self.root).as_posix())
        return sorted(found)

    def read_text(self, path: str) -> str | None:
        """A file's text, or None when it is missing, binary or unreadable."""
        if path not in self._text:
            try:
                data = (self.root / path).read_bytes()
                self._text[path] = None if b"\0" in data[:8192] else data.decode("utf-8")
            except (OSError, UnicodeDecodeError):
                self._text[path] = None
        return self._text[path]

    def size(self, path: str) -> int:
        try:
            return (self.root / path).stat().st_size
        except OSError:
            return 0

    # --- mlstack metadata -----------------------------------------------------------------
    @cached_property
    def answers_document(self) -> dict[str, Any] | None:
        import yaml

        text = self.read_text(ANSWERS_FILE)
        if text is None:
            self.problems.append(f"{ANSWERS_FILE} is missing: this repository was not generated (or linked) by mlstack")
            return None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as error:
            self.problems.append(f"{ANSWERS_FILE} is not valid YAML ({str(error).splitlines()[0]})")
            return None
        if not isinstance(data, dict) or not isinstance(data.get("answers"), dict):
            self.problems.append(f"{ANSWERS_FILE} lacks an `answers:` mapping")
            return None
        return data

    @property
    def answers(self) -> dict[str, Any]:
        return (self.answers_document or {}).get("answers") or {}

    @property
    def template(self) -> dict[str, Any]:
        template = (self.answers_document or {}).get("template")
        return template if isinstance(template, dict) else {}

    @property
    def template_version(self) -> str | None:
        version = self.template.get("version")
        return str(version) if version not in (None, "") else None

    @cached_property
    def pristine_files(self) -> dict[str, bytes] | None:
        """The pristine render (path → bytes) at the recorded commit, or None when unavailable."""
        commit = self.template.get("pristine_commit")
        if not commit or not self.is_git:
            return None
        listing = self.git("ls-tree", "-r", "-z", "--full-tree", str(commit))
        if listing.returncode != 0:
            return None
        entries = []
        for record in listing.stdout.split(b"\0"):
            if not record:
                continue
            meta, _, name = record.partition(b"\t")
            mode, kind, sha = meta.split()
            if kind == b"blob":
                entries.append((name.decode("utf-8", "replace"), sha.decode()))
        batch = self.git("cat-file", "--batch", input="".join(f"{sha}\n" for _, sha in entries).encode())
        if batch.returncode != 0:
            return None
        contents, data, offset = {}, batch.stdout, 0
        for name, _sha in entries:
            header_end = data.index(b"\n", offset)
            size = int(data[offset:header_end].split()[2])
            contents[name] = data[header_end + 1:header_end + 1 + size]
            offset = header_end + 1 + size + 1
        return contents

    @cached_property
    def managed_patterns(self) -> list[str]:
        """Globs of files the template manages, as recorded in the pristine render's answers file."""
        import yaml

        source = None
        if self.pristine_files and ANSWERS_FILE in self.pristine_files:
            source = self.pristine_files[ANSWERS_FILE].decode("utf-8", "replace")
        elif self.read_text(ANSWERS_FILE):
            source = self.read_text(ANSWERS_FILE)
        try:
            data = yaml.safe_load(source or "") or {}
        except yaml.YAMLError:
            return []
        managed = (data.get("template") or {}).get("managed") if isinstance(data, dict) else None
        return [str(p) for p in managed] if isinstance(managed, list) else []

    # --- parsed content -----------------------------------------------------------------
    def yaml(self, path: str) -> Any:
        import yaml

        text = self.read_text(path)
        if text is None:
            return None
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError:
            return None

    @cached_property
    def terraform(self) -> dict[str, dict]:
        """Parsed .tf files (path → python-hcl2 dict); unparsable files are left out and noted."""
        parsed = {}
        for path in self.files:
            if path.endswith(".tf"):
                text = self.read_text(path)
                if text is None:
                    continue
                try:
                    parsed[path] = parse_hcl(text)
                except Exception as error:  # noqa: BLE001 - any parser failure is a finding, not a crash
                    self.problems.append(f"{path}: cannot be parsed as HCL ({type(error).__name__})")
        return parsed

    def line_of(self, path: str, needle: str) -> int | None:
        text = self.read_text(path) or ""
        for number, line in enumerate(text.splitlines(), start=1):
            if needle in line:
                return number
        return None


def parse_hcl(text: str) -> dict:
    """python-hcl2 v8 in the familiar shape: unquoted strings, blocks as lists of dicts."""
    import hcl2

    options = hcl2.SerializationOptions(strip_string_quotes=True, explicit_blocks=False, with_comments=False)
    return hcl2.loads(text, serialization_options=options)
