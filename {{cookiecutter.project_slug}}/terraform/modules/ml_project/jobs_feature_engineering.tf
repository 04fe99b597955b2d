# Feature engineering writes the feature tables the training and inference jobs read.
# Started on demand (or by CI); add a schedule block here to refresh features regularly.

resource "databricks_job" "feature_engineering" {
  name                = "${local.name_prefix}-feature-engineering"
  description         = "Validates the raw data and writes the feature tables."
  max_concurrent_runs = 1
  timeout_seconds     = var.job_timeout_seconds["feature_engineering"]
  tags                = local.tags

  # Production runs reviewed, released code: the branch is the release branch in prod.
  git_source {
    url      = var.git_repo_url
    provider = var.git_provider
    branch   = var.git_branch
  }

  parameter {
    name    = "env"
    default = var.environment
  }

  run_as {
    service_principal_name = local.runner_application_id
  }

  email_notifications {
    on_failure = [var.owner_email]
  }

  notification_settings {
    no_alert_for_skipped_runs = true
  }

  # A run that starts while the previous one is still going waits instead of being skipped.
  queue {
    enabled = true
  }
{%- if not cookiecutter.serverless %}

  job_cluster {
    job_cluster_key = local.job_cluster_key

    new_cluster {
      spark_version = var.spark_version
      node_type_id  = var.node_type_id
      num_workers   = var.num_workers
      policy_id     = var.cluster_policy_id
      # Dedicated (single user) access mode: required by ML runtimes on Unity Catalog.
      data_security_mode = "SINGLE_USER"
      single_user_name   = local.runner_application_id
{%- if cookiecutter.num_workers | int == 0 %}
      # No workers: run Spark locally on the driver.
      spark_conf = {
        "spark.databricks.cluster.profile" = "singleNode"
        "spark.master"                     = "local[*]"
      }
      custom_tags = { ResourceClass = "SingleNode" }
{%- endif %}
    }
  }
{%- endif %}

  task {
    task_key                  = "build_features"
{%- if not cookiecutter.serverless %}
    job_cluster_key           = local.job_cluster_key
{%- endif %}
    max_retries               = local.task_max_retries
    min_retry_interval_millis = local.task_min_retry_interval_ms

    depends_on {
      task_key = "validate_data"
    }

    notebook_task {
      notebook_path   = "notebooks/build_features"
      source          = "GIT"
      base_parameters = { env = local.job_env_reference }
    }
  }

  task {
    task_key                  = "validate_data"
{%- if not cookiecutter.serverless %}
    job_cluster_key           = local.job_cluster_key
{%- endif %}
    max_retries               = local.task_max_retries
    min_retry_interval_millis = local.task_min_retry_interval_ms

    notebook_task {
      notebook_path   = "notebooks/validate_data"
      source          = "GIT"
      base_parameters = { env = local.job_env_reference }
    }
  }
}
