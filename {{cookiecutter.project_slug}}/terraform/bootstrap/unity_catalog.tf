# Unity Catalog: each environment's service principal owns the project's schema in its
# environment's catalog (so it can create the model and volume there) and may use that
# catalog. It gets nothing else in the catalog: no CREATE SCHEMA, no access to other schemas.
# The catalogs themselves belong to the platform team and must exist already.

locals {
  catalogs = {
    staging = "{{ cookiecutter.catalog_staging }}"
    prod    = "{{ cookiecutter.catalog_prod }}"
  }
  schema_name = "{{ cookiecutter.schema_name }}"
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
