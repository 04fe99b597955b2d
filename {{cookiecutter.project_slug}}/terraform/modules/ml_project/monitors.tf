# Databricks data-quality monitors (data profiling) on the tables the project's own monitor reads:
# the predictions table that batch inference appends to (an inference-log profile: drift of every
# column and of the predictions, per model version and day){% if cookiecutter.serving %}, and the serving endpoint's inference
# table (a time-series profile of the request time, status code and latency that
# pipelines/serving_health.py reads){% endif %}. Their refresh failures mail the owner. What each
# watches, next to the project's own drift report, is in docs/monitoring.md.
#
# A monitor needs its table, and the jobs{% if cookiecutter.serving %} and the endpoint{% endif %} write the tables, so the first deploy
# cannot create them. {% if cookiecutter.serving %}Like the endpoint (serving.tf), a{% else %}A{% endif %} monitor is declared only once its table
# exists: every plan lists the tables of the model's schema, and the first apply after the
# table appears (the next deploy once batch inference has run) adds the monitor.

data "databricks_schema" "model" {
  name = "${local.catalog_name}.${local.schema_name}"
}

data "databricks_tables" "model_schema" {
  catalog_name = local.catalog_name
  schema_name  = local.schema_name
}

locals {
  # Full names, as configs/<env>.yml names them (tables.predictions{% if cookiecutter.serving %}, serving.inference_table{% endif %}).
  predictions_table = "${local.catalog_name}.${local.schema_name}.${var.predictions_table_name}"
{%- if cookiecutter.serving %}
  serving_table     = "${local.catalog_name}.${local.schema_name}.${var.serving_inference_table_prefix}_payload"
{%- endif %}

  monitored_tables = {
    for key, table in {
      predictions = local.predictions_table
{%- if cookiecutter.serving %}
      serving     = local.serving_table
{%- endif %}
    } : key => table if contains(data.databricks_tables.model_schema.ids, table)
  }
}

data "databricks_table" "monitored" {
  for_each = local.monitored_tables

  name = each.value
}

resource "databricks_data_quality_monitor" "predictions" {
  count = contains(keys(local.monitored_tables), "predictions") ? 1 : 0

  object_type = "table"
  object_id   = data.databricks_table.monitored["predictions"].table_info[0].table_id

  # The columns pipelines/batch_inference.py writes and pipelines/monitor.py reads. Outcomes arrive
  # later in their own table, so this profile has no label column: performance decay is the
  # project's monitor's job (monitoring.performance).
  data_profiling_config = {
    output_schema_id = data.databricks_schema.model.schema_info[0].schema_id

    # Refreshed on the monitoring job's schedule; a failed refresh mails the owner.
    schedule = {
      quartz_cron_expression = var.monitoring_schedule
      timezone_id            = var.timezone
    }
    notification_settings = {
      on_failure = {
        email_addresses = [var.owner_email]
      }
    }

    inference_log = {
      problem_type      = "INFERENCE_PROBLEM_TYPE_CLASSIFICATION"
      timestamp_column  = "scored_at"
      prediction_column = "predicted_high_risk"
      model_id_column   = "model_version"
      granularities     = ["AGGREGATION_GRANULARITY_1_DAY"]
    }
  }
}
{%- if cookiecutter.serving %}

resource "databricks_data_quality_monitor" "serving" {
  count = contains(keys(local.monitored_tables), "serving") ? 1 : 0

  object_type = "table"
  object_id   = data.databricks_table.monitored["serving"].table_info[0].table_id

  # The payload table holds each request and response as JSON text, so the score itself is not a
  # column to profile; its request time, status code and latency are.
  data_profiling_config = {
    output_schema_id = data.databricks_schema.model.schema_info[0].schema_id

    # Refreshed on the monitoring job's schedule; a failed refresh mails the owner.
    schedule = {
      quartz_cron_expression = var.monitoring_schedule
      timezone_id            = var.timezone
    }
    notification_settings = {
      on_failure = {
        email_addresses = [var.owner_email]
      }
    }

    time_series = {
      timestamp_column = "request_time"
      granularities    = ["AGGREGATION_GRANULARITY_1_HOUR", "AGGREGATION_GRANULARITY_1_DAY"]
    }
  }
}
{%- endif %}
