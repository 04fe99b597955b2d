# Unity Catalog: in each environment's catalog, the project's schema, the model and the volume
# its pipelines write into, all owned by that environment's service principal. They are created
# here, once, rather than by terraform/staging|prod, so that they exist before anything is
# deployed: a pull request's integration run writes into them before staging was ever applied.
# The principal gets only USE_CATALOG on the catalog: no CREATE SCHEMA, no other schemas. The
# catalogs themselves belong to the platform team and must exist already.

locals {
  catalogs = {
    staging = "{{ cookiecutter.catalog_staging }}"
    prod    = "{{ cookiecutter.catalog_prod }}"
  }
  schema_name = "{{ cookiecutter.schema_name }}"
  # The names configs/<env>.yml gives the pipelines (mlflow.registered_model, paths.root).
  model_name  = "{{ cookiecutter.model_name }}"
  volume_name = "{{ cookiecutter.package_name }}"
  read_group  = "{{ cookiecutter.read_group }}"
}

resource "databricks_schema" "staging" {
  provider = databricks.staging

  catalog_name = local.catalogs["staging"]
  name         = local.schema_name
  owner        = databricks_service_principal.env["staging"].application_id
  comment      = "{{ cookiecutter.project_slug }} (staging): tables, model and volume. Managed by terraform/bootstrap."

  depends_on = [databricks_mws_permission_assignment.env]
}

resource "databricks_schema" "prod" {
  provider = databricks.prod

  catalog_name = local.catalogs["prod"]
  name         = local.schema_name
  owner        = databricks_service_principal.env["prod"].application_id
  comment      = "{{ cookiecutter.project_slug }} (prod): tables, model and volume. Managed by terraform/bootstrap."

  depends_on = [databricks_mws_permission_assignment.env]
}

# databricks_grant manages this one principal's privileges on the catalog and leaves every
# other principal's grants alone (databricks_grants would replace them all).
resource "databricks_grant" "staging_catalog" {
  provider = databricks.staging

  catalog    = local.catalogs["staging"]
  principal  = databricks_service_principal.env["staging"].application_id
  privileges = ["USE_CATALOG"]
}

resource "databricks_grant" "prod_catalog" {
  provider = databricks.prod

  catalog    = local.catalogs["prod"]
  principal  = databricks_service_principal.env["prod"].application_id
  privileges = ["USE_CATALOG"]
}

# The model: training registers its versions, deploy moves the `champion` alias (which needs
# ownership, so the principal owns it).
resource "databricks_registered_model" "staging" {
  provider = databricks.staging

  catalog_name = databricks_schema.staging.catalog_name
  schema_name  = databricks_schema.staging.name
  name         = local.model_name
  owner        = databricks_service_principal.env["staging"].application_id
  comment      = "{{ cookiecutter.project_slug }} model (staging); versions are registered by the training job."
}

resource "databricks_registered_model" "prod" {
  provider = databricks.prod

  catalog_name = databricks_schema.prod.catalog_name
  schema_name  = databricks_schema.prod.name
  name         = local.model_name
  owner        = databricks_service_principal.env["prod"].application_id
  comment      = "{{ cookiecutter.project_slug }} model (prod); versions are registered by the training job."
}

resource "databricks_volume" "staging" {
  provider = databricks.staging

  catalog_name = databricks_schema.staging.catalog_name
  schema_name  = databricks_schema.staging.name
  name         = local.volume_name
  volume_type  = "MANAGED"
  owner        = databricks_service_principal.env["staging"].application_id
  comment      = "Working files of {{ cookiecutter.project_slug }} (staging). May hold PHI: no grants beyond the owner."
}

resource "databricks_volume" "prod" {
  provider = databricks.prod

  catalog_name = databricks_schema.prod.catalog_name
  schema_name  = databricks_schema.prod.name
  name         = local.volume_name
  volume_type  = "MANAGED"
  owner        = databricks_service_principal.env["prod"].application_id
  comment      = "Working files of {{ cookiecutter.project_slug }} (prod). May hold PHI: no grants beyond the owner."
}

# Grants are authoritative: the read group may browse the schema and load the model; nobody
# else gets anything on them through this project (the volume, which may hold PHI, has none).
resource "databricks_grants" "staging_schema" {
  provider = databricks.staging

  schema = databricks_schema.staging.id

  grant {
    principal  = local.read_group
    privileges = ["USE_SCHEMA"]
  }
}

resource "databricks_grants" "prod_schema" {
  provider = databricks.prod

  schema = databricks_schema.prod.id

  grant {
    principal  = local.read_group
    privileges = ["USE_SCHEMA"]
  }
}

resource "databricks_grants" "staging_model" {
  provider = databricks.staging

  model = databricks_registered_model.staging.id

  grant {
    principal  = local.read_group
    privileges = ["EXECUTE"]
  }
}

resource "databricks_grants" "prod_model" {
  provider = databricks.prod

  model = databricks_registered_model.prod.id

  grant {
    principal  = local.read_group
    privileges = ["EXECUTE"]
  }
}
