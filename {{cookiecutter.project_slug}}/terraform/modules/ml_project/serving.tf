# Real-time scoring: one Model Serving endpoint per environment, serving the champion version
# of the environment's registered model (configs/<env>.yml names it serving.endpoint_name).
#
# The endpoint exists only once a champion does: ci/terraform.sh looks the `champion` alias up
# before every plan and passes its version in TF_VAR_serving_model_version, and with no
# champion yet (the first deploy) the endpoint is simply not declared, so that deploy cannot
# fail on a model version that does not exist. After each promotion the deploy step points the
# endpoint at the new champion itself; because every apply passes the current champion too,
# Terraform and the deploy step always agree on the version and a plan shows no change.

locals {
  # Routes name the served entity; one name for both keeps them from drifting apart.
  served_entity_name = "champion"
}

resource "databricks_model_serving" "champion" {
  count = var.serving_model_version == null ? 0 : 1

  name = local.name_prefix

  config {
    served_entities {
      name                  = local.served_entity_name
      entity_name           = local.registered_model_name
      entity_version        = var.serving_model_version
      workload_size         = var.serving_workload_size
      scale_to_zero_enabled = var.serving_scale_to_zero
    }

    traffic_config {
      routes {
        served_entity_name = local.served_entity_name
        traffic_percentage = 100
      }
    }
  }

  # Every request and response goes to <catalog>.<schema>.<prefix>_payload next to the model.
  # The service principal creates and owns that table; it may hold PHI, so nobody else is
  # granted anything on it here.
  ai_gateway {
    inference_table_config {
      enabled           = true
      catalog_name      = local.catalog_name
      schema_name       = local.schema_name
      table_name_prefix = var.serving_inference_table_prefix
    }
  }

  dynamic "tags" {
    for_each = local.tags
    content {
      key   = tags.key
      value = tags.value
    }
  }
}

# The read group may see the endpoint, its state and metrics (CAN_VIEW) but not query it:
# querying sends patient data and returns risk scores, so grant CAN_QUERY to the calling
# application's principal explicitly when one exists.
resource "databricks_permissions" "serving" {
  count = length(databricks_model_serving.champion)

  serving_endpoint_id = databricks_model_serving.champion[0].serving_endpoint_id

  access_control {
    service_principal_name = local.runner_application_id
    permission_level       = "CAN_MANAGE"
  }

  access_control {
    group_name       = var.read_group
    permission_level = "CAN_VIEW"
  }
}

variable "serving_model_version" {
  description = "Version of the registered model the endpoint serves: the current champion, passed by ci/terraform.sh. Null (no champion yet) declares no endpoint."
  type        = string
  default     = null
  nullable    = true

  validation {
    condition     = var.serving_model_version == null || can(regex("^[1-9][0-9]*$", var.serving_model_version))
    error_message = "serving_model_version must be a model version number such as \"7\", or null."
  }
}

variable "serving_workload_size" {
  description = "Concurrency of the served model: Small (4), Medium (8-16) or Large (16-64) requests at a time."
  type        = string

  validation {
    condition     = contains(["Small", "Medium", "Large"], var.serving_workload_size)
    error_message = "serving_workload_size must be Small, Medium or Large."
  }
}

variable "serving_scale_to_zero" {
  description = "Let the endpoint scale to zero when idle: cheaper, but the first request after a pause waits minutes."
  type        = bool
}

variable "serving_inference_table_prefix" {
  description = "Prefix of the inference table in the model's schema; AI Gateway names it <prefix>_payload (serving.inference_table in configs/<env>.yml)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]*$", var.serving_inference_table_prefix))
    error_message = "serving_inference_table_prefix must be lowercase letters, digits and underscores, starting with a letter."
  }
}
