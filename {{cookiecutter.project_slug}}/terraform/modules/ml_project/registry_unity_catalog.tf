# Unity Catalog: the model lives in this environment's catalog and schema, next to the
# volume that holds the environment's files. The schema itself is created by the bootstrap
# (terraform/bootstrap) and owned by the service principal.

locals {
  # catalog.schema.model, exactly as configs/<env>.yml names it.
  model_name_parts      = split(".", var.registered_model_name)
  catalog_name          = local.model_name_parts[0]
  schema_name           = try(local.model_name_parts[1], "")
  registered_model_name = databricks_registered_model.this.id
}

resource "databricks_registered_model" "this" {
  name         = try(local.model_name_parts[2], "")
  catalog_name = local.catalog_name
  schema_name  = local.schema_name
  owner        = local.runner_application_id
  comment      = "${var.project_slug} model (${var.environment}); versions are registered by the training job."

  lifecycle {
    precondition {
      condition     = length(local.model_name_parts) == 3
      error_message = "registered_model_name must be catalog.schema.model with Unity Catalog."
    }
  }
}

resource "databricks_volume" "files" {
  name         = var.volume_name
  catalog_name = local.catalog_name
  schema_name  = local.schema_name
  volume_type  = "MANAGED"
  owner        = local.runner_application_id
  comment      = "Working files of ${var.project_slug} (${var.environment}). May hold PHI: no grants beyond the owner."
}

# Grants are authoritative: the read group may browse the schema and load the model; nobody
# else gets anything on them through this project.
resource "databricks_grants" "schema" {
  schema = "${local.catalog_name}.${local.schema_name}"

  grant {
    principal  = var.read_group
    privileges = ["USE_SCHEMA"]
  }
}

resource "databricks_grants" "model" {
  model = databricks_registered_model.this.id

  grant {
    principal  = var.read_group
    privileges = ["EXECUTE"]
  }
}
