"""Each environment's settings load, merge over project.yml, and fail loudly when broken."""

from pathlib import Path

import pytest
import yaml

from {{ cookiecutter.package_name }}.config import (
    ENVIRONMENTS,
    SPEC_FILES,
    ConfigError,
    load_config,
    merge,
    resolve_path,
)

CONFIG_DIR = Path(__file__).resolve().parents[1] / "configs"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_environment_loads_with_its_own_name(env):
    config = load_config(env, CONFIG_DIR)
    assert config["environment"] == env
    assert config["project"]["package"] == "{{ cookiecutter.package_name }}"


def test_environments_register_distinct_models_and_experiments():
    configs = [load_config(env, CONFIG_DIR) for env in ENVIRONMENTS]
    assert len({c["mlflow"]["registered_model"] for c in configs}) == len(ENVIRONMENTS)
    assert len({c["mlflow"]["experiment"] for c in configs}) == len(ENVIRONMENTS)


def test_local_environment_keeps_mlflow_inside_the_ignored_folder():
    config = load_config("local", CONFIG_DIR)
    assert config["mlflow"]["tracking_uri"].startswith("sqlite:///.local/")
    assert ".local/" in (CONFIG_DIR.parent / ".gitignore").read_text()


def test_unknown_environment_is_rejected():
    with pytest.raises(ConfigError, match="qa"):
        load_config("qa", CONFIG_DIR)


def test_missing_required_key_is_named(tmp_path):
    (tmp_path / "project.yml").write_text((CONFIG_DIR / "project.yml").read_text())
    broken = yaml.safe_load((CONFIG_DIR / "staging.yml").read_text())
    del broken["mlflow"]["registered_model"]
    (tmp_path / "staging.yml").write_text(yaml.safe_dump(broken))
    with pytest.raises(ConfigError, match="mlflow.registered_model"):
        load_config("staging", tmp_path)


def test_merge_overrides_leaves_and_keeps_siblings():
    base = {"a": {"x": 1, "y": 2}, "b": 1}
    assert merge(base, {"a": {"y": 3}}) == {"a": {"x": 1, "y": 3}, "b": 1}
    assert base == {"a": {"x": 1, "y": 2}, "b": 1}


def test_specs_are_loaded_into_the_config_from_their_own_files():
    config = load_config("local", CONFIG_DIR, overrides=["example.enabled=true"])  # the example, even parked
    assert config["data_contract"]["dataset"]["key"] == "patient_id"
    assert "feature_groups" in config["feature_mappings"]
    assert config["feature_selection"]["include_groups"]
    assert config["imputation"]["defaults"]["numeric"] == "median"
    assert Path(config["repo_root"]) == CONFIG_DIR.parent


def test_set_overrides_one_leaf_and_parses_yaml_values():
    config = load_config(
        "local", CONFIG_DIR, overrides=["training.hyperopt.max_evals=2", "training.split_config=[0.7, 0.3]"]
    )
    assert config["training"]["hyperopt"]["max_evals"] == 2
    assert config["training"]["split_config"] == [0.7, 0.3]
    assert (
        config["training"]["hyperopt"]["metric"]
        == load_config("local", CONFIG_DIR)["training"]["hyperopt"]["metric"]
    )


@pytest.mark.parametrize("bad", ["no_equals_sign", "=3", "environment.name=1"])
def test_malformed_override_names_the_problem(bad):
    with pytest.raises(ConfigError, match="--set"):
        load_config("local", CONFIG_DIR, overrides=[bad])


def test_relative_paths_resolve_against_the_repository_not_the_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = load_config("local", CONFIG_DIR)
    assert resolve_path(config, ".local") == str(CONFIG_DIR.parent / ".local")
    assert resolve_path(config, "/abs/path") == "/abs/path"
    assert resolve_path(config, "dbfs:/x") == "dbfs:/x"


def test_databricks_environments_use_delta_and_local_uses_parquet():
    assert load_config("local", CONFIG_DIR)["storage"]["format"] == "parquet"
    for env in ("dev", "staging", "prod"):
        config = load_config(env, CONFIG_DIR)
        assert config["storage"]["format"] == "delta"
        assert config["paths"]["reports"].startswith(config["paths"]["root"])


def test_a_misspelt_key_in_a_spec_adjusted_by_an_environment_is_refused(tmp_path):
    folder = _configs_with(
        tmp_path, "dev", lambda d: d.update({"data_contract": {"dataset": {"min_row": 5}}})
    )
    with pytest.raises(ConfigError, match="data_contract.dataset.min_row is not a setting.*min_rows"):
        load_config("dev", folder)


