"""One rule id names one rule: `check`'s and `validate`'s tables share no id, and docs/rules.md lists them all."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from helpers import REPO_ROOT, SOURCE_ROOT
from mlstack.commands.rules import all_rule_ids, render_catalogue_markdown
from mlstack.terraform.findings import RULES as VALIDATE_RULES
from mlstack.terraform.findings import Finding


def test_no_rule_id_is_used_twice():
    assert [rule for rule, count in Counter(all_rule_ids()).items() if count > 1] == []


def test_every_rule_id_is_documented_in_docs_rules_md():
    documented = re.findall(r"^### (\S+)$", (REPO_ROOT / "docs" / "rules.md").read_text(), re.MULTILINE)
    assert sorted(documented) == sorted(all_rule_ids())
    assert (REPO_ROOT / "docs" / "rules.md").read_text() == render_catalogue_markdown()


def test_every_id_validate_reports_is_in_its_table():
    used = {match for path in (SOURCE_ROOT / "terraform").glob("*.py")
            for match in re.findall(r'Finding\(\s*"([A-Z]+[0-9]+)"', path.read_text())}
    assert used and used <= set(VALIDATE_RULES), used - set(VALIDATE_RULES)
    with pytest.raises(ValueError, match="unknown validate rule id 'TF106'"):
        Finding("TF106", Path("x.tf"), 1, "a check id is not a validate id")


def test_a_finding_takes_its_severity_from_its_rule_unless_it_says_otherwise():
    assert Finding("HCL900", Path("."), 0, "skipped").severity == "note"
    assert Finding("HCL106", Path("v.tf"), 1, "no default").severity == "error"
    assert Finding("HCL106", Path("v.tf"), 1, "given at apply time", "note").severity == "note"


def test_rules_lists_validate_ids_too():
    from typer.testing import CliRunner

    from mlstack.cli import app

    output = CliRunner().invoke(app, ["rules"]).output
    assert re.search(r"^HCL106 +error +mlstack validate: required variable", output, re.MULTILINE), output
    assert re.search(r"^TF106 ", output, re.MULTILINE)


def test_rules_refuses_an_unknown_format_with_exit_2():
    from typer.testing import CliRunner

    from mlstack.cli import app

    result = CliRunner().invoke(app, ["rules", "--format", "anything"])
    assert result.exit_code == 2, result.output
    assert "'anything' is not one of 'text', 'markdown'" in result.output and "internal error" not in result.output
    assert CliRunner().invoke(app, ["rules", "--format", "markdown"]).output.startswith("# mlstack rules")
