"""Free-text answers refuse every control character, not only C0 (issue 15: 13).

DEL made the generated pyproject.toml invalid TOML; C1 controls such as U+009B (CSI) are
terminal escapes; line separators and bidirectional overrides break "one line" too.
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from mlstack.cli import app
from mlstack.errors import INVALID_INPUT
from mlstack.template import load_contract, open_template

runner = CliRunner()
with open_template() as _bundled:
    contract = load_contract(_bundled)


@pytest.mark.parametrize("character", ["\x7f", "\x80", "\x9b", "\x85", "\u2028", "\u2029", "\u202e", "\u2066",
                                       "\x1b", "\t"])
@pytest.mark.parametrize("key", ["description", "project_name"])
def test_control_characters_of_every_kind_are_refused(key, character):
    problem = contract.check_answer(key, f"Risk{character}model", {})
    assert problem is not None and "control characters" in problem.rule


@pytest.mark.parametrize("text", ["Prénom Ñandú Risk", "Modèle de risque — v2", "Ризик", "リスク"])
def test_ordinary_unicode_text_is_still_accepted(text):
    assert contract.check_answer("description", text, {}) is None


def test_del_in_the_description_never_reaches_pyproject(tmp_path):
    result = runner.invoke(app, ["init", "--no-input", "-o", str(tmp_path / "out"), "--set",
                                 "description=risk\x7fmodel"])
    assert result.exit_code == INVALID_INPUT, result.output
    assert not (tmp_path / "out").exists()
    ok = runner.invoke(app, ["init", "--no-input", "-o", str(tmp_path / "ok"), "--set", "description=risk model"])
    assert ok.exit_code == 0
    assert 'description = "risk model"' in (tmp_path / "ok" / "maternal-health-risk" / "pyproject.toml").read_text()
