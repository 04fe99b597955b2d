"""One bounded, strict YAML loader for every file mlstack reads (issue 15: 7, and the YAML decisions).

The alias-bomb cases run mlstack in a subprocess with a 1 GiB address-space limit and a timeout,
so a regression fails the test instead of exhausting the machine.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from helpers import SOURCE_ROOT, git
from mlstack import errors
from mlstack.cli import app
from mlstack.yamlfile import MAX_DEPTH, YamlFileError, load_yaml

runner = CliRunner()
# Eight levels of ten aliases each: 10**8 leaves once expanded, a few hundred bytes as written.
BOMB = "[&a [" + ",".join(["x"] * 10) + "], " + ", ".join(
    f"&{name} [" + ",".join([f"*{below}"] * 10) + "]" for below, name in zip("abcdefg", "bcdefgh", strict=True)) + "]"
LIMITED = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
from mlstack.cli import main
sys.argv = ["mlstack", *sys.argv[1:]]
main()
"""


def limited_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", LIMITED, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60)


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("yaml")
    assert runner.invoke(app, ["init", "--no-input", "-o", str(out)], catch_exceptions=False).exit_code == 0
    return out / "maternal-health-risk"


@pytest.fixture
def project(generated, tmp_path) -> Path:
    return Path(shutil.copytree(generated, tmp_path / "repo", symlinks=True))


# --- the loader ---------------------------------------------------------------------------------

def test_plain_scalars_follow_yaml_1_2_core_not_1_1():
    data = load_yaml("a: 010\nb: NO\nc: 12:30\nd: 2099-02-30\ne: on\nf: 0x1F\ng: 1.5\nh: ~\ni: true\n")
    assert data == {"a": 10, "b": "NO", "c": "12:30", "d": "2099-02-30", "e": "on", "f": 31, "g": 1.5,
                    "h": None, "i": True}


def test_answers_keep_numbers_as_written():
    data = load_yaml("num_workers: 010\nowner_team: NO\nx: 1e3\nserving: false\ny: null\n", numbers_as_text=True)
    assert data == {"num_workers": "010", "owner_team": "NO", "x": "1e3", "serving": False, "y": None}


