"""`make adopt-table` in a generated project: a churn table unlike the example becomes the
training data in one command, `make pipeline` then registers a champion on it, and its data
contract rejects a batch that breaks it. Bad input fails in one line and changes no config.

One project is baked and installed for the module; the churn table is the project's own
synthetic fixture (tests/churn_table.py: string id, timestamp, categories, numbers, an id-like
number, free text and a 0/1 label). Every command runs through the project's Makefile.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from mlstack.cli import app

ANSWERS = {"project_name": "Churn Adopter"}
PACKAGE = "churn_adopter"


def init(out: Path) -> Path:
    options = [arg for key, value in ANSWERS.items() for arg in ("--set", f"{key}={value}")]
    result = CliRunner().invoke(app, ["init", "--no-input", "-o", str(out), *options], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out / "churn-adopter"


def configs_snapshot(project: Path) -> dict[str, str]:
    """Every file under configs/, by path, as a hash of its bytes."""
    return {
        p.relative_to(project).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((project / "configs").rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def churn_project(tmp_path_factory, project_venv) -> Path:
    """A fresh project, installed, with the churn table written where local tables live."""
    project = init(tmp_path_factory.mktemp("adopt"))
    lock = project / "constraints" / "dbr-18-ml.txt"
    project_venv.install("--constraint", str(lock), "-e", f"{project}[dev]")
    written = project_venv.run("python", "tests/churn_table.py", ".local/tables/churn", "2000", cwd=project)
    assert written.returncode == 0, written.stderr
    with (project / "configs" / "local.yml").open("a") as local:  # a small search budget, as the project's tests use
        local.write("\ntraining:\n  hyperopt:\n    max_evals: 3\n")
    return project


def make(project_venv, project: Path, *args: str):
    return project_venv.run("make", f"VENV={project_venv.path}", *args, cwd=project)


# (make arguments, the column the error names, a phrase of its fix)
BAD_INPUT = {
    "missing table": (["TABLE=churn_typo", "KEY=customer_id", "LABEL=churned"], "TABLE=churn_typo",
                      "write it as Parquet"),
    "missing key": (["TABLE=churn", "KEY=customer", "LABEL=churned"], "KEY=customer", "one of: customer_id"),
    "missing label": (["TABLE=churn", "KEY=customer_id", "LABEL=churn"], "LABEL=churn", "did you mean"),
    "label with three classes": (["TABLE=churn", "KEY=customer_id", "LABEL=plan"], "LABEL=plan", "pass a 0/1 column"),
    "key not unique": (["TABLE=churn", "KEY=region", "LABEL=churned"], "KEY=region is not unique", "deduplicate"),
}


@pytest.fixture(scope="module")
def bad_input_runs(churn_project, project_venv):
    """Each bad `make adopt-table`, run before any good one, with the configs before and after it."""
    runs = {}
    for case, (args, _, _) in BAD_INPUT.items():
        before = configs_snapshot(churn_project)
        result = make(project_venv, churn_project, "adopt-table", *args)
        runs[case] = (result, before, configs_snapshot(churn_project))
    return runs


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_fails_in_one_line_naming_the_column_and_changes_no_config(case, bad_input_runs):
    result, before, after = bad_input_runs[case]
    _, column, fix = BAD_INPUT[case]
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr[-3000:]
    assert column in errors[0] and fix in errors[0], errors[0]
    assert after == before and "adopted" not in result.stdout


@pytest.fixture(scope="module")
def adopted(churn_project, project_venv, bad_input_runs):
    """`make adopt-table` on the churn table, after the bad inputs (so they ran on the example)."""
    result = make(project_venv, churn_project, "adopt-table", "TABLE=churn", "KEY=customer_id", "LABEL=churned")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def test_adoption_writes_the_tables_specs_and_says_what_it_decided(churn_project, adopted):
    configs = churn_project / "configs"
    contract = yaml.safe_load((configs / "data_contract.yml").read_text())
    assert contract["dataset"]["key"] == "customer_id"
    columns = contract["columns"]
    assert columns["churned"] == {"type": "integer", "nullable": False, "allowed": [0, 1], "label": True}
    assert columns["plan"]["allowed"] == ["basic", "premium", "standard"]
    assert columns["tenure_months"]["type"] == "integer" and columns["tenure_months"]["min"] == 0
    assert columns["monthly_charges"]["nullable"] is True  # the table has missing bills
    assert columns["signup_at"]["type"] == "timestamp"
    mappings = yaml.safe_load((configs / "feature_mappings.yml").read_text())
    assert (mappings["entity_key"], mappings["label"]) == ("customer_id", "churned")
    features = {name for group in mappings["feature_groups"].values() for name in group["features"]}
    assert features == {
        "plan", "region", "contract", "tenure_months", "monthly_charges", "support_calls", "paperless_billing"
    }
    project = yaml.safe_load((configs / "project.yml").read_text())
    assert project["example"]["enabled"] is False
    assert project["tables"]["training_data"] == "churn" and project["tables"]["scoring_data"] == "churn"
    assert project["tables"]["outcomes"] is None and project["validation"]["fairness"]["sensitive_attribute"] is None
    # What it left out, listed with why, and what it decided for each feature.
    lines = adopted.splitlines()
    start = lines.index(next(x for x in lines if "not model inputs" in x))
    left_out = {line.split()[0]: line for line in lines[start:]}
    assert "identifier" in left_out["account_number"]
    assert "free text" in left_out["last_note"]
    assert "point in time" in left_out["signup_at"]
    assert any("monthly_charges" in line and "null" in line and "contract range" in line for line in lines)
    assert "fairness: NOT CHECKED" in adopted
    # The example is parked for the project's tests, which still pass on it.
    parked = yaml.safe_load((configs / "example" / "data_contract.yml").read_text())
    assert parked["dataset"]["key"] == "patient_id"


def test_the_projects_own_example_tests_still_pass_after_adoption(churn_project, adopted, project_venv):
    result = project_venv.run(
        "pytest", "-q", "-p", "no:cacheprovider", "tests/test_config.py", "tests/core", cwd=churn_project
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


@pytest.fixture(scope="module")
def pipeline_run(churn_project, adopted, project_venv):
    result = make(project_venv, churn_project, "pipeline")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return result.stdout


def test_make_pipeline_then_registers_a_champion_trained_on_the_adopted_table(
    churn_project, pipeline_run, project_venv
):
    assert "[sample_data] skipped" in pipeline_run
    script = (
        "import json\n"
        f"from {PACKAGE}.config import load_config\n"
        f"from {PACKAGE}.io import tracking\n"
        "config = load_config('local')\n"
        "tracking.configure_mlflow(config)\n"
        "name = tracking.model_name(config)\n"
        "champion = tracking.version_by_alias(name, 'champion')\n"
        "print(json.dumps({'version': champion.version, "
        "'inputs': sorted(tracking.version_input_columns(name, champion.version))}))\n"
    )
    result = project_venv.run("python", "-c", script, cwd=churn_project)
    assert result.returncode == 0, result.stderr[-3000:]
    champion = json.loads(result.stdout.strip().splitlines()[-1])
    assert "tenure_months" in champion["inputs"] and "plan" in " ".join(champion["inputs"])
    assert not {"age", "bmi", "account_number", "last_note"} & set(champion["inputs"])


def test_the_adopted_contract_rejects_a_batch_that_breaks_it(churn_project, pipeline_run, project_venv):
    broken = (
        "import sys; sys.path.insert(0, 'tests')\n"
        "from pathlib import Path\n"
        "from churn_table import churn_frame\n"
        "frame = churn_frame(1500, seed=9)\n"
        "frame.loc[:99, 'plan'] = 'platinum'\n"
        "folder = Path('.local/tables/churn_broken'); folder.mkdir(parents=True)\n"
        "frame.to_parquet(folder / 'part-00000.parquet', index=False, coerce_timestamps='us')\n"
    )
    written = project_venv.run("python", "-c", broken, cwd=churn_project)
    assert written.returncode == 0, written.stderr
    # As training data, and as a batch to score: both times the step stops, naming the column.
    for step, table in (("validate_data", "training_data"), ("batch_inference", "scoring_data")):
        result = project_venv.run(
            "python", "-m", f"{PACKAGE}.pipelines.{step}", "--env", "local", "--set", f"tables.{table}=churn_broken",
            cwd=churn_project, env={"SPARK_LOCAL_IP": "127.0.0.1"},
        )
        assert result.returncode == 1, result.stdout[-2000:] + result.stderr[-2000:]
        errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1 and "plan (allowed: 100 value(s) outside" in errors[0], result.stderr[-2000:]


def test_the_readme_says_on_its_first_screen_that_the_data_is_an_example_and_how_to_adopt_yours(churn_project):
    first_screen = "\n".join((churn_project / "README.md").read_text().splitlines()[:24])
    assert "is an example" in first_screen
    assert "make adopt-table TABLE=<table> KEY=<id column> LABEL=<0/1 column>" in first_screen
    # The description is the project's own answer's default, never the example's purpose.
    for path in ("README.md", "pyproject.toml", ".mlstack/answers.yml"):
        text = (churn_project / path).read_text().lower()
        assert "pregnanc" not in text, path
    assert "Churn Adopter: a binary classification model" in first_screen
