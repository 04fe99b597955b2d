"""Tables by logical name: Parquet locally, qualified Delta names on Databricks, helpful when missing."""

import pytest

from {{ cookiecutter.package_name }}.config import ConfigError
from {{ cookiecutter.package_name }}.io.tables import (
    TableNotFound,
    qualified_name,
    read_table,
    table_location,
    write_table,
)


def test_local_tables_round_trip_under_the_root(spark, make_config, tmp_path):
    config = make_config()
    df = spark.createDataFrame([("a", 1)], "id string, n int")
    location = write_table(df, config, "features")
    assert location == str(tmp_path / "tables" / "patient_features")
    write_table(df, config, "features", mode="append")
    assert read_table(spark, config, "features").count() == 2


def test_missing_table_says_which_step_writes_it(spark, make_config):
    with pytest.raises(TableNotFound, match="run build_features first"):
        read_table(spark, make_config(), "features")


def test_delta_names_use_catalog_and_schema(make_config):
    config = make_config("storage.format=delta", "catalog=dev", "schema=risk")
    assert qualified_name(config, "predictions") == "dev.risk.patient_risk_predictions"
    assert table_location(config, "predictions") == "dev.risk.patient_risk_predictions"
    assert qualified_name(make_config("catalog=null", "schema=risk"), "features") == "risk.patient_features"
    assert (
        qualified_name(make_config("tables.training_data=raw.ehr.births"), "training_data")
        == "raw.ehr.births"
    )


def test_unknown_logical_table_and_format_are_config_errors(make_config):
    with pytest.raises(ConfigError, match="tables.nope"):
        table_location(make_config(), "nope")
    with pytest.raises(ConfigError, match="storage.format='csv'"):
        table_location(make_config("storage.format=csv"), "features")