@pytest.mark.parametrize("text,message", [
    ("a: 1\nb: 2\na: 3\n", "duplicate key 'a' (first on line 1)"),
    ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), f"nested more than {MAX_DEPTH} levels deep"),
    (f"a: {BOMB}\n", "aliases expand to more than"),
    ("a: &a [*a]\n", "an alias refers to the node that contains it"),
    ("a: !!python/object/apply:os.system [true]\n", None),
])
def test_hostile_documents_are_refused_with_a_reason(text, message):
    if message is None:
        assert load_yaml(text) == {"a": [True]}  # an unknown tag is plain data, never code
        return
    with pytest.raises(YamlFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_yaml(text)


def test_merge_keys_and_local_tags_still_work():
    text = ".base: &base\n  image: python\n  stage: test\njob:\n  <<: *base\n  stage: lint\n" \
           "ref: !reference [.base, image]\n"
    data = load_yaml(text)
    assert data["job"] == {"image": "python", "stage": "lint"} and data["ref"] == [".base", "image"]


def test_size_is_capped():
    with pytest.raises(YamlFileError, match="more than the 1,000"):
        load_yaml("a: " + "x" * 2000, max_bytes=1000)


# --- every file mlstack reads goes through it -----------------------------------------------------

def test_alias_bomb_policy_exits_3_within_bounded_memory(project, tmp_path):
    policy = tmp_path / "bomb.yml"
    policy.write_text(f"rules:\n  severity:\n    SEC301: {BOMB}\n", encoding="utf-8")
    result = limited_cli("check", str(project), "--policy", str(policy), cwd=tmp_path)
    assert result.returncode == errors.INVALID_INPUT, result.stderr[-2000:]
    assert "aliases expand to more than" in result.stderr and result.stderr.count("\n") == 1


def test_alias_bomb_in_the_checked_repositorys_answers_is_a_finding_not_a_crash(project, tmp_path):
    answers = project / ".mlstack" / "answers.yml"
    answers.write_text(f"template: {{source: bundled, version: {BOMB}}}\nanswers: {{}}\n")
    result = limited_cli("check", str(project), "--format", "json", cwd=tmp_path)
    assert result.returncode == errors.FINDINGS, result.stderr[-2000:]
    assert "aliases expand to more than" in result.stdout and '"TPL004"' in result.stdout


def test_alias_bomb_in_the_recorded_answers_stops_update_with_exit_5(project, tmp_path):
    answers = project / ".mlstack" / "answers.yml"
    answers.write_text(f"template: {{source: bundled, version: {BOMB}}}\nanswers: {{}}\n")
    git(project, "commit", "--quiet", "-am", "bomb")
    result = limited_cli("update", "-C", str(project), "--dry-run", "--no-input", cwd=tmp_path)
    assert result.returncode == errors.REPO_STATE, result.stderr[-2000:]
    assert "aliases expand to more than" in result.stderr


@pytest.mark.parametrize("name,content", [
    ("waivers", "waivers:\n  - rule: SEC302\n    reason: r\n    owner: o\n    expires: 2099-02-30\n"),
    ("policy", "params:\n  max_workers: 3\n  max_workers: 4\n"),
])
def test_impossible_dates_and_duplicate_keys_are_invalid_input(project, tmp_path, name, content):
    if name == "waivers":
        (project / ".mlstack" / "waivers.yml").write_text(content)
        args = []
    else:
        (tmp_path / "policy.yml").write_text(content)
        args = ["--policy", str(tmp_path / "policy.yml")]
    result = runner.invoke(app, ["check", str(project), *args])
    assert result.exit_code == errors.INVALID_INPUT, result.output
    assert result.output.count("\n") == 1
    assert ("2099-02-30" in result.output) if name == "waivers" else ("duplicate key 'max_workers'" in result.output)


def test_answers_file_values_are_taken_as_written(tmp_path):
    answers = tmp_path / "answers.yml"
    answers.write_text("owner_team: NO\ndescription: 12:30\nnum_workers: 010\n")
    result = runner.invoke(app, ["init", "--no-input", "-o", str(tmp_path / "out"), "--answers-file", str(answers)])
    assert result.exit_code == 0, result.output
    recorded = load_yaml((tmp_path / "out" / "maternal-health-risk" / ".mlstack" / "answers.yml").read_text(),
                         numbers_as_text=True)["answers"]
    assert (recorded["owner_team"], recorded["description"], recorded["num_workers"]) == ("NO", "12:30", "010")


def test_duplicate_key_in_an_answers_file_is_refused(tmp_path):
    answers = tmp_path / "answers.yml"
    answers.write_text("cloud: aws\ncloud: gcp\n")
    result = runner.invoke(app, ["init", "--no-input", "-o", str(tmp_path / "out"), "--answers-file", str(answers)])
    assert result.exit_code == errors.INVALID_INPUT and "duplicate key 'cloud'" in result.output
    assert not (tmp_path / "out").exists()


def test_no_module_reads_yaml_any_other_way():
    source = SOURCE_ROOT
    offenders = [str(path.relative_to(source)) for path in source.rglob("*.py")
                 if path.name != "yamlfile.py" and ("safe_load" in path.read_text() or "yaml.load" in path.read_text())]
    assert offenders == []


# --- every YAML file a user names fails with the same wording -------------------------------------

def _user_files(tmp_path: Path, file: Path) -> dict[str, tuple[list[str], dict[str, str], str]]:
    """How each command is pointed at a YAML file: (arguments, environment, how its errors name it)."""
    out = str(tmp_path / "out")
    return {
        "answers": (["init", "--no-input", "-o", out, "--answers-file", str(file)], {}, f"--answers-file {file}"),
        "policy": (["check", str(tmp_path), "--policy", str(file)], {}, f"--policy {file}"),
        "org defaults": (["init", "--no-input", "-o", out, "--defaults", str(file)], {},
                         f"organisation defaults {file}"),
        "settings": (["init", "--no-input", "-o", out], {"MLSTACK_SETTINGS": str(file)}, str(file)),
    }


@pytest.mark.parametrize("kind,problem", [
    (kind, problem) for kind in ("answers", "policy", "org defaults", "settings")
    for problem in ("missing", "a directory", "not YAML", "duplicate key")
    if (kind, problem) != ("settings", "missing")  # no settings file means: no settings
])
def test_every_yaml_file_a_user_names_fails_in_one_line_with_one_wording(tmp_path, kind, problem, monkeypatch):
    file = tmp_path / "given.yml"
    if problem == "a directory":
        file.mkdir()
    elif problem == "not YAML":
        file.write_text("key: [unclosed\n")
    elif problem == "duplicate key":
        file.write_text("cloud: aws\ncloud: gcp\n")
    args, environment, shown = _user_files(tmp_path, file)[kind]
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    result = runner.invoke(app, args)
    expected = {"missing": f"error: {shown}: no such file",
                "a directory": f"error: {shown}: cannot be read (Is a directory)",
                "not YAML": f"error: {shown}: not valid YAML (line 2: ",
                "duplicate key": f"error: {shown}: not valid YAML (line 2: duplicate key 'cloud'"}[problem]
    assert result.exit_code == errors.INVALID_INPUT, result.output
    assert result.output.count("\n") == 1 and result.output.startswith(expected), result.output
