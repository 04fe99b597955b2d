"""Migration steps: version ranges, which steps an upgrade runs, and how a template declares them."""

from __future__ import annotations

import pytest

from mlstack.errors import TemplateError
from mlstack.migrations import load_migrations, migrate_answers, plan
from mlstack.versions import highest_version, in_range, parse_version


@pytest.mark.parametrize("text,expected", [
    ("v1.2.3", ((1, 2, 3), True)),
    ("1.2", ((1, 2), True)),
    ("2.0.0", ((2,), True)),
    ("2.0.0rc1", ((2,), False)),
    ("3f1c2a9b0d", None),
    ("main", None),
])
def test_versions_parse_from_tags_and_commit_ids_do_not(text, expected):
    assert parse_version(text) == expected


@pytest.mark.parametrize("version,spec,expected", [
    ("v1.4.0", ">=1.0,<2.0", True),
    ("2.0.0", ">=1.0,<2.0", False),
    ("2.0.0rc1", "<2.0.0", True),
    ("0.9", ">=1.0", False),
    ("1.0", "==v1.0.0", True),
])
def test_version_ranges_compare_numerically(version, spec, expected):
    assert in_range(version, spec) is expected


def test_highest_version_ignores_tags_that_are_not_versions():
    assert highest_version(["v1.9.0", "v1.10.0", "latest", "v1.2.0"]) == "v1.10.0"
    assert highest_version(["nightly"]) is None


def write_step(folder, name, body):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(body)


def test_upgrade_runs_the_steps_whose_range_it_leaves_in_file_order(tmp_path):
    folder = tmp_path / "hooks" / "migrations"
    write_step(folder, "0002_b.py", '"""Second."""\nAPPLIES_TO = "<2.0"\nRENAMED_ANSWERS = {"a": "b"}\n')
    write_step(folder, "0001_a.py", '"""First."""\nAPPLIES_TO = "<1.5"\nRENAMED_ANSWERS = {"x": "y"}\n')
    write_step(folder, "0003_c.py", '"""Later."""\nAPPLIES_TO = ">=2.0,<3.0"\nRENAMED_ANSWERS = {"c": "d"}\n')
    write_step(folder, "_helper.py", "raise RuntimeError('never imported')\n")
    steps = load_migrations(tmp_path)
    assert [s.name for s in steps] == ["0001_a", "0002_b", "0003_c"]
    assert [s.name for s in plan(steps, "v1.0.0", "v2.0.0").steps] == ["0001_a", "0002_b"]
    assert [s.name for s in plan(steps, "v1.6.0", "v3.1.0").steps] == ["0002_b", "0003_c"]
    assert plan(steps, "v1.0.0", "v1.4.0").steps == []
    skipped = plan(steps, "3f1c2a9b0d", "v2.0.0")
    assert skipped.steps == [] and "not a release number" in skipped.skipped_reason


def test_renamed_answers_carry_the_user_set_mark(tmp_path):
    folder = tmp_path / "hooks" / "migrations"
    write_step(folder, "0001_rename.py", '"""Rename."""\nAPPLIES_TO = "<2"\nRENAMED_ANSWERS = {"old": "new"}\n')
    answers, user_set = {"old": "kept", "other": 1}, ["old"]
    notes = migrate_answers(load_migrations(tmp_path), answers, user_set)
    assert answers == {"new": "kept", "other": 1} and user_set == ["new"]
    assert notes == ["answer old is now new"]


@pytest.mark.parametrize("body,message", [
    ('RENAMED_ANSWERS = {"a": "b"}\n', "APPLIES_TO must be a version range"),
    ('APPLIES_TO = "~1.0"\nRENAMED_ANSWERS = {"a": "b"}\n', "is not a version range"),
    ('APPLIES_TO = "<2"\n', "defines none of"),
    ('APPLIES_TO = "<2"\nimport nothing_here\n', "fails to load"),
])
def test_a_malformed_step_is_a_template_error_naming_the_file(tmp_path, body, message):
    write_step(tmp_path / "hooks" / "migrations", "0001_bad.py", body)
    with pytest.raises(TemplateError, match=message) as error:
        load_migrations(tmp_path)
    assert "0001_bad" in str(error.value)
