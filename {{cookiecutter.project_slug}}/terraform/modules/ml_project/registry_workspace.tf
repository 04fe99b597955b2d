# Workspace model registry (the project does not use Unity Catalog): one registered model
# per environment, named as configs/<env>.yml names it.

locals {
  registered_model_name = databricks_mlflow_model.this.name
}

resource "databricks_mlflow_model" "this" {
  name        = var.registered_model_name
  description = "${var.project_slug} model (${var.environment}); versions are registered by the training job."

  dynamic "tags" {
    for_each = local.tags
    content {
      key   = tags.key
      value = tags.value
    }
  }
}

resource "databricks_permissions" "model" {
  registered_model_id = databricks_mlflow_model.this.registered_model_id

  access_control {
    service_principal_name = local.runner_application_id
    permission_level       = "CAN_MANAGE"
  }

  access_control {
    group_name       = var.read_group
    permission_level = "CAN_READ"
  }
}
