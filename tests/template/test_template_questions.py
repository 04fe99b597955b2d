"""The template's answer rules: each accepts good values and rejects bad ones with a reason."""

from __future__ import annotations

import json

import pytest

from helpers import REPO_ROOT
from mlstack.template import load_contract, open_template

with open_template() as _bundled:
    questions = load_contract(_bundled)

GOOD = {
    "project_slug": ["ab", "maternal-risk-2", "x" * 63],
    "package_name": ["risk", "maternal_risk_2"],
    "staging_workspace_url": ["https://adb-1.2.azuredatabricks.net", "https://dbc-a1.cloud.databricks.com/"],
    "inference_schedule": ["0 0 11 * * ?", "0 30 6 ? * MON-FRI", "0 0/15 * * * ?", "0 0 1 L * ? 2030",
                           "0 0 2 ? * 6#3", "0 0 3 15W * ?"],
    "tfstate_azure_storage_account": ["abc", "tfstate123"],
    "tfstate_azure_container": ["tfstate", "tf-state-1"],
    "tfstate_s3_bucket": ["my-bucket", "a.b-c"],
    "tfstate_s3_region": ["us-east-1", "eu-central-1", "us-gov-west-1"],
    "tfstate_gcs_bucket": ["my_bucket-1", "abc"],
    "dev_branch": ["dev", "feature/x", "team/dev-2"],
    "timezone": ["UTC", "America/New_York", "Europe/Berlin"],
    "owner_email": ["a.b@example.org"],
    "catalog_prod": ["prod", "ml_prod_2"],
    "num_workers": ["0", "8", "100"],
    "training_engine": ["distributed", "single_node"],
    "project_name": ["Prénom Ñandú Risk", "A"],
}
BAD = {
    "project_slug": ["A", "a", "-ab", "ab-", "a--b", "a_b", "x" * 64, "9ab"],
    "package_name": ["9x", "my-pkg", "class", "json", "X"],
    "staging_workspace_url": ["http://adb.net", "https://adb.net/path", "https://adb.net:443", "adb.net",
                              "https://user:pw@adb.net", "https://localhost", "https://a..b"],
    "inference_schedule": ["0 11 * * *", "0 0 11 * * *", "0 0 11 ? * ?", "0 0 24 * * ?", "0 60 1 * * ?",
                           "0 0 1 32 * ?", "0 0 1 ? 13 *", "0 0 1 ? * 8", "x y z a b c", "0 0/0 * * * ?"],
    "tfstate_azure_storage_account": ["ab", "Tfstate", "tf-state", "a" * 25],
    "tfstate_azure_container": ["ab", "Tf", "-tf", "tf--state", "tf-"],
    "tfstate_s3_bucket": ["ab", "My-Bucket", "a..b", "192.168.1.1", "xn--abc", "abc-s3alias", "-abc"],
    "tfstate_s3_region": ["us_east_1", "useast1", "US-EAST-1"],
    "tfstate_gcs_bucket": ["ab", "goog-bucket", "my-google-bucket", "Bucket"],
    "dev_branch": ["a b", "a..b", "-dev", "dev.lock", "dev/", "a~b", "a:b", "@", ".dev", "a@{b"],
    "timezone": ["Mars/Olympus", "", "../etc/passwd"],
    "owner_email": ["nobody", "a@b"],
    "catalog_prod": ["Prod", "prod-1", "1prod"],
    "num_workers": ["-1", "101", "two", "1.5"],
    "training_engine": ["spark", "Distributed", ""],
    "project_name": ["", "   ", "line\nbreak", "{{ 7*7 }}", "x${var.y}", "a" * 101],
}


def defaults() -> dict:
    raw = json.loads((REPO_ROOT / "cookiecutter.json").read_text())
    return {"cloud": raw["cloud"][0], "ci_platform": raw["ci_platform"][0]}


@pytest.mark.parametrize("key,value", [(k, v) for k, values in GOOD.items() for v in values])
def test_rule_accepts_valid_answer(key, value):
    assert questions.check_answer(key, value, defaults()) is None


@pytest.mark.parametrize("key,value", [(k, v) for k, values in BAD.items() for v in values])
def test_rule_rejects_invalid_answer_with_a_reason(key, value):
    problem = questions.check_answer(key, value, defaults())
    assert problem is not None
    line = str(problem)
    assert line.startswith(f"{key}=") and "\n" not in line and len(problem.rule) > 10


@pytest.mark.parametrize("cloud,good,bad", [
    ("azure", "Standard_D4ds_v5", "i3.xlarge"),
    ("aws", "i3.xlarge", "Standard_D4ds_v5"),
    ("gcp", "n2-highmem-4", "i3.xlarge"),
])
def test_node_type_must_belong_to_the_chosen_cloud(cloud, good, bad):
    assert questions.check_answer("node_type", good, {"cloud": cloud}) is None
    problem = questions.check_answer("node_type", bad, {"cloud": cloud})
    assert problem and cloud in problem.rule


def test_service_principals_must_differ():
    problems = questions._check_together({"staging_sp_name": "sp", "prod_sp_name": "sp"})
    assert [p.field for p in problems] == ["prod_sp_name"]


def test_branches_must_differ():
    problems = questions._check_together({"dev_branch": "main", "main_branch": "main", "release_branch": "r"})
    assert any(p.field == "release_branch" for p in problems)


def test_questions_for_other_clouds_and_ci_platforms_are_not_asked():
    aws_github = {"cloud": "aws", "ci_platform": "github_actions", "serverless": False}
    assert questions.is_asked("tfstate_s3_bucket", aws_github)
    assert not questions.is_asked("tfstate_azure_storage_account", aws_github)
    assert not questions.is_asked("tfstate_gcs_bucket", aws_github)
    assert not questions.is_asked("azure_devops_project", aws_github)
    assert not questions.is_asked("gitlab_host", aws_github)
    assert questions.is_asked("gitlab_host", {**aws_github, "ci_platform": "gitlab"})
    assert questions.is_asked("catalog_prod", aws_github)
    assert not questions.is_asked("node_type", {**aws_github, "serverless": True})


def test_answers_for_unasked_questions_are_not_validated():
    answers = {"cloud": "azure", "tfstate_s3_bucket": "NOT VALID", "tfstate_azure_storage_account": "ok123",
               "staging_sp_name": "a", "prod_sp_name": "b"}
    assert questions.validate(answers) == []
