# The module declares what it needs; the environment roots pin exact ranges and configure
# the provider (one workspace per root).
terraform {
  required_version = ">= 1.5.0"

  required_providers {
    databricks = {
      source  = "databricks/databricks"
      version = ">= 1.100.0, < 2.0.0"
    }
  }
}
