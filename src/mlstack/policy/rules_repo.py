"""REPO: the layout every generated repository keeps, without leftovers of merges or rendering."""

from __future__ import annotations

import re

from mlstack.policy.model import ERROR, WARNING, Finding, Rule, register

CONFLICT_START = re.compile(r"^<{7}(?: |$)")
CONFLICT_END = re.compile(r"^>{7}(?: |$)")
UNRENDERED = re.compile(r"\{\{-?\s*cookiecutter\.|\{%-?\s*(?:if|for|raw|endif|endfor|endraw|set)\b[^%]*cookiecutter")
REQUIRED_FILES = ("README.md", ".gitignore", "configs/project.yml", "configs/local.yml", "configs/dev.yml",
                  "configs/staging.yml", "configs/prod.yml")


@register
class REPO001(Rule):
    """No leftover merge-conflict markers in any file."""

    family = "REPO"
    severity = ERROR
    fix = "resolve the conflict (keep the right lines, delete the <<<<<<< ======= >>>>>>> markers) and commit"

    def check(self, repo, params):
        for path in repo.files:
            text = repo.read_text(path)
            if not text or "<<<<<<<" not in text:
                continue
            lines = text.splitlines()
            starts = [n for n, line in enumerate(lines, 1) if CONFLICT_START.match(line)]
            if starts and any(CONFLICT_END.match(line) for line in lines):
                yield Finding(self.id, ERROR, "unresolved merge conflict", path, starts[0])


@register
class REPO002(Rule):
    """No unrendered template placeholders ({{ cookiecutter.x }}) in any file."""

    family = "REPO"
    severity = ERROR
    fix = "replace the placeholder with the real value (see .mlstack/answers.yml), or fix the template"

    def check(self, repo, params):
        for path in repo.files:
            text = repo.read_text(path)
            if not text or "cookiecutter" not in text:
                continue
            for number, line in enumerate(text.splitlines(), 1):
                if UNRENDERED.search(line):
                    yield Finding(self.id, ERROR, "unrendered template placeholder", path, number)
                    break


@register
class REPO003(Rule):
    """The standard layout is present: README, .gitignore, configs for every environment, tests."""

    family = "REPO"
    severity = WARNING
    fix = "restore the missing file from the pristine branch (`git checkout mlstack/template -- PATH`)"

    def check(self, repo, params):
        present = set(repo.files)
        for path in REQUIRED_FILES:
            if path not in present:
                yield Finding(self.id, WARNING, f"{path} is missing", path)
        if not any(f.startswith("tests/") and f.rsplit("/", 1)[-1].startswith("test_") for f in present):
            yield Finding(self.id, WARNING, "no tests (tests/test_*.py)", "tests")
