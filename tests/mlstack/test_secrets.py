"""One table of credential formats: `check` and `validate` flag exactly the same secrets.

The samples are assembled at run time so that this file itself holds no token-shaped text.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from mlstack.commands.validate import validate_directory
from mlstack.policy.engine import run_check
from mlstack.policy.policy_file import Policy
from mlstack.secrets import CREDENTIAL_FORMATS, credentials_in, with_article

HEX = "0123456789abcdef"
SAMPLES = {
    "Databricks personal access token": "token: dapi" + HEX * 2,
    "Databricks OAuth secret": "client secret: dose" + HEX * 2,
    "AWS access key ID": "AKIA" + "ABCDEFGHIJKLMNOP",
    "AWS secret access key": "aws_secret_access_key = " + "A" * 40,
    "GitHub token": "ghp_" + "a" * 36,
    "GitLab token": "glpat-" + "a" * 20,
    "Slack token": "xoxb-" + "1234567890abc",
    "Google API key": "AIza" + "a" * 35,
    "private key": "-----BEGIN RSA " + "PRIVATE KEY-----",
    "Azure storage account key": "key: " + "a" * 86 + "==",
    "Azure storage connection string": "DefaultEndpointsProtocol=https;AccountKey=" + "a" * 20,
    "shared access signature": "https://acct.blob.core.windows.net/c/f?sv=2024&sig=" + "a" * 24,
    "hard-coded credential": 'password = "' + "correct-horse-battery" + '"',
}


def test_every_format_has_a_sample_that_it_and_only_it_names():
    assert set(SAMPLES) == {credential.kind for credential in CREDENTIAL_FORMATS}
    for kind, sample in SAMPLES.items():
        assert credentials_in(sample) == [(1, kind)], kind


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_check_and_validate_flag_the_same_credential(tmp_path: Path, kind):
    folder = tmp_path / "repo"
    folder.mkdir()
    (folder / "main.tf").write_text('variable "x" {\n  default = 1\n}\n')
    (folder / "notes.txt").write_text(f"first line\n{SAMPLES[kind]}\n")

    checked = run_check(folder, Policy(), select=["SEC301"], today=dt.date(2026, 12, 1)).findings
    validated = [f for f in validate_directory(folder, use_terraform=False).findings if f.path.name == "notes.txt"]

    assert [(f.path, f.line, f.message) for f in checked] == [("notes.txt", 2, f"looks like {with_article(kind)}")]
    assert [(f.line, f.message.split(" in plain text")[0]) for f in validated] == [(2, kind)]


def test_the_article_goes_by_the_sound():
    assert with_article("AWS access key ID") == "an AWS access key ID"
    assert with_article("Azure storage account key") == "an Azure storage account key"
    assert with_article("GitHub token") == "a GitHub token"


def test_an_integrity_hash_is_not_an_azure_key():
    assert credentials_in('"integrity": "sha512-' + "a" * 86 + '=="') == []
