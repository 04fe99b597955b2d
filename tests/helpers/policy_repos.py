"""Tiny repositories for policy tests: an answers file and the few files a rule looks at (no bake, no git)."""

from __future__ import annotations

from pathlib import Path

TOKEN = "dapi0123456789abcdef0123456789abcdef"  # shaped like a Databricks token, not a real one
CONFLICT = "a = 1\n<<<<<<< HEAD\nb = 2\n=======\nb = 3\n>>>>>>> other\n"


def synthetic_repo(root: Path, version: str = "1.2.0", files: dict[str, str] | None = None) -> Path:
    """A repository whose answers record template `version`, plus the given files."""
    (root / ".mlstack").mkdir(parents=True)
    (root / ".mlstack" / "answers.yml").write_text(
        f"template:\n  source: https://git.example.com/platform/template.git\n  version: {version}\nanswers: {{}}\n")
    for path, text in (files or {}).items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    return root
