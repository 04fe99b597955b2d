"""Each environment's settings load, merge over project.yml, and fail loudly when broken."""

from pathlib import Path

import pytest
import yaml

from {{ cookiecutter.package_name }}.config import ENVIRONMENTS, ConfigError, load_config, merge

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
