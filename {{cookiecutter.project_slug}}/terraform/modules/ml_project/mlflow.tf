# The environment's MLflow experiment. Training runs log here; the path is the one
# configs/<env>.yml gives the pipelines.

resource "databricks_mlflow_experiment" "this" {
  name = var.experiment_path

  dynamic "tags" {
    for_each = local.tags
    content {
      key   = tags.key
      value = tags.value
    }
  }
}

resource "databricks_permissions" "experiment" {
  experiment_id = databricks_mlflow_experiment.this.id

  access_control {
    service_principal_name = local.runner_application_id
    permission_level       = "CAN_MANAGE"
  }

  access_control {
    group_name       = var.read_group
    permission_level = "CAN_READ"
  }
}
