"""`mlstack init` through typer's test runner: prompts, flags, errors and all-or-nothing writes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from helpers import REPO_ROOT, make_template_repo, project_files
from mlstack.answers import asking_order, questions_of
from mlstack.cli import app
from mlstack.errors import DESTINATION_EXISTS, INVALID_INPUT, TEMPLATE_ERROR, UNTRUSTED_TEMPLATE
from mlstack.template import load_contract, open_template

runner = CliRunner()


def invoke(*args: str, input: str | None = None):
    return runner.invoke(app, list(args), input=input, catch_exceptions=False)


def recorded(project: Path) -> dict:
    return yaml.safe_load((project / ".mlstack" / "answers.yml").read_text())


def prompt_input(overrides: dict[str, str]) -> tuple[str, list[str]]:
    """Terminal input answering `overrides` and accepting every other default, plus the keys asked.

    The interview asks by section, the derived answers only after "review infrastructure
    details?" (answered yes when an override is a derived one), then confirms the summary.
    """
    with open_template() as template:
        contract = load_contract(template)
        questions = asking_order(questions_of(template.context, contract))
        answers: dict = {}
        for question in questions_of(template.context):
            value = overrides.get(question.key)
            answers[question.key] = value if value is not None else (
                question.choices[0] if question.choices else question.raw_default)
        review = any(q.derived for q in questions if q.key in overrides)
        lines, asked = [], []
        for derived in (False, True):
            if derived:
                lines.append("y" if review else "")
                if not review:
                    break
            for question in questions:
                if question.derived != derived or not contract.is_asked(question.key, answers):
                    continue
                asked.append(question.key)
                value = overrides.get(question.key)
                lines.append("" if value is None else str(value))
        lines.append("")  # create? [Y/n]
    return "\n".join(lines) + "\n", asked


def test_no_input_with_defaults_creates_project_and_prints_next_steps(tmp_path):
    result = invoke("init", "--no-input", "-o", str(tmp_path))
    assert result.exit_code == 0, result.output
    project = tmp_path / "maternal-health-risk"
    assert (project / "pyproject.toml").is_file()
    assert "Next steps:" in result.output and "make install && make test" in result.output
    assert "configs/" in result.output
    meta = recorded(project)
    assert meta["user_set"] == []
    assert meta["template"]["source"] == "bundled"
    assert meta["mlstack_version"]


def test_interactive_prompts_ask_only_the_chosen_clouds_storage(tmp_path):
    text, asked = prompt_input({"project_name": "Clinic Flow", "cloud": "aws", "tfstate_s3_bucket": "clinic-state"})
    assert "tfstate_s3_bucket" in asked and "tfstate_azure_storage_account" not in asked
    result = invoke("init", "-o", str(tmp_path), input=text)
    assert result.exit_code == 0, result.output
    assert "Terraform state: S3 bucket" in result.output
    assert "Azure storage account" not in result.output and "GCS bucket" not in result.output
    assert "Azure DevOps project" not in result.output
    assert "\x1b[" not in result.output  # no colour when the output is not a terminal
    project = tmp_path / "clinic-flow"
    assert 'bucket       = "clinic-state"' in (project / "terraform/backends/aws/staging.hcl").read_text()
    assert set(recorded(project)["user_set"]) == {"project_name", "cloud", "tfstate_s3_bucket"}


def test_interactive_prompt_reasks_after_an_invalid_answer(tmp_path):
    text, asked = prompt_input({})
    lines = text.splitlines()
    position = asked.index("staging_workspace_url")
    lines.insert(position, "http://not-secure.example.com")
    result = invoke("init", "-o", str(tmp_path), input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    assert "must start with https://" in result.output
    assert (tmp_path / "maternal-health-risk").is_dir()


def test_interactive_ci_platform_settings_are_conditional(tmp_path):
    text, asked = prompt_input({"ci_platform": "azure_devops", "azure_devops_project": "clinical-ml"})
    assert "gitlab_host" not in asked
    result = invoke("init", "-o", str(tmp_path), input=text)
    assert result.exit_code == 0, result.output
    assert "Azure DevOps project" in result.output and "GitLab host" not in result.output
    answers = recorded(tmp_path / "maternal-health-risk")["answers"]
    assert answers["git_repo_url"] == "https://dev.azure.com/my-org/clinical-ml/_git/maternal-health-risk"


def test_set_and_answers_file_combine_with_set_winning(tmp_path):
    answers_file = tmp_path / "answers.yml"
    answers_file.write_text("project_name: From File\ncloud: gcp\nnum_workers: 4\nfeature_store: no\n")
    result = invoke("init", "--no-input", "-o", str(tmp_path / "out"), "--answers-file", str(answers_file),
                    "--set", "cloud=aws", "--set", "project_slug=custom-slug")
    assert result.exit_code == 0, result.output
    meta = recorded(tmp_path / "out" / "custom-slug")
    assert meta["answers"]["cloud"] == "aws"
    assert meta["answers"]["num_workers"] == "4"
    assert meta["answers"]["feature_store"] is False
    assert meta["answers"]["project_name"] == "From File"
    assert set(meta["user_set"]) == {"project_name", "cloud", "num_workers", "feature_store", "project_slug"}


def test_recorded_answers_file_can_seed_a_new_project(tmp_path):
    invoke("init", "--no-input", "-o", str(tmp_path / "a"), "--set", "cloud=gcp")
    previous = tmp_path / "a" / "maternal-health-risk" / ".mlstack" / "answers.yml"
    result = invoke("init", "--no-input", "-o", str(tmp_path / "b"), "--answers-file", str(previous))
    assert result.exit_code == 0, result.output
    assert recorded(tmp_path / "b" / "maternal-health-risk")["answers"]["cloud"] == "gcp"


@pytest.mark.parametrize("args,message", [
    (["--set", "clod=aws"], "unknown question 'clod' (did you mean 'cloud'?)"),
    (["--set", "cloud=azur"], "must be one of azure, aws, gcp (did you mean 'azure'?)"),
    (["--set", "novalue"], "expected KEY=VALUE"),
    (["--set", "serverless=maybe"], "serverless='maybe': must be yes or no"),
    (["--set", "unity_catalog=no"], "unknown question 'unity_catalog'"),
    (["--set", "staging_workspace_url=https://adb.example.com/path"], "host only"),
    (["--set", "inference_schedule=0 0 11 * * * *"], "Quartz cron"),
    (["--set", "cloud=aws", "--set", "tfstate_s3_bucket=Bad_Bucket"], "tfstate_s3_bucket='Bad_Bucket'"),
    (["--set", "prod_sp_name=staging-sp"], "must differ from staging_sp_name"),
    (["--set", "main_branch=ma in"], "not a valid git branch name"),
])
def test_invalid_input_exits_with_one_line_and_writes_nothing(tmp_path, args, message):
    out = tmp_path / "out"
    result = invoke("init", "--no-input", "-o", str(out), *args)
    assert result.exit_code == INVALID_INPUT
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]
    assert not out.exists()


def test_unknown_key_in_answers_file_is_named_with_the_file(tmp_path):
    answers_file = tmp_path / "a.yml"
    answers_file.write_text("projet_name: x\n")
    result = invoke("init", "--no-input", "-o", str(tmp_path / "o"), "--answers-file", str(answers_file))
    assert result.exit_code == INVALID_INPUT
    assert f"--answers-file {answers_file}: unknown question 'projet_name' (did you mean 'project_name'?)" \
        in result.output


@pytest.mark.parametrize("content,message", [
    ("cloud: [aws, gcp]\n", "cloud must be a single value"),
    ("- a\n- b\n", "must be a mapping"),
    ("cloud: 'aws\n", "not valid YAML"),
])
def test_malformed_answers_file_is_one_line_error(tmp_path, content, message):
    answers_file = tmp_path / "a.yml"
    answers_file.write_text(content)
    result = invoke("init", "--no-input", "-o", str(tmp_path / "o"), "--answers-file", str(answers_file))
    assert result.exit_code == INVALID_INPUT and message in result.output


def test_existing_non_empty_directory_is_left_untouched(tmp_path):
    project = tmp_path / "maternal-health-risk"
    project.mkdir()
    (project / "notes.txt").write_text("mine")
    result = invoke("init", "--no-input", "-o", str(tmp_path))
    assert result.exit_code == DESTINATION_EXISTS
    assert "already exists" in result.output
    assert [p.name for p in project.iterdir()] == ["notes.txt"]
    assert (project / "notes.txt").read_text() == "mine"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".mlstack-tmp")]


def test_existing_empty_directory_is_filled(tmp_path):
    (tmp_path / "maternal-health-risk").mkdir()
    assert invoke("init", "--no-input", "-o", str(tmp_path)).exit_code == 0
    assert (tmp_path / "maternal-health-risk" / "README.md").is_file()


def test_rerunning_init_changes_nothing_in_the_existing_project(tmp_path):
    assert invoke("init", "--no-input", "-o", str(tmp_path)).exit_code == 0
    project = tmp_path / "maternal-health-risk"
    before = {name: (project / name).read_bytes() for name in project_files(project)}
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=project, capture_output=True, text=True).stdout
    assert invoke("init", "--no-input", "-o", str(tmp_path)).exit_code == DESTINATION_EXISTS
    assert {name: (project / name).read_bytes() for name in project_files(project)} == before
    assert subprocess.run(["git", "rev-parse", "HEAD"], cwd=project, capture_output=True, text=True).stdout == head


def test_template_path_needs_trust_before_its_hooks_run(tmp_path):
    result = invoke("init", "--no-input", "-o", str(tmp_path / "o"), "--template", str(REPO_ROOT))
    assert result.exit_code == UNTRUSTED_TEMPLATE
    assert "--trust" in result.output and not (tmp_path / "o").exists()
    trusted = invoke("init", "--no-input", "-o", str(tmp_path / "o"), "--template", str(REPO_ROOT), "--trust")
    assert trusted.exit_code == 0, trusted.output
    assert recorded(tmp_path / "o" / "maternal-health-risk")["template"]["source"] == str(REPO_ROOT)


def test_template_from_git_url_at_a_tag(tmp_path):
    fork = make_template_repo(tmp_path / "fork", tag="v9.9.9")
    url = f"file://{fork}"
    result = invoke("init", "--no-input", "-o", str(tmp_path / "o"), "--template", url, "--ref", "v9.9.9", "--trust")
    assert result.exit_code == 0, result.output
    meta = recorded(tmp_path / "o" / "maternal-health-risk")
    assert meta["template"]["source"] == url
    assert meta["template"]["version"] == "v9.9.9"


def test_unknown_ref_of_a_git_template_is_a_clear_error(tmp_path):
    fork = make_template_repo(tmp_path / "fork")
    result = invoke("init", "--no-input", "-o", str(tmp_path / "o"), "--template", f"file://{fork}",
                    "--ref", "v404", "--trust")
    assert result.exit_code == TEMPLATE_ERROR
    assert "has no ref 'v404'" in result.output and not (tmp_path / "o").exists()


def test_questions_command_lists_every_key(tmp_path):
    result = invoke("questions")
    assert result.exit_code == 0
    assert "tfstate_s3_bucket:" in result.output and "cloud:" in result.output


def test_help_lists_commands_without_importing_cookiecutter():
    code = ("import sys; from mlstack.cli import app; "
            "assert 'cookiecutter' not in sys.modules and 'git' not in sys.modules and 'yaml' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_input_ending_mid_prompts_is_an_interruption_not_a_finding(tmp_path):
    result = runner.invoke(app, ["init", "-o", str(tmp_path / "o")], input="Only One Answer\n")
    assert result.exit_code == 130
    assert "interrupted" in result.output and not (tmp_path / "o").exists()


def test_byte_code_caches_of_the_template_never_reach_a_project(tmp_path):
    """An installed wheel's template holds __pycache__ folders (pip compiles it): none are copied or counted."""
    from helpers import copy_template

    template = copy_template(tmp_path / "tpl")
    package = template / "{{cookiecutter.project_slug}}" / "src" / "{{cookiecutter.package_name}}"
    for folder in (package, package / "serving", template / "hooks"):
        (folder / "__pycache__").mkdir()
        (folder / "__pycache__" / "module.cpython-311.pyc").write_bytes(b"\x00stale")
    (package / "stray.pyc").write_bytes(b"\x00stale")
    result = invoke("init", "--no-input", "-o", str(tmp_path / "out"), "--template", str(template), "--trust")
    project = tmp_path / "out" / "maternal-health-risk"
    files = project_files(project)
    assert [f for f in files if "__pycache__" in f or f.endswith(".pyc")] == []
    src_line = next(line for line in result.output.splitlines() if line.startswith("  src/  ("))
    assert src_line == f"  src/  ({sum(1 for f in files if f.startswith('src/'))} files)"
    tracked = subprocess.run(["git", "-C", str(project), "ls-files"], capture_output=True, text=True).stdout
    assert "__pycache__" not in tracked and ".pyc" not in tracked
