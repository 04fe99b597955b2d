# The scheduled and on-demand jobs of one environment. Each task runs the notebook of one
# pipeline step (notebooks/<step>.py) from the job's git source; tasks are listed in
# task_key order and so are their dependencies, because the provider compares them as
# ordered lists and any other order shows a diff on every plan.

resource "databricks_job" "training" {
  name                = "${local.name_prefix}-training"
  description         = "Validates the data, trains the model, validates it against the champion and deploys it."
  max_concurrent_runs = 1
  timeout_seconds     = var.job_timeout_seconds["training"]
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

  # Empty unless the monitoring job starts this run (its `retrain` task): who, for which batch,
  # why, and its MLflow run. Every notebook task receives them as widgets (notebooks/_bootstrap.py);
  # train tags the run and model version with them, and in prod deploy leaves a challenger they
  # mark waiting for approval (core/promotion.py needs_approval).
  parameter {
    name    = "triggered_by"
    default = ""
  }

  parameter {
    name    = "trigger_batch_id"
    default = ""
  }

  parameter {
    name    = "trigger_reasons"
    default = ""
  }

  parameter {
    name    = "trigger_monitor_run_id"
    default = ""
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
{%- if not cookiecutter.feature_store %}

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
{%- endif %}

  # Promotion changes the registry: a failed deploy waits for a person rather than a retry.
  task {
    task_key        = "deploy"
{%- if not cookiecutter.serverless %}
    job_cluster_key = local.job_cluster_key
{%- endif %}
    max_retries     = 0
    timeout_seconds = 1800

    depends_on {
      task_key = "validate_model"
    }

    notebook_task {
      notebook_path   = "notebooks/deploy"
      source          = "GIT"
      base_parameters = { env = local.job_env_reference }
    }
  }
{%- if cookiecutter.feature_store %}

  task {
    task_key                  = "train"
{%- if not cookiecutter.serverless %}
    job_cluster_key           = local.job_cluster_key
{%- endif %}
    max_retries               = local.task_max_retries
    min_retry_interval_millis = local.task_min_retry_interval_ms

    depends_on {
      task_key = "validate_data"
    }

    notebook_task {
      notebook_path   = "notebooks/train"
      source          = "GIT"
      base_parameters = { env = local.job_env_reference }
    }
  }
{%- else %}

  task {
    task_key                  = "train"
{%- if not cookiecutter.serverless %}
    job_cluster_key           = local.job_cluster_key
{%- endif %}
    max_retries               = local.task_max_retries
    min_retry_interval_millis = local.task_min_retry_interval_ms

    depends_on {
      task_key = "build_features"
    }

    notebook_task {
      notebook_path   = "notebooks/train"
      source          = "GIT"
      base_parameters = { env = local.job_env_reference }
    }
  }
{%- endif %}

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

  task {
    task_key                  = "validate_model"
{%- if not cookiecutter.serverless %}
    job_cluster_key           = local.job_cluster_key
{%- endif %}
    max_retries               = local.task_max_retries
    min_retry_interval_millis = local.task_min_retry_interval_ms

    depends_on {
      task_key = "train"
    }

    notebook_task {
      notebook_path   = "notebooks/validate_model"
      source          = "GIT"
      base_parameters = { env = local.job_env_reference }
    }
  }
}

resource "databricks_job" "inference" {
  name                = "${local.name_prefix}-batch-inference"
  description         = "Scores new data with the champion model."
  max_concurrent_runs = 1
  timeout_seconds     = var.job_timeout_seconds["inference"]
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

  schedule {
    quartz_cron_expression = var.inference_schedule
    timezone_id            = var.timezone
    pause_status           = "UNPAUSED"
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
    task_key                  = "batch_inference"
{%- if not cookiecutter.serverless %}
    job_cluster_key           = local.job_cluster_key
{%- endif %}
    max_retries               = local.task_max_retries
    min_retry_interval_millis = local.task_min_retry_interval_ms

    notebook_task {
      notebook_path   = "notebooks/batch_inference"
      source          = "GIT"
      base_parameters = { env = local.job_env_reference }
    }
  }
}

resource "databricks_job" "monitoring" {
  name                = "${local.name_prefix}-monitoring"
  description         = "Compares recent inputs and predictions with the training data and reports drift."
  max_concurrent_runs = 1
  timeout_seconds     = var.job_timeout_seconds["monitoring"]
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

  schedule {
    quartz_cron_expression = var.monitoring_schedule
    timezone_id            = var.timezone
    pause_status           = "UNPAUSED"
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
    task_key                  = "monitor"
{%- if not cookiecutter.serverless %}
    job_cluster_key           = local.job_cluster_key
{%- endif %}
    max_retries               = local.task_max_retries
    min_retry_interval_millis = local.task_min_retry_interval_ms

    notebook_task {
      notebook_path   = "notebooks/monitor"
      source          = "GIT"
      base_parameters = { env = local.job_env_reference }
    }
  }

  # Runs the environment's training job when the monitor's guarded decision says so: drift or
  # decay recommended it and monitoring.retrain (off-switch, minimum interval, weekly maximum)
  # let it through. The trigger goes along as the training job's parameters.
  # Never retried: a failed retrain is reported (the training job mails its owner) and the next
  # monitoring run decides afresh, within the same guard rails.
  task {
    task_key    = "retrain"
    max_retries = 0

    depends_on {
      task_key = "retrain_triggered"
      outcome  = "true"
    }

    run_job_task {
      job_id = databricks_job.training.id
      job_parameters = {
        triggered_by           = "monitor"
        trigger_batch_id       = "{% raw %}{{tasks.monitor.values.batch_id}}{% endraw %}"
        trigger_reasons        = "{% raw %}{{tasks.monitor.values.reasons}}{% endraw %}"
        trigger_monitor_run_id = "{% raw %}{{tasks.monitor.values.monitor_run_id}}{% endraw %}"
      }
    }
  }

  # The monitor notebook sets trigger_retrain, a boolean, which the condition sees as the string
  # "true" or "false"; false skips `retrain` (the run still succeeds).
  task {
    task_key    = "retrain_triggered"
    max_retries = 0

    depends_on {
      task_key = "monitor"
    }

    condition_task {
      op    = "EQUAL_TO"
      left  = "{% raw %}{{tasks.monitor.values.trigger_retrain}}{% endraw %}"
      right = "true"
    }
  }
}

locals {
  job_ids = {
    training   = databricks_job.training.id
    inference  = databricks_job.inference.id
    monitoring = databricks_job.monitoring.id
{%- if cookiecutter.feature_store %}

    feature_engineering = databricks_job.feature_engineering.id
{%- endif %}
  }
}

# The service principal owns every job (so runs never depend on a person's account); the
# read group can see runs and their output but not start, change or delete them.
resource "databricks_permissions" "jobs" {
  for_each = local.job_ids

  job_id = each.value

  access_control {
    service_principal_name = local.runner_application_id
    permission_level       = "IS_OWNER"
  }

  access_control {
    group_name       = var.read_group
    permission_level = "CAN_VIEW"
  }
}
