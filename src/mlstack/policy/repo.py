"""Read-only facts about one repository, loaded lazily and cached for all rules.

Nothing here runs template code or hooks: the pristine render is read from the git
pristine commit, Terraform is parsed with python-hcl2, YAML with mlstack.yamlfile.
"""

from __future__ import annotations

import fnmatch
import os
import subprocess
from functools import cached_property
from pathlib import Path
from typing import Any

from mlstack.answers_file import RECORD_PATH
from mlstack.gitrepo import SAFE_GIT_CONFIG

ANSWERS_FILE = RECORD_PATH
WAIVERS_FILE = ".mlstack/waivers.yml"
SKIPPED_DIRS = {".git", ".venv", "venv", ".local", "node_modules", "__pycache__", ".terraform", ".pytest_cache",
                ".ruff_cache", "mlruns", "spark-warehouse"}


def _is_file_or_link(path: Path) -> bool:
    return path.is_symlink() or path.is_file()


def glob_match(path: str, pattern: str) -> bool:
    """fnmatch where `dir/**` also matches everything below dir and `**/x` matches x at the root."""
    if fnmatch.fnmatchcase(path, pattern):
        return True
    if pattern.endswith("/**") and (path == pattern[:-3] or path.startswith(pattern[:-2])):
        return True
    return pattern.startswith("**/") and glob_match(path, pattern[3:])


class RepoFacts:
    """Lazily loaded view of a repository for the rules.

    Everything in the repository is attacker-controlled (a fleet checks other teams' repos):
    files are read only when their real path stays inside the repository, names are kept as
    the bytes git lists (os.fsdecode), and git never runs the repository's own fsmonitor.
    """

    def __init__(self, root: Path):
        self.root = root.resolve()
        self._text: dict[str, str | None] = {}
        self.unreadable: dict[str, str] = {}  # path -> why it was not read
        self.problems: list[str] = []  # facts that could not be loaded (reported by TPL004)

    # --- git ----------------------------------------------------------------------------
    def git(self, *args: str, input: bytes | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(["git", *SAFE_GIT_CONFIG, "-C", str(self.root), *args], capture_output=True,
                              input=input)

    @cached_property
    def is_git(self) -> bool:
        return (self.root / ".git").exists() and self.git("rev-parse", "--git-dir").returncode == 0

    @cached_property
    def files(self) -> list[str]:
        """Files that are (or would be) committed: git's view when there is a git repo.

        Symlinks are listed too (git commits them), so a reader can say it did not follow one.
        """
        if self.is_git:
            listed = self.git("ls-files", "-z", "--cached", "--others", "--exclude-standard")
            if listed.returncode == 0:
                names = {os.fsdecode(n) for n in listed.stdout.split(b"\0") if n}
                return sorted(n for n in names if _is_file_or_link(self.root / n))
        found = []
        for folder, dirs, names in os.walk(self.root):
            dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS]
            for name in names:
                found.append((Path(folder) / name).relative_to(self.root).as_posix())
        return sorted(found)

    def inside(self, path: str) -> Path | None:
        """The real location of `path` when reading it stays inside the repository, else None."""
        real = Path(os.path.realpath(self.root / path))
        if real == self.root or self.root in real.parents:
            return real
        self.unreadable[path] = "it links outside the repository, and mlstack never follows such links"
        return None

    def read_bytes(self, path: str, limit: int | None = None) -> bytes | None:
        """A file's bytes, or None (with the reason in `unreadable`) when missing, too large,
        unreadable or reached through a link that leaves the repository. Not cached: rules
        that scan every file read each once."""
        real = self.inside(path)
        if real is None:
            return None
        try:
            with open(real, "rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                if limit is not None and size > limit:
                    self.unreadable[path] = f"it is larger than {limit // (1024 * 1024)} MiB ({size:,} bytes)"
                    return None
                return handle.read()
        except FileNotFoundError:
            pass  # absent: not a reason to report
        except IsADirectoryError:
            self.unreadable[path] = "it is a directory"
        except OSError as error:
            self.unreadable[path] = f"it cannot be read ({error.strerror or error})"
        return None

    def read_text(self, path: str) -> str | None:
        """A text file's content, or None when it is missing, binary, not UTF-8 or not readable."""
        if path not in self._text:
            data = self.read_bytes(path)
            try:
                self._text[path] = None if data is None or b"\0" in data[:8192] else data.decode("utf-8")
            except UnicodeDecodeError:
                self._text[path] = None
        return self._text[path]

    def size(self, path: str) -> int:
        real = self.inside(path)
        try:
            return real.stat().st_size if real is not None else 0
        except OSError:
            return 0

    # --- mlstack metadata -----------------------------------------------------------------
    @cached_property
    def answers_document(self) -> dict[str, Any] | None:
        from mlstack.answers_file import load_answers_document
        from mlstack.yamlfile import YamlFileError

        data = self.read_bytes(ANSWERS_FILE)
        if data is None:
            why = self.unreadable.get(ANSWERS_FILE, "")
            if why and "links outside" in why:
                self.problems.append(f"{ANSWERS_FILE} is not read: {why}")
            else:
                self.problems.append(f"{ANSWERS_FILE} is missing: this repository was not generated "
                                     "(or linked) by mlstack")
            return None
        try:
            return load_answers_document(data)
        except YamlFileError as error:
            self.problems.append(f"{ANSWERS_FILE}: {error}")
        except ValueError as error:
            self.problems.append(f"{ANSWERS_FILE} {error}")
        return None

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
        return version if isinstance(version, str) and version else None

    @cached_property
    def pristine_files(self) -> dict[str, bytes] | None:
        """The pristine render (path → bytes) at the recorded commit, or None when unavailable."""
        from mlstack.answers_file import OBJECT_ID

        commit = self.template.get("pristine_commit")
        if not isinstance(commit, str) or not OBJECT_ID.match(commit) or not self.is_git:
            return None
        listing = self.git("ls-tree", "-r", "-z", "--full-tree", "--end-of-options", commit)
        if listing.returncode != 0:
            return None
        entries = []
        for record in listing.stdout.split(b"\0"):
            if not record:
                continue
            meta, _, name = record.partition(b"\t")
            mode, kind, sha = meta.split()
            if kind == b"blob":
                entries.append((os.fsdecode(name), sha.decode()))
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
        from mlstack.answers_file import load_answers_document
        from mlstack.yamlfile import YamlFileError

        source = None
        if self.pristine_files and ANSWERS_FILE in self.pristine_files:
            source = self.pristine_files[ANSWERS_FILE]
        elif self.answers_document is not None:
            source = self.read_bytes(ANSWERS_FILE)
        try:
            data = load_answers_document(source or b"")
        except (YamlFileError, ValueError):
            return []
        template = data.get("template")
        managed = template.get("managed") if isinstance(template, dict) else None
        return [p for p in managed if isinstance(p, str)] if isinstance(managed, list) else []

    # --- parsed content -----------------------------------------------------------------
    def yaml(self, path: str) -> Any:
        """A YAML file of the repository, parsed within mlstack's limits; None when it can't be."""
        from mlstack.yamlfile import YamlFileError, load_yaml

        data = self.read_bytes(path)
        if data is None:
            return None
        try:
            return load_yaml(data)
        except YamlFileError:
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
