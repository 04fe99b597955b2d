"""configs/ edits made for `make adopt-table`: one value at a time, comments kept, all files or none."""

from pathlib import Path

import pytest
import yaml

from {{ cookiecutter.package_name }}.io.config_files import ConfigFileError, replace_files, set_yaml_value

PROJECT = """\
# shared settings
tables:
  training_data: patient_outcomes_history     # labelled history
  outcomes: patient_observed_outcomes         # labels that arrive later

validation:
  thresholds:
    average_precision: {min: 0.30}
"""


def test_a_value_changes_and_every_comment_stays_in_place():
    text = set_yaml_value(PROJECT, "tables.training_data", "churn")
    text = set_yaml_value(text, "tables.outcomes", None)
    text = set_yaml_value(text, "validation.thresholds.average_precision", {"min": 0.41})
    assert "  training_data: churn                        # labelled history\n" in text
    assert "  outcomes: null " in text and "# labels that arrive later" in text
    assert yaml.safe_load(text) == {
        "tables": {"training_data": "churn", "outcomes": None},
        "validation": {"thresholds": {"average_precision": {"min": 0.41}}},
    }
    assert text.startswith("# shared settings\n")


def test_a_missing_key_is_added_under_its_section():
    text = set_yaml_value(PROJECT, "example.enabled", False)
    assert yaml.safe_load(text)["example"] == {"enabled": False}
    text = set_yaml_value(PROJECT, "tables.features", "churn_features")
    assert yaml.safe_load(text)["tables"]["features"] == "churn_features"


def test_a_file_whose_layout_cannot_be_kept_is_refused_naming_the_value_to_set():
    flow = "tables: {training_data: old}\n"
    with pytest.raises(ConfigFileError, match="could not set tables.training_data.*set it by hand to churn"):
        set_yaml_value(flow, "tables.training_data", "churn", source="configs/project.yml")


def test_files_are_written_all_together_or_not_at_all(tmp_path: Path):
    first, second = tmp_path / "a.yml", tmp_path / "b.yml"
    first.write_text("a: 1\n")
    replace_files({first: "a: 2\n", second: "b: 2\n"})
    assert (first.read_text(), second.read_text()) == ("a: 2\n", "b: 2\n")
    missing = tmp_path / "no-such-folder" / "c.yml"
    with pytest.raises(OSError):
        replace_files({first: "a: 3\n", missing: "c: 3\n"})
    assert first.read_text() == "a: 2\n" and not missing.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.yml", "b.yml"]  # no temporary file left
