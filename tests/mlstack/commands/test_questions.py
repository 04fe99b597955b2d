"""`mlstack questions`: resolved defaults, choices as lists, and an answers file init takes as printed."""

from __future__ import annotations

import json

import yaml
from typer.testing import CliRunner

from helpers import project_files
from mlstack.cli import app
from mlstack.errors import INVALID_INPUT

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def recorded(project) -> dict:
    return yaml.safe_load((project / ".mlstack" / "answers.yml").read_text())


def test_human_listing_shows_resolved_defaults_and_choices_as_lists():
    result = invoke("questions")
    assert result.exit_code == 0, result.output
    assert "{{" not in result.output and "{%" not in result.output and "['" not in result.output
    lines = result.output.splitlines()
    slug = lines.index(next(line for line in lines if line.startswith("project_slug:")))
    assert lines[slug + 1] == "    default: maternal-health-risk"
    assert "    choices: azure, aws, gcp" in lines
    assert "    default: https://github.com/my-org/maternal-health-risk" in lines  # git_repo_url, rendered
    assert "== Identities ==" in lines
    assert any("conditional" in line for line in lines if line.startswith("tfstate_s3_bucket:"))


def test_yaml_answers_file_round_trips_through_init(tmp_path):
    printed = invoke("questions", "--format", "yaml")
    assert printed.exit_code == 0, printed.output
    text = printed.output
    assert "# choices: azure, aws, gcp\ncloud: \"azure\"" in text
    assert "# project_slug: \"maternal-health-risk\"" in text  # derived: follows the name unless uncommented
    parsed = yaml.safe_load(text)
    assert parsed["cloud"] == "azure" and parsed["prod_sp_name"] == "prod-sp"
    edited = text.replace('project_name: "Maternal Health Risk"', 'project_name: "Churn Model"')
    edited = edited.replace('prod_sp_name: "prod-sp"', 'prod_sp_name: "churn-prod-sp"')
    assert edited != text
    answers_file = tmp_path / "answers.yml"
    answers_file.write_text(edited)
    result = invoke("init", "--no-input", "--answers-file", str(answers_file), "-o", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    answers = recorded(tmp_path / "out" / "churn-model")["answers"]
    assert answers["project_name"] == "Churn Model" and answers["project_slug"] == "churn-model"
    assert answers["prod_sp_name"] == "churn-prod-sp"
    assert answers["package_name"] == "churn_model" and answers["feature_store"] is True


def test_yaml_with_every_key_uncommented_is_accepted_as_well(tmp_path):
    text = invoke("questions", "--format", "yaml").output
    uncommented = "\n".join(line[2:] if line.startswith("# ") and ": \"" in line and not line.startswith("# choices")
                            else line for line in text.splitlines())
    answers_file = tmp_path / "all.yml"
    answers_file.write_text(uncommented)
    assert "tfstate_s3_bucket" in yaml.safe_load(uncommented)
    result = invoke("init", "--no-input", "--answers-file", str(answers_file), "-o", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output


def test_json_lists_every_question_for_tools():
    result = invoke("questions", "--format", "json")
    assert result.exit_code == 0
    questions = {q["key"]: q for q in json.loads(result.output)}
    assert questions["cloud"]["choices"] == ["azure", "aws", "gcp"] and questions["cloud"]["type"] == "choice"
    assert questions["serving"]["type"] == "bool" and questions["serving"]["default"] is False
    assert questions["model_name"]["default"] == "maternal_health_risk_model" and questions["model_name"]["derived"]
    assert questions["gitlab_host"]["conditional"] and questions["project_name"]["help"]


def test_unknown_format_is_one_line_error():
    result = invoke("questions", "--format", "toml")
    assert result.exit_code == INVALID_INPUT
    assert "--format 'toml': must be one of text, yaml, json" in result.output


def test_dry_run_lists_the_files_init_writes_and_writes_nothing(tmp_path):
    out = tmp_path / "out"
    result = invoke("init", "--dry-run", "--no-input", "--set", "cloud=aws", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert not out.exists()
    assert "Dry run: nothing was written" in result.output and "  * cloud: aws" in result.output
    listed = [line.strip() for line in result.output.splitlines()]
    assert "terraform/backends/aws/" in " ".join(listed) and "terraform/backends/azure/" not in result.output
    created = invoke("init", "--no-input", "--set", "cloud=aws", "-o", str(out))
    assert created.exit_code == 0
    files = [f for f in project_files(out / "maternal-health-risk") if not f.startswith(".git/")]
    assert f"({len(files)} files)" in result.output.splitlines()[0]


def test_dry_run_refuses_invalid_answers_and_an_existing_destination(tmp_path):
    out = tmp_path / "out"
    bad = invoke("init", "--dry-run", "--no-input", "--set", "prod_sp_name=staging-sp", "-o", str(out))
    assert bad.exit_code == INVALID_INPUT and "must differ from staging_sp_name" in bad.output
    assert not out.exists()
    (out / "maternal-health-risk").mkdir(parents=True)
    (out / "maternal-health-risk" / "mine.txt").write_text("keep")
    taken = invoke("init", "--dry-run", "--no-input", "-o", str(out))
    assert taken.exit_code != 0 and "already exists" in taken.output
    assert [p.name for p in (out / "maternal-health-risk").iterdir()] == ["mine.txt"]


def test_interactive_dry_run_asks_then_writes_nothing(tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(app, ["init", "--dry-run", "-o", str(out)], input="\n" * 40, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Show what would be created? [Y/n]" in result.output and "Dry run: nothing was written" in result.output
    assert not out.exists()