def _configs_with(tmp_path, env: str, edit) -> Path:
    for source in CONFIG_DIR.glob("*.yml"):
        (tmp_path / source.name).write_text(source.read_text())
    data = yaml.safe_load((CONFIG_DIR / f"{env}.yml").read_text())
    edit(data)
    (tmp_path / f"{env}.yml").write_text(yaml.safe_dump(data))
    return tmp_path


def test_a_misspelt_key_in_an_environment_file_fails_with_file_path_and_suggestion(tmp_path):
    folder = _configs_with(
        tmp_path,
        "prod",
        lambda d: d.setdefault("validation", {}).update({"champion_challenger": {"min_improvment": 0.1}}),
    )
    with pytest.raises(ConfigError) as error:
        load_config("prod", folder)
    message = str(error.value)
    assert "\n" not in message and message.startswith(str(folder / "prod.yml"))
    assert "validation.champion_challenger.min_improvment is not a setting" in message
    assert "did you mean validation.champion_challenger.min_improvement?" in message


def test_a_misspelt_set_is_refused_with_a_suggestion():
    with pytest.raises(
        ConfigError,
        match=r"training.hyperopt.max_eval is not a setting; did you mean training.hyperopt.max_evals\?",
    ):
        load_config("local", CONFIG_DIR, overrides=["training.hyperopt.max_eval=1"])


def test_open_mappings_take_new_keys_from_environments_and_set():
    gamma = "training.hyperopt.search_space.distributed.gamma={distribution: uniform, low: 0, high: 1}"
    config = load_config("local", CONFIG_DIR, overrides=["tables.extra_batch=raw.ehr.batch", gamma])
    assert config["tables"]["extra_batch"] == "raw.ehr.batch"
    assert config["training"]["hyperopt"]["search_space"]["distributed"]["gamma"]["high"] == 1


def test_the_training_engine_is_project_wide_and_must_be_known(tmp_path):
    assert load_config("local", CONFIG_DIR)["training"]["engine"] == "{{ cookiecutter.training_engine }}"
    folder = _configs_with(tmp_path, "staging", lambda d: d["training"].update({"engine": "single_node"}))
    with pytest.raises(ConfigError, match="training.engine is project-wide"):
        load_config("staging", folder)
    with pytest.raises(ConfigError, match="training.engine='distributd'.*did you mean distributed"):
        load_config("local", CONFIG_DIR, overrides=["training.engine=distributd"])
    assert (
        load_config("local", CONFIG_DIR, overrides=["training.engine=single_node"])["training"]["engine"]
        == "single_node"
    )


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_environment_file_only_uses_keys_project_yml_defines(env):
    load_config(env, CONFIG_DIR)  # raises on any unknown key


def test_a_parked_example_runs_again_only_when_a_run_asks_for_it(tmp_path):
    folder = _configs_with(tmp_path, "local", lambda d: None)
    (folder / "example").mkdir()
    shipped = load_config("local", CONFIG_DIR, overrides=["example.enabled=true"])  # wherever it is now
    for key, name in SPEC_FILES.items():
        (folder / "example" / name).write_text(yaml.safe_dump(shipped[key]))
    (folder / "example" / "settings.yml").write_text("tables:\n  training_data: the_example\n")
    project = yaml.safe_load((folder / "project.yml").read_text())
    project["example"]["enabled"] = False
    project["tables"]["training_data"] = "churn"
    (folder / "project.yml").write_text(yaml.safe_dump(project))
    contract = yaml.safe_load((folder / "data_contract.yml").read_text())
    contract["dataset"]["key"] = "customer_id"
    (folder / "data_contract.yml").write_text(yaml.safe_dump(contract))

    own = load_config("local", folder)
    assert own["tables"]["training_data"] == "churn"
    assert own["data_contract"]["dataset"]["key"] == "customer_id"
    example = load_config("local", folder, overrides=["example.enabled=true"])
    assert example["tables"]["training_data"] == "the_example"
    assert example["data_contract"]["dataset"]["key"] == "patient_id"
    assert example["example"]["enabled"] is True


def test_whether_the_example_runs_is_project_wide(tmp_path):
    folder = _configs_with(tmp_path, "dev", lambda d: d.update({"example": {"enabled": False}}))
    with pytest.raises(ConfigError, match="example.enabled is project-wide"):
        load_config("dev", folder)
    with pytest.raises(ConfigError, match=r"example.enabled='yes please': use true"):
        load_config("local", CONFIG_DIR, overrides=["example.enabled=yes please"])
